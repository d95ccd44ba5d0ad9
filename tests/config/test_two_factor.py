"""Managers and administrators sign in with a TOTP code as well as the password; the others
with the password alone. These tests sign in the real way (the login form), not with
`force_login`, which stands for a complete sign-in elsewhere in the suite."""

import pytest
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from config import roles
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
    assert "<script" not in first
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
