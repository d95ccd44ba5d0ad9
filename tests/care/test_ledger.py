"""The SLA ledger explains each case's clock, and its due times agree with the stored ones."""

import csv
import io
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from care import services
from care.ledger import case_ledger, safe_cell
from care.models import Case, CaseStatus
from care.selectors import case_by_reference
from care.sla import recompute_sla_states
from contracts import services as contract_services
from tests.factories import CLOSING_CODE

ROME = ZoneInfo("Europe/Rome")
OFFICE = {d: [(510, 780), (840, 1050)] for d in range(5)}


def ledger_of(case, user):
    return case_ledger(case_by_reference(user, case.reference))


def agrees(case, user) -> bool:
    stored = Case.objects.get(id=case.id)
    found = ledger_of(case, user)
    return (found.due["first_response"], found.due["resolution"]) == (
        stored.first_response_due_at,
        stored.resolution_due_at,
    )


def kinds(ledger) -> list[str]:
    return [entry.kind for entry in ledger.entries]


def test_a_case_opened_on_friday_night_starts_on_monday_and_skips_the_immacolata(
    open_case_for, end_user, operator
):
    case = open_case_for(end_user, now=datetime(2026, 12, 4, 19, 0, tzinfo=ROME))
    found = ledger_of(case, operator)
    assert agrees(case, operator)
    assert found.due["resolution"] == datetime(2026, 12, 9, 17, 30, tzinfo=ROME)
    started = next(e for e in found.entries if e.kind == "clock_started")
    assert started.at == datetime(2026, 12, 7, 8, 30, tzinfo=ROME)
    closed = [e for e in found.entries if e.kind == "closed_day"]
    assert [e.at.astimezone(ROME).date() for e in closed] == [date(2026, 12, 8)]
    assert "08/12/2026" in closed[0].text


def test_pauses_and_a_priority_change_keep_the_ledger_equal_to_the_stored_due_times(
    new_case, operator, now
):
    services.transition_case(
        actor=operator,
        case=new_case,
        to=CaseStatus.WAITING_CUSTOMER,
        now=now + timedelta(minutes=20),
    )
    services.transition_case(
        actor=operator,
        case=Case.objects.get(id=new_case.id),
        to=CaseStatus.IN_PROGRESS,
        now=now + timedelta(days=1, hours=1, minutes=7),
    )
    services.change_priority(
        actor=operator,
        case=Case.objects.get(id=new_case.id),
        priority="P1",
        now=now + timedelta(days=1, hours=2),
    )
    found = ledger_of(new_case, operator)
    assert agrees(new_case, operator)
    assert {"paused", "resumed", "priority_changed"} <= set(kinds(found))


def test_a_calendar_change_moves_the_ledger_due_times_as_it_moved_the_stored_ones(
    manager, operator, office_calendar, open_case_for, end_user, django_capture_on_commit_callbacks
):
    case = open_case_for(end_user, now=datetime(2026, 12, 2, 10, 0, tzinfo=ROME))
    with django_capture_on_commit_callbacks(execute=True):
        contract_services.update_calendar(
            actor=manager,
            calendar=office_calendar,
            name=office_calendar.name,
            timezone_name="Europe/Rome",
            province="PA",
            always_open=False,
            hours=OFFICE,
            closures=[(date(2026, 12, 3), "Chiusura straordinaria")],
            now=datetime(2026, 12, 2, 10, 30, tzinfo=ROME),
        )
    found = ledger_of(case, operator)
    assert "deadlines_moved" in kinds(found)
    assert agrees(case, operator)
    assert found.due["resolution"] == datetime(2026, 12, 7, 10, 0, tzinfo=ROME)


def test_breaches_and_the_resolution_are_in_the_ledger(new_case, operator, now):
    recompute_sla_states(now=new_case.first_response_at_risk_at)
    recompute_sla_states(now=new_case.first_response_due_at + timedelta(seconds=1))
    services.transition_case(
        actor=operator,
        case=Case.objects.get(id=new_case.id),
        to=CaseStatus.RESOLVED,
        resolution_code=CLOSING_CODE,
        now=now + timedelta(hours=3),
    )
    found = ledger_of(new_case, operator)
    assert agrees(new_case, operator)
    assert {"at_risk", "breached", "met"} <= set(kinds(found))


def test_formula_cells_are_quoted():
    assert [safe_cell(v) for v in ("=1+1", "+39", "-2", "@SUM", "\tx", "\rx", "ok", None)] == [
        "'=1+1",
        "'+39",
        "'-2",
        "'@SUM",
        "'\tx",
        "'\rx",
        "ok",
        "",
    ]


def test_the_ledger_is_exported_as_json_and_csv(operator_api, new_case):
    url = f"/api/v1/cases/{new_case.reference}/sla-ledger/"
    body = operator_api.get(url).json()
    assert body["reference"] == new_case.reference
    assert body["resolution_due"] == new_case.resolution_due_at.isoformat()
    assert body["entries"][0]["kind"] == "opened"
    response = operator_api.get(url + "?format=csv")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == ["at", "kind", "target", "due", "text"]
    assert len(rows) == len(body["entries"]) + 1
    assert operator_api.get("/api/v1/cases/CS-2026-999999/sla-ledger/").status_code == 404


def test_the_case_page_shows_the_ledger(client, operator, new_case):
    client.force_login(operator)
    page = client.get(reverse("care:case-detail", args=[new_case.reference])).content.decode()
    assert 'data-testid="sla-ledger"' in page
    assert 'data-kind="opened"' in page


@pytest.mark.parametrize("priority", ["P1", "P2", "P3", "P4"])
def test_every_priority_agrees(open_case_for, end_user, operator, priority):
    case = open_case_for(end_user, priority=priority)
    assert agrees(case, operator)


def test_holidays_are_named_in_the_readers_language(
    client, operator, operator_api, open_case_for, end_user
):
    case = open_case_for(end_user, now=datetime(2026, 12, 4, 19, 0, tzinfo=ROME))
    url = f"/api/v1/cases/{case.reference}/sla-ledger/"

    def closed_texts(body) -> list[str]:
        return [e["text"] for e in body["entries"] if e["kind"] == "closed_day"]

    italian = closed_texts(operator_api.get(url).json())
    assert italian == closed_texts(operator_api.get(url, HTTP_ACCEPT_LANGUAGE="it").json())
    assert "Immacolata Concezione" in italian[0]
    english = closed_texts(operator_api.get(url, HTTP_ACCEPT_LANGUAGE="en").json())
    assert "Immaculate Conception" in english[0]
    csv_text = operator_api.get(url + "?format=csv").content.decode()
    assert "Immacolata Concezione" in csv_text
    assert "Immaculate" not in csv_text
    client.force_login(operator)
    page = client.get(reverse("care:case-detail", args=[case.reference])).content.decode()
    assert "Immacolata Concezione" in page
    assert "Immaculate" not in page
    client.cookies["django_language"] = "en"
    page = client.get(reverse("care:case-detail", args=[case.reference])).content.decode()
    assert "Immaculate Conception" in page
