"""Managers and administrators sign in with a TOTP code as well as the password; the others
with the password alone. These tests sign in the real way (the login form), not with
`force_login`, which stands for a complete sign-in elsewhere in the suite."""

import re
from datetime import timedelta

import pytest
from django.test import Client
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from config import roles, two_factor
from config.errors import PermissionDenied
from config.models import TwoFactorEnrolmentLink
from tests.conftest import confirmed_totp_device

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery"  # as tests/conftest.py make_user
TWO_FACTOR = "/accounts/two-factor/"


def sign_in_with_password(client, user, next_url: str = ""):
    data = {"username": user.username, "password": PASSWORD}
    if next_url:
        data["next"] = next_url
    return client.post("/accounts/login/", data)


def code_of(device: TOTPDevice) -> str:
    return f"{totp(device.bin_key):06d}"


def test_an_operator_signs_in_with_the_password_alone(client, operator):
    response = sign_in_with_password(client, operator)
    assert response.status_code == 302
    assert client.get("/care/intake/").status_code == 200


@pytest.mark.parametrize("role", [roles.MANAGER, roles.ADMIN])
def test_a_manager_or_admin_reaches_nothing_before_the_second_factor(client, user_factory, role):
    user = user_factory(f"u.{role}", role)
    confirmed_totp_device(user)
    sign_in_with_password(client, user, next_url="/contracts/")
    page = client.get("/contracts/")
    assert page.status_code == 302
    assert page["Location"].startswith(TWO_FACTOR)
    api = client.get("/api/v1/contracts/")
    assert api.status_code == 403
    assert api.json()["code"] == "second_factor_required"


def test_the_way_back_after_the_second_factor_carries_no_personal_data(client, user_factory):
    """An administrator half signed in gets a screen pop: the number must not ride along in
    the second-factor page's address (the way back keeps the page, not the query)."""
    admin = user_factory("u.admin.pop", roles.ADMIN)
    confirmed_totp_device(admin)
    sign_in_with_password(client, admin)
    page = client.get("/care/intake/", {"phone": "347 123 4567"})
    assert page.status_code == 302
    assert page["Location"].startswith(TWO_FACTOR)
    assert "347" not in page["Location"]
    assert "phone" not in page["Location"]
    other = client.get("/contracts/", {"status": "active"})
    assert "status%3Dactive" in other["Location"]  # nothing personal: kept


def test_the_right_code_opens_the_portal_and_goes_where_the_user_was_going(client, manager):
    device = confirmed_totp_device(manager)
    sign_in_with_password(client, manager)
    response = client.post(TWO_FACTOR, {"code": code_of(device), "next": "/contracts/"})
    assert response.status_code == 302
    assert response["Location"] == "/contracts/"
    assert client.get("/contracts/").status_code == 200


def test_a_wrong_code_is_refused_with_a_message(client, manager):
    device = confirmed_totp_device(manager)
    sign_in_with_password(client, manager)
    wrong = f"{(int(code_of(device)) + 1) % 1_000_000:06d}"
    response = client.post(TWO_FACTOR, {"code": wrong})
    assert response.status_code == 200
    assert "non è valido" in response.content.decode()
    assert client.get("/contracts/").status_code == 302


def test_an_outside_next_address_is_ignored(client, manager):
    device = confirmed_totp_device(manager)
    sign_in_with_password(client, manager)
    response = client.post(TWO_FACTOR, {"code": code_of(device), "next": "https://evil.example/"})
    assert response["Location"] == "/"


def test_the_first_sign_in_enrols_the_app_with_a_qr_code_and_a_stable_secret(client, manager):
    sign_in_with_password(client, manager)
    first = client.get(TWO_FACTOR).content.decode()
    again = client.get(TWO_FACTOR).content.decode()
    assert "<svg" in first
    assert not re.search(r"<script(?![^>]*\bsrc=)", first)  # the QR code needs no script
    [device] = TOTPDevice.objects.filter(user=manager)
    assert not device.confirmed
    assert first.count("<code>") == 1
    secret = first.split("<code>")[1].split("</code>")[0]
    assert secret == again.split("<code>")[1].split("</code>")[0]
    assert len(secret.replace(" ", "")) == 32
    response = client.post(TWO_FACTOR, {"code": code_of(device)})
    assert response.status_code == 302
    device.refresh_from_db()
    assert device.confirmed
    assert client.get("/contracts/").status_code == 200


def test_an_unconfirmed_enrolment_does_not_count_as_a_second_factor(client, manager):
    sign_in_with_password(client, manager)
    client.get(TWO_FACTOR)
    client.post(TWO_FACTOR, {"code": "000000"})
    assert not TOTPDevice.objects.filter(user=manager, confirmed=True).exists()
    assert client.get("/contracts/").status_code == 302


def test_an_api_token_is_not_asked_for_a_second_factor(manager_api):
    assert manager_api.get("/api/v1/contracts/").status_code == 200


def test_the_demo_can_turn_the_second_factor_off(client, manager, settings):
    settings.TWO_FACTOR_REQUIRED = False
    sign_in_with_password(client, manager)
    assert client.get("/contracts/").status_code == 200


# --- Enrolment through a one-time link, when an administrator requires it -------------------


def link_for(user, admin, **kwargs) -> str:
    _link, url = two_factor.create_enrolment_link(actor=admin, user=user, **kwargs)
    return url


def enrol(client, user) -> TOTPDevice:
    """Read the QR page and confirm the device with its code."""
    client.get(TWO_FACTOR)
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    response = client.post(TWO_FACTOR, {"code": code_of(device)})
    assert response.status_code == 302, response.content.decode()[:500]
    return device


def test_a_required_link_refuses_enrolment_on_first_sign_in(client, manager, admin_user):
    link_for(manager, admin_user)
    sign_in_with_password(client, manager)
    page = client.get(TWO_FACTOR)
    assert 'data-testid="enrolment-link-required"' in page.content.decode()
    assert "<svg" not in page.content.decode()
    assert not TOTPDevice.objects.filter(user=manager).exists()  # no secret handed out
    # Even a device made behind the page's back cannot be confirmed without the link.
    device = two_factor.enrolment_device(manager)
    assert client.post(TWO_FACTOR, {"code": code_of(device)}).status_code == 200
    assert not TOTPDevice.objects.filter(user=manager, confirmed=True).exists()
    assert client.get("/contracts/").status_code == 302


def test_the_link_enrols_its_user_once(client, manager, admin_user, now):
    url = link_for(manager, admin_user)
    sign_in_with_password(client, manager)
    opened = client.get(url)
    assert opened.status_code == 302
    assert opened["Location"] == TWO_FACTOR  # the token leaves the address at once
    assert "<svg" in client.get(TWO_FACTOR).content.decode()
    enrol(client, manager)
    assert client.get("/contracts/").status_code == 200
    link = TwoFactorEnrolmentLink.objects.get(user=manager)
    assert link.used_at is not None
    # Spent: the same link does not open a second enrolment (e.g. after the device is lost).
    TOTPDevice.objects.filter(user=manager).delete()
    other = Client()
    sign_in_with_password(other, manager)
    other.get(url)
    assert 'data-testid="enrolment-link-required"' in other.get(TWO_FACTOR).content.decode()


def test_a_link_expires(client, manager, admin_user, time_machine, now):
    time_machine.move_to(now)
    url = link_for(manager, admin_user)
    time_machine.move_to(now + two_factor.ENROLMENT_LINK_VALID_FOR + timedelta(minutes=1))
    sign_in_with_password(client, manager)
    client.get(url)
    assert 'data-testid="enrolment-link-required"' in client.get(TWO_FACTOR).content.decode()


def test_a_link_works_only_for_its_user_and_only_as_signed(
    client, manager, admin_user, user_factory
):
    other_manager = user_factory("man.altro", roles.MANAGER)
    url = link_for(manager, admin_user)
    link_for(other_manager, admin_user)
    sign_in_with_password(client, other_manager)
    client.get(url)  # someone else's link
    assert 'data-testid="enrolment-link-required"' in client.get(TWO_FACTOR).content.decode()
    token = url.split("link=")[1]
    client.get(f"{TWO_FACTOR}?link={token[:-2]}xx")  # tampered
    assert 'data-testid="enrolment-link-required"' in client.get(TWO_FACTOR).content.decode()
    assert not TOTPDevice.objects.filter(user=other_manager).exists()


def test_a_new_link_supersedes_the_older_one(client, manager, admin_user):
    old = link_for(manager, admin_user)
    new = link_for(manager, admin_user)
    sign_in_with_password(client, manager)
    client.get(old)
    assert 'data-testid="enrolment-link-required"' in client.get(TWO_FACTOR).content.decode()
    client.get(new)
    enrol(client, manager)


def test_only_administrators_create_links(manager, operator):
    with pytest.raises(PermissionDenied):
        two_factor.create_enrolment_link(actor=manager, user=operator)
    assert not TwoFactorEnrolmentLink.objects.exists()


def test_an_administrator_creates_a_link_in_the_admin(client, admin_user, manager):
    client.force_login(admin_user)
    response = client.post(
        "/admin/config/twofactorenrolmentlink/add/", {"user": manager.pk}, follow=True
    )
    assert response.status_code == 200
    link = TwoFactorEnrolmentLink.objects.get(user=manager)
    assert link.created_by == admin_user
    shown = [str(m) for m in response.context["messages"]]
    assert any("?link=" in m for m in shown)


def test_without_a_link_first_sign_in_still_enrols(client, manager):
    """Trust on first use stays the default for users no administrator gave a link to."""
    sign_in_with_password(client, manager)
    enrol(client, manager)
