"""Take-next's two paths agree: PostgreSQL's prepared statements (`routing.sql`) choose,
rank, assign and record exactly as the ORM path (SQLite's, and the reference).

Each example builds a backlog (contracts, priorities, waiting times, queues with their own
thresholds or with no queue row, an emergency), an operator (certifications, skills,
capacity, back-office share, cases already held), then lets each path drain the backlog
inside a savepoint that is rolled back, and compares everything they did."""

from datetime import timedelta
from unittest import mock

import pytest
from django.db import transaction
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from care.models import Case, CaseEvent, CaseStatus
from routing import services
from routing.exceptions import CapacityReached
from routing.models import Assignment, Queue

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

URGENT = "urgent"  # a queue with short thresholds
ORPHAN = "orphan"  # a code with no queue row: the default thresholds hold

CASES = st.lists(
    st.tuples(
        st.sampled_from(["main", "fast", "fixed"]),  # contract
        st.sampled_from(["P1", "P2", "P3", "P4"]),
        # Minutes waited, around the thresholds (urgent 2 and 5, default 10 and 30).
        st.sampled_from([0, 1, 2, 3, 4, 5, 6, 9, 10, 11, 29, 30, 31, 90]),
        st.sampled_from(["default", URGENT, ORPHAN]),
    ),
    min_size=1,
    max_size=9,
)
OPERATORS = st.fixed_dictionaries(
    {
        "contracts": st.sets(st.sampled_from(["main", "fast", "fixed"]), max_size=2),
        "client": st.booleans(),  # certified on the main client (main and fast contracts)
        "skills": st.sets(st.sampled_from(["mobile", "fixed"]), max_size=2),
        "capacity": st.integers(min_value=1, max_value=4),
        "share": st.sampled_from(["0", "0.50"]),
        "held": st.integers(min_value=0, max_value=3),
        "emergency": st.sampled_from([None, "default", URGENT]),
    }
)


def operator_spec(**given) -> dict:
    return {
        "contracts": set(),
        "client": False,
        "skills": set(),
        "capacity": 4,
        "share": "0",
        "held": 0,
        "emergency": None,
    } | given


def drain(operator, now) -> list:
    """Every take until none is left or capacity is reached: what was taken, written and
    recorded, in order."""
    outcomes = []
    for step in range(8):
        try:
            case = services.take_next_case(operator=operator, now=now + timedelta(seconds=step))
        except CapacityReached:
            outcomes.append("capacity reached")
            break
        if case is None:
            outcomes.append(None)
            break
        stored = Case.objects.get(id=case.id)
        event = CaseEvent.objects.filter(case=case, kind=CaseEvent.Kind.ASSIGNED).get()
        record = Assignment.objects.get(case=case, kind="pull")
        returned = {f.attname: getattr(case, f.attname) for f in Case._meta.concrete_fields}
        written = {f.attname: getattr(stored, f.attname) for f in Case._meta.concrete_fields}
        assert returned == written  # the case handed back is the row as written
        written.pop("updated_at")
        outcomes.append(
            {
                "case": written,
                "event": (event.actor_id, event.at, event.from_value, event.to_value),
                "event detail": event.detail,
                "record": (record.operator_id, record.queue_code, record.at, record.level),
                "reason": record.reason,
                "passed over": record.passed_over,
                "shown": (case.routing_assignment.level, case.routing_assignment.reason),
            }
        )
    return outcomes


def each_path(operator, now) -> dict:
    results = {}
    for name, pulls in (("orm", services._PullsWithOrm), ("sql", services._PullsInSql)):
        savepoint = transaction.savepoint()
        try:
            with mock.patch.object(services, "_pulls", return_value=pulls):
                results[name] = drain(operator, now)
        finally:
            transaction.savepoint_rollback(savepoint)
    return results


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(cases=CASES, spec=OPERATORS)
# On the client only: overflow exactly at the default and at the urgent queue's threshold.
@example(
    cases=[("main", "P2", 10, "default"), ("main", "P2", 9, "default"), ("main", "P1", 2, URGENT)],
    spec=operator_spec(client=True),
).via("threshold boundaries")
# More cases ahead than a decision record lists; the chosen case with and without a due time.
@example(
    cases=[("main", "P1", 0, "default")] * 6 + [("fast", "P3", 0, "default")],
    spec=operator_spec(contracts={"fast"}, client=True),
).via("passed-over bound, chosen with a due time")
@example(
    cases=[("main", "P3", 0, "default")] * 2 + [("fast", "P4", 0, ORPHAN)],
    spec=operator_spec(contracts={"fast"}, client=True),
).via("passed over, chosen without a due time")
# Only the back-office share is left: only the queue in emergency counts.
@example(
    cases=[("main", "P1", 0, "default"), ("main", "P3", 0, URGENT)],
    spec=operator_spec(contracts={"main"}, capacity=2, share="0.50", held=1, emergency=URGENT),
).via("emergency only")
def test_both_paths_take_the_same_cases_the_same_way(
    operator,
    profile_factory,
    contract,
    fast_contract,
    fixed_line_contract,
    routed_case,
    default_queue,
    now,
    cases,
    spec,
):
    savepoint = transaction.savepoint()  # each example starts from the same empty backlog
    try:
        contracts = {"main": contract, "fast": fast_contract, "fixed": fixed_line_contract}
        urgent = Queue.objects.create(
            code=URGENT, name="Urgente", overflow_client_minutes=2, overflow_national_minutes=5
        )
        if spec["emergency"]:
            queue = urgent if spec["emergency"] == URGENT else default_queue
            Queue.objects.filter(id=queue.id).update(emergency_until=now + timedelta(hours=1))
        profile_factory(
            operator,
            contracts=tuple(contracts[c] for c in sorted(spec["contracts"])),
            clients=(contract.client,) if spec["client"] else (),
            skills=tuple(sorted(spec["skills"])),
            capacity=spec["capacity"],
            backoffice_share=spec["share"],
        )
        for _held in range(spec["held"]):
            held = routed_case(opened_at=now - timedelta(hours=3))
            Case.objects.filter(id=held.id).update(status=CaseStatus.ASSIGNED, assignee=operator)
        for on, priority, waited, queue_code in cases:
            case = routed_case(
                on=contracts[on], priority=priority, opened_at=now - timedelta(minutes=waited)
            )
            code = default_queue.code if queue_code == "default" else queue_code
            Case.objects.filter(id=case.id).update(queue_code=code)

        results = each_path(operator, now)
        assert results["sql"] == results["orm"]
    finally:
        transaction.savepoint_rollback(savepoint)
