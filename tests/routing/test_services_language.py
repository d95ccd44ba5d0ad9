"""A queue may ask for a language: routing offers its cases only to operators who speak it,
in take-next (at every overflow level), auto-assign and a supervisor's reassignment."""

from datetime import timedelta

import pytest

from routing import selectors, services
from routing.exceptions import TargetLacksLanguage
from routing.models import AssignmentLevel, OperatorProfile, Queue

pytestmark = pytest.mark.django_db


@pytest.fixture
def german_queue(default_queue, contract):
    """Every case of the contract's client goes to a queue that asks for German."""
    return Queue.objects.create(
        code="tedesco", name="Alto Adige", client=contract.client, language="de"
    )


def _speaks(user, *languages: str) -> None:
    OperatorProfile.objects.filter(user=user).update(languages=list(languages))


@pytest.fixture
def colleague(user_factory):
    return user_factory("op.huber", first_name="Lena", last_name="Huber")


def test_take_next_offers_a_language_queues_case_only_to_who_speaks_it(
    german_queue, operator, colleague, profile_factory, contract, routed_case, now
):
    profile_factory(operator, contracts=(contract,))
    profile_factory(colleague, contracts=(contract,))
    _speaks(operator, "it", "en")
    _speaks(colleague, "it", "de")
    case = routed_case(opened_at=now - timedelta(minutes=5))
    assert case.queue_code == "tedesco"
    assert services.take_next_case(operator=operator, now=now) is None
    assert selectors.waiting_for(operator, now=now) == 0
    assert services.take_next_case(operator=colleague, now=now).id == case.id


def test_overflow_keeps_the_language_rule(
    german_queue, operator, profile_factory, contract, routed_case, now
):
    profile_factory(operator, skills=("mobile",))  # the national circle, after 30 minutes
    _speaks(operator, "it")
    routed_case(opened_at=now - timedelta(hours=3))
    assert services.take_next_case(operator=operator, now=now) is None
    _speaks(operator, "it", "de")
    assert services.take_next_case(operator=operator, now=now).queue_code == "tedesco"


def test_a_queue_without_a_language_is_offered_to_everyone(
    default_queue, operator, profile_factory, contract, routed_case, now
):
    profile_factory(operator, contracts=(contract,))
    _speaks(operator)
    case = routed_case(opened_at=now - timedelta(minutes=5))
    assert services.take_next_case(operator=operator, now=now).id == case.id


def test_auto_assign_skips_an_operator_without_the_language(
    german_queue, operator, colleague, profile_factory, contract, routed_case, now
):
    profile_factory(operator, contracts=(contract,))
    _speaks(operator, "it")
    case = routed_case(opened_at=now - timedelta(minutes=5))
    assert services.offer_case(case_id=case.id, now=now) is None
    assert services.offer_waiting_cases(now=now) == 0
    profile_factory(colleague, contracts=(contract,))
    _speaks(colleague, "de")
    assert services.offer_waiting_cases(now=now) == 1
    case.refresh_from_db()
    assert case.assignee == colleague


def test_reassigning_to_an_operator_without_the_language_needs_a_reason(
    german_queue, operator, supervisor, profile_factory, contract, routed_case, now
):
    german_queue.supervisors.add(supervisor)  # the case is within the supervisor's scope
    profile_factory(operator, contracts=(contract,))
    _speaks(operator, "it")
    case = routed_case(opened_at=now - timedelta(minutes=5))
    with pytest.raises(TargetLacksLanguage) as refused:
        services.reassign_case(actor=supervisor, case=case, operator=operator, now=now)
    assert "override_reason" in refused.value.fields
    case.refresh_from_db()
    assert case.assignee is None
    case = services.reassign_case(
        actor=supervisor, case=case, operator=operator, override_reason="Parla tedesco", now=now
    )
    assert case.routing_assignment.level == AssignmentLevel.OVERRIDE
