"""Take-next is exactly-once: operators racing on one backlog never get the same case.

The threaded test uses real connections and commits; it needs PostgreSQL's row locks
(`FOR UPDATE OF care_case SKIP LOCKED`) and runs there (`scripts/test.sh postgres`). The
sequential version runs everywhere.
"""

import threading
from collections import Counter
from datetime import timedelta

import pytest
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext

from care.models import Case, CaseStatus
from routing import services
from routing.models import Assignment

THREAD_TIMEOUT = 60
OPERATORS = 8
CASES = 20


@pytest.fixture
def racing_operators(user_factory, profile_factory, contract):
    """Eight available operators certified on the contract, with room for every case."""
    users = [user_factory(f"op.corsa{n}") for n in range(OPERATORS)]
    for user in users:
        profile_factory(user, contracts=(contract,), capacity=CASES, backoffice_share="0")
    return users


@pytest.fixture
def backlog(routed_case, now):
    return [
        routed_case(opened_at=now - timedelta(minutes=n), priority=("P2", "P3")[n % 2])
        for n in range(CASES)
    ]


def drain(operator, now) -> list[int]:
    """Take cases until none is left; the ids taken, in order."""
    taken = []
    while (case := services.take_next_case(operator=operator, now=now)) is not None:
        taken.append(case.id)
    return taken


def assert_each_case_assigned_once(backlog, results):
    taken = [case_id for ids in results for case_id in ids]
    assert sorted(taken) == sorted(c.id for c in backlog)
    per_case = Counter(Assignment.objects.values_list("case_id", flat=True))
    assert set(per_case) == {c.id for c in backlog}
    assert set(per_case.values()) == {1}, "a case was assigned twice"
    cases = Case.objects.filter(id__in=[c.id for c in backlog])
    assert all(c.status == CaseStatus.ASSIGNED and c.assignee_id for c in cases)
    by_assignment = dict(Assignment.objects.values_list("case_id", "operator_id"))
    assert by_assignment == {c.id: c.assignee_id for c in cases}


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_eight_operators_draining_one_backlog_take_every_case_exactly_once(
    racing_operators, backlog, now
):
    barrier = threading.Barrier(len(racing_operators))
    results: list = [None] * len(racing_operators)

    def run(index, operator):
        try:
            barrier.wait(timeout=THREAD_TIMEOUT)
            results[index] = drain(operator, now)
        except Exception as error:  # reported to the test thread
            results[index] = error
        finally:
            connection.close()

    threads = [
        threading.Thread(target=run, args=(index, operator))
        for index, operator in enumerate(racing_operators)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(THREAD_TIMEOUT)
    assert not any(thread.is_alive() for thread in threads), "a thread is stuck"
    assert not [r for r in results if isinstance(r, Exception)], results
    assert_each_case_assigned_once(backlog, results)


@pytest.mark.django_db(transaction=True)
def test_operators_taking_in_turns_on_committed_transactions_take_every_case_once(
    racing_operators, backlog, now
):
    """The same drain without threads, with real commits: works on SQLite as well."""
    results = [[] for _ in racing_operators]
    while True:
        rounds = [
            services.take_next_case(operator=operator, now=now) for operator in racing_operators
        ]
        for index, case in enumerate(rounds):
            if case is not None:
                results[index].append(case.id)
        if all(case is None for case in rounds):
            break
    assert_each_case_assigned_once(backlog, results)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_case_another_transaction_holds_is_skipped_not_waited_for(
    racing_operators, routed_case, now
):
    best = routed_case(opened_at=now - timedelta(minutes=10), priority="P1")
    second = routed_case(opened_at=now - timedelta(minutes=5), priority="P2")
    holder = connections.create_connection("default")
    try:
        with holder.cursor() as cursor:
            cursor.execute("BEGIN")
            cursor.execute("SELECT id FROM care_case WHERE id = %s FOR UPDATE", [best.id])
            with CaptureQueriesContext(connection) as queries:
                taken = services.take_next_case(operator=racing_operators[0], now=now)
            cursor.execute("ROLLBACK")
    finally:
        holder.close()
    assert taken.id == second.id
    locks = [q["sql"] for q in queries if "SKIP LOCKED" in q["sql"]]
    assert locks
    assert all('FOR UPDATE OF "care_case" SKIP LOCKED' in sql for sql in locks)
    assert services.take_next_case(operator=racing_operators[1], now=now).id == best.id
