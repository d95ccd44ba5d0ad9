"""An administrator ends another user's sessions (all of them) from the person's page or the
API (issue #20 follow-up): a reason is required, every session ended is on record (target
"session", by the administrator, with the reason), the person's browsers are signed out.
Supervisors, the person themselves and an administrator on their own account are refused.
Deactivating an account ends its sessions too, so a reactivation brings no browser back."""

import pytest
from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.urls import reverse

from config.models import ConfigChange, UserSession
from routing import staff
from tests.config.test_sessions import FIREFOX, PHONE, signed_in

pytestmark = pytest.mark.django_db
REASON = "Telefono aziendale smarrito"


@pytest.fixture
def browsers(operator, profile_factory):
    """The operator (of the supervisor's site) signed in on two devices."""
    profile_factory(operator)
    return (
        signed_in(operator, agent=FIREFOX, address="10.1.2.3"),
        signed_in(operator, agent=PHONE, address="151.20.30.40"),
    )


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


def page_url(user) -> str:
    return reverse("routing:person-sessions-end", args=[user.pk])


def api_url(user) -> str:
    return reverse("api:person-sessions-end", args=[user.pk])


def signed_out(browser) -> bool:
    return browser.get(reverse("home")).status_code == 302  # back to the sign-in page


def session_changes():
    return list(
        ConfigChange.objects.filter(target_type="session").values_list(
            "actor", "action", "reason", "before__user"
        )
    )


def test_the_person_page_shows_their_sessions_and_the_form_to_end_them(
    admin_client, operator, browsers
):
    page = admin_client.get(reverse("routing:person", args=[operator.pk]))
    assert page.status_code == 200
    text = page.content.decode()
    assert 'data-testid="sessions-form"' in text
    assert page.context["session_count"] == 2


def test_an_administrator_ends_every_session_of_a_person_from_the_page(
    admin_client, admin_user, operator, browsers
):
    response = admin_client.post(page_url(operator), {"reason": REASON})
    assert response.status_code == 302
    assert response.url == reverse("routing:person", args=[operator.pk])
    assert all(signed_out(browser) for browser in browsers)
    assert not UserSession.objects.filter(user=operator).exists()
    assert session_changes() == [
        (admin_user.id, "deleted", REASON, operator.id),
        (admin_user.id, "deleted", REASON, operator.id),
    ]
    assert admin_client.get(reverse("home")).status_code == 200  # the admin stays signed in


def test_the_page_without_a_reason_says_so_and_ends_nothing(admin_client, operator, browsers):
    response = admin_client.post(page_url(operator), {"reason": "  "})
    assert response.status_code == 400
    assert "Indica perché chiudi le sessioni." in response.content.decode()
    assert not any(signed_out(browser) for browser in browsers)
    assert session_changes() == []


def test_an_administrator_ends_every_session_of_a_person_by_the_api(
    admin_api, admin_user, operator, browsers
):
    response = admin_api.post(api_url(operator), {"reason": REASON}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json() == {"user": operator.pk, "sessions_ended": 2}
    assert all(signed_out(browser) for browser in browsers)
    assert [row[2] for row in session_changes()] == [REASON, REASON]
    again = admin_api.post(api_url(operator), {"reason": REASON}, format="json")
    assert again.json()["sessions_ended"] == 0


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, "Indica perché chiudi le sessioni."),
        ({"reason": ""}, "Indica perché chiudi le sessioni."),
        ({"reason": "x" * 301}, None),
    ],
)
def test_the_api_refuses_a_missing_or_too_long_reason_and_ends_nothing(
    admin_api, operator, browsers, body, message
):
    response = admin_api.post(api_url(operator), body, format="json")
    assert response.status_code == 400
    data = response.json()
    assert data["code"]
    assert "reason" in data["fields"]
    if message:
        assert data["fields"]["reason"] == [message]
    assert not any(signed_out(browser) for browser in browsers)
    assert session_changes() == []


def test_a_supervisor_of_the_persons_site_cannot_end_their_sessions(
    client, supervisor, supervisor_api, operator, browsers
):
    assert (
        supervisor_api.post(api_url(operator), {"reason": REASON}, format="json").status_code == 403
    )
    client.force_login(supervisor)
    assert client.post(page_url(operator), {"reason": REASON}).status_code == 403
    page = client.get(reverse("routing:person", args=[operator.pk]))
    assert 'data-testid="sessions-form"' not in page.content.decode()
    assert not any(signed_out(browser) for browser in browsers)
    assert session_changes() == []


def test_the_person_themselves_cannot_use_the_route(operator, operator_api, browsers):
    office, _phone = browsers
    assert (
        operator_api.post(api_url(operator), {"reason": REASON}, format="json").status_code == 403
    )
    assert office.post(page_url(operator), {"reason": REASON}).status_code == 403
    assert session_changes() == []


def test_an_administrator_ends_their_own_sessions_from_their_sessions_page_not_here(
    admin_api, admin_client, admin_user
):
    response = admin_api.post(api_url(admin_user), {"reason": REASON}, format="json")
    assert response.status_code == 403
    assert response.json()["code"] == "own_sessions_elsewhere"
    assert admin_client.post(page_url(admin_user), {"reason": REASON}).status_code == 403
    assert admin_client.get(reverse("home")).status_code == 200


def test_an_unknown_person_is_not_found(admin_api, admin_user):
    missing = admin_user.pk + 1000
    response = admin_api.post(f"/api/v1/people/{missing}/sessions/end/", {"reason": REASON})
    assert response.status_code == 404


def test_a_session_signed_in_before_rows_were_kept_ends_too(admin_api, admin_user, operator, now):
    store = SessionStore()
    store[SESSION_KEY] = str(operator.pk)
    store.create()
    response = admin_api.post(api_url(operator), {"reason": REASON}, format="json")
    assert response.json()["sessions_ended"] == 1
    assert not Session.objects.filter(session_key=store.session_key).exists()
    change = ConfigChange.objects.get(target_type="session")
    assert change.before == {"user": operator.pk, "sessions_without_details": 1}
    assert store.session_key not in str(change.before) + change.target_id


def test_other_peoples_sessions_stay(admin_api, operator, supervisor, browsers):
    theirs = signed_in(supervisor, agent=FIREFOX, address="10.9.9.9")
    admin_api.post(api_url(operator), {"reason": REASON}, format="json")
    assert not signed_out(theirs)


def test_deactivating_a_person_ends_their_sessions_and_reactivating_brings_none_back(
    admin_user, operator, browsers, now
):
    staff.deactivate_person(actor=admin_user, user=operator, now=now, reason="Dimissioni")
    assert not Session.objects.filter(
        session_key__in=UserSession.objects.values("session_id")
    ).exists()
    assert session_changes() == [
        (admin_user.id, "deleted", "Dimissioni", operator.id),
        (admin_user.id, "deleted", "Dimissioni", operator.id),
    ]
    staff.reactivate_person(actor=admin_user, user=operator, now=now)
    assert all(signed_out(browser) for browser in browsers)


def test_a_deactivation_without_a_reason_records_the_sessions_ended_as_deactivated(
    admin_user, operator, browsers, now
):
    staff.deactivate_person(actor=admin_user, user=operator, now=now)
    assert {row[2] for row in session_changes()} == {"deactivated"}


def test_the_refusal_speaks_the_callers_language(admin_api, operator, browsers):
    response = admin_api.post(
        api_url(operator), {}, format="json", headers={"Accept-Language": "en"}
    )
    assert response.json()["fields"]["reason"] == ["Say why the sessions are ended."]
