"""Retention and erasure: removing a caller's identity from cases while keeping the cases.

Retention (nightly, or started by a manager): per contract, cases closed more than
`Contract.retention_months` ago that still name an end user are anonymised. An erasure
request (care.subject_requests) anonymises every case of one end user the same way.

Anonymising a case keeps what the unit needs for its figures and its history (client,
contract, category, priority, queue, the SLA clock, events, the text of notes and hand-offs)
and removes who the caller was: the link to the end user is cut, their names, numbers,
e-mail, employee code and codice fiscale are blanked out of every free text of the case,
and so is anything else in it that looks like a phone number, an e-mail or a codice fiscale
(a colleague's mobile typed into a note). Attachments are deleted (a scan of an identity
document is identity through and through); their entry stays, saying so.

Work goes in batches, each one transaction holding its cases' row locks, so a crash loses at
most the batch in flight and a second run never anonymises a case twice.
"""

import logging
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from care.models import (
    Attachment,
    Case,
    CaseEvent,
    CaseStatus,
    Handoff,
    InboundMail,
    Note,
    OutboundMail,
    RetentionRun,
)
from config import contact_data
from config.errors import Conflict
from config.tasks import enqueue, enqueue_after_commit
from contracts.models import Contract, EndUser

logger = logging.getLogger(__name__)

BATCH = 500
REMOVED = "[dato rimosso]"
RETENTION = "retention"
ERASURE = "erasure"


class RetentionAlreadyRunning(Conflict):
    code = "retention_running"
    default_message = _("A retention run is already queued or running.")


def months_before(moment: datetime, months: int) -> datetime:
    """The same wall-clock instant `months` calendar months earlier (the 31st becomes the
    last day of a shorter month)."""
    month_index = moment.year * 12 + moment.month - 1 - months
    year, month = divmod(month_index, 12)
    month += 1
    for day in range(moment.day, 27, -1):
        try:
            return moment.replace(year=year, month=month, day=day)
        except ValueError:
            continue
    return moment.replace(year=year, month=month, day=min(moment.day, 28))


# --- What is due ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ContractDue:
    contract_id: int
    code: str
    client: str
    retention_months: int
    closed_before: datetime
    cases: int


def _due_for(contract_id: int, closed_before: datetime) -> QuerySet[Case]:
    """Served by the partial index `case_retention_due` (contract, closed_at)."""
    return Case.objects.filter(
        contract_id=contract_id,
        status=CaseStatus.CLOSED,
        end_user__isnull=False,
        closed_at__lt=closed_before,
    )


def retention_due(*, now: datetime) -> list[ContractDue]:
    """The dry run: per contract, how many cases the retention would anonymise now. One
    count per contract on the partial index (a hundred contracts: a hundred small scans)."""
    due = []
    for contract in Contract.objects.select_related("client").order_by("code"):
        closed_before = months_before(now, contract.retention_months)
        due.append(
            ContractDue(
                contract_id=contract.id,
                code=contract.code,
                client=contract.client.name,
                retention_months=contract.retention_months,
                closed_before=closed_before,
                cases=_due_for(contract.id, closed_before).count(),
            )
        )
    return due


# --- Anonymising ----------------------------------------------------------------------------


def _phone_pattern(e164: str) -> str:
    """Every common way of writing one number: +39 347 123 4567, 0039..., 347-1234567."""
    national = e164.removeprefix("+39") if e164.startswith("+39") else e164.lstrip("+")
    digits = contact_data.SEPARATORS.join(re.escape(digit) for digit in national)
    return rf"(?:(?:\+|00)39{contact_data.SEPARATORS})?{digits}"


def identity_scrubber(end_user: EndUser | None):
    """A function blanking this person (and anything shaped like contact data) out of text."""
    patterns = []
    if end_user is not None:
        names = [
            f"{end_user.first_name} {end_user.last_name}",
            f"{end_user.last_name} {end_user.first_name}",
        ]
        if len(end_user.last_name) >= 4:
            names.append(end_user.last_name)
        patterns += [
            r"\b" + r"\s+".join(map(re.escape, name.split())) + r"\b"
            for name in names
            if name.strip()
        ]
        patterns += [
            re.escape(value)
            for value in (end_user.email, end_user.employee_code, end_user.codice_fiscale)
            if value and len(value) >= 4
        ]
        patterns += [_phone_pattern(phone.number) for phone in end_user.phones.all()]
    own = re.compile("|".join(patterns), re.IGNORECASE) if patterns else None

    def scrub(text: str) -> str:
        if not text:
            return text
        if own is not None:
            text = own.sub(REMOVED, text)
        for pattern in contact_data.PATTERNS:
            text = pattern.sub(REMOVED, text)
        return text

    return scrub


def anonymise_cases(case_ids, *, now: datetime, why: str, actor=None) -> int:
    """Anonymise these cases (those still naming an end user) in one transaction; returns
    how many. Cases another run holds are skipped, not waited for."""
    with transaction.atomic():
        cases = list(
            Case.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(id__in=list(case_ids), end_user__isnull=False)
            .select_related("end_user")
            .prefetch_related("end_user__phones")
        )
        if not cases:
            return 0
        scrubbers = {case.id: identity_scrubber(case.end_user) for case in cases}
        for case in cases:
            scrub = scrubbers[case.id]
            case.subject = scrub(case.subject)[:200]
            case.description = scrub(case.description)
            case.opening_reason = scrub(case.opening_reason)[:300]
            case.end_user = None
            case.anonymised_at = now
            case.row_version += 1
        Case.objects.bulk_update(
            cases,
            [
                "subject",
                "description",
                "opening_reason",
                "end_user",
                "anonymised_at",
                "row_version",
            ],
        )
        ids = list(scrubbers)
        notes = list(Note.objects.filter(case_id__in=ids).only("id", "case_id", "body"))
        for note in notes:
            note.body = scrubbers[note.case_id](note.body)
        Note.objects.bulk_update(notes, ["body"], batch_size=1000)
        handoffs = list(
            Handoff.objects.filter(case_id__in=ids).only("id", "case_id", "request", "answer")
        )
        for handoff in handoffs:
            scrub = scrubbers[handoff.case_id]
            handoff.request, handoff.answer = scrub(handoff.request), scrub(handoff.answer)
        Handoff.objects.bulk_update(handoffs, ["request", "answer"], batch_size=1000)
        # Events keep the free-text reason of a duplicate override, a re-opening or an
        # assignment (the opening reason's copy among them): scrubbed like the rest.
        events = []
        for event in CaseEvent.objects.filter(case_id__in=ids).only("id", "case_id", "detail"):
            reason = event.detail.get("reason") if isinstance(event.detail, dict) else None
            if isinstance(reason, str) and (scrubbed := scrubbers[event.case_id](reason)) != reason:
                event.detail = {**event.detail, "reason": scrubbed}
                events.append(event)
        CaseEvent.objects.bulk_update(events, ["detail"], batch_size=1000)
        # The e-mail in and out: the raw message goes, addresses and texts are scrubbed.
        inbound = list(InboundMail.objects.filter(case_id__in=ids))
        for message in inbound:
            scrub = scrubbers[message.case_id]
            message.raw, message.sender, message.sender_name = b"", REMOVED, ""
            message.subject = scrub(message.subject)[:300]
            message.text, message.reply = scrub(message.text), scrub(message.reply)
        InboundMail.objects.bulk_update(
            inbound, ["raw", "sender", "sender_name", "subject", "text", "reply"], batch_size=500
        )
        outbound = list(OutboundMail.objects.filter(case_id__in=ids))
        for message in outbound:
            scrub = scrubbers[message.case_id]
            message.to_address = REMOVED
            message.subject, message.body = scrub(message.subject)[:300], scrub(message.body)
        OutboundMail.objects.bulk_update(
            outbound, ["to_address", "subject", "body"], batch_size=500
        )
        attachments = list(Attachment.objects.filter(note__case_id__in=ids).exclude(file=""))
        files = [attachment.file.name for attachment in attachments]
        for attachment in attachments:
            attachment.file, attachment.original_name = "", REMOVED
        Attachment.objects.bulk_update(attachments, ["file", "original_name"])
        CaseEvent.objects.bulk_create(
            CaseEvent(
                case_id=case.id,
                kind=CaseEvent.Kind.ANONYMISED,
                at=now,
                actor=actor,
                to_value=why,
            )
            for case in cases
        )
        transaction.on_commit(lambda: _delete_files(files))
    return len(cases)


def _delete_files(names: list[str]) -> None:
    """After commit: a rolled-back batch must not have lost its files."""
    storage = Attachment._meta.get_field("file").storage
    for name in names:
        try:
            storage.delete(name)
        except OSError:
            logger.exception("retention: attachment file %s not deleted", name)


RUN_TASK = "care.tasks.run_retention_task"  # triggered by name: tasks import this module

# --- Runs -----------------------------------------------------------------------------------


def request_retention_run(*, actor, now: datetime) -> RetentionRun:
    """A manager's "anonymise now": queued for the worker (it may take minutes)."""
    with transaction.atomic():
        if (
            RetentionRun.objects.select_for_update()
            .filter(status__in=[RetentionRun.Status.QUEUED, RetentionRun.Status.RUNNING])
            .exists()
        ):
            raise RetentionAlreadyRunning
        run = RetentionRun.objects.create(requested_by=actor, requested_at=now)
        enqueue_after_commit(RUN_TASK, run.id)  # a lost message: heal_retention_runs
    return run


def run_retention(run: RetentionRun, *, now: datetime | None = None) -> RetentionRun:
    """Anonymise everything due, contract by contract, oldest closures first, saving the
    progress after each batch. A failure marks the run failed; what was done stays done."""
    now = now or timezone.now()
    due = [item for item in retention_due(now=now) if item.cases]
    run.status = RetentionRun.Status.RUNNING
    run.started_at = run.heartbeat_at = timezone.now()
    run.total, run.done = sum(item.cases for item in due), 0
    run.save(update_fields=["status", "started_at", "heartbeat_at", "total", "done"])
    try:
        for item in due:
            while True:
                batch = list(
                    _due_for(item.contract_id, item.closed_before)
                    .order_by("closed_at", "id")
                    .values_list("id", flat=True)[:BATCH]
                )
                done = anonymise_cases(batch, now=now, why=RETENTION) if batch else 0
                if not done:
                    break
                run.done += done
                run.heartbeat_at = timezone.now()
                run.save(update_fields=["done", "heartbeat_at"])
    except Exception as error:
        logger.exception("retention run %s failed", run.id)
        run.status, run.error = RetentionRun.Status.FAILED, str(error)[:300]
    else:
        run.status = RetentionRun.Status.DONE
    run.finished_at = timezone.now()
    run.save(update_fields=["status", "error", "finished_at"])
    logger.info("retention run %s: %s of %s cases anonymised", run.id, run.done, run.total)
    return run


def claim_queued_run(run_id: int, *, now: datetime) -> RetentionRun | None:
    """The queued run `run_id`, now running, for the one worker that claims it (a message
    delivered twice, or re-sent by the sweep, starts it once); None for anyone else."""
    claimed = RetentionRun.objects.filter(id=run_id, status=RetentionRun.Status.QUEUED).update(
        status=RetentionRun.Status.RUNNING, started_at=now, heartbeat_at=now
    )
    return RetentionRun.objects.get(id=run_id) if claimed else None


RESEND_QUEUED_AFTER = timedelta(minutes=5)
RUNNING_SILENT_AFTER = timedelta(minutes=30)  # a batch takes seconds; a run minutes


def heal_retention_runs(*, now: datetime) -> tuple[int, int]:
    """Beat's sweep: a run still queued after `RESEND_QUEUED_AFTER` (its message was lost,
    e.g. the broker was down) is sent again; a running one with no progress for
    `RUNNING_SILENT_AFTER` (its worker died) is closed as failed, what it did staying done,
    so a new run may be asked for. Returns (sent again, closed)."""
    waiting = list(
        RetentionRun.objects.filter(
            status=RetentionRun.Status.QUEUED, requested_at__lt=now - RESEND_QUEUED_AFTER
        ).values_list("id", flat=True)
    )
    for run_id in waiting:
        enqueue(RUN_TASK, run_id)
    with translation.override(settings.LANGUAGE_CODE):  # stored, shown on the page
        stopped = str(_("Stopped: the worker was lost. What was done stays done; run it again."))
    silent_since = now - RUNNING_SILENT_AFTER
    closed = RetentionRun.objects.filter(
        Q(heartbeat_at__lt=silent_since)
        | Q(heartbeat_at__isnull=True, requested_at__lt=silent_since),
        status=RetentionRun.Status.RUNNING,
    ).update(status=RetentionRun.Status.FAILED, error=stopped, finished_at=now)
    if closed:
        logger.warning("retention: %d run(s) without progress closed as failed", closed)
    return len(waiting), closed


def anonymise_closed_cases_nightly(sender=None, *, now: datetime, **kwargs) -> dict:
    """The `config.nightly` receiver (connected in CareConfig.ready)."""
    run = RetentionRun.objects.create(requested_at=now)
    run = run_retention(run, now=now)
    return {"run": run.id, "anonymised": run.done, "status": run.status}


def recent_runs(limit: int = 10) -> list[RetentionRun]:
    return list(RetentionRun.objects.select_related("requested_by")[:limit])
