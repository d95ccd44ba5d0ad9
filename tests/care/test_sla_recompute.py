"""The SLA recompute: states follow the instants stored on each case, alerts (told as the
case's events) happen once, and the work is set-based (the query count does not grow with
the open cases).

The threaded test needs PostgreSQL's advisory and row locks and runs there
(`scripts/test.sh postgres`).
"""

import threading
import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.db import connection, connections, transaction
from django.db.models import F
from django.test.utils import CaptureQueriesContext

from care import selectors, services
from care.models import Case, CaseEvent, CaseStatus, Note, SlaAlert, SlaState
from care.sla import ADVISORY_LOCK_KEY, recompute_sla_states
from config.models import Heartbeat
from contracts import calendars
from tests.factories import EndUserFactory

ROME = ZoneInfo("Europe/Rome")
MINUTE = timedelta(minutes=1)
SECOND = timedelta(seconds=1)  # breached once past the due instant; at the instant, on time
SLA_EVENTS = (CaseEvent.Kind.SLA_AT_RISK, CaseEvent.Kind.SLA_BREACHED)
THREAD_TIMEOUT = 30


def reloaded(case: Case) -> Case:
    return Case.objects.get(id=case.id)


def states(case: Case) -> tuple[str, str]:
    case = reloaded(case)
    return case.first_response_state, case.resolution_state


def alerts() -> list[tuple[int, str, str]]:
    return sorted(SlaAlert.objects.values_list("case_id", "target", "level"))


def told() -> list[CaseEvent]:
    """The SLA transitions as the timeline, the ledger and the API tell them: from the
    alerts (`selectors.case_events`); no case event is stored for them any more."""
    assert not CaseEvent.objects.filter(kind__in=SLA_EVENTS).exists()
    return [
        event
        for case in Case.objects.prefetch_related("events", "sla_alerts")
        for event in selectors.case_events(case)
        if event.kind in SLA_EVENTS
    ]


def sla_events() -> list[tuple[int, str, str]]:
    return sorted((e.case_id, e.kind, e.detail["target"]) for e in told())


# --- States against the stored instants ------------------------------------------------------


def test_a_case_stays_ok_until_its_first_response_turns_at_risk(new_case):
    recompute_sla_states(now=new_case.first_response_at_risk_at - MINUTE)
    assert states(new_case) == (SlaState.OK, SlaState.OK)
    assert alerts() == []


def test_first_response_turns_at_risk_at_its_at_risk_instant_and_resolution_stays_ok(new_case):
    result = recompute_sla_states(now=new_case.first_response_at_risk_at)
    assert states(new_case) == (SlaState.AT_RISK, SlaState.OK)
    assert (result.at_risk, result.breached, result.scanned) == (1, 0, 1)


def test_first_response_stays_at_risk_until_its_due_instant_then_breaches(new_case):
    recompute_sla_states(now=new_case.first_response_due_at - MINUTE)
    assert states(new_case) == (SlaState.AT_RISK, SlaState.OK)
    recompute_sla_states(now=new_case.first_response_due_at)
    assert states(new_case) == (SlaState.AT_RISK, SlaState.OK)
    result = recompute_sla_states(now=new_case.first_response_due_at + SECOND)
    assert states(new_case) == (SlaState.BREACHED, SlaState.OK)
    assert (result.at_risk, result.breached) == (0, 1)


def test_resolution_turns_at_risk_then_breached_at_its_stored_instants(new_case):
    recompute_sla_states(now=new_case.resolution_at_risk_at - MINUTE)
    assert states(new_case) == (SlaState.BREACHED, SlaState.OK)
    recompute_sla_states(now=new_case.resolution_at_risk_at)
    assert states(new_case) == (SlaState.BREACHED, SlaState.AT_RISK)
    recompute_sla_states(now=new_case.resolution_due_at - MINUTE)
    assert states(new_case) == (SlaState.BREACHED, SlaState.AT_RISK)
    recompute_sla_states(now=new_case.resolution_due_at + SECOND)
    assert states(new_case) == (SlaState.BREACHED, SlaState.BREACHED)


def test_a_change_of_state_moves_the_row_version_on(new_case):
    version = reloaded(new_case).row_version
    recompute_sla_states(now=new_case.first_response_at_risk_at)
    assert reloaded(new_case).row_version == version + 1
    recompute_sla_states(now=new_case.first_response_at_risk_at)
    assert reloaded(new_case).row_version == version + 1


def test_a_case_opened_on_friday_evening_breaches_exactly_when_the_calendar_says(
    open_case_for, end_user, calendar_spec
):
    # Friday 4 Dec 2026, half an hour before closing; Tuesday 8 Dec is the Immacolata.
    opened_at = datetime(2026, 12, 4, 17, 0, tzinfo=ROME)
    case = open_case_for(end_user, now=opened_at)
    first_due = calendars.add_business_minutes(calendar_spec, opened_at, 60)
    resolution_due = calendars.add_business_minutes(calendar_spec, opened_at, 960)
    assert first_due == datetime(2026, 12, 7, 9, 0, tzinfo=ROME)
    assert resolution_due == datetime(2026, 12, 9, 17, 0, tzinfo=ROME)
    stored = reloaded(case)
    assert (stored.first_response_due_at, stored.resolution_due_at) == (first_due, resolution_due)

    recompute_sla_states(now=first_due - MINUTE)
    assert reloaded(case).first_response_state == SlaState.AT_RISK
    recompute_sla_states(now=first_due)
    assert reloaded(case).first_response_state == SlaState.AT_RISK
    recompute_sla_states(now=first_due + SECOND)
    assert reloaded(case).first_response_state == SlaState.BREACHED

    recompute_sla_states(now=resolution_due - MINUTE)
    assert reloaded(case).resolution_state == SlaState.AT_RISK
    recompute_sla_states(now=resolution_due + SECOND)
    assert reloaded(case).resolution_state == SlaState.BREACHED


# --- What the recompute never touches --------------------------------------------------------


def test_a_case_waiting_for_the_customer_does_not_change(case_in_status, care_tables):
    case = case_in_status(CaseStatus.WAITING_CUSTOMER)
    before = care_tables()
    result = recompute_sla_states(now=case.resolution_due_at + timedelta(days=30))
    assert care_tables() == before
    assert states(case) == (SlaState.OK, SlaState.OK)
    assert alerts() == []
    assert result.scanned == 0


def test_a_resolved_case_does_not_change(case_in_status, care_tables):
    case = case_in_status(CaseStatus.RESOLVED)
    before = care_tables()
    recompute_sla_states(now=case.resolution_due_at + timedelta(days=30))
    assert care_tables() == before
    assert alerts() == []


def test_a_met_first_response_stays_met_while_resolution_breaches(new_case, operator, now):
    services.add_note(
        actor=operator,
        case=new_case,
        body="La stiamo richiamando",
        visibility=Note.Visibility.CUSTOMER,
        now=now + timedelta(minutes=5),
    )
    assert reloaded(new_case).first_response_state == SlaState.MET
    recompute_sla_states(now=new_case.resolution_due_at + timedelta(days=30))
    assert states(new_case) == (SlaState.MET, SlaState.BREACHED)
    assert alerts() == [(new_case.id, SlaAlert.Target.RESOLUTION, SlaAlert.Level.BREACHED)]


# --- Once only --------------------------------------------------------------------------------


def test_running_twice_and_later_creates_each_alert_and_event_once(new_case):
    at_risk = new_case.first_response_at_risk_at
    recompute_sla_states(now=at_risk)
    second = recompute_sla_states(now=at_risk)
    assert (second.at_risk, second.breached) == (0, 0)
    recompute_sla_states(now=new_case.first_response_due_at)
    recompute_sla_states(now=new_case.first_response_due_at + timedelta(hours=1))

    first_response = SlaAlert.Target.FIRST_RESPONSE
    assert alerts() == [
        (new_case.id, first_response, SlaAlert.Level.AT_RISK),
        (new_case.id, first_response, SlaAlert.Level.BREACHED),
    ]
    assert sla_events() == [
        (new_case.id, CaseEvent.Kind.SLA_AT_RISK, first_response),
        (new_case.id, CaseEvent.Kind.SLA_BREACHED, first_response),
    ]


def test_a_case_that_goes_from_ok_straight_to_breached_gets_only_the_breached_alert(new_case):
    result = recompute_sla_states(now=new_case.resolution_due_at + timedelta(days=1))
    assert states(new_case) == (SlaState.BREACHED, SlaState.BREACHED)
    assert (result.at_risk, result.breached) == (0, 2)
    assert alerts() == [
        (new_case.id, SlaAlert.Target.FIRST_RESPONSE, SlaAlert.Level.BREACHED),
        (new_case.id, SlaAlert.Target.RESOLUTION, SlaAlert.Level.BREACHED),
    ]
    assert sla_events() == [
        (new_case.id, CaseEvent.Kind.SLA_BREACHED, SlaAlert.Target.FIRST_RESPONSE),
        (new_case.id, CaseEvent.Kind.SLA_BREACHED, SlaAlert.Target.RESOLUTION),
    ]


def test_one_run_moves_both_targets_of_a_case_each_by_its_own_instants(new_case):
    """First response already at risk turns breached while resolution turns at risk, in the
    same run: each target its alert and its event, with the state it left."""
    recompute_sla_states(now=new_case.first_response_at_risk_at)
    at = max(new_case.first_response_due_at + SECOND, new_case.resolution_at_risk_at)
    assert at <= new_case.resolution_due_at
    before = reloaded(new_case).row_version
    result = recompute_sla_states(now=at)
    assert (result.at_risk, result.breached) == (1, 1)
    assert states(new_case) == (SlaState.BREACHED, SlaState.AT_RISK)
    assert reloaded(new_case).row_version == before + 1  # one write, both targets
    moved = sorted((e for e in told() if e.at == at), key=lambda e: e.kind)
    assert [(e.detail["target"], e.from_value, e.to_value) for e in moved] == [
        (SlaAlert.Target.RESOLUTION, SlaState.OK, SlaState.AT_RISK),
        (SlaAlert.Target.FIRST_RESPONSE, SlaState.AT_RISK, SlaState.BREACHED),
    ]
    resolution = moved[0].detail
    assert resolution["due_at"] == new_case.resolution_due_at.isoformat()
    assert resolution["at_risk_at"] == new_case.resolution_at_risk_at.isoformat()


def test_the_alert_and_event_record_the_instant_of_the_run(new_case):
    at = new_case.first_response_at_risk_at + timedelta(seconds=7)
    recompute_sla_states(now=at)
    assert SlaAlert.objects.get().at == at
    (event,) = told()
    assert event.kind == CaseEvent.Kind.SLA_AT_RISK
    assert (event.at, event.from_value, event.to_value) == (at, SlaState.OK, SlaState.AT_RISK)


# --- Heartbeat and command --------------------------------------------------------------------


def test_the_recompute_records_its_heartbeat_with_counts_and_duration(new_case):
    at = new_case.resolution_due_at + SECOND
    recompute_sla_states(now=at)
    heartbeat = Heartbeat.objects.get(name=Heartbeat.SLA_RECOMPUTE)
    assert heartbeat.beat_at == at
    assert heartbeat.detail["breached"] == 2
    assert heartbeat.detail["at_risk"] == 0
    assert heartbeat.detail["scanned"] == 1
    assert heartbeat.detail["seconds"] >= 0


def test_the_command_runs_the_recompute_once_and_reports_it(db, capsys):
    call_command("recompute_sla")
    assert Heartbeat.objects.filter(name=Heartbeat.SLA_RECOMPUTE).exists()
    assert capsys.readouterr().out


# --- Set-based --------------------------------------------------------------------------------


def open_cases(open_case_for, end_user, count: int, **changes) -> list[Case]:
    """`count` cases of different callers (no duplicate guard in the way)."""
    return [
        open_case_for(EndUserFactory(client=end_user.client), subject=f"Caso {n}", **changes)
        for n in range(count)
    ]


def queries_of_a_run(now: datetime) -> int:
    with CaptureQueriesContext(connection) as captured:
        recompute_sla_states(now=now)
    return len(captured.captured_queries)


@pytest.mark.parametrize("count", [3, 60])
def test_the_number_of_queries_does_not_grow_with_the_open_cases(
    open_case_for, end_user, now, count, django_assert_max_num_queries
):
    cases = open_cases(open_case_for, end_user, count)
    at_risk = cases[0].first_response_at_risk_at
    with django_assert_max_num_queries(30):
        result = recompute_sla_states(now=at_risk)
    assert result.at_risk == count
    with django_assert_max_num_queries(30):
        result = recompute_sla_states(now=now + timedelta(days=30))
    assert result.breached == 2 * count
    with django_assert_max_num_queries(30):
        result = recompute_sla_states(now=now + timedelta(days=31))
    assert (result.at_risk, result.breached, result.scanned) == (0, 0, count)


def test_three_and_sixty_breaching_cases_take_the_same_number_of_queries(
    open_case_for, end_user, now
):
    recompute_sla_states(now=now)  # the heartbeat row exists from now on: both runs update it
    open_cases(open_case_for, end_user, 3)
    few_queries = queries_of_a_run(now + timedelta(days=30))
    open_cases(open_case_for, end_user, 60, now=now + timedelta(days=30))
    many_queries = queries_of_a_run(now + timedelta(days=60))
    assert Case.objects.filter(resolution_state=SlaState.BREACHED).count() == 63
    assert many_queries == few_queries


# --- Concurrency (PostgreSQL) ----------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_runs_at_the_same_moment_write_each_alert_and_event_once(open_case_for, end_user, now):
    cases = open_cases(open_case_for, end_user, 20)
    at = now + timedelta(days=30)
    barrier = threading.Barrier(2)
    results, errors = [], []

    def run():
        try:
            barrier.wait(timeout=THREAD_TIMEOUT)
            results.append(recompute_sla_states(now=at))
        except Exception as error:  # reported by the assertion below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(THREAD_TIMEOUT)
    assert errors == []
    assert len(results) == 2
    assert sum(result.breached for result in results) == 2 * len(cases)
    assert SlaAlert.objects.count() == 2 * len(cases)
    assert [e.kind for e in told()] == [CaseEvent.Kind.SLA_BREACHED] * 2 * len(cases)
    assert set(Case.objects.values_list("first_response_state", "resolution_state")) == {
        (SlaState.BREACHED, SlaState.BREACHED)
    }


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_run_that_finds_another_holding_the_lock_skips_and_changes_nothing(new_case, care_tables):
    locked, release = threading.Event(), threading.Event()

    def other_run_holding_the_lock():
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [ADVISORY_LOCK_KEY])
                locked.set()
                release.wait(THREAD_TIMEOUT)
        finally:
            connections.close_all()

    holder = threading.Thread(target=other_run_holding_the_lock)
    holder.start()
    try:
        assert locked.wait(THREAD_TIMEOUT)
        before = care_tables()
        result = recompute_sla_states(now=new_case.resolution_due_at + SECOND)
        assert result.skipped
        assert care_tables() == before
        assert not Heartbeat.objects.filter(name=Heartbeat.SLA_RECOMPUTE).exists()
    finally:
        release.set()
        holder.join(THREAD_TIMEOUT)
    assert not recompute_sla_states(now=new_case.resolution_due_at + SECOND).skipped
    assert states(new_case) == (SlaState.BREACHED, SlaState.BREACHED)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_case_changed_while_the_run_waits_for_its_row_is_left_to_the_next_run(new_case):
    """An operator answers (first response met) while the recompute waits for the case's
    row: the run must not take the answer for a move of its own (a "met" alert); the next
    run turns the resolution at risk from the case as it now is."""
    at = max(new_case.first_response_due_at + SECOND, new_case.resolution_at_risk_at)
    holding, release, results, errors = threading.Event(), threading.Event(), [], []

    def operator_answers():
        try:
            with transaction.atomic():
                Case.objects.select_for_update().get(id=new_case.id)
                Case.objects.filter(id=new_case.id).update(
                    first_response_state=SlaState.MET,
                    first_response_at=new_case.opened_at + MINUTE,
                    row_version=F("row_version") + 1,
                )
                holding.set()
                release.wait(THREAD_TIMEOUT)
        except Exception as error:  # reported by the assertion below
            errors.append(error)
        finally:
            connections.close_all()

    def recompute():
        try:
            results.append(recompute_sla_states(now=at))
        except Exception as error:
            errors.append(error)
        finally:
            connections.close_all()

    answering = threading.Thread(target=operator_answers)
    answering.start()
    assert holding.wait(THREAD_TIMEOUT)
    running = threading.Thread(target=recompute)
    running.start()
    deadline = time.monotonic() + THREAD_TIMEOUT
    while time.monotonic() < deadline:  # until the run waits for the case's row lock
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                "AND datname = current_database()"
            )
            if cursor.fetchone()[0]:
                break
        time.sleep(0.05)
    release.set()
    answering.join(THREAD_TIMEOUT)
    running.join(THREAD_TIMEOUT)
    assert errors == []
    assert (results[0].at_risk, results[0].breached) == (0, 0)
    assert states(new_case) == (SlaState.MET, SlaState.OK)
    assert alerts() == []

    second = recompute_sla_states(now=at)
    assert (second.at_risk, second.breached) == (1, 0)
    assert states(new_case) == (SlaState.MET, SlaState.AT_RISK)
    assert alerts() == [(new_case.id, SlaAlert.Target.RESOLUTION, SlaAlert.Level.AT_RISK)]
