"""Login, lockout and session lifetime."""

import re
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.urls import reverse
from django.utils import timezone

from config.middleware import ACTIVE_AT_KEY, LOGIN_AT_KEY, POLL_HEADER

pytestmark = pytest.mark.django_db
PASSWORD = "correct-horse-battery"
WRONG_LOGIN_IT = "Inserisci nome utente e password corretti"


def login(client, username, password=PASSWORD, **extra):
    return client.post(reverse("login"), {"username": username, "password": password}, **extra)


def last_active(client, minutes_ago: int | None = None) -> int:
    """The session's last activity (seconds since the epoch), moved back first if asked."""
    session = client.session
    if minutes_ago is not None:
        session[ACTIVE_AT_KEY] = int(time.time()) - minutes_ago * 60
        session.save()
    return session[ACTIVE_AT_KEY]


def poll(client):
    """What the workspace's htmx poll sends."""
    return client.get(reverse("routing:workspace-live"), headers={"X-Presidio-Poll": "1"})


def test_every_page_asks_for_login_first(client):
    response = client.get(reverse("home"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_login_page_is_italian_and_wrong_login_does_not_say_which_part(client, operator):
    wrong_password = login(client, operator.username, "not-the-password")
    unknown_user = login(client, "nobody.here", "not-the-password")
    for response in (wrong_password, unknown_user):
        assert response.status_code == 200
        assert WRONG_LOGIN_IT in response.content.decode()
    assert wrong_password.content.decode().count(WRONG_LOGIN_IT) == 1
    assert "_auth_user_id" not in client.session


def test_login_succeeds_and_rotates_the_session_key(client, operator):
    session = client.session
    session["probe"] = "before-login"
    session.save()
    key_before = session.session_key
    response = login(client, operator.username)
    assert response.status_code == 302
    assert response["Location"] == reverse("home")
    assert client.cookies[settings.SESSION_COOKIE_NAME].value != key_before
    assert client.get(reverse("home")).status_code == 200


def test_five_failures_lock_that_username_from_that_address_only(client, operator, user_factory):
    colleague = user_factory("op.bianchi")
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert login(client, operator.username, "wrong").status_code == 200
    locked = login(client, operator.username, "wrong")
    assert locked.status_code == 429
    assert "Accesso temporaneamente bloccato" in locked.content.decode()
    assert "15 minuti" in locked.content.decode()
    # Even the right password is refused while locked.
    assert login(client, operator.username).status_code == 429
    # A colleague behind the same shared address still signs in.
    assert login(client, colleague.username).status_code == 302
    # The same operator from another workstation still signs in.
    assert login(client, operator.username, REMOTE_ADDR="10.20.30.40").status_code == 302


def test_behind_a_proxy_each_forwarded_client_has_its_own_lockout(client, operator, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    proxy = {"REMOTE_ADDR": "10.0.0.1"}
    for _ in range(settings.AXES_FAILURE_LIMIT):
        login(client, operator.username, "wrong", HTTP_X_FORWARDED_FOR="203.0.113.7", **proxy)
    locked = login(client, operator.username, HTTP_X_FORWARDED_FOR="203.0.113.7", **proxy)
    assert locked.status_code == 429
    # Another client behind the same proxy is not locked out; a forged entry on the left
    # of the proxy's own does not free the locked one.
    forged = "198.51.100.1, 203.0.113.7"
    assert login(client, operator.username, HTTP_X_FORWARDED_FOR=forged, **proxy).status_code == 429
    other = login(client, operator.username, HTTP_X_FORWARDED_FOR="203.0.113.8", **proxy)
    assert other.status_code == 302


def test_without_a_proxy_a_forwarded_header_is_ignored(client, operator, settings):
    assert settings.TRUSTED_PROXY_COUNT == 0
    for _ in range(settings.AXES_FAILURE_LIMIT):
        login(client, operator.username, "wrong", HTTP_X_FORWARDED_FOR="203.0.113.7")
    forged = login(client, operator.username, HTTP_X_FORWARDED_FOR="203.0.113.8")
    assert forged.status_code == 429


def test_a_successful_login_resets_the_failure_count(client, operator):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        login(client, operator.username, "wrong")
    assert login(client, operator.username).status_code == 302
    client.post(reverse("logout"))
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert login(client, operator.username, "wrong").status_code == 200


def test_activity_pushes_the_idle_expiry_thirty_minutes_on(client, operator):
    """Activity is recorded (and the session written, pushing its expiry) at most once a
    minute: the session is not rewritten by every request."""
    client.force_login(operator)
    key = client.cookies[settings.SESSION_COOKIE_NAME].value
    last_active(client, minutes_ago=2)
    Session.objects.filter(session_key=key).update(
        expire_date=timezone.now() + timedelta(minutes=1)
    )
    client.get(reverse("home"))
    expiry = Session.objects.get(session_key=key).expire_date
    assert expiry > timezone.now() + timedelta(minutes=29)
    assert settings.SESSION_COOKIE_AGE == 30 * 60
    written = Session.objects.get(session_key=key).session_data
    client.get(reverse("home"))  # within the minute: nothing to write
    assert Session.objects.get(session_key=key).session_data == written


def test_an_idle_session_is_over(client, operator):
    client.force_login(operator)
    key = client.cookies[settings.SESSION_COOKIE_NAME].value
    Session.objects.filter(session_key=key).update(
        expire_date=timezone.now() - timedelta(seconds=1)
    )
    assert client.get(reverse("home")).status_code == 302


def test_a_poll_after_thirty_idle_minutes_signs_out(client, operator):
    client.force_login(operator)
    client.get(reverse("home"))
    last_active(client, minutes_ago=31)
    response = poll(client)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    assert "_auth_user_id" not in client.session


def test_polls_are_answered_but_never_extend_the_idle_time(client, operator):
    client.force_login(operator)
    client.get(reverse("home"))
    before = last_active(client, minutes_ago=29)
    for _ in range(3):
        assert poll(client).status_code == 200
    assert last_active(client) == before


def test_a_real_request_counts_as_activity(client, operator):
    client.force_login(operator)
    client.get(reverse("home"))
    last_active(client, minutes_ago=29)
    assert client.get(reverse("routing:workspace-live")).status_code == 200
    assert last_active(client) >= int(time.time()) - 5


def test_every_polling_element_says_its_requests_are_polls():
    polling = [
        (path.name, tag)
        for path in (Path(settings.BASE_DIR) / "templates").rglob("*.html")
        for tag in re.findall(r'<[^>]*hx-trigger="[^"]*every [^>]*>', path.read_text())
    ]
    assert polling
    assert [name for name, tag in polling if f'"{POLL_HEADER}": "1"' not in tag] == []


def test_a_session_ends_twelve_hours_after_login_however_active(client, operator):
    client.force_login(operator)
    session = client.session
    session[LOGIN_AT_KEY] = int(time.time()) - 12 * 3600 - 60
    session.save()
    response = client.get(reverse("home"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    assert "_auth_user_id" not in client.session


def test_a_session_younger_than_twelve_hours_goes_on(client, operator):
    client.force_login(operator)
    session = client.session
    session[LOGIN_AT_KEY] = int(time.time()) - 11 * 3600
    session.save()
    assert client.get(reverse("home")).status_code == 200


def test_logout_needs_a_post_and_ends_the_session(client, operator):
    client.force_login(operator)
    assert client.get(reverse("logout")).status_code == 405
    response = client.post(reverse("logout"), follow=True)
    assert "Sei uscito da Presidio." in response.content.decode()
    assert client.get(reverse("home")).status_code == 302
