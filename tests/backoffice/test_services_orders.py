"""Contract orders: opening, the state machine, due times in business time, late flags, and
every refusal leaving the database exactly as it was."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from contracts.models import ContractOrder, OrderEvent, OrderNote, OrderState
from contracts.orders import services as order_services
from contracts.orders.services import (
    ORDER_STATE_TARGETS,
    BackofficeOnly,
    InvalidOrderData,
    LineData,
    OrderChangedMeanwhile,
    OrderTransitionNotAllowed,
)
from tests.backoffice.conftest import snapshot

pytestmark = pytest.mark.django_db
ROME = ZoneInfo("Europe/Rome")


def test_an_order_opens_as_a_draft_with_a_yearly_reference_its_lines_and_an_event(
    order_factory, backoffice_user, referent, now
):
    order = order_factory(requester=referent, case_reference="cs-2026-000012")
    second = order_factory()
    assert order.reference == "OR-2026-000001"
    assert second.reference == "OR-2026-000002"
    assert order.state == OrderState.DRAFT
    assert order.owner is None
    assert order.requester_name == "Giovanni Lo Cascio"
    assert order.case_reference == "CS-2026-000012"
    assert [(line.service, line.quantity) for line in order.lines.all()] == [("mobile", 10)]
    event = order.events.get()
    assert (event.kind, event.to_state, event.actor) == ("created", "draft", backoffice_user)
    assert event.detail["case"] == "CS-2026-000012"
    assert order.state_due_at > now


def test_an_order_goes_from_draft_to_completed_and_each_state_gets_its_due_time(
    order_factory, backoffice_user, other_backoffice, now
):
    order = order_factory()
    moments = {}
    for step, state in enumerate(["submitted", "validated", "provisioning", "completed"], 1):
        moments[state] = now + timedelta(hours=step)
        order = order_services.transition_order(
            actor=other_backoffice if state == "validated" else backoffice_user,
            order=order,
            to=state,
            expected_version=order.row_version,
            now=moments[state],
        )
        assert order.state == state
        assert order.state_entered_at == moments[state]
    assert order.state_due_at is None
    assert order.closed_at == moments["completed"]
    assert order.row_version == 5
    kinds = list(order.events.values_list("kind", "from_state", "to_state"))
    assert kinds == [
        ("created", "", "draft"),
        ("state_changed", "draft", "submitted"),
        ("state_changed", "submitted", "validated"),
        ("state_changed", "validated", "provisioning"),
        ("state_changed", "provisioning", "completed"),
    ]


def test_the_due_time_skips_the_immacolata_holiday_and_the_night(order_factory, backoffice_user):
    monday_afternoon = datetime(2026, 12, 7, 16, 0, tzinfo=ROME)
    order = order_factory(now=monday_afternoon)
    order = order_services.transition_order(
        actor=backoffice_user, order=order, to="submitted", now=monday_afternoon
    )
    assert ORDER_STATE_TARGETS["activation"]["submitted"] == 480
    # 90 minutes on Monday (16:00-17:30), Tuesday 8 December closed, then 08:30-13:00 (270)
    # and 14:00-16:00 (120) on Wednesday.
    assert order.state_due_at == datetime(2026, 12, 9, 16, 0, tzinfo=ROME)


def test_rejecting_or_cancelling_needs_a_reason_and_closes_the_order(
    submitted_order, backoffice_user, now
):
    before = snapshot()
    with pytest.raises(InvalidOrderData) as refused:
        order_services.transition_order(actor=backoffice_user, order=submitted_order, to="rejected")
    assert "reason" in refused.value.fields
    assert snapshot() == before
    order = order_services.transition_order(
        actor=backoffice_user,
        order=submitted_order,
        to="rejected",
        reason="Manca il modulo",
        now=now,
    )
    assert (order.state, order.state_reason, order.closed_at) == (
        "rejected",
        "Manca il modulo",
        now,
    )
    assert order.events.latest("id").detail["reason"] == "Manca il modulo"


@pytest.mark.parametrize(
    ("start", "to"),
    [("draft", "validated"), ("draft", "completed"), ("submitted", "provisioning")],
)
def test_a_transition_the_state_machine_does_not_allow_is_refused_and_writes_nothing(
    order_factory, backoffice_user, start, to, now
):
    order = order_factory()
    if start == "submitted":
        order = order_services.transition_order(actor=backoffice_user, order=order, to=start)
    before = snapshot()
    with pytest.raises(OrderTransitionNotAllowed) as refused:
        order_services.transition_order(actor=backoffice_user, order=order, to=to)
    assert refused.value.status == 409
    assert "to" in refused.value.fields
    assert snapshot() == before


def test_a_closed_order_cannot_move_again(submitted_order, backoffice_user):
    order = order_services.transition_order(
        actor=backoffice_user, order=submitted_order, to="cancelled", reason="Doppione"
    )
    before = snapshot()
    for state in OrderState.values:
        with pytest.raises(OrderTransitionNotAllowed):
            order_services.transition_order(actor=backoffice_user, order=order, to=state)
    assert snapshot() == before


def test_a_stale_row_version_is_a_conflict_and_writes_nothing(
    submitted_order, backoffice_user, other_backoffice
):
    stale = submitted_order.row_version
    order_services.transition_order(
        actor=other_backoffice, order=submitted_order, to="validated", expected_version=stale
    )
    before = snapshot()
    with pytest.raises(OrderChangedMeanwhile) as refused:
        order_services.transition_order(
            actor=backoffice_user,
            order=submitted_order,
            to="cancelled",
            reason="x",
            expected_version=stale,
        )
    assert refused.value.status == 409
    assert snapshot() == before


def test_an_unknown_state_is_refused(submitted_order, backoffice_user):
    with pytest.raises(InvalidOrderData):
        order_services.transition_order(
            actor=backoffice_user, order=submitted_order, to="teleported"
        )


def test_an_order_for_an_expired_contract_is_refused_and_writes_nothing(order_factory, contract):
    before = snapshot()
    after_expiry = datetime(2029, 1, 10, 10, 0, tzinfo=ROME)
    with pytest.raises(InvalidOrderData) as refused:
        order_factory(now=after_expiry, lines=[LineData(service="mobile", quantity=1)])
    assert "contract" in refused.value.fields
    assert snapshot() == before


@pytest.mark.parametrize("quantity", [0, -3])
def test_quantities_must_be_positive(order_factory, quantity):
    before = snapshot()
    with pytest.raises(InvalidOrderData) as refused:
        order_factory(
            lines=[
                LineData(service="mobile", quantity=2),
                LineData(service="data", quantity=quantity),
            ]
        )
    assert any(
        "Line 2" in message or "Riga 2" in message for message in refused.value.fields["lines"]
    )
    assert snapshot() == before


def test_a_target_date_in_the_past_is_refused(order_factory, now):
    before = snapshot()
    yesterday = now.date() - timedelta(days=1)
    with pytest.raises(InvalidOrderData) as refused:
        order_factory(lines=[LineData(service="mobile", quantity=1, target_date=yesterday)])
    assert "lines" in refused.value.fields
    assert snapshot() == before
    order = order_factory(lines=[LineData(service="mobile", quantity=1, target_date=now.date())])
    assert order.lines.get().target_date == now.date()


def test_an_order_needs_at_least_one_line_and_a_summary(order_factory):
    before = snapshot()
    with pytest.raises(InvalidOrderData) as refused:
        order_factory(lines=[], summary="  ")
    assert set(refused.value.fields) == {"lines", "summary"}
    assert snapshot() == before


def test_an_owner_without_the_back_office_role_is_refused(order_factory, operator):
    before = snapshot()
    with pytest.raises(InvalidOrderData) as refused:
        order_factory(owner=operator)
    assert "owner" in refused.value.fields
    assert snapshot() == before


def test_a_requester_of_another_client_is_refused(order_factory):
    from contracts.models import Referent
    from tests.factories import ClientFactory

    stranger = Referent.objects.create(client=ClientFactory(), first_name="A", last_name="B")
    before = snapshot()
    with pytest.raises(InvalidOrderData) as refused:
        order_factory(requester=stranger)
    assert "requester" in refused.value.fields
    assert snapshot() == before


def test_only_back_office_staff_work_orders(order_factory, operator, submitted_order):
    before = snapshot()
    with pytest.raises(BackofficeOnly):
        order_factory(actor=operator)
    with pytest.raises(BackofficeOnly):
        order_services.transition_order(actor=operator, order=submitted_order, to="validated")
    assert snapshot() == before


def test_assigning_an_order_bumps_its_version_and_writes_an_event(
    submitted_order, backoffice_user, other_backoffice, operator
):
    order = order_services.assign_order(
        actor=backoffice_user, order=submitted_order, owner=other_backoffice
    )
    assert order.owner == other_backoffice
    assert order.row_version == submitted_order.row_version + 1
    event = order.events.latest("id")
    assert (event.kind, event.detail["to"]) == ("owner_changed", "bo.bruni")
    with pytest.raises(InvalidOrderData):
        order_services.assign_order(actor=backoffice_user, order=order, owner=operator)


def test_notes_are_internal_or_for_the_client(submitted_order, backoffice_user):
    note = order_services.add_order_note(
        actor=backoffice_user,
        order=submitted_order,
        body="Chiamato il referente",
        visibility="client",
    )
    assert note.visibility == OrderNote.Visibility.CLIENT
    assert submitted_order.events.latest("id").kind == OrderEvent.Kind.NOTE_ADDED
    before = snapshot()
    with pytest.raises(InvalidOrderData):
        order_services.add_order_note(actor=backoffice_user, order=submitted_order, body=" ")
    assert snapshot() == before


def test_a_pdf_is_attached_and_an_executable_is_refused(submitted_order, backoffice_user):
    pdf = SimpleUploadedFile("modulo.pdf", b"%PDF-1.4 firmato", content_type="application/pdf")
    document = order_services.attach_document(
        actor=backoffice_user, order=submitted_order, upload=pdf
    )
    assert (document.original_name, document.content_type) == ("modulo.pdf", "application/pdf")
    assert document.file.read() == b"%PDF-1.4 firmato"
    before = snapshot()
    for name, content in [("virus.exe", b"MZ"), ("finto.pdf", b"MZ not a pdf")]:
        with pytest.raises(InvalidOrderData) as refused:
            order_services.attach_document(
                actor=backoffice_user,
                order=submitted_order,
                upload=SimpleUploadedFile(name, content),
            )
        assert "file" in refused.value.fields
    assert snapshot() == before


def test_a_document_over_the_size_limit_is_refused(submitted_order, backoffice_user, settings):
    settings.MAX_ATTACHMENT_BYTES = 10
    before = snapshot()
    with pytest.raises(InvalidOrderData):
        order_services.attach_document(
            actor=backoffice_user,
            order=submitted_order,
            upload=SimpleUploadedFile("grande.txt", b"x" * 11),
        )
    assert snapshot() == before


# --- Late orders ----------------------------------------------------------------------------


def test_orders_past_their_state_due_time_are_flagged_once_with_one_event(
    order_factory, backoffice_user, now
):
    late = order_factory()
    on_time = order_factory()
    closed = order_factory()
    order_services.transition_order(actor=backoffice_user, order=closed, to="cancelled", reason="x")
    after_due = late.state_due_at + timedelta(minutes=1)
    ContractOrder.objects.filter(id=on_time.id).update(state_due_at=after_due + timedelta(days=1))

    assert order_services.mark_late_orders(now=after_due) == 1
    assert order_services.mark_late_orders(now=after_due) == 0  # idempotent
    assert order_services.mark_late_orders(now=after_due + timedelta(minutes=5)) == 0
    assert list(ContractOrder.objects.filter(is_late=True)) == [late]
    assert OrderEvent.objects.filter(kind="late").count() == 1
    assert OrderEvent.objects.get(kind="late").order == late

    # Entering the next state starts a new clock: the flag clears.
    late.refresh_from_db()
    moved = order_services.transition_order(
        actor=backoffice_user, order=late, to="submitted", now=after_due
    )
    assert moved.is_late is False


def test_the_late_task_calls_the_service(order_factory):
    from contracts.tasks import mark_late_orders_task

    order_factory()
    assert mark_late_orders_task.delay().get() == 0


def test_an_order_opened_on_a_contract_at_its_last_day_is_allowed(order_factory, contract):
    last_day = datetime(2028, 12, 29, 10, 0, tzinfo=ROME)
    order = order_factory(now=last_day, lines=[LineData(service="mobile", quantity=1)])
    assert order.reference.startswith("OR-2028-")
    assert date(2028, 12, 31) == contract.valid_to


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_same_order_sent_twice_at_once_is_created_once(backoffice_user, contract, now):
    """Two requests at once both looked for a similar order before either wrote one: the
    contract row is locked first, so the second sees the first (issue #26 point 10)."""
    from tests.care.test_concurrency import run_together

    def create():
        return order_services.create_order(
            actor=backoffice_user,
            kind="activation",
            contract=contract,
            lines=[LineData(service="mobile", quantity=4)],
            summary="Quattro SIM",
            now=now,
        )

    results = run_together(create, create)
    assert sorted(type(r).__name__ for r in results) == [
        "ContractOrder",
        "DuplicateOrderSuspected",
    ], results
    assert ContractOrder.objects.count() == 1
