"""One record per SLA transition: what the case timeline, the SLA ledger and the API's case
events tell of a history (cases going at risk, breached, met, paused and reopened) is written
out by hand here, as the pages told it when each transition was also copied into a case event.
"""

from datetime import timedelta

import pytest
from django.utils import translation

from care import selectors, services
from care.ledger import case_ledger, ledger_rows
from care.models import Case, CaseEvent, CaseStatus, Note, SlaAlert
from care.sla import recompute_sla_states
from tests.factories import CLOSING_CODE, EndUserFactory

SECOND = timedelta(seconds=1)
MINUTE = timedelta(minutes=1)
SLA_KINDS = ("sla_at_risk", "sla_breached")


def sla(kind, at, before, after, target, due_at, at_risk_at, text) -> dict:
    """An SLA entry of the API's case events, in the shape every other event has."""
    return {
        "kind": kind,
        "at": at,
        "actor": None,
        "from_value": before,
        "to_value": after,
        "detail": {"target": target, "due_at": due_at, "at_risk_at": at_risk_at},
        "text": text,
    }


# As the pages and the API told this history when each transition was also a case event.
LATE = {
    "timeline": [
        ("2026-12-02T09:00:00+00:00", "opened", "Opened: New"),
        (
            "2026-12-02T09:48:00+00:00",
            "sla_at_risk",
            "SLA at risk: First response: On time → At risk",
        ),
        (
            "2026-12-02T10:00:01+00:00",
            "sla_breached",
            "SLA breached: First response: At risk → Breached",
        ),
        ("2026-12-03T14:48:00+00:00", "sla_at_risk", "SLA at risk: Resolution: On time → At risk"),
        (
            "2026-12-04T11:10:01+00:00",
            "sla_breached",
            "SLA breached: Resolution: At risk → Breached",
        ),
    ],
    "ledger": [
        ("2026-12-02T09:00:00+00:00", "opened", "", "Case opened."),
        (
            "2026-12-02T09:00:00+00:00",
            "due",
            "first_response",
            "First response due 02/12/2026 11:00 (priority P2).",
        ),
        (
            "2026-12-02T09:00:00+00:00",
            "due",
            "resolution",
            "Resolution due 04/12/2026 10:00 (priority P2).",
        ),
        ("2026-12-02T09:48:00+00:00", "at_risk", "first_response", "First response at risk."),
        ("2026-12-02T10:00:01+00:00", "breached", "first_response", "First response breached."),
        ("2026-12-03T14:48:00+00:00", "at_risk", "resolution", "Resolution at risk."),
        ("2026-12-04T11:10:01+00:00", "breached", "resolution", "Resolution breached."),
    ],
    "api": [
        sla(
            "sla_at_risk",
            "2026-12-02T10:48:00+01:00",
            "ok",
            "at_risk",
            "first_response",
            "2026-12-02T10:00:00+00:00",
            "2026-12-02T09:48:00+00:00",
            "SLA at risk: First response: On time → At risk",
        ),
        sla(
            "sla_breached",
            "2026-12-02T11:00:01+01:00",
            "at_risk",
            "breached",
            "first_response",
            "2026-12-02T10:00:00+00:00",
            "2026-12-02T09:48:00+00:00",
            "SLA breached: First response: At risk → Breached",
        ),
        sla(
            "sla_at_risk",
            "2026-12-03T15:48:00+01:00",
            "ok",
            "at_risk",
            "resolution",
            "2026-12-04T09:00:00+00:00",
            "2026-12-03T14:48:00+00:00",
            "SLA at risk: Resolution: On time → At risk",
        ),
        sla(
            "sla_breached",
            "2026-12-04T12:10:01+01:00",
            "at_risk",
            "breached",
            "resolution",
            "2026-12-04T09:00:00+00:00",
            "2026-12-03T14:48:00+00:00",
            "SLA breached: Resolution: At risk → Breached",
        ),
    ],
}
MET = {
    "timeline": [
        ("2026-12-02T09:00:00+00:00", "opened", "Opened: New"),
        (
            "2026-12-02T09:48:00+00:00",
            "sla_at_risk",
            "SLA at risk: First response: On time → At risk",
        ),
        ("2026-12-02T09:49:00+00:00", "note_added", "Note added"),
        ("2026-12-02T09:49:00+00:00", "first_response", "First response given: Met"),
        ("2026-12-02T12:00:00+00:00", "status_changed", "Status changed: New → Resolved"),
    ],
    "ledger": [
        ("2026-12-02T09:00:00+00:00", "opened", "", "Case opened."),
        (
            "2026-12-02T09:00:00+00:00",
            "due",
            "first_response",
            "First response due 02/12/2026 11:00 (priority P2).",
        ),
        (
            "2026-12-02T09:00:00+00:00",
            "due",
            "resolution",
            "Resolution due 04/12/2026 10:00 (priority P2).",
        ),
        ("2026-12-02T09:48:00+00:00", "at_risk", "first_response", "First response at risk."),
        ("2026-12-02T09:49:00+00:00", "met", "first_response", "First response met."),
        ("2026-12-02T12:00:00+00:00", "met", "resolution", "Resolution met."),
    ],
    "api": [
        sla(
            "sla_at_risk",
            "2026-12-02T10:48:00+01:00",
            "ok",
            "at_risk",
            "first_response",
            "2026-12-02T10:00:00+00:00",
            "2026-12-02T09:48:00+00:00",
            "SLA at risk: First response: On time → At risk",
        ),
    ],
}
PAUSED = {
    "timeline": [
        ("2026-12-02T09:00:00+00:00", "opened", "Opened: New"),
        (
            "2026-12-02T09:48:00+00:00",
            "sla_at_risk",
            "SLA at risk: First response: On time → At risk",
        ),
        ("2026-12-02T09:50:00+00:00", "clock_paused", "SLA clock paused"),
        (
            "2026-12-02T09:50:00+00:00",
            "status_changed",
            "Status changed: New → Waiting for the customer",
        ),
        ("2026-12-02T13:00:00+00:00", "clock_resumed", "SLA clock resumed"),
        (
            "2026-12-02T13:00:00+00:00",
            "status_changed",
            "Status changed: Waiting for the customer → In progress",
        ),
        (
            "2026-12-03T14:48:00+00:00",
            "sla_breached",
            "SLA breached: First response: At risk → Breached",
        ),
        (
            "2026-12-04T11:10:01+00:00",
            "sla_breached",
            "SLA breached: Resolution: On time → Breached",
        ),
    ],
    "ledger": [
        ("2026-12-02T09:00:00+00:00", "opened", "", "Case opened."),
        (
            "2026-12-02T09:00:00+00:00",
            "due",
            "first_response",
            "First response due 02/12/2026 11:00 (priority P2).",
        ),
        (
            "2026-12-02T09:00:00+00:00",
            "due",
            "resolution",
            "Resolution due 04/12/2026 10:00 (priority P2).",
        ),
        ("2026-12-02T09:48:00+00:00", "at_risk", "first_response", "First response at risk."),
        (
            "2026-12-02T09:50:00+00:00",
            "paused",
            "",
            "Clock paused: the case waits for the customer.",
        ),
        (
            "2026-12-02T13:00:00+00:00",
            "resumed",
            "",
            "Clock resumed after 130.0 business minutes of pause.",
        ),
        (
            "2026-12-02T13:00:00+00:00",
            "due",
            "first_response",
            "First response due 02/12/2026 14:10 (pauses added).",
        ),
        (
            "2026-12-02T13:00:00+00:00",
            "due",
            "resolution",
            "Resolution due 04/12/2026 12:10 (pauses added).",
        ),
        ("2026-12-03T14:48:00+00:00", "breached", "first_response", "First response breached."),
        ("2026-12-04T11:10:01+00:00", "breached", "resolution", "Resolution breached."),
    ],
    "api": [
        sla(
            "sla_at_risk",
            "2026-12-02T10:48:00+01:00",
            "ok",
            "at_risk",
            "first_response",
            "2026-12-02T10:00:00+00:00",
            "2026-12-02T09:48:00+00:00",
            "SLA at risk: First response: On time → At risk",
        ),
        sla(
            "sla_breached",
            "2026-12-03T15:48:00+01:00",
            "at_risk",
            "breached",
            "first_response",
            "2026-12-02T13:10:00+00:00",
            "2026-12-02T11:58:00+00:00",
            "SLA breached: First response: At risk → Breached",
        ),
        sla(
            "sla_breached",
            "2026-12-04T12:10:01+01:00",
            "ok",
            "breached",
            "resolution",
            "2026-12-04T11:10:00+00:00",
            "2026-12-04T07:58:00+00:00",
            "SLA breached: Resolution: On time → Breached",
        ),
    ],
}
REOPENED = {
    "timeline": [
        ("2026-12-02T09:00:00+00:00", "opened", "Opened: New"),
        (
            "2026-12-02T09:48:00+00:00",
            "sla_at_risk",
            "SLA at risk: First response: On time → At risk",
        ),
        ("2026-12-02T09:49:00+00:00", "note_added", "Note added"),
        ("2026-12-02T09:49:00+00:00", "first_response", "First response given: Met"),
        ("2026-12-03T14:48:00+00:00", "sla_at_risk", "SLA at risk: Resolution: On time → At risk"),
        ("2026-12-03T14:49:00+00:00", "status_changed", "Status changed: New → Resolved"),
        (
            "2026-12-03T14:50:00+00:00",
            "reopened",
            "Reopened: Resolved → In progress «Il cliente richiama»",
        ),
    ],
    "ledger": [
        ("2026-12-02T09:00:00+00:00", "opened", "", "Case opened."),
        (
            "2026-12-02T09:00:00+00:00",
            "due",
            "first_response",
            "First response due 02/12/2026 11:00 (priority P2).",
        ),
        (
            "2026-12-02T09:00:00+00:00",
            "due",
            "resolution",
            "Resolution due 04/12/2026 10:00 (priority P2).",
        ),
        ("2026-12-02T09:48:00+00:00", "at_risk", "first_response", "First response at risk."),
        ("2026-12-02T09:49:00+00:00", "met", "first_response", "First response met."),
        ("2026-12-03T14:48:00+00:00", "at_risk", "resolution", "Resolution at risk."),
        ("2026-12-03T14:49:00+00:00", "met", "resolution", "Resolution met."),
    ],
    "api": [
        sla(
            "sla_at_risk",
            "2026-12-02T10:48:00+01:00",
            "ok",
            "at_risk",
            "first_response",
            "2026-12-02T10:00:00+00:00",
            "2026-12-02T09:48:00+00:00",
            "SLA at risk: First response: On time → At risk",
        ),
        sla(
            "sla_at_risk",
            "2026-12-03T15:48:00+01:00",
            "ok",
            "at_risk",
            "resolution",
            "2026-12-04T09:00:00+00:00",
            "2026-12-03T14:48:00+00:00",
            "SLA at risk: Resolution: On time → At risk",
        ),
    ],
}


def fresh(case: Case) -> Case:
    return Case.objects.get(id=case.id)


@pytest.fixture
def history(open_case_for, contract, operator, now):
    """Four cases opened at `now` (Wednesday 2 Dec 2026, 10:00 Rome; P2: first response in
    60 business minutes, resolution in 960) and the recompute run as beat runs it."""
    late, met, paused, reopened = (
        open_case_for(EndUserFactory(client=contract.client), subject=f"Caso {n}") for n in range(4)
    )
    tick = fresh(late).first_response_at_risk_at
    recompute_sla_states(now=tick)  # every first response turns at risk
    services.add_note(
        actor=operator,
        case=fresh(met),
        body="Risposta",
        visibility=Note.Visibility.CUSTOMER,
        now=tick + MINUTE,
    )
    services.add_note(
        actor=operator,
        case=fresh(reopened),
        body="Risposta",
        visibility=Note.Visibility.CUSTOMER,
        now=tick + MINUTE,
    )
    services.transition_case(
        actor=operator, case=fresh(paused), to=CaseStatus.WAITING_CUSTOMER, now=tick + 2 * MINUTE
    )
    recompute_sla_states(now=fresh(late).first_response_due_at + SECOND)
    services.transition_case(
        actor=operator,
        case=fresh(met),
        to=CaseStatus.RESOLVED,
        resolution_code=CLOSING_CODE,
        now=now + timedelta(hours=3),
    )
    services.transition_case(
        actor=operator, case=fresh(paused), to=CaseStatus.IN_PROGRESS, now=now + timedelta(hours=4)
    )
    recompute_sla_states(now=fresh(late).resolution_at_risk_at)
    services.transition_case(
        actor=operator,
        case=fresh(reopened),
        to=CaseStatus.RESOLVED,
        resolution_code=CLOSING_CODE,
        now=fresh(reopened).resolution_at_risk_at + MINUTE,
    )
    services.reopen_case(
        actor=operator,
        case=fresh(reopened),
        reason="Il cliente richiama",
        now=fresh(reopened).resolution_at_risk_at + 2 * MINUTE,
    )
    recompute_sla_states(now=fresh(paused).resolution_due_at + SECOND)
    return [fresh(case) for case in (late, met, paused, reopened)]


def told(history, operator, operator_api):
    """Per case: the timeline's events in words, the ledger's rows, the API's SLA events."""
    with translation.override("en"):
        shown = []
        for case in history:
            stored = selectors.case_by_reference(operator, case.reference)
            timeline = [
                (item["at"].isoformat(), item["event"].kind, item["text"])
                for item in selectors.timeline(stored)
                if item["kind"] == "event"
            ]
            ledger = [
                (row["at"], row["kind"], row["target"], row["text"])
                for row in ledger_rows(case_ledger(stored))
            ]
            events = operator_api.get(
                f"/api/v1/cases/{case.reference}/", HTTP_ACCEPT_LANGUAGE="en"
            ).json()["events"]
            api = [event for event in events if event["kind"] in SLA_KINDS]
            shown.append({"timeline": timeline, "ledger": ledger, "api": api})
    return shown


def test_timeline_ledger_and_api_tell_the_history_as_before(history, operator, operator_api):
    assert told(history, operator, operator_api) == [LATE, MET, PAUSED, REOPENED]


def test_no_case_event_is_stored_for_an_sla_transition(history):
    assert not CaseEvent.objects.filter(kind__in=SLA_KINDS).exists()
    assert SlaAlert.objects.count() == 10  # as the API lists above
    assert not SlaAlert.objects.filter(from_state="").exists()


def test_a_transition_stored_before_the_alert_kept_its_facts_is_told_once_by_its_event(
    new_case, operator, operator_api
):
    """Before migration `slaalert_facts` the recompute wrote the alert bare and copied the
    transition into a case event: the event tells it, as it did; the bare alert adds nothing."""
    at = new_case.first_response_due_at + SECOND
    SlaAlert.objects.create(case=new_case, target="first_response", level="breached", at=at)
    CaseEvent.objects.create(
        case=new_case,
        kind="sla_breached",
        at=at,
        from_value="ok",
        to_value="breached",
        detail={
            "target": "first_response",
            "due_at": new_case.first_response_due_at.isoformat(),
            "at_risk_at": new_case.first_response_at_risk_at.isoformat(),
        },
    )
    shown = told([new_case], operator, operator_api)[0]
    assert shown["timeline"][1:] == [
        (
            "2026-12-02T10:00:01+00:00",
            "sla_breached",
            "SLA breached: First response: On time → Breached",
        )
    ]
    assert shown["ledger"][3:] == [
        ("2026-12-02T10:00:01+00:00", "breached", "first_response", "First response breached.")
    ]
    assert shown["api"] == [
        sla(
            "sla_breached",
            "2026-12-02T11:00:01+01:00",
            "ok",
            "breached",
            "first_response",
            "2026-12-02T10:00:00+00:00",
            "2026-12-02T09:48:00+00:00",
            "SLA breached: First response: On time → Breached",
        )
    ]
