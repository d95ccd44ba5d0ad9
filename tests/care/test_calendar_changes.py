"""A calendar change moves the due times of open cases from the moment of the change."""

from datetime import date, datetime
from unittest import mock
from zoneinfo import ZoneInfo

import pytest

from care import services
from care.models import CaseEvent, CaseStatus, Note, SlaState
from contracts import services as contract_services
from tests.factories import CLOSING_CODE

pytestmark = pytest.mark.django_db
ROME = ZoneInfo("Europe/Rome")
OFFICE = {d: [(510, 780), (840, 1050)] for d in range(5)}


def close_thursday(manager, calendar, django_capture_on_commit_callbacks, at):
    with django_capture_on_commit_callbacks(execute=True):
        contract_services.update_calendar(
            actor=manager,
            calendar=calendar,
            name=calendar.name,
            timezone_name="Europe/Rome",
            province="PA",
            always_open=False,
            hours=OFFICE,
            closures=[(date(2026, 12, 3), "Chiusura straordinaria")],
            now=at,
        )


def test_an_unplanned_closure_pushes_the_due_times_still_ahead(
    manager,
    operator,
    office_calendar,
    open_case_for,
    end_user,
    django_capture_on_commit_callbacks,
):
    opened = datetime(2026, 12, 2, 10, 0, tzinfo=ROME)  # Wednesday
    case = open_case_for(end_user, now=opened, priority="P2")  # 60 / 960 business minutes
    old_resolution_due = case.resolution_due_at
    change = datetime(2026, 12, 2, 10, 30, tzinfo=ROME)
    close_thursday(manager, office_calendar, django_capture_on_commit_callbacks, change)

    case.refresh_from_db()
    # First response (11:00 Wednesday) is before the closure: unchanged.
    assert case.first_response_due_at == datetime(2026, 12, 2, 11, 0, tzinfo=ROME)
    # Resolution (960 minutes: Friday 10:00) loses Thursday: the same business time left,
    # counted without it, falls on Monday 10:00.
    assert old_resolution_due == datetime(2026, 12, 4, 10, 0, tzinfo=ROME)
    assert case.resolution_due_at == datetime(2026, 12, 7, 10, 0, tzinfo=ROME)
    assert case.resolution_due_at > old_resolution_due
    event = case.events.get(kind=CaseEvent.Kind.DEADLINES_MOVED)
    assert set(event.detail["after"]) == {"resolution_due_at", "resolution_at_risk_at"}


def test_a_target_already_met_does_not_move(
    manager,
    operator,
    office_calendar,
    open_case_for,
    end_user,
    django_capture_on_commit_callbacks,
):
    opened = datetime(2026, 12, 2, 10, 0, tzinfo=ROME)
    case = open_case_for(end_user, now=opened, priority="P2")
    services.add_note(
        actor=operator,
        case=case,
        body="Presa in carico",
        visibility=Note.Visibility.CUSTOMER,
        now=datetime(2026, 12, 2, 10, 10, tzinfo=ROME),
    )
    case.refresh_from_db()
    met_due = case.first_response_due_at
    close_thursday(
        manager,
        office_calendar,
        django_capture_on_commit_callbacks,
        datetime(2026, 12, 2, 10, 20, tzinfo=ROME),
    )
    case.refresh_from_db()
    assert case.first_response_state == SlaState.MET
    assert case.first_response_due_at == met_due


def test_resolved_cases_are_left_alone(
    manager,
    operator,
    office_calendar,
    open_case_for,
    end_user,
    django_capture_on_commit_callbacks,
):
    opened = datetime(2026, 12, 2, 10, 0, tzinfo=ROME)
    case = open_case_for(end_user, now=opened, priority="P2")
    services.transition_case(
        actor=operator,
        case=case,
        to=CaseStatus.RESOLVED,
        resolution_code=CLOSING_CODE,
        now=datetime(2026, 12, 2, 10, 5, tzinfo=ROME),
    )
    close_thursday(
        manager,
        office_calendar,
        django_capture_on_commit_callbacks,
        datetime(2026, 12, 2, 10, 20, tzinfo=ROME),
    )
    assert not CaseEvent.objects.filter(kind=CaseEvent.Kind.DEADLINES_MOVED).exists()


def test_a_calendar_change_and_the_move_of_due_times_commit_together(
    manager, office_calendar, open_case_for, end_user, django_capture_on_commit_callbacks
):
    """If the due times cannot be moved, the calendar change is refused too: never a new
    calendar with due times computed on the old one."""
    opened = datetime(2026, 12, 2, 10, 0, tzinfo=ROME)
    case = open_case_for(end_user, now=opened, priority="P2")
    due = case.resolution_due_at
    change = datetime(2026, 12, 2, 10, 30, tzinfo=ROME)
    failing = mock.patch.object(
        services, "move_deadlines_after_calendar_change", side_effect=RuntimeError
    )
    with failing, pytest.raises(RuntimeError):
        close_thursday(manager, office_calendar, django_capture_on_commit_callbacks, change)
    case.refresh_from_db()
    assert case.resolution_due_at == due
    assert not office_calendar.closures.exists()
