"""Users' own sessions (issue #20 point 4): recorded at sign-in, last seen once a minute,
listed with the network masked, ended one by one or all the others; the ended browser is
signed out, and the end is on record."""

from datetime import timedelta

import pytest
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse

from config import sessions
from config.models import ConfigChange, UserSession

pytestmark = pytest.mark.django_db
PASSWORD = "correct-horse-battery"
FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
PHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Safari/604.1"


def signed_in(user, *, agent: str, address: str) -> Client:
    browser = Client(HTTP_USER_AGENT=agent, REMOTE_ADDR=address)
    response = browser.post(reverse("login"), {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302
    return browser


def test_masked_addresses():
    assert sessions.mask_address("192.168.10.37") == "192.168.10.0/24"
    assert sessions.mask_address("2001:db8:1234:5678::1") == "2001:db8:1234::/48"
    assert sessions.mask_address(None) == ""
    assert sessions.mask_address("non un indirizzo") == ""


def test_sign_in_records_the_session_and_the_page_lists_it(operator):
    office = signed_in(operator, agent=FIREFOX, address="10.1.2.3")
    signed_in(operator, agent=PHONE, address="151.20.30.40")
    rows = UserSession.objects.filter(user=operator)
    assert rows.count() == 2
    page = office.get(reverse("my-sessions"))
    assert page.status_code == 200
    text = page.content.decode()
    assert "10.1.2.0/24" in text
    assert "151.20.30.0/24" in text
    assert "10.1.2.3" not in text
    assert text.count('data-testid="this-session"') == 1
    current = [row for row, is_current in page.context["rows"] if is_current]
    assert current[0].user_agent == FIREFOX


def test_last_seen_is_written_at_most_once_a_minute(operator, now, time_machine):
    browser = signed_in(operator, agent=FIREFOX, address="10.1.2.3")
    row = UserSession.objects.get(user=operator)
    assert row.last_seen_at == row.signed_in_at
    time_machine.move_to(now + timedelta(seconds=20))
    browser.get(reverse("home"))
    row.refresh_from_db()
    assert row.last_seen_at == row.signed_in_at
    time_machine.move_to(now + timedelta(minutes=2))
    browser.get(reverse("home"))
    row.refresh_from_db()
    assert row.last_seen_at > row.signed_in_at


def test_ending_a_session_signs_that_browser_out_and_is_on_record(operator):
    office = signed_in(operator, agent=FIREFOX, address="10.1.2.3")
    phone = signed_in(operator, agent=PHONE, address="151.20.30.40")
    phone_row = UserSession.objects.get(user=operator, user_agent=PHONE)
    response = office.post(reverse("my-session-end", args=[phone_row.pk]))
    assert response.status_code == 302
    assert not UserSession.objects.filter(pk=phone_row.pk).exists()
    assert not Session.objects.filter(session_key=phone_row.session_id).exists()
    assert phone.get(reverse("home")).status_code == 302  # back to the sign-in page
    assert office.get(reverse("home")).status_code == 200
    change = ConfigChange.objects.get(target_type="session")
    assert change.action == "deleted"
    assert change.actor == operator
    assert change.before["network"] == "151.20.30.0/24"
    assert phone_row.session_id not in str(change.before)


def test_end_all_others_keeps_this_one(operator):
    office = signed_in(operator, agent=FIREFOX, address="10.1.2.3")
    signed_in(operator, agent=PHONE, address="151.20.30.40")
    signed_in(operator, agent=PHONE, address="151.20.30.41")
    office.post(reverse("my-sessions-end-others"))
    assert list(UserSession.objects.values_list("user_agent", flat=True)) == [FIREFOX]
    assert office.get(reverse("home")).status_code == 200
    assert ConfigChange.objects.filter(target_type="session").count() == 2


def test_another_users_session_cannot_be_ended(operator, supervisor):
    signed_in(operator, agent=FIREFOX, address="10.1.2.3")
    other = signed_in(supervisor, agent=PHONE, address="10.9.9.9")
    row = UserSession.objects.get(user=operator)
    response = other.post(reverse("my-session-end", args=[row.pk]))
    assert response.status_code == 404
    assert UserSession.objects.filter(pk=row.pk).exists()
    api = other.post(f"/api/v1/me/sessions/{row.pk}/end/")
    assert api.status_code == 404
    assert api.json()["code"] == "not_found"
    assert not ConfigChange.objects.exists()


def test_sign_out_removes_the_row(operator):
    browser = signed_in(operator, agent=FIREFOX, address="10.1.2.3")
    browser.post(reverse("logout"))
    assert not UserSession.objects.exists()


def test_the_api_lists_and_ends_own_sessions(operator):
    browser = signed_in(operator, agent=FIREFOX, address="10.1.2.3")
    signed_in(operator, agent=PHONE, address="151.20.30.40")
    listed = browser.get("/api/v1/me/sessions/").json()["results"]
    assert len(listed) == 2
    assert {row["network"] for row in listed} == {"10.1.2.0/24", "151.20.30.0/24"}
    assert [row["current"] for row in listed if row["user_agent"] == FIREFOX] == [True]
    other = next(row for row in listed if row["user_agent"] == PHONE)
    response = browser.post(f"/api/v1/me/sessions/{other['id']}/end/")
    assert response.status_code == 200
    assert response.json() == {"ended": 1}
    assert len(browser.get("/api/v1/me/sessions/").json()["results"]) == 1


def test_the_user_menu_links_to_the_sessions_page(client, operator):
    client.force_login(operator)
    assert reverse("my-sessions") in client.get(reverse("home")).content.decode()


def test_a_session_without_a_row_gets_one_at_its_next_activity(operator, now, time_machine):
    browser = signed_in(operator, agent=FIREFOX, address="10.1.2.3")
    UserSession.objects.all().delete()  # signed in before rows were kept
    time_machine.move_to(now + timedelta(minutes=2))
    browser.get(reverse("home"))
    row = UserSession.objects.get(user=operator)
    assert row.network == "10.1.2.0/24"
    assert row.session_id == browser.session.session_key
