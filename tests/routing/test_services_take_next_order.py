"""Take-next's decision record (the cases passed over, and why) and its order, as a property:
a single caller takes cases in exact priority, due time, age order."""

from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from care.models import Case
from routing import engine, selectors, services
from routing.models import Assignment

pytestmark = pytest.mark.django_db


def test_take_next_records_the_cases_ahead_it_could_not_take_yet_and_why(
    operator, profile_factory, contract, fast_contract, routed_case, now
):
    # Certified on the fast contract, and on the client: the main contract's cases come
    # to this operator only after the client threshold (10 minutes).
    profile_factory(operator, contracts=(fast_contract,), clients=(contract.client,))
    ahead = routed_case(priority="P1", opened_at=now - timedelta(minutes=4))
    behind = routed_case(priority="P4", opened_at=now - timedelta(minutes=4))
    assert services.take_next_case(operator=operator, now=now) is None
    chosen = routed_case(on=fast_contract, priority="P3", opened_at=now - timedelta(minutes=1))
    taken = services.take_next_case(operator=operator, now=now)
    assert taken.id == chosen.id
    record = Assignment.objects.get(case=chosen)
    assert record.kind == "pull"
    assert record.passed_over == [
        {
            "who": ahead.reference,
            "rule": "client_only",
            "after": 10,
            "waited": 4,
        }
    ]
    assert behind.reference not in str(record.passed_over)  # behind in order: not passed


def test_the_cases_passed_over_are_bounded(
    operator, profile_factory, fast_contract, contract, routed_case, now
):
    profile_factory(operator, contracts=(fast_contract,), skills=("mobile",))
    for n in range(engine.PASSED_OVER_MAX + 3):
        routed_case(priority="P1", opened_at=now - timedelta(minutes=n))
    routed_case(on=fast_contract, priority="P4")
    taken = services.take_next_case(operator=operator, now=now)
    record = Assignment.objects.get(case=taken)
    assert len(record.passed_over) == engine.PASSED_OVER_MAX
    assert all(
        (entry["rule"], entry["after"]) == ("skill_only", 30) for entry in record.passed_over
    )


def test_nothing_is_passed_over_when_the_best_case_is_taken(
    operator, profile_factory, contract, routed_case, now
):
    profile_factory(operator, contracts=(contract,))
    routed_case()
    assert (
        Assignment.objects.get(case=services.take_next_case(operator=operator, now=now)).passed_over
        == []
    )


# --- Property: the order of a single caller -------------------------------------------------

CASE_SPECS = st.lists(
    st.tuples(
        st.sampled_from(["P1", "P2", "P3", "P4"]),
        st.booleans(),  # on the fast contract (short targets, no P4 target: no due time)
        st.integers(min_value=0, max_value=600),  # minutes since opened
    ),
    min_size=1,
    max_size=7,
)


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(specs=CASE_SPECS)
def test_a_single_caller_takes_cases_in_priority_due_time_and_age_order(
    operator, profile_factory, contract, fast_contract, routed_case, now, specs
):
    """Each example opens its own cases; the previous examples' cases are all taken already,
    so the operator drains exactly this example's cases."""
    if not hasattr(operator, "operator_profile"):
        profile_factory(operator, contracts=(contract, fast_contract), capacity=30000)
        operator.refresh_from_db()
    opened = [
        routed_case(
            on=fast_contract if fast else contract,
            priority=priority,
            opened_at=now - timedelta(minutes=minutes),
        )
        for priority, fast, minutes in specs
    ]
    rows = Case.objects.filter(id__in=[c.id for c in opened])
    expected = [
        c.id
        for c in sorted(
            rows,
            key=lambda c: (engine.ordering_key(c.priority, c.resolution_due_at, c.opened_at), c.id),
        )
    ]
    taken = []
    while (case := services.take_next_case(operator=operator, now=now)) is not None:
        taken.append(case.id)
    assert taken == expected


def test_ahead_of_is_the_queue_order_in_sql(routed_case, now):
    """`selectors.ahead_of(case)`: exactly the cases before it in queue order, with ties on
    priority, due time and age, and cases with no due time (they come last)."""
    due = [now + timedelta(hours=2), now + timedelta(hours=5), None]
    opened = [now - timedelta(minutes=30), now - timedelta(minutes=10)]
    cases = []
    for priority in ("P2", "P3"):
        for due_at in due:
            for opened_at in opened:
                for _twin in range(2):  # equal keys: the id decides
                    case = routed_case(opened_at=opened_at)
                    Case.objects.filter(id=case.id).update(
                        priority=priority, resolution_due_at=due_at
                    )
                    cases.append(Case.objects.get(id=case.id))

    def key(case):
        return (engine.ordering_key(case.priority, case.resolution_due_at, case.opened_at), case.id)

    for case in cases:
        ahead = set(Case.objects.filter(selectors.ahead_of(case)).values_list("id", flat=True))
        assert ahead == {other.id for other in cases if key(other) < key(case)}, case
