"""An access-log entry is titled as its reader reads it: local time (Rome, or the zone in
use), the action and the kind of thing in the reader's language (#19 point 3)."""

from datetime import UTC, datetime

import pytest
from django.utils import timezone, translation

from config import access_log
from config.access_routes import ROUTES, LoggedRoute
from config.models import ACCESS_TARGET_LABELS, AccessLog

pytestmark = pytest.mark.django_db


@pytest.fixture
def entry():
    return access_log.append(
        at=datetime(2026, 12, 5, 13, 2, tzinfo=UTC),
        user_id=None,
        username="admin",
        action=AccessLog.Action.SEARCH,
        route="contracts:lookup",
        method="POST",
        target="end_user",
        purpose="",
        outcome=AccessLog.Outcome.ALLOWED,
        status_code=200,
        detail={},
    )


def test_an_entry_is_titled_in_rome_time_and_in_italian(entry):
    with translation.override("it"):
        title = str(entry)
    assert title == "05/12/2026 14:02 · admin · Ricerca per telefono, nome o e-mail · utente finale"


def test_an_entry_is_titled_in_english_when_english_is_chosen(entry):
    with translation.override("en"):
        title = str(entry)
    assert "2:02" in title  # Rome time, English clock
    assert "Search by phone, name or e-mail" in title
    assert title.endswith("end user")
    assert "end_user" not in title


def test_an_entry_follows_the_users_time_zone(entry):
    with translation.override("it"), timezone.override("Europe/London"):
        assert str(entry).startswith("05/12/2026 13:02")


def test_the_kind_is_named_and_the_key_kept():
    entry = AccessLog(target="case:CS-2026-000123")
    with translation.override("it"):
        assert entry.target_label == "pratica CS-2026-000123"


def test_every_logged_kind_of_thing_has_a_name():
    kinds = {route.target for route in ROUTES.values() if isinstance(route, LoggedRoute)}
    assert kinds <= set(ACCESS_TARGET_LABELS)


def test_the_admin_list_shows_the_named_kind(client, admin_user, entry):
    client.force_login(admin_user)
    page = client.get("/admin/config/accesslog/")
    assert "utente finale" in page.content.decode()
