"""Every write of the care app: one function per business operation.

Each runs in one transaction, locks the case row it changes (so two operators acting on one
case are serialised, and a stale `expected_version` is refused), writes the case's events in
the same transaction and announces follow-ups after commit.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from typing import cast
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile, UploadedFile
from django.db import transaction
from django.db.models import F, OuterRef
from django.utils import timezone
from django.utils.translation import gettext as _
from psycopg.types.json import Jsonb

from care import articles, clock, outbox, ports, selectors, signals, wording, working
from care.exceptions import (
    CaseChangedMeanwhile,
    ClosingCodeRequired,
    DuplicateSuspected,
    InvalidCaseData,
    NotWorkingThisCase,
    TransitionNotAllowed,
    UnknownClosingCode,
)
from care.models import (
    OPEN_STATUSES,
    WRITTEN_VISIBILITIES,
    Attachment,
    Case,
    CaseCall,
    CaseEvent,
    CaseSequence,
    CaseStatus,
    Channel,
    Handoff,
    InboundMail,
    Incident,
    IncidentCase,
    IncidentStatus,
    Note,
    OutboundMail,
    SlaState,
)
from config import access_log
from config.db import instance_from_row, next_in_yearly_sequence, prepared_cursor
from config.uploads import UploadRefused, accepted_content_type
from contracts import calendars
from contracts import selectors as contract_selectors
from contracts.exceptions import ContractNotFound
from contracts.models import Category, Contract, EndUser, Priority, Referent

# from -> allowed destinations. Re-opening (resolved/closed -> in_progress) goes through
# `reopen_case`, which counts it; assignment through `assign_case`.
TRANSITIONS = {
    CaseStatus.NEW: {CaseStatus.IN_PROGRESS, CaseStatus.WAITING_CUSTOMER, CaseStatus.RESOLVED},
    CaseStatus.ASSIGNED: {
        CaseStatus.IN_PROGRESS,
        CaseStatus.WAITING_CUSTOMER,
        CaseStatus.RESOLVED,
        CaseStatus.NEW,
    },
    CaseStatus.IN_PROGRESS: {CaseStatus.WAITING_CUSTOMER, CaseStatus.RESOLVED},
    CaseStatus.WAITING_CUSTOMER: {CaseStatus.IN_PROGRESS, CaseStatus.RESOLVED},
    # Out of waiting_unit only through the unit's answer: no hand-off is ever forgotten.
    CaseStatus.WAITING_UNIT: set(),
    CaseStatus.RESOLVED: {CaseStatus.CLOSED},
    CaseStatus.CLOSED: set(),
}
# The whole lifecycle in one table: every status change, and the actions that may make it.
# TRANSITIONS above are the moves an operator chooses; the others belong to one service each.
TRANSITION, UNIT_ANSWER = "transition", "unit_answer"
ASSIGN, HANDOFF, REOPEN, MERGE = "assign", "handoff", "reopen", "merge"
RELEASE = "release"  # the holder left the unit: the case waits in its queue again
LIFECYCLE: dict[tuple[str, str], set[str]] = {}
for _from, _tos in TRANSITIONS.items():
    for _to in _tos:
        LIFECYCLE.setdefault((_from, _to), set()).add(TRANSITION)
for _edge, _action in [
    ((CaseStatus.NEW, CaseStatus.ASSIGNED), ASSIGN),
    *(((_from, CaseStatus.WAITING_UNIT), HANDOFF) for _from in OPEN_STATUSES),
    ((CaseStatus.WAITING_UNIT, CaseStatus.RESOLVED), UNIT_ANSWER),
    ((CaseStatus.WAITING_UNIT, CaseStatus.IN_PROGRESS), UNIT_ANSWER),
    ((CaseStatus.RESOLVED, CaseStatus.IN_PROGRESS), REOPEN),
    ((CaseStatus.CLOSED, CaseStatus.IN_PROGRESS), REOPEN),
    *(((_from, CaseStatus.CLOSED), MERGE) for _from in OPEN_STATUSES),
    ((CaseStatus.ASSIGNED, CaseStatus.NEW), RELEASE),
    ((CaseStatus.IN_PROGRESS, CaseStatus.NEW), RELEASE),
]:
    LIFECYCLE.setdefault(_edge, set()).add(_action)
REASON_MAX = 300
MAILBOX_USERNAME = "posta.in.arrivo"  # care.mail's service account


def _check_move(case: Case, to: str, *, action: str) -> None:
    if action not in LIFECYCLE.get((case.status, to), ()):
        raise TransitionNotAllowed(
            _("A case cannot go from “%(from)s” to “%(to)s”.")
            % {"from": CaseStatus(case.status).label, "to": CaseStatus(to).label}
        )


def _move(case: Case, to: str, *, action: str) -> str:
    """Set the case's status if the lifecycle lets `action` make that move; returns the
    previous status. Every status change of a case goes through here."""
    _check_move(case, to, action=action)
    previous, case.status = case.status, to
    return previous


def _errors_or_none(errors: dict[str, list[str]]) -> None:
    if errors:
        raise InvalidCaseData(fields=errors)


def _event(
    case: Case, kind: str, *, actor, at: datetime, from_value="", to_value="", **detail
) -> CaseEvent:
    return CaseEvent.objects.create(
        case=case,
        kind=kind,
        actor=actor,
        at=at,
        from_value=str(from_value)[:100],
        to_value=str(to_value)[:100],
        detail=detail,
    )


def _locked(case: Case, expected_version: int | None) -> Case:
    """The case row, locked; refused if it changed since the user loaded it."""
    locked = Case.objects.select_for_update().get(id=case.id)
    if expected_version is not None and locked.row_version != expected_version:
        raise CaseChangedMeanwhile()
    return locked


def _check_works(
    case: Case,
    *,
    actor,
    now: datetime,
    override_reason: str,
    action: str,
    caller_on_the_line: bool = False,
) -> None:
    """Writes are need-to-know (`care.working`): who does not work the case gives a reason,
    recorded on its timeline before the change. Called on the locked case, before any write,
    so a refusal writes nothing. `actor=None` is the system (routing, beat), never refused."""
    if actor is None or working.may_work(actor, case, caller_on_the_line=caller_on_the_line):
        return
    reason = (override_reason or "").strip()[:REASON_MAX]
    if not reason:
        raise NotWorkingThisCase(
            fields={"override_reason": [_("Say why you act on a case you do not work.")]}
        )
    _event(case, CaseEvent.Kind.WORK_OVERRIDE, actor=actor, at=now, reason=reason, action=action)


def _save(case: Case, fields: list[str]) -> None:
    """Write the changed fields and the next version. The case was read under its row lock
    in this transaction (`_locked`), so its version is the current one: no read back."""
    case.row_version += 1
    case.save(update_fields=[*fields, "row_version", "updated_at"])


def _next_reference(year: int) -> str:
    return f"CS-{year}-{next_in_yearly_sequence(CaseSequence, year=year):06d}"


# --- Opening --------------------------------------------------------------------------------


@dataclass(frozen=True)
class CaseRequest:
    """What intake sends: everything an operator types or picks."""

    contract_code: str
    category_code: str
    channel: str
    subject: str
    description: str
    priority: str = ""  # empty: the category's default
    end_user_id: int | None = None
    referent_id: int | None = None
    duplicate_override_reason: str = ""
    resolved_during_call: bool = False  # opened and resolved at once: first-contact resolution
    # The telephony call (routing's) the operator is on: the case is theirs, answered by the
    # call, unless they send it to a queue with a reason.
    call_id: str = ""
    to_queue_reason: str = ""
    # The e-mail this case is opened from (care.mail): marked as handled in the same
    # transaction, so a crash never opens the case twice.
    inbound_mail_id: int | None = None
    mail_attachments: tuple = ()  # care.mailparse.Attachment of that e-mail
    # A confirmed major incident the caller's case belongs to (intake's "collega
    # all'incidente"): the case is opened already linked, in the same transaction.
    incident_id: int | None = None
    # Resolved during the call: how (a closing code); the portal's own code when none.
    closing_code: str = ""


# The resolution code of a case resolved while the caller was still on the line.
FIRST_CONTACT_CODE = "risolto-primo-contatto"
# What a unit's answer resolves a case with when the answer names no code.
UNIT_ANSWER_CODE = "risolto-da-unita"


def open_case(
    *, actor, request: CaseRequest, now: datetime | None = None, contract: Contract | None = None
) -> Case:
    """Open a case in one transaction: checked against the contract version in force, its
    due instants computed from the contract's calendar, its first event written.

    If the caller already has a similar case (same category, open or closed in the last
    7 days), `DuplicateSuspected` is raised unless a reason for a new case is given. With
    `resolved_during_call` it is resolved in the same transaction (a first-contact
    resolution): opened and resolved, or nothing.

    Opened during a call (`call_id`, a call the actor answered): the operator who took the
    call owns what comes of it. The case is assigned to them and its first response is met
    by the call (they spoke to the end user); routing does not offer it to anyone. Sending
    it to a queue instead is a choice with a reason (`to_queue_reason`).

    `contract`: the request's contract as `contracts.selectors.contract_by_code` gives it, when
    the caller has just read it (intake's form did): it is not read a second time.
    """
    now = now or timezone.now()
    code = (request.contract_code or "").strip().upper()
    with transaction.atomic(durable=True):
        if contract is None or contract.code != code:
            try:
                contract = contract_selectors.contract_by_code(code)
            except ContractNotFound:
                raise InvalidCaseData(fields={"contract": [_("Unknown contract.")]}) from None
        contract = contract_selectors.with_terms(contract)
        errors: dict[str, list[str]] = {}
        local_day = now.astimezone(ZoneInfo(contract.calendar.timezone)).date()
        version = contract_selectors.version_in_force(contract, local_day)
        if version is None or not contract_selectors.contract_in_force(contract, local_day):
            raise InvalidCaseData(fields={"contract": [_("The contract is not in force today.")]})
        end_user, referent = _caller(contract, request, errors)
        category = next(
            (c for c in version.categories.all() if c.code == request.category_code), None
        )
        if category is None:
            errors.setdefault("category", []).append(_("This category is not in the contract."))
        priority = request.priority or (category.default_priority if category else "")
        if priority not in Priority.values and (category or request.priority):
            errors.setdefault("priority", []).append(_("Choose a priority from P1 to P4."))
        if request.channel not in Channel.values:
            errors.setdefault("channel", []).append(_("Choose a channel."))
        subject, description = request.subject.strip(), request.description.strip()
        if not subject:
            errors.setdefault("subject", []).append(_("Write a subject."))
        if not description or (category and _same_text(description, category.template)):
            errors.setdefault("description", []).append(
                _("Describe the request (fill in the template).")
            )
        call_id = (request.call_id or "").strip()
        to_queue_reason = (request.to_queue_reason or "").strip()[:REASON_MAX]
        if call_id and ports.caller_of_call(call_id, actor) is None:
            errors.setdefault("call", []).append(_("You did not answer this call."))
        incident = None
        if request.incident_id is not None:
            incident = (
                Incident.objects.select_for_update()
                .filter(id=request.incident_id, status=IncidentStatus.CONFIRMED)
                .first()
            )
            if incident is None:
                errors.setdefault("incident", []).append(_("This incident is no longer active."))
        _errors_or_none(errors)
        category = cast(Category, category)  # a missing one was refused just above
        reason = request.duplicate_override_reason.strip()[:REASON_MAX]
        if end_user is not None and not reason:
            similar = selectors.similar_cases(
                end_user_id=end_user.id, category_code=category.code, now=now
            )
            if similar:
                raise DuplicateSuspected(similar)

        target = next((t for t in version.sla_targets.all() if t.priority == priority), None)
        case = Case(
            reference=_next_reference(local_day.year),
            client=contract.client,
            contract=contract,
            contract_version=version,
            end_user=end_user,
            referent=referent,
            channel=request.channel,
            category=category,
            priority=priority,
            subject=subject[:200],
            description=description,
            opened_by=actor,
            opened_at=now,
            opening_reason=reason,
        )
        _apply_deadlines(case, target=target, version=version)
        case.queue_code = ports.queue_for(case)  # routing decides: care/ports.py
        case.save()
        _event(
            case,
            CaseEvent.Kind.OPENED,
            actor=actor,
            at=now,
            to_value=CaseStatus.NEW,
            channel=case.channel,
            priority=priority,
            category=category.code,
            queue=case.queue_code,
        )
        if reason:
            _event(case, CaseEvent.Kind.DUPLICATE_OVERRIDE, actor=actor, at=now, reason=reason)
        if request.inbound_mail_id is not None:
            files, refused = mail_attachments(request.mail_attachments)
            if files:  # the message's files, on a note from the customer
                _append_note(
                    case,
                    actor=actor,
                    now=now,
                    body=_("Attachments of the message."),
                    visibility=Note.Visibility.FROM_CUSTOMER,
                    files=files,
                )
            _event(
                case,
                CaseEvent.Kind.MAIL_RECEIVED,
                actor=None,
                at=now,
                refused_attachments=refused,
            )
            _record_mail_handled(
                request.inbound_mail_id,
                case,
                InboundMail.Outcome.CASE_OPENED,
                triaged_by=actor if actor.get_username() != MAILBOX_USERNAME else None,
            )
        acknowledged = case.channel == Channel.EMAIL or (
            case.channel == Channel.PHONE and contract.acknowledge_phone_cases
        )
        if acknowledged:  # the end user learns the reference at once
            outbox.queue_mail(case, OutboundMail.Kind.ACKNOWLEDGEMENT, now=now)
        if incident is not None:
            IncidentCase.objects.create(
                incident=incident, case=case, linked_at=now, linked_by=actor
            )
            _event(
                case,
                CaseEvent.Kind.INCIDENT_LINKED,
                actor=actor,
                at=now,
                to_value=incident.reference,
                incident=incident.id,
            )
        kept_by_caller_operator = bool(call_id) and not to_queue_reason
        if call_id:
            _handled_on_call(case, actor=actor, now=now, call_id=call_id, opened=True)
            _event(
                case,
                CaseEvent.Kind.ON_CALL,
                actor=actor,
                at=now,
                to_value=call_id,
                opened=True,
                to_queue_reason=to_queue_reason,
            )
            fields = _meet_first_response(case, actor=actor, now=now, by="call")
            if kept_by_caller_operator:
                case.assignee = actor
                _move(case, CaseStatus.ASSIGNED, action=ASSIGN)
                _event(
                    case,
                    CaseEvent.Kind.ASSIGNED,
                    actor=actor,
                    at=now,
                    to_value=actor.get_username(),
                    call=call_id,
                    how=wording.CALL,
                    assignee=actor.pk,
                )
                fields += ["assignee", "status"]
            _save(case, fields)
        if request.resolved_during_call:
            _change_status(
                case,
                CaseStatus.RESOLVED,
                actor=actor,
                now=now,
                resolution_code=request.closing_code or FIRST_CONTACT_CODE,
                first_contact_resolution=True,
            )
        elif not kept_by_caller_operator:
            # The articles its opener used at intake join it in this transaction: no second
            # transaction after commit, no read back of the case just written.
            articles.attach_intake_uses(case)
            transaction.on_commit(
                lambda: signals.case_opened.send(sender=Case, case_id=case.id), robust=True
            )
    return case


def _handled_on_call(case: Case, *, actor, now: datetime, call_id: str, opened: bool) -> None:
    CaseCall.objects.get_or_create(
        case=case, call_id=call_id, defaults={"opened": opened, "at": now, "actor": actor}
    )


def _same_text(one: str, other: str) -> bool:
    """Equal but for line endings (a browser sends CRLF) and blanks at the ends of lines."""
    return [line.rstrip() for line in one.strip().splitlines()] == [
        line.rstrip() for line in other.strip().splitlines()
    ]


def _caller(contract: Contract, request: CaseRequest, errors: dict) -> tuple:
    end_user = referent = None
    if request.end_user_id:
        # Locked: two calls from one person at once cannot both pass the duplicate guard.
        end_user = (
            EndUser.objects.select_for_update()
            .filter(id=request.end_user_id, client_id=contract.client_id, is_active=True)
            # the phones too, for the answer that shows the case (no query more)
            .annotate(phone_rows=contract_selectors.phones_of(OuterRef("id")))
            .first()
        )
        if end_user is not None:
            contract_selectors.keep_phones(end_user.phone_rows, end_user)
        if end_user is None:
            errors.setdefault("end_user", []).append(
                _("This end user does not belong to the contract's client.")
            )
    elif request.referent_id:
        referent = Referent.objects.filter(
            id=request.referent_id, client_id=contract.client_id
        ).first()
        if referent is None:
            errors.setdefault("referent", []).append(
                _("This referent does not belong to the contract's client.")
            )
    else:
        errors.setdefault("end_user", []).append(_("Choose who is calling."))
    return end_user, referent


def _apply_deadlines(case: Case, *, target, version) -> None:
    """Due and at-risk instants of both targets, from the opening and the pauses so far.
    A met or breached target keeps its instants; without a target there are none."""
    frozen = (SlaState.MET, SlaState.BREACHED)
    if target is None:
        if case.first_response_state not in frozen:
            case.first_response_state = SlaState.NONE
            case.first_response_due_at = case.first_response_at_risk_at = None
        if case.resolution_state not in frozen:
            case.resolution_state = SlaState.NONE
            case.resolution_due_at = case.resolution_at_risk_at = None
        return
    spec = contract_selectors.calendar_spec(case.contract.calendar)
    due = clock.deadlines(
        spec,
        opened_at=case.opened_at,
        first_response_minutes=target.first_response_minutes,
        resolution_minutes=target.resolution_minutes,
        at_risk_share=version.at_risk_share,
        paused_minutes=case.paused_minutes,
    )
    case.clock_started_at = due.clock_started_at
    if case.first_response_state not in frozen:
        case.first_response_due_at = due.first_response_due_at
        case.first_response_at_risk_at = due.first_response_at_risk_at
        if case.first_response_at is not None:  # answered while the priority had no target
            case.first_response_state = (
                SlaState.MET
                if case.first_response_at <= due.first_response_due_at
                else SlaState.BREACHED
            )
        elif case.first_response_state == SlaState.NONE:
            case.first_response_state = SlaState.OK
    if case.resolution_state not in frozen:
        case.resolution_due_at = due.resolution_due_at
        case.resolution_at_risk_at = due.resolution_at_risk_at
        if case.resolution_state == SlaState.NONE:
            case.resolution_state = SlaState.OK


DEADLINE_FIELDS = [
    "clock_started_at",
    "first_response_due_at",
    "first_response_at_risk_at",
    "resolution_due_at",
    "resolution_at_risk_at",
    "first_response_state",
    "resolution_state",
]


def _target_of(case: Case):
    return case.contract_version.sla_targets.filter(priority=case.priority).first()


# --- Notes ----------------------------------------------------------------------------------


def _checked_attachments(files: Sequence[UploadedFile]) -> list[tuple[UploadedFile, str]]:
    """Each file with the content type to store (config.uploads' policy); every refusal is
    reported at once on the `attachments` field."""
    errors = []
    checked = []
    if len(files) > settings.MAX_ATTACHMENTS_PER_NOTE:
        errors.append(
            _("At most %(n)s attachments per note.") % {"n": settings.MAX_ATTACHMENTS_PER_NOTE}
        )
    for upload in files:
        try:
            checked.append((upload, accepted_content_type(upload)))
        except UploadRefused as refusal:
            errors.append(str(refusal))
    if errors:
        raise InvalidCaseData(fields={"attachments": errors})
    return checked


def add_note(
    *,
    actor,
    case: Case,
    body: str,
    visibility: str = Note.Visibility.INTERNAL,
    attachments: Sequence[UploadedFile] = (),
    expected_version: int | None = None,
    override_reason: str = "",
    now: datetime | None = None,
) -> Note:
    """Append a note. The first note visible to the customer meets the first-response
    target (on time or late: either way the target freezes)."""
    now = now or timezone.now()
    body = (body or "").strip()
    errors = {}
    if not body:
        errors["body"] = [_("Write the note.")]
    if visibility not in dict(WRITTEN_VISIBILITIES):
        errors["visibility"] = [_("Choose who can see the note.")]
    _errors_or_none(errors)
    files = _checked_attachments(attachments)
    with transaction.atomic(durable=True):
        case = _locked(case, expected_version)
        _check_works(case, actor=actor, now=now, override_reason=override_reason, action="note")
        note, fields = _append_note(
            case, actor=actor, now=now, body=body, visibility=visibility, files=files
        )
        _save(case, fields)
    return note


def _append_note(case: Case, *, actor, now: datetime, body: str, visibility: str, files=()):
    """The note, its files and event; returns it with the case fields it changed."""
    note = Note.objects.create(
        case=case, author=actor, created_at=now, body=body, visibility=visibility
    )
    for upload, content_type in files:
        Attachment.objects.create(
            note=note,
            file=upload,
            original_name=upload.name[:200],
            content_type=content_type,
            size=upload.size,
        )
    _event(
        case,
        CaseEvent.Kind.NOTE_ADDED,
        actor=actor,
        at=now,
        note=note.id,
        visibility=visibility,
        attachments=len(files),
    )
    fields = []
    if visibility == Note.Visibility.CUSTOMER:
        fields = _tell_customer(case, OutboundMail.Kind.NOTE, actor=actor, now=now, note=note)
    return note, fields


def _tell_customer(case: Case, kind: str, *, actor, now: datetime, note=None) -> list[str]:
    """Something the end user may see: by e-mail when they have an address (the outbox, in
    this transaction). The first response is met now, except on an e-mail case, where it is
    met when the mail is handed to the mail server (`first_response_by_mail`): typed is not
    told."""
    mail = outbox.queue_mail(case, kind, now=now, note=note)
    if mail is not None and case.channel == Channel.EMAIL:
        return []
    return _meet_first_response(case, actor=actor, now=now)


def _record_mail_handled(mail_id: int, case: Case, outcome: str, *, triaged_by=None) -> None:
    """The message became this case (or a note on it), in the case's transaction. A message
    being processed, or waiting in triage; anything else was handled meanwhile: roll back."""
    waiting = [InboundMail.Outcome.PROCESSING, InboundMail.Outcome.TRIAGE]
    handled = InboundMail.objects.filter(id=mail_id, outcome__in=waiting)
    fields: dict = {"case": case, "outcome": outcome, "claimed_at": None}
    if triaged_by is not None:
        fields |= {
            "triage": InboundMail.Triage.ASSIGNED,
            "triaged_by": triaged_by,
            "triaged_at": case.opened_at,
        }
    if not handled.update(**fields):
        raise CaseChangedMeanwhile()


def mail_attachments(attachments) -> tuple[list[tuple[UploadedFile, str]], list[str]]:
    """An e-mail's attachments under the case upload rules (type by content, size, count):
    those accepted, and the names of those refused (kept out, said on the timeline). Nothing
    is unpacked: an archive is stored as it came, or refused by its type."""
    accepted: list[tuple[UploadedFile, str]] = []
    refused: list[str] = []
    for attachment in attachments[: settings.MAX_ATTACHMENTS_PER_NOTE]:
        upload = SimpleUploadedFile(
            attachment.name, attachment.content, content_type=attachment.content_type
        )
        try:
            accepted.append((upload, accepted_content_type(upload)))
        except UploadRefused:
            refused.append(attachment.name)
    refused += [a.name for a in attachments[settings.MAX_ATTACHMENTS_PER_NOTE :]]
    return accepted, refused


def add_customer_mail(
    *, actor, case: Case, mail: InboundMail, now: datetime, attachments=()
) -> Case:
    """An end user's reply by e-mail lands on their case: a note from the customer, the clock
    resumed if it waited for them, the case reopened if it was resolved or closed (care.mail
    sends replies to cases closed long ago to triage instead). One transaction with the mail
    marked as handled, so re-reading the mailbox adds nothing."""
    with transaction.atomic(durable=True):
        case = _locked(case, None)
        fields: list[str] = []
        if case.status in (CaseStatus.RESOLVED, CaseStatus.CLOSED):
            fields += _reopen(case, actor=actor, now=now, reason_code=wording.CUSTOMER_REPLIED)
        elif case.status == CaseStatus.WAITING_CUSTOMER:  # saves the case itself
            _change_status(case, CaseStatus.IN_PROGRESS, actor=actor, now=now)
        files, refused = mail_attachments(attachments)
        _append_note(
            case,
            actor=actor,
            now=now,
            body=mail.reply or mail.text or mail.subject,
            visibility=Note.Visibility.FROM_CUSTOMER,
            files=files,
        )
        _event(
            case,
            CaseEvent.Kind.MAIL_RECEIVED,
            actor=None,
            at=now,
            to_value=mail.message_id[:100],
            refused_attachments=refused,
        )
        _record_mail_handled(mail.id, case, InboundMail.Outcome.NOTE_ADDED)
        _save(case, sorted(set(fields)))
    return case


def first_response_by_mail(case_id: int, *, message_id: str, now: datetime) -> None:
    """The worker handed the case's answer to the mail server: an e-mail case's first response
    is met now (recorded with the Message-ID), if it was not already."""
    with transaction.atomic():
        case = Case.objects.select_for_update().get(id=case_id)
        fields = _meet_first_response(
            case, actor=None, now=now, by="mail", facts={"message_id": message_id}
        )
        if fields:
            _save(case, fields)


def _meet_first_response(
    case: Case, *, actor, now: datetime, by: str = "", facts: dict | None = None
) -> list[str]:
    """The first customer-visible answer: a note, the call on which the case was opened (the
    operator spoke to the end user: `by: call`) or the mail handed to the server (`by: mail`).
    Returns the fields to save; none if the first response was already met."""
    if case.first_response_at is not None:
        return []
    case.first_response_at = now
    due = case.first_response_due_at
    if case.first_response_state not in (SlaState.NONE, SlaState.BREACHED):
        case.first_response_state = SlaState.MET if due is None or now <= due else SlaState.BREACHED
    extra = {"by": by, **(facts or {})} if by else {}
    _event(
        case,
        CaseEvent.Kind.FIRST_RESPONSE,
        actor=actor,
        at=now,
        to_value=case.first_response_state,
        **extra,
    )
    return ["first_response_at", "first_response_state"]


# --- Status ---------------------------------------------------------------------------------


def transition_case(
    *,
    actor,
    case: Case,
    to: str,
    expected_version: int | None = None,
    resolution_code: str = "",
    first_contact_resolution: bool = False,
    override_reason: str = "",
    now: datetime | None = None,
) -> Case:
    """The one way a case changes status (besides assignment, hand-offs and re-opening,
    which call the same helpers). The SLA clock pauses only while waiting on the customer."""
    now = now or timezone.now()
    with transaction.atomic(durable=True):
        case = _locked(case, expected_version)
        _check_works(
            case, actor=actor, now=now, override_reason=override_reason, action="transition"
        )
        _change_status(
            case,
            to,
            actor=actor,
            now=now,
            resolution_code=resolution_code,
            first_contact_resolution=first_contact_resolution,
        )
    return case


def _change_status(
    case: Case,
    to: str,
    *,
    actor,
    now: datetime,
    resolution_code: str = "",
    first_contact_resolution: bool = False,
    by_unit_answer: bool = False,
) -> None:
    if to not in CaseStatus.values:
        raise InvalidCaseData(fields={"to": [_("Unknown status.")]})
    action = UNIT_ANSWER if by_unit_answer else TRANSITION
    _check_move(case, to, action=action)
    if to == CaseStatus.RESOLVED:
        resolution_code = _checked_closing_code(case, resolution_code)
    fields = ["status"]
    previous = case.status
    if previous == CaseStatus.WAITING_CUSTOMER:
        fields += _resume_clock(case, actor=actor, now=now)
    if to == CaseStatus.WAITING_CUSTOMER:
        case.paused_at = now
        fields.append("paused_at")
        _event(case, CaseEvent.Kind.CLOCK_PAUSED, actor=actor, at=now)
    if to == CaseStatus.RESOLVED:
        fields += _tell_customer(case, OutboundMail.Kind.RESOLUTION, actor=actor, now=now)
        case.resolved_at = now
        case.resolution_code = resolution_code.strip()[:50]
        case.first_contact_resolution = first_contact_resolution
        due = case.resolution_due_at
        if case.resolution_state not in (SlaState.NONE, SlaState.MET, SlaState.BREACHED):
            case.resolution_state = SlaState.MET if due is None or now <= due else SlaState.BREACHED
        fields += ["resolved_at", "resolution_code", "first_contact_resolution", "resolution_state"]
    if to == CaseStatus.CLOSED:
        case.closed_at = now
        fields.append("closed_at")
    if to == CaseStatus.NEW and case.assignee_id:
        released = case.assignee_id
        case.assignee = None
        fields.append("assignee")
        transaction.on_commit(
            lambda: signals.case_released.send(sender=Case, case_id=case.id, assignee_id=released),
            robust=True,
        )
    _move(case, to, action=action)
    _event(
        case,
        CaseEvent.Kind.STATUS_CHANGED,
        actor=actor,
        at=now,
        from_value=previous,
        to_value=to,
        **({"resolution_code": case.resolution_code} if to == CaseStatus.RESOLVED else {}),
    )
    if (
        to in (CaseStatus.RESOLVED, CaseStatus.CLOSED)
        and case.assignee_id
        and previous in OPEN_STATUSES
    ):
        assignee_id = case.assignee_id
        transaction.on_commit(
            lambda: signals.case_released.send(
                sender=Case, case_id=case.id, assignee_id=assignee_id
            ),
            robust=True,
        )
    _save(case, sorted(set(fields)))


def _checked_closing_code(case: Case, code: str) -> str:
    """The one rule of resolving: a code of the case's contract version (or of the national
    default list when the version defines none), allowed for the case's category."""
    code = (code or "").strip()
    if not code:
        raise ClosingCodeRequired(
            fields={"closing_code": [str(ClosingCodeRequired.default_message)]}
        )
    allowed = selectors.closing_codes_of(case)
    if code not in {c.code for c in allowed}:
        raise UnknownClosingCode(
            fields={"closing_code": [str(UnknownClosingCode.default_message)]},
            extra={"closing_code": code, "allowed": [c.code for c in allowed]},
        )
    return code


def _resume_clock(case: Case, *, actor, now: datetime) -> list[str]:
    spec = contract_selectors.calendar_spec(case.contract.calendar)
    paused = clock.paused_business_minutes(spec, case.paused_at, now) if case.paused_at else 0
    case.paused_minutes += paused
    case.paused_at = None
    _apply_deadlines(case, target=_target_of(case), version=case.contract_version)
    _event(case, CaseEvent.Kind.CLOCK_RESUMED, actor=actor, at=now, paused_minutes=round(paused, 2))
    return ["paused_minutes", "paused_at", *DEADLINE_FIELDS]


def reopen_case(
    *,
    actor,
    case: Case,
    reason: str,
    expected_version: int | None = None,
    override_reason: str = "",
    now: datetime | None = None,
) -> Case:
    """A resolved or closed case comes back to work; the re-opening is counted (reports show
    reopen rates). The resolution target already met or breached stays as it was."""
    now = now or timezone.now()
    if not (reason or "").strip():
        raise InvalidCaseData(fields={"reason": [_("Say why the case is reopened.")]})
    with transaction.atomic(durable=True):
        case = _locked(case, expected_version)
        _check_works(case, actor=actor, now=now, override_reason=override_reason, action="reopen")
        _save(case, _reopen(case, actor=actor, now=now, reason=reason))
    return case


def _reopen(case: Case, *, actor, now: datetime, reason: str = "", **facts) -> list[str]:
    """Back to in progress, counted as a re-opening (the case is locked by the caller);
    returns the fields to save. `reason`: typed by a person; `facts`: the reason a service
    gives itself (`reason_code` and what `care.wording` needs to say it)."""
    if case.status not in (CaseStatus.RESOLVED, CaseStatus.CLOSED):
        raise TransitionNotAllowed(_("Only a resolved or closed case can be reopened."))
    if case.merged_into is not None:
        raise TransitionNotAllowed(
            _("A merged case cannot be reopened: reopen %(ref)s.")
            % {"ref": case.merged_into.reference}
        )
    previous = _move(case, CaseStatus.IN_PROGRESS, action=REOPEN)
    case.reopen_count += 1
    case.resolved_at = case.closed_at = None
    case.first_contact_resolution = False
    _event(
        case,
        CaseEvent.Kind.REOPENED,
        actor=actor,
        at=now,
        from_value=previous,
        to_value=CaseStatus.IN_PROGRESS,
        **({"reason": reason.strip()[:REASON_MAX]} if reason or not facts else {}),
        **facts,
    )
    return ["status", "reopen_count", "resolved_at", "closed_at", "first_contact_resolution"]


def add_contact(
    *,
    actor,
    case: Case,
    end_user_id: int | None,
    subject: str,
    description: str,
    expected_version: int | None = None,
    override_reason: str = "",
    now: datetime | None = None,
    call_id: str = "",
) -> Case:
    """A new contact about a case the caller already has, instead of a duplicate: an
    internal note with what they said, the case reopened first if it was resolved or
    closed; one transaction. Used by the intake page and `POST cases/{ref}/contacts/`.
    Whoever found the caller by their own recent lookup has them on the line: they work it.
    During a call the actor answered (`call_id`), the case is linked to the call."""
    now = now or timezone.now()
    subject, description = (subject or "").strip(), (description or "").strip()
    errors = {}
    if not subject:
        errors["subject"] = [_("Write a subject.")]
    if not description:
        errors["description"] = [_("Describe the request (fill in the template).")]
    _errors_or_none(errors)
    call_id = (call_id or "").strip()
    if call_id and ports.caller_of_call(call_id, actor) is None:
        errors["call"] = [_("You did not answer this call.")]
    _errors_or_none(errors)
    if end_user_id is None or case.end_user_id != end_user_id:
        raise InvalidCaseData(_("That case belongs to another caller."))
    with transaction.atomic(durable=True):
        case = _locked(case, expected_version)
        _check_works(
            case,
            actor=actor,
            now=now,
            override_reason=override_reason,
            action="contact",
            caller_on_the_line=actor is not None
            and access_log.found_recently(actor, end_user_id, now=now),
        )
        fields = []
        if case.status in (CaseStatus.RESOLVED, CaseStatus.CLOSED):
            fields = _reopen(
                case,
                actor=actor,
                now=now,
                reason_code=wording.NEW_CONTACT,
                subject=subject.strip()[:REASON_MAX],
            )
        _note, note_fields = _append_note(
            case,
            actor=actor,
            now=now,
            body=f"{subject}\n\n{description}",
            visibility=Note.Visibility.INTERNAL,
        )
        if call_id:
            _handled_on_call(case, actor=actor, now=now, call_id=call_id, opened=False)
            _event(case, CaseEvent.Kind.ON_CALL, actor=actor, at=now, to_value=call_id)
        _save(case, fields + note_fields)
    return case


def assign_case(
    *,
    actor,
    case: Case,
    assignee,
    expected_version: int | None = None,
    now: datetime | None = None,
    why: dict | None = None,
    locked: bool = False,
) -> Case:
    """Give the case to an operator (routing's engine and supervisors call this). `why`:
    the facts of the decision (`how`, `level`, `queue`, `waited` minutes, see
    `care.wording.assignment_reason`), stored on the event with who held the case.

    `locked`: the caller read `case` under its row lock in the transaction it is in (as
    take-next, push and reassignment do), so it is not read again, and no savepoint is
    taken: an error here fails the caller's whole assignment."""
    now = now or timezone.now()
    nested = transaction.get_connection().in_atomic_block
    locked = locked and nested
    with transaction.atomic(durable=not nested, savepoint=not locked):
        if not locked:
            case = _locked(case, expected_version)
        elif expected_version is not None and case.row_version != expected_version:
            raise CaseChangedMeanwhile()
        if case.status not in OPEN_STATUSES:
            raise TransitionNotAllowed(_("A resolved or closed case cannot be assigned."))
        previous = case.assignee
        case.assignee = assignee
        fields = ["assignee"]
        if case.status == CaseStatus.NEW:
            _move(case, CaseStatus.ASSIGNED, action=ASSIGN)
            fields.append("status")
        _event(
            case,
            CaseEvent.Kind.ASSIGNED,
            actor=actor,
            at=now,
            from_value=previous.get_username() if previous else "",
            to_value=assignee.get_username(),
            **assigned_facts(assignee=assignee, previous=previous, why=why),
        )
        _save(case, fields)
    return case


def assigned_facts(*, assignee, previous=None, why: dict | None = None) -> dict:
    """The detail of an "assigned" event: who holds the case now and before (ids), and
    the decision's facts."""
    return {
        "assignee": assignee.pk,
        **({"previous": previous.pk} if previous is not None else {}),
        **(why or {}),
    }


def take_waiting_case(*, case: Case, assignee, now: datetime, why: dict) -> Case:
    """`assign_case` for take-next on PostgreSQL, in one prepared statement.

    The caller holds the row lock of `case`, a waiting case (new, nobody holds it) read in
    its transaction, possibly with a few columns only. The move to assigned, the next
    version and the event are written together, and the whole case comes back from
    `RETURNING`: one round trip instead of three (take-next's throughput target)."""
    _check_move(case, CaseStatus.ASSIGNED, action=ASSIGN)
    with prepared_cursor() as cursor:
        cursor.execute(
            _take_statement(),
            {
                "status": CaseStatus.ASSIGNED.value,
                "assignee": assignee.pk,
                "updated_at": timezone.now(),
                "case": case.pk,
                "was": case.status,
                "kind": CaseEvent.Kind.ASSIGNED.value,
                "at": now,
                "username": assignee.get_username()[:100],
                "detail": Jsonb(assigned_facts(assignee=assignee, why=why)),
            },
        )
        row = cursor.fetchone()
    if row is None:  # the caller's lock guarantees the row; a broken caller must not pass
        raise TransitionNotAllowed(_("This case is no longer waiting."))
    return instance_from_row(Case, row)


@cache
def _take_statement() -> str:
    """`take_waiting_case`'s statement, built once (it names every column of the case)."""
    columns = ", ".join(str(f.column) for f in Case._meta.concrete_fields)
    return f"""
            WITH moved AS (
                UPDATE care_case
                SET status = %(status)s, assignee_id = %(assignee)s,
                    row_version = row_version + 1, updated_at = %(updated_at)s
                WHERE id = %(case)s AND status = %(was)s AND assignee_id IS NULL
                RETURNING {columns}
            ), event AS (
                INSERT INTO care_caseevent
                    (case_id, kind, at, actor_id, from_value, to_value, detail)
                SELECT id, %(kind)s, %(at)s, %(assignee)s, '', %(username)s, %(detail)s
                FROM moved
            )
            SELECT {columns} FROM moved
            """  # noqa: S608 - column names from the model, values bound


def change_priority(
    *,
    actor,
    case: Case,
    priority: str,
    expected_version: int | None = None,
    override_reason: str = "",
    now: datetime | None = None,
) -> Case:
    """A new priority brings its own targets: due instants not yet met or breached follow."""
    now = now or timezone.now()
    if priority not in Priority.values:
        raise InvalidCaseData(fields={"priority": [_("Choose a priority from P1 to P4.")]})
    with transaction.atomic(durable=True):
        case = _locked(case, expected_version)
        if case.priority == priority:
            return case
        _check_works(case, actor=actor, now=now, override_reason=override_reason, action="priority")
        if case.status not in OPEN_STATUSES:
            raise TransitionNotAllowed(_("The priority of a resolved case does not change."))
        previous = case.priority
        case.priority = priority
        _apply_deadlines(case, target=_target_of(case), version=case.contract_version)
        _event(
            case,
            CaseEvent.Kind.PRIORITY_CHANGED,
            actor=actor,
            at=now,
            from_value=previous,
            to_value=priority,
        )
        _save(case, ["priority", *DEADLINE_FIELDS])
    return case


def set_queue(*, actor, case: Case, queue_code: str, now: datetime | None = None) -> Case:
    """Routing files the case in a queue (at intake, or a supervisor moves it)."""
    now = now or timezone.now()
    with transaction.atomic(durable=not transaction.get_connection().in_atomic_block):
        case = _locked(case, None)
        if case.queue_code == queue_code:
            return case
        _event(
            case,
            CaseEvent.Kind.QUEUE_CHANGED,
            actor=actor,
            at=now,
            from_value=case.queue_code,
            to_value=queue_code,
        )
        case.queue_code = queue_code
        _save(case, ["queue_code"])
    return case


def release_cases(*, actor, holder, now: datetime, reason_code: str) -> list[int]:
    """Every open case `holder` holds goes back to its queue, unassigned, in one set-based
    pass (routing calls this when the holder's account is deactivated): assigned and in
    progress cases wait again (new); a case waiting on the customer or on another unit keeps
    that status (its clock and hand-off stay as they are) and whoever takes it up next finds
    it in the queue. Each case gets an "assigned" event (holder → nobody, with
    `reason_code`) and, when its status moves, a status event. Returns the ids released."""
    nested = transaction.get_connection().in_atomic_block
    with transaction.atomic(durable=not nested):
        cases = list(
            Case.objects.select_for_update()
            .filter(assignee_id=holder.pk, status__in=OPEN_STATUSES)
            .order_by("id")
            .only("id", "status", "queue_code", "row_version")
        )
        if not cases:
            return []
        waiting_again = []
        events = []
        for case in cases:
            events.append(
                CaseEvent(
                    case_id=case.id,
                    kind=CaseEvent.Kind.ASSIGNED,
                    actor=actor,
                    at=now,
                    from_value=holder.get_username()[:100],
                    to_value="",
                    detail={
                        "previous": holder.pk,
                        "queue": case.queue_code,
                        "reason_code": reason_code,
                    },
                )
            )
            if case.status in (CaseStatus.ASSIGNED, CaseStatus.IN_PROGRESS):
                previous = _move(case, CaseStatus.NEW, action=RELEASE)
                waiting_again.append(case.id)
                events.append(
                    CaseEvent(
                        case_id=case.id,
                        kind=CaseEvent.Kind.STATUS_CHANGED,
                        actor=actor,
                        at=now,
                        from_value=previous,
                        to_value=CaseStatus.NEW,
                        detail={"reason_code": reason_code},
                    )
                )
        CaseEvent.objects.bulk_create(events)
        ids = [case.id for case in cases]
        Case.objects.filter(id__in=ids).update(
            assignee=None, row_version=F("row_version") + 1, updated_at=timezone.now()
        )
        Case.objects.filter(id__in=waiting_again).update(status=CaseStatus.NEW)
    return ids


def refile_waiting_cases(
    *, actor, moves: dict[int, str], now: datetime, detail: dict | None = None
) -> int:
    """Routing re-files waiting cases after a queue changed (`moves`: case id -> queue code):
    set-based, each moved case gets its "queue changed" event. Cases taken meanwhile (no
    longer new and unassigned) or already there are left alone; how many moved."""
    if not moves:
        return 0
    with transaction.atomic(durable=not transaction.get_connection().in_atomic_block):
        rows = list(
            Case.objects.select_for_update()
            .filter(id__in=list(moves), status=CaseStatus.NEW, assignee__isnull=True)
            .order_by("id")
            .values_list("id", "queue_code")
        )
        moved = [(case_id, old) for case_id, old in rows if moves[case_id] != old]
        CaseEvent.objects.bulk_create(
            CaseEvent(
                case_id=case_id,
                kind=CaseEvent.Kind.QUEUE_CHANGED,
                actor=actor,
                at=now,
                from_value=old[:100],
                to_value=moves[case_id][:100],
                detail=detail or {},
            )
            for case_id, old in moved
        )
        by_code: dict[str, list[int]] = {}
        for case_id, _old in moved:
            by_code.setdefault(moves[case_id], []).append(case_id)
        for code, ids in sorted(by_code.items()):
            Case.objects.filter(id__in=ids).update(
                queue_code=code, row_version=F("row_version") + 1, updated_at=now
            )
    return len(moved)


# --- Hand-offs ------------------------------------------------------------------------------


def send_handoff(
    *,
    actor,
    case: Case,
    unit_code: str,
    request: str,
    expected_version: int | None = None,
    override_reason: str = "",
    now: datetime | None = None,
) -> Handoff:
    """Ask another unit; the case waits on it (the customer's SLA clock keeps running)."""
    now = now or timezone.now()
    if not (request or "").strip():
        raise InvalidCaseData(fields={"request": [_("Write what the unit should do.")]})
    with transaction.atomic(durable=True):
        case = _locked(case, expected_version)
        _check_works(case, actor=actor, now=now, override_reason=override_reason, action="handoff")
        unit = next(
            (u for u in case.contract_version.handoff_units if u.get("code") == unit_code), None
        )
        if unit is None:
            raise InvalidCaseData(
                fields={"unit": [_("This unit is not among the contract's hand-off units.")]}
            )
        if case.handoffs.filter(outcome=Handoff.Outcome.PENDING).exists():
            raise TransitionNotAllowed(_("The case is already waiting for a unit's answer."))
        if case.status not in OPEN_STATUSES:
            raise TransitionNotAllowed(_("A resolved or closed case cannot be forwarded."))
        handoff = Handoff.objects.create(
            case=case,
            unit_code=unit_code,
            unit_name=unit.get("name", unit_code)[:150],
            request=request.strip(),
            requested_by=actor,
            requested_at=now,
        )
        previous = case.status
        if previous == CaseStatus.WAITING_CUSTOMER:
            _resume_clock(case, actor=actor, now=now)
        _move(case, CaseStatus.WAITING_UNIT, action=HANDOFF)
        _event(
            case,
            CaseEvent.Kind.HANDOFF_SENT,
            actor=actor,
            at=now,
            from_value=previous,
            to_value=CaseStatus.WAITING_UNIT,
            handoff=handoff.id,
            unit=unit_code,
        )
        _save(case, ["status", "paused_at", "paused_minutes", *DEADLINE_FIELDS])
    return handoff


def answer_handoff(
    *,
    actor,
    handoff: Handoff,
    answer: str,
    outcome: str,
    resolution_code: str = "",
    expected_version: int | None = None,
    override_reason: str = "",
    now: datetime | None = None,
) -> Handoff:
    """Record the unit's answer: it resolves the case, or sends it back to the operator."""
    now = now or timezone.now()
    errors = {}
    if not (answer or "").strip():
        errors["answer"] = [_("Write the unit's answer.")]
    if outcome not in (Handoff.Outcome.RESOLVED, Handoff.Outcome.BOUNCED):
        errors["outcome"] = [_("Say whether the unit resolved the case or sent it back.")]
    _errors_or_none(errors)
    with transaction.atomic(durable=True):
        case = _locked(handoff.case, expected_version)  # the case first, as everywhere
        _check_works(
            case, actor=actor, now=now, override_reason=override_reason, action="handoff_answer"
        )
        handoff = Handoff.objects.select_for_update().get(id=handoff.id)
        if handoff.outcome != Handoff.Outcome.PENDING:
            raise TransitionNotAllowed(_("This hand-off has already been answered."))
        handoff.answer, handoff.outcome = answer.strip(), outcome
        handoff.answered_at, handoff.answer_recorded_by = now, actor
        handoff.save(update_fields=["answer", "outcome", "answered_at", "answer_recorded_by"])
        waited = (now - handoff.requested_at).total_seconds() / 60
        _event(
            case,
            CaseEvent.Kind.HANDOFF_ANSWERED,
            actor=actor,
            at=now,
            to_value=outcome,
            handoff=handoff.id,
            unit=handoff.unit_code,
            waited_minutes=round(waited),
        )
        if case.status == CaseStatus.WAITING_UNIT:
            if outcome == Handoff.Outcome.RESOLVED:
                _change_status(
                    case,
                    CaseStatus.RESOLVED,
                    actor=actor,
                    now=now,
                    resolution_code=resolution_code or UNIT_ANSWER_CODE,
                    by_unit_answer=True,
                )
            else:
                _change_status(
                    case, CaseStatus.IN_PROGRESS, actor=actor, now=now, by_unit_answer=True
                )
        else:
            _save(case, [])
    return handoff


# --- Merge and link -------------------------------------------------------------------------


def merge_case(
    *,
    actor,
    case: Case,
    into: Case,
    expected_version: int | None = None,
    override_reason: str = "",
    now: datetime | None = None,
) -> Case:
    """Close an open duplicate into the case that carries on; both timelines say so.
    Working the duplicate is what counts: the case that carries on only gains an event."""
    now = now or timezone.now()
    if case.id == into.id:
        raise InvalidCaseData(fields={"into": [_("A case cannot be merged into itself.")]})
    with transaction.atomic(durable=True):
        first, second = sorted([case, into], key=lambda c: c.id)  # lock in id order
        versions = {case.id: expected_version}
        first = _locked(first, versions.get(first.id))
        second = _locked(second, versions.get(second.id))
        case, into = (first, second) if first.id == case.id else (second, first)
        _check_works(case, actor=actor, now=now, override_reason=override_reason, action="merge")
        if case.client_id != into.client_id:
            raise InvalidCaseData(
                fields={"into": [_("Only cases of the same client can be merged.")]}
            )
        if case.merged_into_id or into.merged_into_id:
            raise TransitionNotAllowed(_("One of the cases is already merged."))
        if into.status not in OPEN_STATUSES:
            raise TransitionNotAllowed(_("Merge into an open case."))
        if (
            case.status not in OPEN_STATUSES
            or case.handoffs.filter(outcome=Handoff.Outcome.PENDING).exists()
        ):
            raise TransitionNotAllowed(
                _("Only an open case that is not waiting for a unit can be merged.")
            )
        previous = _move(case, CaseStatus.CLOSED, action=MERGE)
        case.merged_into = into
        case.closed_at = now
        case.resolution_code = "merged"
        _event(
            case,
            CaseEvent.Kind.MERGED,
            actor=actor,
            at=now,
            from_value=previous,
            to_value=into.reference,
        )
        _event(
            into,
            CaseEvent.Kind.MERGED,
            actor=actor,
            at=now,
            from_value=case.reference,
            to_value=into.reference,
        )
        _save(case, ["merged_into", "status", "closed_at", "resolution_code"])
        _save(into, [])
        if case.assignee_id and previous in OPEN_STATUSES:
            assignee_id = case.assignee_id
            transaction.on_commit(
                lambda: signals.case_released.send(
                    sender=Case, case_id=case.id, assignee_id=assignee_id
                ),
                robust=True,
            )
    return case


def link_case(
    *,
    actor,
    case: Case,
    other: Case,
    override_reason: str = "",
    now: datetime | None = None,
) -> Case:
    """Point `case` to a related one; only `case` changes (the other is not written)."""
    now = now or timezone.now()
    if case.id == other.id:
        raise InvalidCaseData(fields={"other": [_("A case cannot be linked to itself.")]})
    with transaction.atomic(durable=True):
        case = _locked(case, None)
        _check_works(case, actor=actor, now=now, override_reason=override_reason, action="link")
        case.linked_to = other
        _event(case, CaseEvent.Kind.LINKED, actor=actor, at=now, to_value=other.reference)
        _save(case, ["linked_to"])
    return case


# --- Calendar changes -----------------------------------------------------------------------

DEADLINE_PAIRS = [
    ("first_response_state", ("first_response_due_at", "first_response_at_risk_at")),
    ("resolution_state", ("resolution_due_at", "resolution_at_risk_at")),
]
MOVE_BATCH = 500


def move_deadlines_after_calendar_change(
    *, calendar_id: int, effective_at: datetime, previous_spec, contract_id: int | None = None
) -> int:
    """A calendar changed at `effective_at`: each open case's instants still ahead keep the
    business time they had left under the old calendar, counted from then on with the new
    one. Targets met, breached or already due stay where they are. Returns the cases moved.
    """
    cases = Case.objects.filter(status__in=OPEN_STATUSES, contract__calendar_id=calendar_id)
    if contract_id is not None:
        cases = cases.filter(contract_id=contract_id)
    with transaction.atomic(durable=not transaction.get_connection().in_atomic_block):
        locked = list(cases.select_for_update().select_related("contract__calendar").order_by("id"))
        if not locked:
            return 0
        new_spec = contract_selectors.calendar_spec(locked[0].contract.calendar)
        changed, events = [], []
        for case in locked:
            before, after = {}, {}
            for state_field, instant_fields in DEADLINE_PAIRS:
                if getattr(case, state_field) in (SlaState.MET, SlaState.BREACHED, SlaState.NONE):
                    continue
                for field in instant_fields:
                    old = getattr(case, field)
                    if old is None or old <= effective_at:
                        continue
                    left = calendars.business_minutes_between(previous_spec, effective_at, old)
                    new = calendars.add_business_minutes(new_spec, effective_at, left)
                    new = new.astimezone(UTC)
                    if new != old:
                        before[field], after[field] = old.isoformat(), new.isoformat()
                        setattr(case, field, new)
            if after:
                case.row_version += 1
                changed.append(case)
                events.append(
                    CaseEvent(
                        case=case,
                        kind=CaseEvent.Kind.DEADLINES_MOVED,
                        at=effective_at,
                        detail={"calendar": calendar_id, "before": before, "after": after},
                    )
                )
        Case.objects.bulk_update(
            changed,
            [f for _s, fields in DEADLINE_PAIRS for f in fields] + ["row_version"],
            batch_size=MOVE_BATCH,
        )
        CaseEvent.objects.bulk_create(events, batch_size=MOVE_BATCH)
    return len(changed)
