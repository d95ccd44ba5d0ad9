"""A supervisor reassigns a case: checked target, override with a reason, a decision record,
and clear refusals that write nothing."""

from datetime import timedelta

import pytest

from care import services as care_services
from care.exceptions import CaseChangedMeanwhile
from care.models import Case, CaseEvent, CaseStatus
from routing import services
from routing.exceptions import (
    AlreadyAssignedToOperator,
    CaseNotAssignable,
    SupervisorOnly,
    TargetAtCapacity,
    TargetHasNoProfile,
    TargetNotEligible,
    TargetOffline,
)
from routing.models import Assignment, PresenceState
from tests.factories import CLOSING_CODE

pytestmark = pytest.mark.django_db


@pytest.fixture
def colleague(user_factory):
    return user_factory("op.bianchi", first_name="Anna", last_name="Bianchi")


@pytest.fixture
def held_case(operator, profile_factory, contract, routed_case, now):
    """A case the operator took with take-next."""
    profile_factory(operator, contracts=(contract,))
    routed_case(opened_at=now - timedelta(minutes=5))
    return services.take_next_case(operator=operator, now=now)


@pytest.fixture
def unchanged(care_tables):
    """`unchanged()` is true while the care and routing tables hold what they held when the
    fixture was first used."""
    before = (care_tables(), list(Assignment.objects.values_list("id", flat=True)))
    return lambda: (care_tables(), list(Assignment.objects.values_list("id", flat=True))) == before


def test_a_supervisor_reassigns_a_held_case_to_an_eligible_colleague(
    supervisor, operator, colleague, profile_factory, contract, held_case, now
):
    profile_factory(colleague, contracts=(contract,))
    later = now + timedelta(minutes=3)
    case = services.reassign_case(actor=supervisor, case=held_case, operator=colleague, now=later)
    assert case.assignee == colleague
    record = Assignment.objects.filter(case=case).order_by("-id").first()
    assert (record.kind, record.level, record.assigned_by, record.at) == (
        "manual",
        "contract",
        supervisor,
        later,
    )
    assert record.override_reason == ""
    assert record.reason == "reassigned"
    assert record.passed_over == [{"who": "op.rossi", "rule": "held_before"}]
    event = CaseEvent.objects.filter(case=case, kind="assigned").latest("id")
    assert (event.detail["how"], event.detail["level"]) == ("reassigned", "contract")
    assert event.detail["previous"] != event.detail["assignee"] == colleague.id


def test_an_ineligible_operator_is_refused_without_an_override_reason(
    supervisor, colleague, profile_factory, held_case, unchanged, now
):
    profile_factory(colleague)  # no certification, no skill
    with pytest.raises(TargetNotEligible) as refused:
        services.reassign_case(actor=supervisor, case=held_case, operator=colleague, now=now)
    assert "override_reason" in refused.value.fields
    assert unchanged()


def test_an_override_with_a_reason_assigns_and_records_it(
    supervisor, colleague, profile_factory, held_case, now
):
    profile_factory(colleague)
    case = services.reassign_case(
        actor=supervisor,
        case=held_case,
        operator=colleague,
        override_reason="  Parla tedesco con l'utente  ",
        now=now,
    )
    assert case.assignee == colleague
    record = Assignment.objects.get(case=case, kind="manual")
    assert (record.level, record.override_reason, record.assigned_by) == (
        "override",
        "Parla tedesco con l'utente",
        supervisor,
    )
    assert record.reason == "override"
    event = CaseEvent.objects.filter(case=case, kind="assigned").latest("id")
    assert (event.detail["how"], event.detail["level"], event.detail["override_reason"]) == (
        "override",
        "override",
        "Parla tedesco con l'utente",
    )


def test_a_waiting_case_can_be_assigned_too(
    supervisor, colleague, profile_factory, contract, routed_case, now
):
    profile_factory(colleague, contracts=(contract,))
    case = services.reassign_case(actor=supervisor, case=routed_case(), operator=colleague, now=now)
    assert (case.status, case.assignee) == (CaseStatus.ASSIGNED, colleague)
    assert Assignment.objects.get(case=case).passed_over == []


def test_an_operator_at_capacity_is_refused(
    supervisor, colleague, profile_factory, contract, routed_case, held_case, now
):
    profile_factory(colleague, contracts=(contract,), capacity=1)
    care_services.assign_case(actor=supervisor, case=routed_case(), assignee=colleague, now=now)
    with pytest.raises(TargetAtCapacity):
        services.reassign_case(actor=supervisor, case=held_case, operator=colleague, now=now)
    assert Case.objects.get(id=held_case.id).assignee.username == "op.rossi"


def test_an_offline_operator_is_refused(
    supervisor, colleague, profile_factory, contract, held_case, unchanged, now
):
    profile_factory(colleague, contracts=(contract,), available=False)
    with pytest.raises(TargetOffline):
        services.reassign_case(actor=supervisor, case=held_case, operator=colleague, now=now)
    assert unchanged()


def test_an_away_operator_may_still_receive_a_case(
    supervisor, colleague, profile_factory, contract, held_case, now
):
    profile = profile_factory(colleague, contracts=(contract,))
    services.set_presence(actor=colleague, profile=profile, state=PresenceState.AWAY, now=now)
    case = services.reassign_case(actor=supervisor, case=held_case, operator=colleague, now=now)
    assert case.assignee == colleague


def test_someone_without_an_operator_profile_is_refused(
    supervisor, colleague, held_case, unchanged, now
):
    with pytest.raises(TargetHasNoProfile):
        services.reassign_case(actor=supervisor, case=held_case, operator=colleague, now=now)
    assert unchanged()


def test_only_a_supervisor_reassigns(
    operator, colleague, profile_factory, contract, held_case, unchanged, now
):
    profile_factory(colleague, contracts=(contract,))
    with pytest.raises(SupervisorOnly):
        services.reassign_case(actor=operator, case=held_case, operator=colleague, now=now)
    assert unchanged()


def test_a_stale_row_version_is_refused(
    supervisor, colleague, profile_factory, contract, held_case, unchanged, now
):
    profile_factory(colleague, contracts=(contract,))
    with pytest.raises(CaseChangedMeanwhile):
        services.reassign_case(
            actor=supervisor,
            case=held_case,
            operator=colleague,
            expected_version=held_case.row_version - 1,
            now=now,
        )
    assert unchanged()
    case = services.reassign_case(
        actor=supervisor,
        case=held_case,
        operator=colleague,
        expected_version=held_case.row_version,
        now=now,
    )
    assert case.assignee == colleague


def test_the_case_already_assigned_to_that_operator_is_refused(
    supervisor, operator, held_case, unchanged, now
):
    with pytest.raises(AlreadyAssignedToOperator):
        services.reassign_case(actor=supervisor, case=held_case, operator=operator, now=now)
    assert unchanged()


def test_a_resolved_case_cannot_be_reassigned(
    supervisor, operator, colleague, profile_factory, contract, held_case, now
):
    profile_factory(colleague, contracts=(contract,))
    care_services.transition_case(
        actor=operator,
        case=held_case,
        to=CaseStatus.RESOLVED,
        resolution_code=CLOSING_CODE,
        now=now,
    )
    with pytest.raises(CaseNotAssignable):
        services.reassign_case(actor=supervisor, case=held_case, operator=colleague, now=now)
    assert Assignment.objects.filter(case=held_case).count() == 1


def test_the_previous_holder_gets_a_waiting_case_after_commit(
    supervisor,
    operator,
    colleague,
    profile_factory,
    contract,
    routed_case,
    held_case,
    now,
    django_capture_on_commit_callbacks,
):
    profile_factory(colleague, contracts=(contract,), available=False)
    services.set_presence(
        actor=supervisor,
        profile=colleague.operator_profile,
        state=PresenceState.BUSY,
        now=now,
    )
    waiting = routed_case()  # not pushed: no commit in this test until the block below
    with django_capture_on_commit_callbacks(execute=True):
        services.reassign_case(actor=supervisor, case=held_case, operator=colleague, now=now)
    assert Case.objects.get(id=waiting.id).assignee == operator


# --- Emergencies end by themselves, once ----------------------------------------------------


def test_an_expired_emergency_is_ended_once_with_an_audit_event(supervisor, default_queue, now):
    from routing.models import QueueEvent

    services.set_emergency(
        actor=supervisor, queue=default_queue, minutes=30, reason="Guasto", now=now
    )
    assert services.end_expired_emergencies(now=now + timedelta(minutes=29)) == 0
    assert services.end_expired_emergencies(now=now + timedelta(minutes=31)) == 1
    assert services.end_expired_emergencies(now=now + timedelta(minutes=32)) == 0
    events = list(QueueEvent.objects.values_list("kind", "reason", "at", "actor"))
    assert events == [
        ("emergency_on", "Guasto", now, supervisor.id),
        ("emergency_off", "expired", now + timedelta(minutes=30), supervisor.id),
    ]
    default_queue.refresh_from_db()
    assert (default_queue.emergency_until, default_queue.emergency_reason) == (None, "")


def test_a_new_emergency_after_an_unrecorded_expiry_records_the_end_first(
    supervisor, default_queue, now
):
    from routing.models import QueueEvent

    services.set_emergency(actor=supervisor, queue=default_queue, minutes=10, reason="a", now=now)
    services.set_emergency(
        actor=supervisor, queue=default_queue, minutes=10, reason="b", now=now + timedelta(hours=1)
    )
    assert list(QueueEvent.objects.values_list("kind", "reason")) == [
        ("emergency_on", "a"),
        ("emergency_off", "expired"),
        ("emergency_on", "b"),
    ]
