"""Two people acting on one case: the optimistic lock (`expected_version`) refuses a change
based on a stale page, and the case row lock serialises services acting at the same time.

The deterministic tests run everywhere. The threaded ones use real connections and commits
(`transaction=True`); they need PostgreSQL's row locks and run there (`scripts/test.sh
postgres`): SQLite's in-memory shared-cache test database answers a second writer with
"database table is locked" at once instead of making it wait.
"""

import threading
from datetime import timedelta

import pytest
from django.db import connection, connections

from care import services
from care.exceptions import CaseChangedMeanwhile, TransitionNotAllowed
from care.models import Case, CaseEvent, CaseSequence, CaseStatus, Note
from tests.factories import EndUserFactory

THREAD_TIMEOUT = 30


def reloaded(case: Case) -> Case:
    return Case.objects.get(id=case.id)


# --- Optimistic lock: deterministic ---------------------------------------------------------


def _note(case, actor, version, now):
    return services.add_note(
        actor=actor, case=case, body="Da una pagina vecchia", expected_version=version, now=now
    )


def _start(case, actor, version, now):
    return services.transition_case(
        actor=actor, case=case, to=CaseStatus.IN_PROGRESS, expected_version=version, now=now
    )


def _assign(case, actor, version, now):
    return services.assign_case(
        actor=actor, case=case, assignee=actor, expected_version=version, now=now
    )


def _priority(case, actor, version, now):
    return services.change_priority(
        actor=actor, case=case, priority="P1", expected_version=version, now=now
    )


def _forward(case, actor, version, now):
    return services.send_handoff(
        actor=actor,
        case=case,
        unit_code="assurance",
        request="Verifica",
        expected_version=version,
        now=now,
    )


STALE_ACTIONS = [_note, _start, _assign, _priority, _forward]


@pytest.mark.django_db
@pytest.mark.parametrize("action", STALE_ACTIONS, ids=lambda action: action.__name__[1:])
@pytest.mark.usefixtures("queue_supervisor")
def test_a_change_based_on_a_stale_version_is_refused_and_writes_nothing(
    case_in_status, operator, supervisor, now, care_tables, action
):
    case = case_in_status(CaseStatus.NEW)
    seen = case.row_version
    # Someone else writes a note meanwhile: the case moves on to the next version.
    services.add_note(actor=supervisor, case=case, body="Nel frattempo", now=now)
    assert reloaded(case).row_version == seen + 1
    before = care_tables()
    with pytest.raises(CaseChangedMeanwhile) as error:
        action(case, operator, seen, now + timedelta(minutes=1))
    assert error.value.code == "case_changed_meanwhile"
    assert care_tables() == before
    # With the version now shown, the same change goes through.
    action(case, operator, seen + 1, now + timedelta(minutes=1))
    assert reloaded(case).row_version == seen + 2


@pytest.mark.django_db
def test_reopening_from_a_stale_page_is_refused(case_in_status, operator, now, care_tables):
    case = case_in_status(CaseStatus.RESOLVED)
    seen = case.row_version
    services.add_note(actor=operator, case=case, body="Chiamata di cortesia", now=now)
    before = care_tables()
    with pytest.raises(CaseChangedMeanwhile):
        services.reopen_case(
            actor=operator, case=case, reason="Richiama", expected_version=seen, now=now
        )
    assert care_tables() == before


@pytest.mark.django_db
def test_every_service_that_changes_a_case_moves_its_version_on(
    case_in_status, operator, supervisor, now
):
    case = case_in_status(CaseStatus.NEW)
    steps = [
        lambda: services.add_note(actor=operator, case=case, body="a", now=now),
        lambda: services.assign_case(actor=supervisor, case=case, assignee=operator, now=now),
        lambda: services.change_priority(actor=operator, case=case, priority="P3", now=now),
        lambda: services.set_queue(actor=supervisor, case=case, queue_code="mobile", now=now),
        lambda: services.transition_case(
            actor=operator, case=case, to=CaseStatus.WAITING_CUSTOMER, now=now
        ),
        lambda: services.send_handoff(
            actor=operator, case=case, unit_code="assurance", request="x", now=now
        ),
        lambda: services.answer_handoff(
            actor=operator,
            handoff=case.handoffs.get(),
            answer="Risolto dall'unità",
            outcome="resolved",
            now=now,
        ),
        lambda: services.reopen_case(actor=operator, case=case, reason="ancora", now=now),
    ]
    versions = [reloaded(case).row_version]
    for step in steps:
        step()
        versions.append(reloaded(case).row_version)
    assert versions == list(range(1, len(steps) + 2))


# --- Row lock: threads with real connections (PostgreSQL) -----------------------------------


def run_together(*jobs):
    """Run each job in its own thread with its own connection, released together by a barrier;
    return what each returned or raised, in order."""
    barrier = threading.Barrier(len(jobs))
    results: list = [None] * len(jobs)

    def run(index, job):
        try:
            barrier.wait(timeout=THREAD_TIMEOUT)
            results[index] = job()
        except Exception as error:  # reported to the test thread
            results[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(index, job)) for index, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(THREAD_TIMEOUT)
    assert not any(thread.is_alive() for thread in threads), "a thread is stuck"
    return results


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("with_version", [True, False], ids=["expected-version", "no-version"])
def test_two_operators_starting_the_same_case_at_once_change_it_once(
    open_case_for, end_user, operator, queue_supervisor, now, with_version
):
    """The opener and the supervisor of the case's queue: both work it (care.working)."""
    supervisor = queue_supervisor
    case = open_case_for(end_user)
    seen = case.row_version if with_version else None

    def start(actor):
        return lambda: services.transition_case(
            actor=actor, case=case, to=CaseStatus.IN_PROGRESS, expected_version=seen, now=now
        )

    results = run_together(start(operator), start(supervisor))
    winners = [r for r in results if isinstance(r, Case)]
    losers = [r for r in results if not isinstance(r, Case)]
    assert len(winners) == 1, results
    assert len(losers) == 1
    assert isinstance(losers[0], CaseChangedMeanwhile | TransitionNotAllowed), losers
    case = reloaded(case)
    assert case.status == CaseStatus.IN_PROGRESS
    assert case.row_version == 2
    changes = CaseEvent.objects.filter(
        case=case, kind=CaseEvent.Kind.STATUS_CHANGED, to_value=CaseStatus.IN_PROGRESS
    )
    assert changes.count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_service_waits_for_the_case_row_another_transaction_holds(
    open_case_for, end_user, operator, now
):
    case = open_case_for(end_user)
    holder = connections.create_connection("default")
    done = threading.Event()
    outcome = {}

    def add_note():
        try:
            outcome["note"] = services.add_note(actor=operator, case=case, body="Dopo", now=now)
        except Exception as error:  # reported to the test thread
            outcome["error"] = error
        finally:
            connection.close()
            done.set()

    try:
        with holder.cursor() as cursor:
            cursor.execute("BEGIN")
            cursor.execute("SELECT id FROM care_case WHERE id = %s FOR UPDATE", [case.id])
            worker = threading.Thread(target=add_note)
            worker.start()
            # While the row is held the service cannot write its note.
            assert not done.wait(1.0)
            assert not Note.objects.filter(case=case).exists()
            cursor.execute("COMMIT")
        assert done.wait(THREAD_TIMEOUT)
        worker.join(THREAD_TIMEOUT)
    finally:
        holder.close()
    assert "error" not in outcome, outcome
    assert Note.objects.filter(case=case).count() == 1
    assert reloaded(case).row_version == 2


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("sequence_exists", [False, True], ids=["first-of-year", "later"])
def test_cases_opened_at_the_same_time_get_distinct_references(
    open_case_for, contract, operator, now, sequence_exists
):
    if sequence_exists:
        open_case_for(EndUserFactory(client=contract.client))
    callers = [EndUserFactory(client=contract.client) for _ in range(4)]
    results = run_together(*[lambda caller=caller: open_case_for(caller) for caller in callers])
    assert all(isinstance(r, Case) for r in results), results
    references = sorted(r.reference for r in results)
    first = 2 if sequence_exists else 1
    assert references == [f"CS-2026-{n:06d}" for n in range(first, first + 4)]
    assert CaseSequence.objects.get(year=2026).last == first + 3


@pytest.mark.django_db(transaction=True)
def test_cases_opened_one_after_the_other_on_committed_transactions_count_up(
    open_case_for, contract, now
):
    """The same sequence without threads, with real commits: works on SQLite as well."""
    callers = [EndUserFactory(client=contract.client) for _ in range(3)]
    references = [open_case_for(caller).reference for caller in callers]
    assert references == ["CS-2026-000001", "CS-2026-000002", "CS-2026-000003"]
