"""Take-next: the best eligible case, presence and capacity respected, overflow by waiting
time, emergencies, and an `Assignment` row with level and reason for every assignment."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from care.models import Case, CaseEvent, CaseStatus
from routing import services
from routing.exceptions import CapacityReached, OperatorNotAvailable, SupervisorOnly
from routing.models import Assignment, PresenceChange, PresenceState, Queue, QueueEvent
from tests.factories import CLOSING_CODE

pytestmark = pytest.mark.django_db

# A take-next does a fixed number of queries, whatever the number of open cases. Through the
# ORM (SQLite): 9 statements (profile locked, cases held, queues, certifications, the
# contracts' services, the case locked, the cases passed over, the event, the case written;
# the decision record is the 10th) plus the savepoint of its atomic inside the test's
# transaction. On PostgreSQL (`routing.sql`): 6 (profile locked with its circles, cases held
# with the queues, the case locked, the cases passed over, the case written with its event,
# the decision record) plus the savepoint.
TAKE_NEXT_MAX_QUERIES = 12
TAKE_NEXT_MAX_QUERIES_POSTGRESQL = 8


def take(operator, now):
    return services.take_next_case(operator=operator, now=now)


def test_the_best_case_comes_first_by_priority_then_due_time_then_age(
    operator, profile_factory, contract, fast_contract, routed_case, now
):
    profile_factory(
        operator, contracts=(contract, fast_contract), capacity=10, backoffice_share="0"
    )
    # Main contract: P3 resolution in 2400 business minutes; fast contract: P3 in 60, no P4.
    p3_late_due = routed_case(priority="P3", opened_at=now - timedelta(minutes=60))
    p3_early_due = routed_case(
        on=fast_contract, priority="P3", opened_at=now - timedelta(minutes=30)
    )
    p2_newest = routed_case(priority="P2", opened_at=now - timedelta(minutes=5))
    p4_with_due = routed_case(priority="P4", opened_at=now - timedelta(minutes=10))
    p4_no_due = routed_case(on=fast_contract, priority="P4", opened_at=now - timedelta(minutes=120))
    assert p4_no_due.resolution_due_at is None
    assert p3_early_due.resolution_due_at < p3_late_due.resolution_due_at

    taken = [take(operator, now + timedelta(seconds=n)) for n in range(5)]
    assert [c.id for c in taken] == [
        p2_newest.id,
        p3_early_due.id,
        p3_late_due.id,
        p4_with_due.id,
        p4_no_due.id,
    ]
    assert take(operator, now + timedelta(minutes=1)) is None


def test_oldest_first_between_equal_priority_and_due_time(
    operator, profile_factory, contract, fast_contract, routed_case, now
):
    profile_factory(operator, contracts=(fast_contract,))
    newer = routed_case(on=fast_contract, priority="P4", opened_at=now - timedelta(minutes=3))
    older = routed_case(on=fast_contract, priority="P4", opened_at=now - timedelta(minutes=9))
    assert take(operator, now).id == older.id
    assert take(operator, now).id == newer.id


def test_the_case_is_assigned_and_logged_with_level_and_reason(
    operator, profile_factory, contract, routed_case, now
):
    profile_factory(operator, contracts=(contract,))
    case = routed_case()
    taken = take(operator, now)
    assert taken.id == case.id
    case = Case.objects.get(id=case.id)
    assert case.assignee == operator
    assert case.status == CaseStatus.ASSIGNED
    assignment = Assignment.objects.get(case=case)
    assert assignment.operator == operator
    assert assignment.level == "contract"
    assert assignment.reason == "take_next"  # a code: the sentence is said when shown
    assert assignment.queue_code == case.queue_code
    assert assignment.at == now
    event = CaseEvent.objects.get(case=case, kind=CaseEvent.Kind.ASSIGNED)
    waited = int((now - case.opened_at).total_seconds() // 60)
    assert event.detail == {
        "assignee": operator.id,
        "how": "take_next",
        "level": "contract",
        "queue": case.queue_code,
        "waited": waited,
    }


def test_nothing_to_take_returns_none_and_writes_nothing(
    operator, profile_factory, contract, default_queue, now
):
    profile_factory(operator, contracts=(contract,))
    assert take(operator, now) is None
    assert not Assignment.objects.exists()


def test_assigned_or_closed_cases_are_never_offered(
    operator, supervisor, profile_factory, contract, routed_case, default_queue, now
):
    from care import services as care_services

    default_queue.supervisors.add(supervisor)  # they work its cases (care.working)
    profile_factory(operator, contracts=(contract,))
    case = routed_case()
    care_services.assign_case(actor=supervisor, case=case, assignee=supervisor, now=now)
    other = routed_case()
    care_services.transition_case(
        actor=supervisor,
        case=other,
        to=CaseStatus.RESOLVED,
        resolution_code=CLOSING_CODE,
        now=now,
    )
    assert take(operator, now) is None


def test_an_operator_who_is_not_available_cannot_take_a_case(
    operator, profile_factory, contract, routed_case, now
):
    profile = profile_factory(operator, contracts=(contract,))
    routed_case()
    services.set_presence(actor=operator, profile=profile, state=PresenceState.AWAY, now=now)
    with pytest.raises(OperatorNotAvailable):
        take(operator, now)
    assert not Assignment.objects.exists()


def test_presence_changes_keep_their_history(operator, profile_factory, now):
    profile = profile_factory(operator, available=False)
    services.set_presence(actor=operator, profile=profile, state="available", now=now)
    later = now + timedelta(minutes=30)
    profile = services.set_presence(actor=operator, profile=profile, state="busy", now=later)
    services.set_presence(actor=operator, profile=profile, state="busy", now=later)
    assert (profile.presence, profile.presence_since) == ("busy", later)
    history = PresenceChange.objects.filter(profile=profile)
    assert list(history.values_list("from_state", "to_state")) == [
        ("offline", "available"),
        ("available", "busy"),
    ]


def test_only_a_supervisor_changes_someone_elses_presence(
    operator, supervisor, user_factory, profile_factory, now
):
    profile = profile_factory(operator, available=False)
    colleague = user_factory("op.bianchi")
    with pytest.raises(SupervisorOnly):
        services.set_presence(actor=colleague, profile=profile, state="available", now=now)
    profile = services.set_presence(actor=supervisor, profile=profile, state="available", now=now)
    assert profile.presence == "available"


def test_the_back_office_share_of_capacity_is_kept_free(
    operator, profile_factory, contract, routed_case, now
):
    profile_factory(operator, contracts=(contract,), capacity=5, backoffice_share="0.40")
    for minutes in range(4):
        routed_case(opened_at=now - timedelta(minutes=minutes))
    taken = [take(operator, now) for _ in range(3)]  # 5 x (1 - 0.4) = 3
    assert all(taken)
    with pytest.raises(CapacityReached):
        take(operator, now)
    assert Case.objects.filter(assignee=operator).count() == 3


def test_an_emergency_lets_front_office_work_use_the_full_capacity_until_it_ends(
    operator, supervisor, profile_factory, contract, routed_case, default_queue, now
):
    profile_factory(operator, contracts=(contract,), capacity=5, backoffice_share="0.40")
    for minutes in range(6):
        routed_case(opened_at=now - timedelta(minutes=minutes))
    for _ in range(3):
        take(operator, now)
    queue = services.set_emergency(
        actor=supervisor, queue=default_queue, minutes=30, reason="Guasto rete", now=now
    )
    assert queue.emergency_until == now + timedelta(minutes=30)
    event = QueueEvent.objects.get(queue=queue)
    assert (event.kind, event.actor, event.until) == (
        "emergency_on",
        supervisor,
        now + timedelta(minutes=30),
    )
    assert take(operator, now + timedelta(minutes=1)) is not None
    assert take(operator, now + timedelta(minutes=2)) is not None
    with pytest.raises(CapacityReached):  # the full capacity, never more
        take(operator, now + timedelta(minutes=3))
    assert Case.objects.filter(assignee=operator).count() == 5


def test_an_emergency_expires_by_itself(
    operator, supervisor, profile_factory, contract, routed_case, default_queue, now
):
    profile_factory(operator, contracts=(contract,), capacity=5, backoffice_share="0.40")
    for minutes in range(4):
        routed_case(opened_at=now - timedelta(minutes=minutes))
    for _ in range(3):
        take(operator, now)
    services.set_emergency(actor=supervisor, queue=default_queue, minutes=10, reason="x", now=now)
    with pytest.raises(CapacityReached):
        take(operator, now + timedelta(minutes=10))


def test_an_emergency_counts_only_for_cases_of_its_queue(
    operator, supervisor, profile_factory, contract, routed_case, default_queue, now
):
    other = Queue.objects.create(code="altra", name="Altra", segment="TOP")
    other.supervisors.add(supervisor)
    profile_factory(operator, contracts=(contract,), capacity=2, backoffice_share="0.5")
    routed_case()
    waiting = routed_case()
    take(operator, now)
    services.set_emergency(actor=supervisor, queue=other, minutes=60, reason="x", now=now)
    # The back-office share is open to the other queue's cases only, and it has none.
    assert take(operator, now) is None
    assert Case.objects.get(id=waiting.id).assignee is None


def test_only_a_supervisor_switches_an_emergency(operator, default_queue, now):
    with pytest.raises(SupervisorOnly):
        services.set_emergency(actor=operator, queue=default_queue, minutes=30, reason="x", now=now)
    assert not QueueEvent.objects.exists()


def test_ending_an_emergency_is_audited(supervisor, default_queue, now):
    services.set_emergency(actor=supervisor, queue=default_queue, minutes=30, reason="x", now=now)
    queue = services.set_emergency(
        actor=supervisor, queue=default_queue, minutes=0, reason="", now=now + timedelta(minutes=5)
    )
    assert queue.emergency_until is None
    assert list(QueueEvent.objects.values_list("kind", flat=True)) == [
        "emergency_on",
        "emergency_off",
    ]


# --- Overflow by waiting time ---------------------------------------------------------------


@pytest.fixture
def circles(user_factory, profile_factory, contract, fixed_line_contract):
    """Four operators: certified on the contract, on the client, skilled on mobile, skilled
    on fixed lines only."""
    users = {name: user_factory(f"op.{name}") for name in ("contract", "client", "mobile", "fixed")}
    profile_factory(users["contract"], contracts=(contract,))
    profile_factory(users["client"], clients=(contract.client,))
    profile_factory(users["mobile"], skills=("mobile",))
    profile_factory(users["fixed"], skills=("fixed",))
    return users


@pytest.fixture
def overflow_queue(default_queue):
    default_queue.overflow_client_minutes = 10
    default_queue.overflow_national_minutes = 30
    default_queue.save(update_fields=["overflow_client_minutes", "overflow_national_minutes"])
    return default_queue


@pytest.mark.parametrize(
    ("waited", "who", "level"),
    [
        (0, "contract", "contract"),
        (0, "client", None),
        (0, "mobile", None),
        (9, "client", None),
        (10, "client", "client"),
        (10, "mobile", None),
        (29, "mobile", None),
        (30, "mobile", "national"),
        (30, "client", "client"),
        (120, "fixed", None),
        (120, "contract", "contract"),
    ],
)
def test_eligibility_grows_with_the_time_a_case_waits(
    circles, overflow_queue, routed_case, now, waited, who, level
):
    case = routed_case(opened_at=now)
    taken = take(circles[who], now + timedelta(minutes=waited))
    if level is None:
        assert taken is None
        assert not Assignment.objects.exists()
    else:
        assert taken.id == case.id
        assert Assignment.objects.get(case=case).level == level


def test_each_queue_has_its_own_thresholds(circles, default_queue, routed_case, now):
    Queue.objects.create(
        code="urgenti",
        name="Urgenti",
        segment="PA",
        overflow_client_minutes=0,
        overflow_national_minutes=2,
    )
    case = routed_case(opened_at=now)
    assert case.queue_code == "urgenti"
    assert take(circles["client"], now).id == case.id
    other = routed_case(opened_at=now)
    assert take(circles["mobile"], now + timedelta(minutes=2)).id == other.id


def test_queues_sharing_thresholds_and_unknown_codes_follow_their_own_thresholds(
    circles, default_queue, routed_case, now
):
    """Queues with equal thresholds share one test in the query; a code with no queue row
    keeps the defaults (10 and 30 minutes) while two queues overflow at once."""
    thresholds = {"overflow_client_minutes": 0, "overflow_national_minutes": 0}
    Queue.objects.create(code="urgenti", name="Urgenti", segment="PA", **thresholds)
    fast = routed_case(opened_at=now)
    assert fast.queue_code == "urgenti"
    Queue.objects.create(code="urgenti-bis", name="Urgenti bis", segment="PA", **thresholds)
    orphan = routed_case(opened_at=now)
    Case.objects.filter(id=orphan.id).update(queue_code="senza-coda")
    assert take(circles["mobile"], now).id == fast.id  # 'urgenti': national at once
    assert take(circles["mobile"], now + timedelta(minutes=29)) is None  # the defaults
    assert take(circles["mobile"], now + timedelta(minutes=30)).id == orphan.id


def test_an_operator_without_certifications_or_skills_gets_nothing(
    operator, profile_factory, routed_case, now
):
    profile_factory(operator)
    routed_case(opened_at=now - timedelta(hours=5))
    assert take(operator, now) is None


# --- Query count ----------------------------------------------------------------------------


def test_take_next_does_a_fixed_number_of_queries_whatever_the_backlog(
    operator, profile_factory, contract, routed_case, now, django_assert_max_num_queries
):
    profile_factory(operator, contracts=(contract,), clients=(contract.client,), skills=("mobile",))
    for minutes in range(8):
        routed_case(opened_at=now - timedelta(minutes=minutes))
    most = TAKE_NEXT_MAX_QUERIES
    if connection.vendor == "postgresql":
        most = TAKE_NEXT_MAX_QUERIES_POSTGRESQL
    with django_assert_max_num_queries(most):
        assert take(operator, now) is not None
    with CaptureQueriesContext(connection) as few:
        take(operator, now)
    for minutes in range(8):
        routed_case(opened_at=now - timedelta(minutes=60 + minutes))
    with CaptureQueriesContext(connection) as many:
        take(operator, now)
    assert len(many) == len(few)
