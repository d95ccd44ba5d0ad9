"""Reliability with a real worker: a worker killed with SIGKILL in the middle of a recompute
loses nothing, a Redis restart loses no queued task, a request never fails because the broker
is down, and a poison task stops after 3 tries.

The SIGKILL and Redis tests need the PostgreSQL + Redis run (`scripts/test.sh postgres`).
"""

import contextlib
import os
import pwd
import random
import signal
import subprocess
import time
from datetime import timedelta
from urllib.parse import urlparse

import psycopg
import pytest
from celery.contrib.testing.worker import start_worker
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.utils import timezone

from care import clock, selectors, services
from care.models import Case, CaseEvent, SlaAlert
from care.tasks import recompute_sla_task
from config.celery import MAX_TRIES, PresidioTask
from config.celery import app as celery_app
from config.models import Heartbeat
from config.tasks import record_worker_heartbeat_task
from contracts import selectors as contract_selectors
from reports.models import BacklogSnapshot
from reports.tasks import snapshot_backlog_task
from routing.tasks import auto_assign_waiting_task
from tests.conftest import look_up
from tests.factories import EndUserFactory
from tests.routing.conftest import make_profile
from tests.worker.conftest import worker_database_url

pytestmark = pytest.mark.worker
CASES = 5000
SLA_EVENTS = (CaseEvent.Kind.SLA_AT_RISK, CaseEvent.Kind.SLA_BREACHED)


def wait_for(predicate, timeout: float = 60.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False


@pytest.fixture
def not_eager():
    celery_app.conf.task_always_eager = False
    yield
    celery_app.conf.task_always_eager = True


def request_for(contract, end_user_id: int) -> services.CaseRequest:
    return services.CaseRequest(
        contract_code=contract.code,
        category_code="sim-lost",
        channel="phone",
        subject="SIM rubata",
        description="Numero coinvolto: 3471234567",
        end_user_id=end_user_id,
    )


def many_open_cases(contract, operator, count: int) -> list[Case]:
    """`count` open P2 cases opened at random instants of the last 5 days, their instants
    computed by the calendar module (one real case opened by the service as the model)."""
    now = timezone.now()
    model = services.open_case(
        actor=operator,
        request=request_for(contract, EndUserFactory(client=contract.client).id),
        now=now - timedelta(days=30),
    )
    contract = contract_selectors.contract_by_code(contract.code)
    spec = contract_selectors.calendar_spec(contract.calendar)
    target = model.contract_version.sla_targets.get(priority=model.priority)
    share = float(model.contract_version.at_risk_share)
    rng = random.Random(6)
    cases = []
    for number in range(count):
        opened_at = now - timedelta(minutes=rng.randint(0, 5 * 24 * 60))
        due = clock.deadlines(
            spec,
            opened_at=opened_at,
            first_response_minutes=target.first_response_minutes,
            resolution_minutes=target.resolution_minutes,
            at_risk_share=share,
        )
        cases.append(
            Case(
                reference=f"CS-KILL-{number:06d}",
                client_id=model.client_id,
                contract_id=model.contract_id,
                contract_version_id=model.contract_version_id,
                end_user_id=model.end_user_id,
                channel=model.channel,
                category_id=model.category_id,
                priority=model.priority,
                subject=model.subject,
                description=model.description,
                queue_code=model.queue_code,
                opened_by_id=model.opened_by_id,
                opened_at=opened_at,
                clock_started_at=due.clock_started_at,
                first_response_due_at=due.first_response_due_at,
                first_response_at_risk_at=due.first_response_at_risk_at,
                resolution_due_at=due.resolution_due_at,
                resolution_at_risk_at=due.resolution_at_risk_at,
            )
        )
    return [model, *Case.objects.bulk_create(cases, batch_size=1000)]


def expected_states(cases: list[Case], now) -> dict[int, tuple[str, str]]:
    def state(due, at_risk):
        return clock.state_at(stored="ok", at_risk_at=at_risk, due_at=due, paused=False, now=now)

    return {
        c.id: (
            state(c.first_response_due_at, c.first_response_at_risk_at),
            state(c.resolution_due_at, c.resolution_at_risk_at),
        )
        for c in cases
    }


def lock_waiters() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
            "AND datname = current_database()"
        )
        return cursor.fetchone()[0]


def test_a_worker_killed_in_the_middle_of_a_recompute_loses_nothing(
    worker_process, not_eager, contract, operator
):
    cases = many_open_cases(contract, operator, CASES)
    holder = psycopg.connect(worker_database_url(), autocommit=False)
    try:
        # The recompute, inside its transaction, waits to write the alerts.
        holder.execute("LOCK TABLE care_slaalert IN SHARE MODE")
        first = worker_process()
        recompute_sla_task.delay()
        # The worker is inside the recompute's transaction, waiting for the locked row.
        assert wait_for(lambda: lock_waiters() > 0)
        os.kill(first.pid, signal.SIGKILL)
        first.wait(timeout=30)
    finally:
        holder.rollback()
        holder.close()
    assert wait_for(lambda: lock_waiters() == 0)
    assert not Heartbeat.objects.filter(name=Heartbeat.SLA_RECOMPUTE).exists()
    assert SlaAlert.objects.count() == 0  # the killed run committed nothing

    worker_process()
    recompute_sla_task.delay()
    assert wait_for(lambda: Heartbeat.objects.filter(name=Heartbeat.SLA_RECOMPUTE).exists())
    ran_at = Heartbeat.objects.get(name=Heartbeat.SLA_RECOMPUTE).detail
    now = Heartbeat.objects.get(name=Heartbeat.SLA_RECOMPUTE).beat_at
    expected = expected_states(cases, now)
    stored = {
        row[0]: (row[1], row[2])
        for row in Case.objects.values_list("id", "first_response_state", "resolution_state")
    }
    assert stored == expected
    # One alert per target that left "ok", never two, told once as its event.
    wanted = sorted(
        (case_id, target, state)
        for case_id, states in expected.items()
        for target, state in zip(("first_response", "resolution"), states, strict=True)
        if state != "ok"
    )
    assert sorted(SlaAlert.objects.values_list("case_id", "target", "level")) == wanted
    # Told from the alerts (`selectors.case_events`): no case event is stored for them.
    assert not CaseEvent.objects.filter(kind__in=SLA_EVENTS).exists()
    events = sorted(
        (event.case_id, event.detail["target"], event.kind.removeprefix("sla_"))
        for case in Case.objects.prefetch_related("events", "sla_alerts")
        for event in selectors.case_events(case)
        if event.kind in SLA_EVENTS
    )
    assert events == wanted
    assert ran_at["breached"] + ran_at["at_risk"] == len(wanted)


def _redis_dir_and_owner(client) -> tuple[str, str]:
    folder = client.config_get("dir")["dir"]
    return folder, pwd.getpwuid(os.stat(folder).st_uid).pw_name


def _start_redis(port: int, folder: str, owner: str) -> None:
    command = [
        "redis-server",
        "--port",
        str(port),
        "--bind",
        "127.0.0.1",
        "--dir",
        folder,
        "--appendonly",
        "yes",
        "--maxmemory-policy",
        "noeviction",
        "--save",
        "",
        "--daemonize",
        "yes",
        "--pidfile",
        f"{folder}/redis.pid",
        "--logfile",
        f"{folder}/redis.log",
    ]
    if os.geteuid() == 0:
        command = ["runuser", "-u", owner, "--", *command]
    subprocess.run(command, check=True)


def test_a_redis_restart_loses_no_queued_task(worker_process, not_eager, contract, operator):
    import redis

    broker = urlparse(settings.CELERY_BROKER_URL)
    client = redis.Redis(host=broker.hostname, port=broker.port, db=int(broker.path[1:] or 0))
    queue = settings.CELERY_TASK_DEFAULT_QUEUE
    client.delete(queue)
    record_worker_heartbeat_task.delay()
    recompute_sla_task.delay()
    snapshot_backlog_task.delay()
    assert client.llen(queue) == 3
    folder, owner = _redis_dir_and_owner(client)
    with contextlib.suppress(redis.ConnectionError):
        client.shutdown()  # the append-only file is flushed on shutdown
    try:
        assert not _pings(client)()
    finally:
        _start_redis(broker.port, folder, owner)
    assert wait_for(_pings(client), 20)
    assert client.llen(queue) == 3

    worker_process()
    assert wait_for(lambda: Heartbeat.objects.filter(name=Heartbeat.WORKER).exists())
    assert wait_for(lambda: Heartbeat.objects.filter(name=Heartbeat.SLA_RECOMPUTE).exists())
    assert wait_for(BacklogSnapshot.objects.exists)


def _pings(client):
    import redis

    def ping() -> bool:
        try:
            return bool(client.ping())
        except redis.ConnectionError:
            return False

    return ping


# --- Broker down ----------------------------------------------------------------------------


@pytest.fixture
def broker_down(not_eager):
    """Every publish goes to a closed port, as when Redis is stopped."""
    saved = (celery_app._pool, celery_app.amqp._producer_pool, celery_app.conf.broker_url)
    celery_app._pool = celery_app.amqp._producer_pool = None
    celery_app.conf.broker_url = "redis://127.0.0.1:9/1"
    celery_app.conf.broker_write_url = "redis://127.0.0.1:9/1"
    yield
    if celery_app._pool is not None:
        celery_app._pool.force_close_all()
    celery_app._pool, celery_app.amqp._producer_pool, celery_app.conf.broker_url = saved
    celery_app.conf.broker_write_url = None


def test_a_case_opened_with_the_broker_down_answers_201_and_is_assigned_by_the_next_sweep(
    broker_down,
    operator_api,
    contract,
    user_factory,
    django_capture_on_commit_callbacks,
):
    colleague = user_factory("op.verdi")
    make_profile(colleague, contracts=(contract,))
    end_user = EndUserFactory(client=contract.client)
    look_up(operator_api, end_user)
    with django_capture_on_commit_callbacks(execute=True):
        response = operator_api.post(
            "/api/v1/cases/",
            {
                "contract": contract.code,
                "end_user": end_user.id,
                "category": "sim-lost",
                "channel": "phone",
                "subject": "SIM rubata",
                "description": "Numero coinvolto: 3471234567",
            },
            format="json",
        )
    assert response.status_code == 201
    case = Case.objects.get(reference=response.json()["reference"])
    assert case.assignee_id is None  # the push could not be sent
    celery_app.conf.task_always_eager = True  # beat's next sweep, run here
    auto_assign_waiting_task.delay()
    assert Case.objects.get(id=case.id).assignee_id == colleague.id


# --- Poison tasks ---------------------------------------------------------------------------

POISON_RUNS: list[int] = []


@celery_app.task(name="tests.worker.poison", retry_backoff=1)
def poison_task():
    POISON_RUNS.append(1)
    raise RuntimeError("poison")


def test_a_poison_task_stops_after_three_tries(transactional_db, not_eager):
    POISON_RUNS.clear()
    with start_worker(
        celery_app, pool="solo", perform_ping_check=False, shutdown_timeout=30, loglevel="ERROR"
    ):
        poison_task.delay()
        assert wait_for(lambda: len(POISON_RUNS) >= MAX_TRIES, timeout=60)
        time.sleep(5)  # longer than the next backoff: no fourth try comes
    assert len(POISON_RUNS) == MAX_TRIES


def test_a_task_redelivered_after_its_worker_died_runs_at_most_three_times(db):
    runs = []

    class Probe(PresidioTask):
        name = "tests.worker.probe"

        def run(self):
            runs.append(1)
            return len(runs)

    probe = celery_app.register_task(Probe())
    cache.delete("celery-tries:same-id")
    for _delivery in range(5):  # the broker hands the same message over again and again
        probe.push_request(id="same-id", is_eager=False, called_directly=False)
        try:
            probe()
        finally:
            probe.pop_request()
    assert len(runs) == MAX_TRIES
