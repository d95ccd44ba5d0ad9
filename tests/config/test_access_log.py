"""The access log: one hash-chained row per request that searches or views personal data,
denied attempts included; append-only; the chain finds a row changed behind its back."""

import random
from datetime import timedelta
from unittest import mock

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction
from django.db.utils import DatabaseError
from django.utils import timezone

from config import access_log
from config.models import AccessChainHead, AccessLog
from tests.factories import EndUserFactory

pytestmark = pytest.mark.django_db

PHONE = "+393471234567"


@pytest.fixture
def caller(contract):
    return EndUserFactory(client=contract.client, phone=PHONE)


def rows():
    return list(AccessLog.objects.order_by("id"))


def test_a_lookup_through_the_api_writes_one_row_with_what_was_searched(operator_api, caller):
    response = operator_api.post("/api/v1/lookup/", {"phone": "347 123 4567"}, format="json")
    assert response.status_code == 200
    [row] = rows()
    assert (row.action, row.outcome, row.route, row.status_code) == (
        "search",
        "allowed",
        "api:lookup",
        200,
    )
    assert row.username == operator_api.handler._force_user.username
    assert row.detail == {
        "searched": {"phone": "347 123 4567"},
        "matches": 1,
        "end_users": [caller.id],
    }
    # The index behind "who consulted my data" and the watch on unusual access.
    assert [(s.end_user_id, s.user_id) for s in row.subjects.all()] == [(caller.id, row.user_id)]


def test_a_lookup_over_the_rate_limit_is_logged_as_denied(operator_api, caller, settings):
    settings.LOOKUPS_PER_MINUTE = 1
    operator_api.post("/api/v1/lookup/", {"phone": PHONE}, format="json")
    refused = operator_api.post("/api/v1/lookup/", {"phone": PHONE}, format="json")
    assert refused.status_code == 429
    assert [(r.outcome, r.status_code) for r in rows()] == [("allowed", 200), ("denied", 429)]


def test_the_lookup_page_logs_a_search_and_not_an_empty_visit(client, operator, caller):
    client.force_login(operator)
    client.get("/contracts/lookup/")
    assert rows() == []
    client.post("/contracts/lookup/", {"query": "347 123 4567"})
    [row] = rows()
    assert (row.action, row.route, row.detail["matches"]) == ("search", "contracts:lookup", 1)


def test_the_lookup_page_over_the_limit_answers_200_but_logs_denied(
    client, operator, caller, settings
):
    settings.LOOKUPS_PER_MINUTE = 0
    client.force_login(operator)
    response = client.post("/contracts/lookup/", {"query": PHONE})
    assert response.status_code == 200
    [row] = rows()
    assert row.outcome == "denied"


def test_a_role_without_access_is_logged_as_denied(manager_api, operator_api, caller):
    response = operator_api.get(f"/api/v1/end-users/{caller.id}/")
    assert response.status_code in {403, 404}
    [row] = rows()
    assert (row.action, row.target, row.outcome) == ("view", f"end_user:{caller.id}", "denied")


def test_pages_without_personal_data_write_nothing(client, operator):
    client.force_login(operator)
    client.get("/")
    client.get("/care/intake/")
    assert rows() == []


def test_an_answer_is_withheld_when_its_row_cannot_be_written(operator_api, caller):
    with mock.patch.object(access_log, "append", side_effect=DatabaseError("disk full")):
        response = operator_api.post("/api/v1/lookup/", {"phone": PHONE}, format="json")
    assert response.status_code == 503
    assert "Russo" not in response.content.decode()
    assert response.json()["code"] == "unavailable"


def _chain(n: int) -> list[AccessLog]:
    """`n` rows: the first few through `append`, the bulk chained the same way in one insert."""
    at = timezone.now() - timedelta(days=1)
    values = [
        {
            "at": at + timedelta(seconds=i),
            "user_id": None,
            "username": f"op{i % 7}",
            "action": "view",
            "route": "care:case-detail",
            "method": "GET",
            "target": f"case:CS-2026-{i:06d}",
            "purpose": "",
            "outcome": "allowed",
            "status_code": 200,
            "detail": {"n": i},
        }
        for i in range(n)
    ]
    for row in values[:3]:
        access_log.append(**row)
    previous = AccessChainHead.objects.get().last_hash
    bulk = []
    for row in values[3:]:
        entry = AccessLog(previous_hash=previous, **row)
        entry.row_hash = previous = access_log.row_hash(previous, access_log._hashed_values(entry))
        bulk.append(entry)
    AccessLog.objects.bulk_create(bulk, batch_size=500)
    AccessChainHead.objects.update(last_hash=previous)
    return rows()


def test_the_chain_of_an_untouched_log_verifies():
    _chain(50)
    check = access_log.verify_chain()
    assert (check.rows, check.intact) == (50, True)


def _tamper(sql: str, params: list) -> None:
    """Change the table behind the application's back, as someone with the database owner's
    rights could (on PostgreSQL that means switching the append-only trigger off first, and
    checking the foreign key of the end-user index at once rather than at commit: a pending
    check would stop the trigger from being switched back on)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE config_accesslog DISABLE TRIGGER USER")
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(sql, params)
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE config_accesslog ENABLE TRIGGER USER")


def test_one_altered_row_among_many_is_found_with_its_id():
    entries = _chain(2_000)
    victim = random.Random(7).choice(entries[1:-1])
    _tamper("UPDATE config_accesslog SET target = 'case:x' WHERE id = %s", [victim.id])
    check = access_log.verify_chain(chunk_size=300)
    assert check.first_broken_id == victim.id
    with pytest.raises(CommandError, match=str(victim.id)):
        call_command("verify_access_log")


def test_a_removed_row_breaks_the_chain_at_the_next_one():
    entries = _chain(20)
    _tamper("DELETE FROM config_accesslog WHERE id = %s", [entries[9].id])
    assert access_log.verify_chain().first_broken_id == entries[10].id


def test_rows_removed_at_the_end_are_found_by_the_chain_head():
    entries = _chain(20)
    _tamper("DELETE FROM config_accesslog WHERE id >= %s", [entries[17].id])
    assert not access_log.verify_chain().intact


@pytest.mark.postgres
def test_postgresql_refuses_to_change_or_remove_a_row():
    [entry] = _chain(1)
    for statement in (
        "UPDATE config_accesslog SET target = 'x' WHERE id = %s",
        "DELETE FROM config_accesslog WHERE id = %s",
    ):
        with (
            pytest.raises(DatabaseError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(statement, [entry.id])
    assert access_log.verify_chain().intact


def test_the_nightly_check_reports_the_chain_state():
    _chain(3)
    assert access_log.check_chain_nightly() == {
        "rows": 3,
        "intact": True,
        "first_broken_id": None,
    }


def test_a_search_with_a_nul_character_is_logged_not_refused(operator_api, caller):
    response = operator_api.post("/api/v1/lookup/", {"phone": "347\x00123"}, format="json")
    assert response.status_code in {200, 400}
    [row] = rows()
    assert "\x00" not in str(row.detail)
    assert access_log.verify_chain().intact


def test_administrators_query_the_log_in_the_admin_read_only(client, admin_user, operator_api):
    operator_api.post("/api/v1/lookup/", {"phone": PHONE}, format="json")
    client.force_login(admin_user)
    listing = client.get("/admin/config/accesslog/")
    assert listing.status_code == 200
    assert "api:lookup" in listing.content.decode()
    row = AccessLog.objects.get(route="api:lookup")
    # The admin's own listing of the log is a row too (DESIGN §2: every access logged).
    assert AccessLog.objects.filter(route="admin:config_accesslog_changelist").count() == 1
    assert client.post(f"/admin/config/accesslog/{row.id}/delete/").status_code == 403


def test_a_report_page_is_logged_as_a_view_and_its_export_as_an_export(client, manager):
    client.force_login(manager)
    period = "date_from=2026-12-01&date_to=2026-12-31"
    assert client.get(f"/reports/cases/?{period}").status_code == 200
    response = client.get(f"/reports/cases/?{period}&export=csv")
    assert response.status_code == 200
    viewed, exported = rows()
    assert (viewed.action, viewed.route) == ("view", "reports:report")
    assert (exported.action, exported.route, exported.outcome, exported.target) == (
        "export",
        "reports:report",
        "allowed",
        "report:cases",
    )
    assert exported.username == manager.username


def test_a_json_report_through_the_api_is_logged_as_a_view_and_a_file_as_an_export(manager_api):
    period = {"date_from": "2026-12-01", "date_to": "2026-12-31"}
    assert manager_api.get("/api/v1/reports/cases/", period).status_code == 200
    assert manager_api.get("/api/v1/reports/cases/", {**period, "format": "csv"}).status_code == 200
    assert [(row.action, row.route, row.outcome) for row in rows()] == [
        ("view", "api:report-detail", "allowed"),
        ("export", "api:report-detail", "allowed"),
    ]


def test_a_refused_export_is_logged_as_denied(client, supervisor):
    client.force_login(supervisor)
    response = client.get("/reports/cases/?date_from=2026-12-01&date_to=2026-12-31&export=xlsx")
    assert response.status_code == 403
    [row] = rows()
    assert (row.action, row.outcome) == ("export", "denied")


@pytest.mark.django_db
def test_a_search_term_no_database_can_store_is_logged_with_a_replacement_not_a_503(
    operator_api,
):
    """A lone surrogate or a NUL in what was searched: the request is refused (400) and still
    logged, the character replaced by U+FFFD (PostgreSQL refused the row: the answer was a
    503 and the term reached the error log)."""
    response = operator_api.generic(
        "POST", "/api/v1/lookup/", '{"phone": "347\\udcff\\u0000"}', content_type="application/json"
    )
    assert response.status_code == 400
    row = AccessLog.objects.get(route="api:lookup")
    assert row.outcome == AccessLog.Outcome.DENIED
    assert row.detail["searched"]["phone"] == "347\ufffd\ufffd"


SECURITY_HEADERS = (
    "Content-Security-Policy",
    "X-Frame-Options",
    "X-Content-Type-Options",
    "Referrer-Policy",
    "Cross-Origin-Opener-Policy",
    "Cache-Control",
)


def test_the_withheld_answer_carries_the_same_security_headers_as_any_other(
    client, operator, operator_api, caller
):
    """The 503 is made by the access-log middleware after the view's answer went through the
    security headers: they are now set outside it (issue #26 point 10)."""
    usual = operator_api.post("/api/v1/lookup/", {"phone": PHONE}, format="json")
    with mock.patch.object(access_log, "append", side_effect=DatabaseError("disk full")):
        withheld = operator_api.post("/api/v1/lookup/", {"phone": PHONE}, format="json")
        client.force_login(operator)
        page = client.post("/contracts/lookup/", {"query": PHONE})
    assert (withheld.status_code, page.status_code) == (503, 503)
    for name in SECURITY_HEADERS:
        assert withheld.headers.get(name) == usual.headers.get(name), name
        assert page.headers.get(name) == usual.headers.get(name), name
    assert "no-store" in withheld.headers["Cache-Control"]
