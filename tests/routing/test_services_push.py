"""Auto-assign (push): a waiting case goes to the eligible available operator idle longest,
with the same eligibility and back-office protection as take-next, exactly once, and a
decision record of the operators passed over. Triggers run after commit (Celery is eager
in tests); a broker that is down never fails a request and the beat sweep heals it."""

from datetime import timedelta

import pytest
from kombu.exceptions import OperationalError

from care import services as care_services
from care.models import Case, CaseStatus
from routing import engine, services, tasks
from routing.models import Assignment, PresenceState
from tests.factories import CLOSING_CODE

pytestmark = pytest.mark.django_db


def assignment_of(case) -> Assignment:
    return Assignment.objects.get(case_id=case.id)


def test_a_new_case_goes_to_the_available_operator_idle_longest(
    user_factory, profile_factory, contract, routed_case, now
):
    longest = user_factory("op.primo")
    shorter = user_factory("op.secondo")
    away = user_factory("op.via")
    full = user_factory("op.pieno")
    profile_factory(longest, contracts=(contract,), now=now - timedelta(hours=3))
    profile_factory(shorter, contracts=(contract,), now=now - timedelta(hours=1))
    away_profile = profile_factory(away, contracts=(contract,), now=now - timedelta(hours=5))
    services.set_presence(
        actor=away, profile=away_profile, state=PresenceState.AWAY, now=now - timedelta(hours=4)
    )
    profile_factory(full, contracts=(contract,), capacity=1, now=now - timedelta(hours=6))
    care_services.assign_case(
        actor=full, case=routed_case(), assignee=full, now=now - timedelta(hours=6)
    )
    case = routed_case()

    offered = services.offer_case(case_id=case.id, now=now)

    assert offered.assignee == longest
    assert offered.status == CaseStatus.ASSIGNED
    record = assignment_of(case)
    assert (record.kind, record.level, record.operator) == ("push", "contract", longest)
    assert record.reason == "auto_assign"
    why = {  # facts stored; the English text the engine would say of them
        entry["who"]: engine.Why(**{k: v for k, v in entry.items() if k != "who"}).text
        for entry in record.passed_over
    }
    assert why["op.via"] == "not available (away)"
    assert why["op.pieno"] == "at capacity (1 of 1 cases)"
    assert why["op.secondo"].startswith("idle for less time")
    assert "op.primo" not in why


def test_idle_time_counts_from_the_last_assignment(
    user_factory, profile_factory, contract, routed_case, now
):
    busy_earlier = user_factory("op.primo")
    rested = user_factory("op.secondo")
    profile_factory(busy_earlier, contracts=(contract,), now=now - timedelta(hours=3))
    profile_factory(rested, contracts=(contract,), now=now - timedelta(hours=1))
    routed_case()
    services.take_next_case(operator=busy_earlier, now=now - timedelta(minutes=10))
    case = routed_case()
    assert services.offer_case(case_id=case.id, now=now).assignee == rested


def test_a_case_is_offered_once_however_often_it_is_offered(
    operator, profile_factory, contract, routed_case, now
):
    profile_factory(operator, contracts=(contract,))
    case = routed_case()
    assert services.offer_case(case_id=case.id, now=now) is not None
    assert services.offer_case(case_id=case.id, now=now) is None
    assert Assignment.objects.filter(case_id=case.id).count() == 1


def test_nobody_eligible_leaves_the_case_waiting(
    operator, profile_factory, contract, routed_case, now
):
    profile_factory(operator, clients=(contract.client,))  # client level: after 10 minutes
    case = routed_case(opened_at=now)
    assert services.offer_case(case_id=case.id, now=now) is None
    assert Case.objects.get(id=case.id).status == CaseStatus.NEW
    assert services.offer_waiting_cases(now=now + timedelta(minutes=10)) == 1
    record = assignment_of(case)
    assert (record.kind, record.level, record.operator) == ("push", "client", operator)


def test_the_decision_record_says_who_was_not_certified_yet(
    user_factory, profile_factory, contract, routed_case, now
):
    chosen = user_factory("op.contratto")
    later = user_factory("op.cliente")
    profile_factory(chosen, contracts=(contract,), now=now - timedelta(hours=1))
    profile_factory(later, clients=(contract.client,), now=now - timedelta(hours=5))
    case = routed_case(opened_at=now - timedelta(minutes=3))
    services.offer_case(case_id=case.id, now=now)
    assert assignment_of(case).passed_over == [
        {
            "who": "op.cliente",
            "rule": "client_only",  # with its facts, to be said in the reader's language
            "after": 10,
            "waited": 3,
        }
    ]


def test_push_keeps_the_back_office_share_free_unless_the_queue_is_in_emergency(
    operator, supervisor, profile_factory, contract, routed_case, default_queue, now
):
    profile_factory(operator, contracts=(contract,), capacity=5, backoffice_share="0.40")
    for _ in range(3):
        services.offer_case(case_id=routed_case().id, now=now)
    assert Case.objects.filter(assignee=operator).count() == 3
    waiting = routed_case()
    assert services.offer_case(case_id=waiting.id, now=now) is None
    services.set_emergency(actor=supervisor, queue=default_queue, minutes=30, reason="x", now=now)
    assert services.offer_case(case_id=waiting.id, now=now + timedelta(minutes=1)) is not None
    assert Case.objects.filter(assignee=operator).count() == 4


def test_a_new_case_is_offered_after_commit(
    operator, profile_factory, contract, routed_case, django_capture_on_commit_callbacks
):
    profile_factory(operator, contracts=(contract,))
    with django_capture_on_commit_callbacks(execute=True):
        case = routed_case()
    assert Case.objects.get(id=case.id).assignee == operator
    assert assignment_of(case).kind == "push"


def test_becoming_available_offers_the_waiting_cases(
    operator, profile_factory, contract, routed_case, now, django_capture_on_commit_callbacks
):
    profile = profile_factory(operator, contracts=(contract,), available=False)
    cases = [routed_case(), routed_case()]
    with django_capture_on_commit_callbacks(execute=True):
        services.set_presence(actor=operator, profile=profile, state="available", now=now)
    assert Case.objects.filter(id__in=[c.id for c in cases], assignee=operator).count() == 2


def test_resolving_a_case_frees_room_for_a_waiting_one(
    operator, profile_factory, contract, routed_case, now, django_capture_on_commit_callbacks
):
    profile_factory(operator, contracts=(contract,), capacity=1, backoffice_share="0")
    held = routed_case()
    services.take_next_case(operator=operator, now=now)
    waiting = routed_case()
    with django_capture_on_commit_callbacks(execute=True):
        care_services.transition_case(
            actor=operator,
            case=held,
            to=CaseStatus.RESOLVED,
            resolution_code=CLOSING_CODE,
            now=now,
        )
    assert Case.objects.get(id=waiting.id).assignee == operator


def test_a_broker_that_is_down_never_fails_the_request_and_beat_heals_it(
    operator,
    profile_factory,
    contract,
    routed_case,
    monkeypatch,
    caplog,
    django_capture_on_commit_callbacks,
):
    profile_factory(operator, contracts=(contract,))

    def broker_down(*args, **kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr(tasks.offer_case_task, "apply_async", broker_down)
    with django_capture_on_commit_callbacks(execute=True):
        case = routed_case()
    assert Case.objects.get(id=case.id).status == CaseStatus.NEW
    assert "beat's sweep heals it" in caplog.text
    assert tasks.auto_assign_waiting_task() == 1
    assert Case.objects.get(id=case.id).assignee == operator


def test_push_can_be_switched_off(
    operator, profile_factory, contract, routed_case, settings, django_capture_on_commit_callbacks
):
    settings.ROUTING_AUTO_ASSIGN = False
    profile_factory(operator, contracts=(contract,))
    with django_capture_on_commit_callbacks(execute=True):
        case = routed_case()
    assert tasks.auto_assign_waiting_task() == 0
    assert Case.objects.get(id=case.id).status == CaseStatus.NEW


def test_the_sweep_tries_only_cases_someone_may_take_with_a_fixed_query_count(
    operator,
    profile_factory,
    contract,
    fixed_line_contract,
    routed_case,
    now,
    django_assert_max_num_queries,
):
    profile_factory(operator, contracts=(contract,), skills=("mobile",))
    for n in range(15):  # nobody is certified or skilled for these
        routed_case(on=fixed_line_contract, opened_at=now - timedelta(hours=n))
    with django_assert_max_num_queries(5):
        assert services.offer_waiting_cases(now=now) == 0


def test_the_sweep_fills_operators_up_to_their_front_office_limit_in_queue_order(
    user_factory, profile_factory, contract, routed_case, now
):
    first, second = user_factory("op.primo"), user_factory("op.secondo")
    profile_factory(first, contracts=(contract,), capacity=2, backoffice_share="0.5")
    profile_factory(second, contracts=(contract,), capacity=2, backoffice_share="0.5")
    cases = [routed_case(opened_at=now - timedelta(minutes=n)) for n in range(4)]
    assert services.offer_waiting_cases(now=now) == 2
    oldest_two = sorted(cases, key=lambda c: c.opened_at)[:2]
    assert {c.id for c in Case.objects.filter(assignee__isnull=False)} == {c.id for c in oldest_two}
    assert set(Case.objects.filter(assignee__isnull=False).values_list("assignee", flat=True)) == {
        first.id,
        second.id,
    }


def test_offers_sent_before_push_was_switched_off_assign_nothing(
    operator, profile_factory, contract, routed_case, settings
):
    """A broker may still hold offers sent while push was on (a demo restarted pull-only)."""
    profile_factory(operator, contracts=(contract,))
    case = routed_case()
    settings.ROUTING_AUTO_ASSIGN = False
    assert tasks.offer_case_task(case.id) is False
    assert tasks.offer_waiting_cases_task(operator.id) == 0
    assert Case.objects.get(id=case.id).status == CaseStatus.NEW
