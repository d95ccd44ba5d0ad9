"""Every write of contract orders and the loyalty worklist: one function per operation.

Orders move `draft → submitted → validated → provisioning → completed`, or end `rejected` /
`cancelled` with a reason (TRANSITIONS). Each state, on entry, gets a due instant: the
per-kind, per-state target of ORDER_STATE_TARGETS in business minutes of the contract's
calendar. `mark_late_orders` (every 5 minutes, from the beat) flags orders past it.

Validation is a second person's act (four eyes): whoever moved the order to `submitted`
cannot validate it (`SecondPersonRequired`, 403), unless a manager allowed single-person
validation on the contract (`Contract.single_person_order_validation`, set and audited by
`contracts.services.set_order_validation`); such a validation says so in its event. Once a
colleague has validated, provisioning and completion are the execution of a checked order:
anyone in the back-office may do them, the submitter and the validator included. Two people
validating at once: the row lock lets the first through and the second gets a 409.

Every function runs in one transaction and writes the order's timeline event in it; a refused
request raises a `PresidioError` subclass with field messages and writes nothing.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from config.db import next_in_yearly_sequence
from config.errors import Conflict, DuplicateSuspected, InvalidInput, PermissionDenied
from config.uploads import UploadRefused, accepted_content_type
from contracts import calendars
from contracts.models import (
    CLOSED_ORDER_STATES,
    OPEN_ORDER_STATES,
    Client,
    Contract,
    ContractOrder,
    LoyaltyAction,
    LoyaltyItem,
    LoyaltyOutcome,
    OrderDocument,
    OrderEvent,
    OrderKind,
    OrderLine,
    OrderNote,
    OrderSequence,
    OrderState,
    Referent,
    Service,
)
from contracts.orders.selectors import (
    backoffice_users,
    order_submitter_id,
    similar_open_orders,
    works_backoffice,
)
from contracts.selectors import (
    calendar_spec,
    calendars_with_rules,
    contract_in_force,
    contracts_expiring,
    is_their_client,
)

# --- Errors ---------------------------------------------------------------------------------


class InvalidOrderData(InvalidInput):
    code = "invalid_order_data"
    default_message = gettext_lazy("Some data is not valid: check the highlighted fields.")


class OrderTransitionNotAllowed(Conflict):
    code = "order_transition_not_allowed"
    default_message = gettext_lazy("This change of state is not allowed.")


class OrderChangedMeanwhile(Conflict):
    code = "order_changed_meanwhile"
    default_message = gettext_lazy(
        "Someone else changed this order in the meantime: reload it and try again."
    )


class SecondPersonRequired(PermissionDenied):
    """Four eyes: whoever submitted an order cannot also validate it."""

    code = "second_person_required"
    default_message = gettext_lazy(
        "You submitted this order: a colleague must validate it (four eyes)."
    )


class OrderAlreadyInState(OrderTransitionNotAllowed):
    """Two people moved the order at once (two validations): the first one won."""

    code = "order_already_in_state"


class DuplicateOrderSuspected(DuplicateSuspected):
    """An open order already asks the same (a form sent twice, a retried request)."""

    default_message = gettext_lazy(
        "An open order on this contract already asks the same. Use it, or give the reason "
        "for a new one."
    )
    similar_key = "similar_orders"

    def describe(self, candidate) -> dict:
        return {
            "reference": candidate.reference,
            "state": candidate.state,
            "summary": candidate.summary,
        }


class BackofficeOnly(PermissionDenied):
    code = "backoffice_only"
    default_message = gettext_lazy("Only back-office staff can work contract orders.")


class LoyaltyItemClosed(Conflict):
    code = "loyalty_item_closed"
    default_message = gettext_lazy("This loyalty item already has an outcome.")


# --- Rules ----------------------------------------------------------------------------------

# Business minutes each state may last, per kind of order (an 8-hour office day is 480).
# draft: the requester's paperwork; submitted: back-office validation; validated: hand-over
# to provisioning; provisioning: the technical work. Closed states have no due time.
ORDER_STATE_TARGETS: dict[str, dict[str, int]] = {
    OrderKind.ACTIVATION: {
        OrderState.DRAFT: 960,  # 2 business days
        OrderState.SUBMITTED: 480,  # 1
        OrderState.VALIDATED: 960,  # 2
        OrderState.PROVISIONING: 4800,  # 10
    },
    OrderKind.CHANGE: {
        OrderState.DRAFT: 960,  # 2
        OrderState.SUBMITTED: 480,  # 1
        OrderState.VALIDATED: 480,  # 1
        OrderState.PROVISIONING: 2400,  # 5
    },
    OrderKind.TERMINATION: {
        OrderState.DRAFT: 960,  # 2
        OrderState.SUBMITTED: 480,  # 1
        OrderState.VALIDATED: 480,  # 1
        OrderState.PROVISIONING: 1440,  # 3
    },
    OrderKind.RENEWAL: {
        OrderState.DRAFT: 2400,  # 5: the offer is being negotiated
        OrderState.SUBMITTED: 960,  # 2
        OrderState.VALIDATED: 480,  # 1
        OrderState.PROVISIONING: 960,  # 2
    },
}

TRANSITIONS: dict[str, set[str]] = {
    OrderState.DRAFT: {OrderState.SUBMITTED, OrderState.CANCELLED},
    OrderState.SUBMITTED: {OrderState.VALIDATED, OrderState.REJECTED, OrderState.CANCELLED},
    OrderState.VALIDATED: {OrderState.PROVISIONING, OrderState.CANCELLED},
    OrderState.PROVISIONING: {OrderState.COMPLETED, OrderState.CANCELLED},
    OrderState.COMPLETED: set(),
    OrderState.REJECTED: set(),
    OrderState.CANCELLED: set(),
}
REASON_REQUIRED = {OrderState.REJECTED, OrderState.CANCELLED}

LATE_BATCH = 500
REASON_MAX = 300  # a duplicate override's reason, as on cases
PULLED = "pull"  # how an order reached its owner: taken from the back-office pool


@dataclass(frozen=True)
class LineData:
    service: str
    quantity: int
    target_date: date | None = None
    description: str = ""


class FieldErrors:
    def __init__(self) -> None:
        self.fields: dict[str, list[str]] = {}

    def add(self, name: str, message: str) -> None:
        self.fields.setdefault(name, []).append(str(message))

    def raise_if_any(self) -> None:
        if self.fields:
            raise InvalidOrderData(fields=self.fields)


def state_due(contract: Contract, *, kind: str, state: str, entered_at: datetime):
    """When an order of `kind` entering `state` at `entered_at` is due to leave it, counted
    in business minutes of the contract's calendar; None for closed states."""
    minutes = ORDER_STATE_TARGETS.get(kind, {}).get(state)
    if minutes is None:
        return None
    calendar = calendars_with_rules().get(id=contract.calendar_id)
    return calendars.add_business_minutes(calendar_spec(calendar), entered_at, minutes)


def _require_backoffice(actor) -> None:
    if not works_backoffice(actor):
        raise BackofficeOnly()


def _validated_alone(order: ContractOrder, actor) -> bool:
    """True when the actor validates an order they submitted themselves, which only a
    contract allowing single-person validation permits; otherwise `SecondPersonRequired`."""
    if order_submitter_id(order.id) != actor.id:
        return False
    if not Contract.objects.filter(
        id=order.contract_id, single_person_order_validation=True
    ).exists():
        raise SecondPersonRequired()
    return True


def _next_reference(year: int) -> str:
    return f"OR-{year}-{next_in_yearly_sequence(OrderSequence, year=year):06d}"


def _event(order: ContractOrder, kind: str, *, actor, at: datetime, **values) -> OrderEvent:
    detail = values.pop("detail", {})
    return OrderEvent.objects.create(
        order=order, kind=kind, actor=actor, at=at, detail=detail, **values
    )


def _locked(order: ContractOrder, expected_version: int | None) -> ContractOrder:
    locked = ContractOrder.objects.select_for_update().get(id=order.id)
    if expected_version is not None and locked.row_version != expected_version:
        raise OrderChangedMeanwhile()
    return locked


def _checked_lines(errors: FieldErrors, lines: Sequence[LineData], *, today: date) -> list:
    if not lines:
        errors.add("lines", _("Add at least one line (service and quantity)."))
    rows = []
    for number, line in enumerate(lines, start=1):
        if line.service not in Service.values:
            errors.add("lines", _("Line %(n)s: choose a service.") % {"n": number})
        try:
            quantity = int(line.quantity)
        except (TypeError, ValueError):
            quantity = 0
        if quantity <= 0:
            errors.add("lines", _("Line %(n)s: the quantity must be at least 1.") % {"n": number})
        if line.target_date is not None and line.target_date < today:
            errors.add(
                "lines",
                _("Line %(n)s: the target date %(day)s is in the past.")
                % {"n": number, "day": line.target_date.strftime("%d/%m/%Y")},
            )
        rows.append(
            OrderLine(
                service=line.service,
                quantity=quantity,
                target_date=line.target_date,
                description=(line.description or "").strip()[:200],
            )
        )
    return rows


def _check_owner(errors: FieldErrors, owner, field_name: str = "owner") -> None:
    if owner is not None and not works_backoffice(owner):
        errors.add(
            field_name,
            _("%(user)s does not work in the back-office: choose a back-office colleague.")
            % {"user": owner.get_username()},
        )


def _open_order(
    *,
    actor,
    kind: str,
    contract: Contract,
    lines: Sequence[LineData],
    summary: str,
    now: datetime,
    client: Client | None = None,
    requester: Referent | None = None,
    owner=None,
    description: str = "",
    case_reference: str = "",
    detail: dict | None = None,
) -> ContractOrder:
    """Validate and write a draft order with its lines and its first event (inner helper:
    the caller holds the transaction)."""
    today = timezone.localdate(now)
    errors = FieldErrors()
    if kind not in OrderKind.values:
        errors.add("kind", _("Choose the kind of order."))
    if not contract_in_force(contract, today):
        errors.add(
            "contract",
            _("Contract %(code)s is not in force: no order can be opened on it.")
            % {"code": contract.code},
        )
    if client is not None and client.id != contract.client_id:
        errors.add("contract", _("The contract belongs to another client."))
    if requester is not None and requester.client_id != contract.client_id:
        errors.add("requester", _("The requester must be a referent of the order's client."))
    _check_owner(errors, owner)
    summary = (summary or "").strip()
    if not summary:
        errors.add("summary", _("Say in a few words what is asked."))
    case_reference = (case_reference or "").strip().upper()
    if len(case_reference) > 20:
        errors.add("case_reference", _("This is not a case reference."))
    line_rows = _checked_lines(errors, lines, today=today)
    errors.raise_if_any()

    order = ContractOrder.objects.create(
        reference=_next_reference(timezone.localtime(now).year),
        kind=kind,
        client_id=contract.client_id,
        contract=contract,
        requester=requester,
        requester_name=f"{requester.first_name} {requester.last_name}" if requester else "",
        owner=owner,
        summary=summary[:200],
        description=(description or "").strip(),
        state=OrderState.DRAFT,
        state_entered_at=now,
        state_due_at=state_due(contract, kind=kind, state=OrderState.DRAFT, entered_at=now),
        case_reference=case_reference,
        created_by=actor,
        created_at=now,
        updated_at=now,
    )
    for line in line_rows:
        line.order = order
    OrderLine.objects.bulk_create(line_rows)
    _event(
        order,
        OrderEvent.Kind.CREATED,
        actor=actor,
        at=now,
        to_state=OrderState.DRAFT,
        detail={
            **(detail or {}),
            **({"case": case_reference} if case_reference else {}),
            **({"owner": owner.get_username()} if owner else {}),
        },
    )
    return order


# --- Orders ---------------------------------------------------------------------------------


@transaction.atomic(durable=True)
def create_order(
    *,
    actor,
    kind: str,
    contract: Contract,
    lines: Sequence[LineData],
    summary: str,
    client: Client | None = None,
    requester: Referent | None = None,
    owner=None,
    description: str = "",
    case_reference: str = "",
    duplicate_override_reason: str = "",
    now: datetime | None = None,
) -> ContractOrder:
    """A new draft order (with its lines) on a contract in force; `owner` None leaves it to
    the back-office pool ("Prossimo ordine").

    If an open order of the contract already asks the same (`selectors.similar_open_orders`:
    a form sent twice, a request retried), `DuplicateOrderSuspected` lists it and nothing is
    written, unless a reason for a new one is given (kept in the "created" event), as case
    intake does. The contract row is locked first, so two identical requests at once
    cannot both pass the check."""
    _require_backoffice(actor)
    if not is_their_client(actor, contract.client_id):
        raise InvalidInput(
            fields={"contract": [_("This contract's client is not one of your clients.")]}
        )
    Contract.objects.select_for_update().filter(id=contract.id).first()
    reason = (duplicate_override_reason or "").strip()[:REASON_MAX]
    if not reason:
        similar = similar_open_orders(
            contract_id=contract.id,
            kind=kind,
            summary=summary or "",
            lines=[(line.service, line.quantity, line.target_date) for line in lines],
        )
        if similar:
            raise DuplicateOrderSuspected(similar)
    return _open_order(
        actor=actor,
        kind=kind,
        contract=contract,
        lines=lines,
        summary=summary,
        client=client,
        requester=requester,
        owner=owner,
        description=description,
        case_reference=case_reference,
        now=now or timezone.now(),
        detail={"duplicate_override_reason": reason} if reason else None,
    )


@transaction.atomic(durable=True)
def transition_order(
    *,
    actor,
    order: ContractOrder,
    to: str,
    reason: str = "",
    expected_version: int | None = None,
    now: datetime | None = None,
) -> ContractOrder:
    """Move the order to `to` if TRANSITIONS allows it; the new state's due time is computed
    on entry and the late flag starts again. A stale `expected_version` is refused (409)."""
    _require_backoffice(actor)
    now = now or timezone.now()
    reason = (reason or "").strip()
    if to not in OrderState.values:
        raise InvalidOrderData(fields={"to": [_("Choose a state.")]})
    order = _locked(order, expected_version)
    if to == order.state:
        raise OrderAlreadyInState(
            _("The order is already «%(state)s»: someone else did it in the meantime.")
            % {"state": OrderState(to).label}
        )
    if to not in TRANSITIONS[order.state]:
        raise OrderTransitionNotAllowed(
            _("An order cannot go from «%(from)s» to «%(to)s».")
            % {"from": OrderState(order.state).label, "to": OrderState(to).label},
            fields={"to": [_("Not allowed from the current state.")]},
        )
    if to in REASON_REQUIRED and not reason:
        raise InvalidOrderData(fields={"reason": [_("Give the reason.")]})
    single_person = to == OrderState.VALIDATED and _validated_alone(order, actor)
    from_state = order.state
    order.state = to
    order.state_reason = reason
    order.state_entered_at = now
    order.state_due_at = state_due(order.contract, kind=order.kind, state=to, entered_at=now)
    order.is_late = False
    order.closed_at = now if to in CLOSED_ORDER_STATES else None
    order.updated_at = now
    order.row_version = F("row_version") + 1
    order.save(
        update_fields=[
            "state",
            "state_reason",
            "state_entered_at",
            "state_due_at",
            "is_late",
            "closed_at",
            "updated_at",
            "row_version",
        ]
    )
    order.refresh_from_db(fields=["row_version"])
    detail = {"due": order.state_due_at.isoformat() if order.state_due_at else None}
    if reason:
        detail["reason"] = reason
    if single_person:
        detail["single_person"] = True
    _event(
        order,
        OrderEvent.Kind.STATE_CHANGED,
        actor=actor,
        at=now,
        from_state=from_state,
        to_state=to,
        detail=detail,
    )
    return order


@transaction.atomic
def assign_order(
    *,
    actor,
    order: ContractOrder,
    owner,
    expected_version: int | None = None,
    now: datetime | None = None,
    how: str = "",
) -> ContractOrder:
    """Give the order to `owner` (None: back to the pool). Plain `atomic`: the back-office
    pull (routing.backoffice) calls it inside its own transaction, with the row locked.
    `how`: a code the timeline says in words (`PULLED`: taken from the back-office pool)."""
    now = now or timezone.now()
    errors = FieldErrors()
    _check_owner(errors, owner)
    errors.raise_if_any()
    order = _locked(order, expected_version)
    if not order.is_open:
        raise OrderTransitionNotAllowed(_("A closed order cannot change owner."))
    previous = order.owner
    order.owner = owner
    order.updated_at = now
    order.row_version = F("row_version") + 1
    order.save(update_fields=["owner", "updated_at", "row_version"])
    order.refresh_from_db(fields=["row_version"])
    _event(
        order,
        OrderEvent.Kind.OWNER_CHANGED,
        actor=actor,
        at=now,
        detail={
            "from": previous.get_username() if previous else "",
            "to": owner.get_username() if owner else "",
            "from_user": previous.pk if previous else None,
            "to_user": owner.pk if owner else None,
            **({"how": how} if how else {}),
        },
    )
    return order


@transaction.atomic(durable=True)
def add_order_note(
    *,
    actor,
    order: ContractOrder,
    body: str,
    visibility: str = OrderNote.Visibility.INTERNAL,
    now: datetime | None = None,
) -> OrderNote:
    _require_backoffice(actor)
    now = now or timezone.now()
    errors = FieldErrors()
    body = (body or "").strip()
    if not body:
        errors.add("body", _("Write the note."))
    if visibility not in OrderNote.Visibility.values:
        errors.add("visibility", _("Choose who the note is for."))
    errors.raise_if_any()
    note = OrderNote.objects.create(
        order=order, author=actor, at=now, visibility=visibility, body=body
    )
    _event(
        order,
        OrderEvent.Kind.NOTE_ADDED,
        actor=actor,
        at=now,
        detail={"note": note.id, "visibility": visibility},
    )
    return note


def _checked_document(upload: UploadedFile) -> str:
    try:
        return accepted_content_type(upload)
    except UploadRefused as refusal:
        raise InvalidOrderData(fields={"file": [str(refusal)]}) from refusal


@transaction.atomic(durable=True)
def attach_document(
    *, actor, order: ContractOrder, upload: UploadedFile, now: datetime | None = None
) -> OrderDocument:
    """Store a file with the order (type and size checked: see config.uploads and
    settings.MAX_ATTACHMENT_BYTES). The file is removed again if the transaction fails."""
    _require_backoffice(actor)
    now = now or timezone.now()
    content_type = _checked_document(upload)
    document = OrderDocument(
        order=order,
        original_name=(upload.name or "")[-200:],
        content_type=content_type,
        size=upload.size or 0,
        uploaded_by=actor,
        at=now,
    )
    document.file.save(upload.name or "document", upload, save=False)
    stored = str(document.file.name)
    try:
        document.save()
        _event(
            order,
            OrderEvent.Kind.DOCUMENT_ATTACHED,
            actor=actor,
            at=now,
            detail={"document": document.id, "name": document.original_name},
        )
    except Exception:
        document.file.storage.delete(stored)
        raise
    return document


def mark_late_orders(*, now: datetime) -> int:
    """Flag open orders whose state is past its due time, with one `late` event each.

    Set-based, batch by batch, each batch one transaction: the rows are locked with
    `FOR UPDATE SKIP LOCKED` (PostgreSQL), flagged with one UPDATE and their events written
    with one INSERT. Safe to repeat and to overlap: a flagged order is not selected again,
    and a transition clears the flag when the order enters its next state."""
    total = 0
    while True:
        with transaction.atomic(durable=True):
            rows = list(
                ContractOrder.objects.filter(
                    state__in=OPEN_ORDER_STATES, is_late=False, state_due_at__lt=now
                )
                .order_by("id")
                .select_for_update(skip_locked=True)
                .values_list("id", "state", "state_due_at")[:LATE_BATCH]
            )
            if not rows:
                return total
            ContractOrder.objects.filter(id__in=[row[0] for row in rows]).update(is_late=True)
            OrderEvent.objects.bulk_create(
                OrderEvent(
                    order_id=order_id,
                    kind=OrderEvent.Kind.LATE,
                    from_state=state,
                    to_state=state,
                    at=now,
                    detail={"due": due.isoformat() if due else None},
                )
                for order_id, state, due in rows
            )
        total += len(rows)
        if len(rows) < LATE_BATCH:
            return total


# --- Loyalty --------------------------------------------------------------------------------


def feed_loyalty_worklist(*, today: date, contract_ids: Sequence[int] | None = None) -> int:
    """Put every contract in force that expires within LOYALTY_HORIZON_DAYS on the loyalty
    worklist, once per (contract, expiry date); the owner is the first back-office member of
    the client's account team, if any. Set-based and idempotent: returns how many items are
    new. `contract_ids`, when given, narrow the feed to those contracts."""
    contracts = contracts_expiring(today=today)
    if contract_ids is not None:
        contracts = contracts.filter(id__in=list(contract_ids))
    candidates = list(contracts.values_list("id", "client_id", "valid_to"))
    if not candidates:
        return 0
    existing = set(
        LoyaltyItem.objects.filter(contract_id__in=[c[0] for c in candidates]).values_list(
            "contract_id", "valid_to"
        )
    )
    missing = [c for c in candidates if (c[0], c[2]) not in existing]
    if not missing:
        return 0
    owners: dict[int, int] = {}
    team = (
        Client.account_team.through.objects.filter(
            client_id__in={c[1] for c in missing}, user_id__in=backoffice_users().values("id")
        )
        .order_by("client_id", "user__username")
        .values_list("client_id", "user_id")
    )
    for client_id, user_id in team:
        owners.setdefault(client_id, user_id)
    now = timezone.now()
    with transaction.atomic(durable=True):
        created = LoyaltyItem.objects.bulk_create(
            [
                LoyaltyItem(
                    contract_id=contract_id,
                    client_id=client_id,
                    valid_to=valid_to,  # type: ignore[misc]  # expiring: never null
                    owner_id=owners.get(client_id),
                    created_at=now,
                )
                for contract_id, client_id, valid_to in missing
            ],
            ignore_conflicts=True,  # a concurrent run got there first: still once only
        )
    return len(created)


@transaction.atomic(durable=True)
def record_loyalty_action(
    *, actor, item: LoyaltyItem, kind: str, note: str = "", at: datetime | None = None
) -> LoyaltyAction:
    _require_backoffice(actor)
    item = LoyaltyItem.objects.select_for_update().get(id=item.id)
    if not item.is_open:
        raise LoyaltyItemClosed()
    if kind not in LoyaltyAction.Kind.values:
        raise InvalidOrderData(fields={"kind": [_("Choose call, offer or meeting.")]})
    return LoyaltyAction.objects.create(
        item=item, kind=kind, at=at or timezone.now(), actor=actor, note=(note or "").strip()
    )


@transaction.atomic(durable=True)
def assign_loyalty_item(*, actor, item: LoyaltyItem, owner) -> LoyaltyItem:
    _require_backoffice(actor)
    errors = FieldErrors()
    _check_owner(errors, owner)
    errors.raise_if_any()
    item = LoyaltyItem.objects.select_for_update().get(id=item.id)
    item.owner = owner
    item.save(update_fields=["owner"])
    return item


@transaction.atomic(durable=True)
def close_loyalty_item(
    *,
    actor,
    item: LoyaltyItem,
    outcome: str,
    note: str = "",
    open_renewal: bool = False,
    now: datetime | None = None,
) -> LoyaltyItem:
    """Record the outcome; with `open_renewal` a draft renewal order (one line per service of
    the contract) is opened, owned by the actor and linked to the item."""
    _require_backoffice(actor)
    now = now or timezone.now()
    item = LoyaltyItem.objects.select_for_update().get(id=item.id)
    if not item.is_open:
        raise LoyaltyItemClosed()
    errors = FieldErrors()
    if outcome not in LoyaltyOutcome.values or outcome == LoyaltyOutcome.PENDING:
        errors.add("outcome", _("Choose renewed, renegotiated or lost."))
    if open_renewal and outcome == LoyaltyOutcome.LOST:
        errors.add("open_renewal", _("A lost contract cannot have a renewal order."))
    errors.raise_if_any()
    if open_renewal:
        contract = Contract.objects.get(id=item.contract_id)
        item.renewal_order = _open_order(
            actor=actor,
            kind=OrderKind.RENEWAL,
            contract=contract,
            lines=[LineData(service=s, quantity=1) for s in contract.services],
            summary=_("Renewal of %(code)s (expires %(day)s)")
            % {"code": contract.code, "day": item.valid_to.strftime("%d/%m/%Y")},
            owner=actor,
            description=(note or "").strip(),
            now=now,
            detail={"loyalty_item": item.id},
        )
    item.outcome = outcome
    item.outcome_note = (note or "").strip()
    item.closed_at = now
    item.closed_by = actor
    item.save(update_fields=["outcome", "outcome_note", "closed_at", "closed_by", "renewal_order"])
    return item
