"""Take-next is exactly-once: operators racing on one backlog never get the same case.

The threaded tests use real connections and commits; they need PostgreSQL's row locks
(`FOR UPDATE OF care_case SKIP LOCKED`) and run there (`scripts/test.sh postgres`). SQLite's
in-memory shared-cache test database answers a second writer with "table is locked" at once,
so the SQLite race runs in a child process on a file database, as `make run` uses it. The
sequential version runs everywhere. Push (auto-assign) is switched off here: these tests are
about pull.
"""

import contextlib
import json
import os
import re
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext

from care.models import Case, CaseStatus
from routing import services
from routing.exceptions import CapacityReached
from routing.models import Assignment

pytestmark = pytest.mark.usefixtures("pull_only")

THREAD_TIMEOUT = 120
OPERATORS = 8
CASES = 20
ROOT = Path(__file__).resolve().parents[2]


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


def run_together(jobs: list) -> list:
    """Run each job in its own thread with its own connection, released together by a
    barrier; what each returned or raised, in order."""
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

    threads = [threading.Thread(target=run, args=(i, job)) for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(THREAD_TIMEOUT)
    assert not any(thread.is_alive() for thread in threads), "a thread is stuck"
    return results


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_eight_operators_draining_one_backlog_take_every_case_exactly_once(
    racing_operators, backlog, now
):
    results = run_together([lambda op=op: drain(op, now) for op in racing_operators])
    assert not [r for r in results if isinstance(r, Exception)], results
    assert_each_case_assigned_once(backlog, results)


# --- Sixteen workers, one queue -------------------------------------------------------------

WORKERS = 16
BIG_BACKLOG = 160
WORKER_CAPACITY = 14  # 16 x 14 = 224 places for 160 cases: capacity binds for some workers


def waiting_count() -> int:
    return Case.objects.filter(status=CaseStatus.NEW, assignee__isnull=True).count()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_sixteen_workers_drain_one_queue_exactly_once_within_capacity(
    user_factory, profile_factory, contract, routed_case, now
):
    users = [user_factory(f"op.sedici{n}") for n in range(WORKERS)]
    for user in users:
        profile_factory(user, contracts=(contract,), capacity=WORKER_CAPACITY, backoffice_share="0")
    backlog = [
        routed_case(opened_at=now - timedelta(seconds=n), priority=("P1", "P2", "P3")[n % 3])
        for n in range(BIG_BACKLOG)
    ]

    def work(operator):
        """Take until told "nothing" or "full"; on "nothing", count what still waits: only
        cases other workers hold at that instant (each holds at most one) may be there."""
        taken, waiting_after_none = [], None
        while True:
            try:
                case = services.take_next_case(operator=operator, now=now)
            except CapacityReached:
                break
            if case is None:
                waiting_after_none = waiting_count()
                break
            taken.append(case.id)
        return taken, waiting_after_none

    results = run_together([lambda op=op: work(op) for op in users])
    assert not [r for r in results if isinstance(r, Exception)], results
    assert_each_case_assigned_once(backlog, [taken for taken, _waiting in results])
    assert waiting_count() == 0, "a case was lost"
    told_nothing = [w for _taken, w in results if w is not None]
    assert told_nothing, "someone must have been told the queue was empty"
    assert max(told_nothing) <= WORKERS - 1, "told 'nothing waiting' while cases were free"
    held = Counter(Case.objects.filter(assignee__isnull=False).values_list("assignee", flat=True))
    assert max(held.values()) <= WORKER_CAPACITY


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_one_operator_with_capacity_three_firing_ten_requests_gets_exactly_three(
    operator, profile_factory, contract, routed_case, now
):
    profile_factory(operator, contracts=(contract,), capacity=3, backoffice_share="0")
    for n in range(10):
        routed_case(opened_at=now - timedelta(minutes=n))

    def request():
        try:
            return services.take_next_case(operator=operator, now=now)
        except CapacityReached as error:
            return error

    results = run_together([request for _ in range(10)])
    taken = [r for r in results if isinstance(r, Case)]
    assert len(taken) == 3
    assert all(isinstance(r, CapacityReached) for r in results if not isinstance(r, Case))
    assert Case.objects.filter(assignee=operator).count() == 3
    assert Assignment.objects.filter(operator=operator).count() == 3


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
    # Only the case row is locked, never the profile or queue rows it is read with.
    assert all(re.search(r"FROM care_case c .* FOR UPDATE OF c SKIP LOCKED", sql) for sql in locks)
    assert services.take_next_case(operator=racing_operators[1], now=now).id == best.id


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_killed_connection_holding_a_claim_frees_the_case_at_once(
    racing_operators, routed_case, now
):
    best = routed_case(opened_at=now - timedelta(minutes=10), priority="P1")
    second = routed_case(opened_at=now - timedelta(minutes=5), priority="P2")
    holder = connections.create_connection("default")
    try:
        with holder.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            (holder_pid,) = cursor.fetchone()
            cursor.execute("BEGIN")
            cursor.execute("SELECT id FROM care_case WHERE id = %s FOR UPDATE", [best.id])
        # The claim is held: the next operator gets the second case.
        assert services.take_next_case(operator=racing_operators[0], now=now).id == second.id
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", [holder_pid])
            assert cursor.fetchone()[0] is True
            # Termination is asynchronous: wait (bounded) until the session is gone.
            for _attempt in range(200):
                cursor.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", [holder_pid])
                if cursor.fetchone() is None:
                    break
                time.sleep(0.01)
        # The server rolled the dead session back: its row lock is gone with it.
        taken = services.take_next_case(operator=racing_operators[1], now=now)
        assert taken.id == best.id
    finally:
        with contextlib.suppress(Exception):  # the connection was killed on purpose
            holder.close()
    assert Assignment.objects.filter(case=best).count() == 1


# --- SQLite: eight workers on a file database, as `make run` uses it ------------------------

SQLITE_RACE = r"""
import json, sys, threading
from datetime import timedelta

import django
django.setup()
from django.core.management import call_command
call_command("migrate", verbosity=0)

from django.contrib.auth import get_user_model
from django.db import connection
from django.utils import timezone
from care import services as care_services
from contracts import services as contract_services
from routing import services
from routing.models import Certification, OperatorProfile
from tests.contract_terms import terms
from tests.factories import BusinessCalendarFactory, ClientFactory, EndUserFactory

workers, cases = int(sys.argv[1]), int(sys.argv[2])
now = timezone.now()
manager = get_user_model().objects.create_user("man.corsa")
client = ClientFactory(name="Regione Siciliana", segment="PA", province="PA")
contract = contract_services.create_contract(
    actor=manager, code="RSIC-MOB-2026", client=client,
    calendar=BusinessCalendarFactory(always_open=True), services=["mobile"],
    valid_from=(now - timedelta(days=30)).date(), valid_to=(now + timedelta(days=700)).date(),
    terms=terms(),
)
users = []
for n in range(workers):
    user = get_user_model().objects.create_user(f"op.sqlite{n}")
    profile = OperatorProfile.objects.create(user=user, capacity=cases + 1, backoffice_share=0)
    Certification.objects.create(profile=profile, contract=contract)
    services.set_presence(actor=user, profile=profile, state="available", now=now)
    users.append(user)
for n in range(cases):
    care_services.open_case(
        actor=manager, now=now - timedelta(minutes=n),
        request=care_services.CaseRequest(
            contract_code=contract.code, category_code="sim-lost", channel="phone",
            subject="SIM rubata", description="Numero coinvolto: 3471234567",
            end_user_id=EndUserFactory(client=client).id,
        ),
    )
connection.close()
barrier = threading.Barrier(workers)
results = [None] * workers

def run(index):
    taken = []
    try:
        barrier.wait(timeout=60)
        while (case := services.take_next_case(operator=users[index], now=now)) is not None:
            taken.append(case.id)
        results[index] = taken
    except Exception as error:
        results[index] = repr(error)
    finally:
        connection.close()

threads = [threading.Thread(target=run, args=(i,)) for i in range(workers)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join(120)
print(json.dumps({"results": results, "alive": sum(t.is_alive() for t in threads)}))
"""


def test_eight_workers_on_sqlite_take_every_case_once_without_database_is_locked(tmp_path):
    if connection.vendor != "sqlite":
        pytest.skip("SQLite only")
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'race.sqlite3'}",
        "DJANGO_SETTINGS_MODULE": "tests.settings",
    }
    script = "from django.conf import settings\n" + SQLITE_RACE.replace(
        "django.setup()\n", "django.setup()\nsettings.ROUTING_AUTO_ASSIGN = False\n", 1
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(OPERATORS), "40"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    outcome = json.loads(done.stdout.strip().splitlines()[-1])
    assert outcome["alive"] == 0, "a worker is stuck"
    errors = [r for r in outcome["results"] if isinstance(r, str)]
    assert not errors, errors  # "database is locked" would show here
    taken = [case_id for ids in outcome["results"] for case_id in ids]
    assert len(taken) == 40
    assert len(set(taken)) == 40, "a case was assigned twice"
