"""What every request reads and writes, kept lean (issue #25): the session's user with their
permissions in one query, a session saved in one UPDATE, an access-log row in two
statements whose index of end users and chain head the database keeps."""

import pytest
from django.contrib.auth.models import Permission
from django.contrib.sessions.backends.base import UpdateError
from django.contrib.sessions.models import Session
from django.db import transaction
from django.utils import timezone

from config import access_log
from config.models import AccessChainHead, AccessLogSubject
from config.permissions import PermissionsInOneQuery
from config.session_store import SessionStore

pytestmark = pytest.mark.django_db


def test_the_sessions_user_comes_with_their_own_and_their_groups_permissions_in_one_query(
    operator, django_assert_num_queries
):
    own = Permission.objects.get(content_type__app_label="config", codename="view_reports")
    operator.user_permissions.add(own)
    with django_assert_num_queries(1):
        user = PermissionsInOneQuery().get_user(operator.pk)
        assert user.has_perm("config.handle_cases")  # the operator's group
        assert user.has_perm("config.view_reports")  # their own
        assert not user.has_perm("config.administer")
    assert user.get_all_permissions() == operator.get_all_permissions()


def test_an_inactive_or_missing_user_has_no_session(operator):
    operator.is_active = False
    operator.save(update_fields=["is_active"])
    assert PermissionsInOneQuery().get_user(operator.pk) is None
    assert PermissionsInOneQuery().get_user(999_999) is None


def test_a_superuser_keeps_every_permission(django_user_model):
    root = django_user_model.objects.create_superuser("root", password="x-y-z-w-1234")
    user = PermissionsInOneQuery().get_user(root.pk)
    assert user.has_perm("config.administer")
    assert "config.administer" in PermissionsInOneQuery().get_all_permissions(user)


def test_a_session_that_exists_is_saved_in_one_update(django_assert_num_queries):
    session = SessionStore()
    session["greeting"] = "ciao"
    session.create()
    session["greeting"] = "buongiorno"
    with django_assert_num_queries(1) as captured:
        session.save()
    assert captured.captured_queries[0]["sql"].startswith("UPDATE")
    assert SessionStore(session.session_key).load()["greeting"] == "buongiorno"


def test_a_session_ended_meanwhile_is_not_saved_again():
    session = SessionStore()
    session.create()
    Session.objects.filter(session_key=session.session_key).delete()
    session["greeting"] = "ciao"
    # (the middleware saves outside any transaction; this test runs inside one)
    with pytest.raises(UpdateError), transaction.atomic():
        session.save()
    assert not Session.objects.exists()


def _viewed(user, end_users):
    detail = {"end_users": end_users} if end_users is not None else {}
    return access_log.append(
        outcome="allowed",
        at=timezone.now(),
        user_id=user.pk,
        username=user.username,
        action="view",
        route="care:case-detail",
        method="GET",
        target="case:CS-2026-000001",
        purpose="",
        status_code=200,
        detail=detail,
    )


def test_an_access_log_row_is_two_statements_and_the_database_keeps_its_index_and_head(
    operator, django_assert_num_queries
):
    _viewed(operator, None)  # the chain's head exists from the first row on
    with django_assert_num_queries(2):
        entry = _viewed(operator, [7, 3])
    assert AccessChainHead.objects.get().last_hash == entry.row_hash
    subjects = AccessLogSubject.objects.filter(entry=entry).order_by("end_user_id")
    assert [(s.end_user_id, s.user_id, s.at) for s in subjects] == [
        (3, operator.pk, entry.at),
        (7, operator.pk, entry.at),
    ]
    assert access_log.verify_chain().intact


def test_a_row_naming_no_end_user_has_no_index_rows(operator):
    entry = _viewed(operator, [])
    other = _viewed(operator, None)
    assert not AccessLogSubject.objects.filter(entry__in=[entry, other]).exists()
    assert AccessChainHead.objects.get().last_hash == other.row_hash
