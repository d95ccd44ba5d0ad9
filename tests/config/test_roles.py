"""Each group holds exactly its capabilities, and the portal shows each role its own sections."""

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from config import roles
from config.demo import DEMO_USERS, seed_demo_users

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("role", list(roles.ROLE_CAPABILITIES))
def test_each_role_group_holds_exactly_its_capabilities(role):
    group = Group.objects.get(name=role)
    capabilities = set(
        group.permissions.filter(
            content_type__app_label="config", content_type__model="capability"
        ).values_list("codename", flat=True)
    )
    assert capabilities == roles.ROLE_CAPABILITIES[role]


def test_only_admins_manage_users_and_unlock_logins():
    admin = Group.objects.get(name=roles.ADMIN)
    assert admin.permissions.filter(codename="change_user").exists()
    assert admin.permissions.filter(codename="delete_accessattempt").exists()
    others = Group.objects.exclude(name=roles.ADMIN)
    assert not others.filter(permissions__content_type__app_label__in=["auth", "axes"]).exists()
    assert admin.permissions.filter(codename="view_accesslog").exists()
    assert not admin.permissions.filter(codename="delete_accesslog").exists()
    assert not others.filter(permissions__codename="view_accesslog").exists()


def test_operator_may_handle_cases_but_not_see_reports(operator):
    assert operator.has_perm("config.handle_cases")
    assert not operator.has_perm("config.view_reports")
    assert not operator.has_perm("config.view_unmasked_personal_data")


def test_manager_sees_reports_but_personal_data_stays_masked_unless_granted(manager):
    assert manager.has_perm("config.export_reports")
    assert not manager.has_perm("config.view_unmasked_personal_data")


def test_navigation_shows_administration_only_to_admins(client, operator, admin_user):
    client.force_login(operator)
    page = client.get(reverse("home")).content.decode()
    assert reverse("admin:index") not in page
    assert "Operatore" in page
    client.force_login(admin_user)
    page = client.get(reverse("home")).content.decode()
    assert reverse("admin:index") in page
    assert client.get(reverse("admin:index")).status_code == 200


def test_operator_cannot_open_the_admin_site(client, operator):
    client.force_login(operator)
    assert client.get(reverse("admin:index")).status_code == 302


def test_user_without_role_is_told_to_ask_for_one(client, user_factory):
    client.force_login(user_factory("nuovo", role=None))
    assert "non ha ancora un ruolo" in client.get(reverse("home")).content.decode()


def test_seed_demo_users_is_idempotent(settings):
    assert seed_demo_users() == len(DEMO_USERS)
    assert seed_demo_users() == 0
    for username, _, _, role in DEMO_USERS:
        assert Group.objects.get(name=role).user_set.filter(username=username).exists()
