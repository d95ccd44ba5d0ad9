"""The e-mail channel's work: a message in (from a mailbox, the API or an uploaded .eml, all
the same path), and the outbox out.

In: each Message-ID is processed once. Its row is claimed first (`InboundMail`, outcome
"processing"); what it becomes is written in the same transaction as the case or the note it
makes, so a crash mid-batch is resumed by the next poll and never duplicates anything.
Automatic mail (auto-replies, bounces, bulk) is recorded and ignored: it never opens a case
nor gets an answer, so two robots cannot loop through Presidio. A reply lands in its case by
`In-Reply-To`/`References` or by the `[CS-…]` reference in the subject, but only when it comes
from that case's end user: anyone else's message goes to triage, never onto someone else's case.

Out: `send_due_mail` hands the outbox rows to the mail server, each once (claimed by a
conditional update), retried with backoff on a temporary failure, failed for good (and shown on
the case) on a permanent one.
"""

import logging
import smtplib
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMessage, get_connection
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from care import mailparse, outbox, services
from care.exceptions import CaseChangedMeanwhile, TriageDone
from care.models import OPEN_STATUSES, Case, CaseEvent, Channel, InboundMail, OutboundMail
from config.errors import PresidioError
from contracts import selectors as contract_selectors
from contracts.models import Contract, EndUser

logger = logging.getLogger(__name__)

MAILBOX_USER = services.MAILBOX_USERNAME
CLAIM_EXPIRES = timedelta(minutes=5)
REOPEN_BY_MAIL = timedelta(days=14)
SEND_BACKOFF_MINUTES = (1, 2, 5, 15, 30, 60, 120)  # then failed for good
Outcome = InboundMail.Outcome


@dataclass(frozen=True)
class Received:
    outcome: str
    reference: str | None
    duplicate: bool = False

    @property
    def settled(self) -> bool:
        """Processed, now or before. False while another worker holds the message's claim
        (or a dead one left it half-done): a mailbox keeps it unread for a later poll."""
        return self.outcome != Outcome.PROCESSING


def mailbox_user():
    """Who opens the cases and writes the notes that come by mail: a service account that
    cannot sign in."""
    user, created = get_user_model().objects.get_or_create(
        username=MAILBOX_USER,
        defaults={"first_name": "Posta", "last_name": "in arrivo", "is_active": False},
    )
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    return user


def receive_mail(raw: bytes, *, mailbox: str, now: datetime | None = None) -> Received:
    """Process one raw RFC 5322 message; safe to call again with the same message."""
    now = now or timezone.now()
    too_big = len(raw) > settings.MAIL_MAX_BYTES
    parsed = mailparse.parse(_headers_only(raw) if too_big else raw)
    mail, fresh = _claim(parsed, raw, mailbox=mailbox, now=now, too_big=too_big)
    if not fresh:
        return Received(mail.outcome, mail.case.reference if mail.case else None, duplicate=True)
    if too_big:
        return _refuse(mail, parsed, now)
    if parsed.automatic:
        return _close(mail, Outcome.IGNORED, parsed.automatic)
    case = _thread(parsed)
    if case is not None:
        return _reply_on(case, mail, parsed, now)
    return _new_case(mail, parsed, mailbox=mailbox, now=now)


def _headers_only(raw: bytes) -> bytes:
    end = raw.find(b"\r\n\r\n")
    end = raw.find(b"\n\n") if end < 0 else end
    return raw[: end if 0 <= end < 256 * 1024 else 256 * 1024]


def _claim(parsed, raw: bytes, *, mailbox: str, now: datetime, too_big: bool):
    """The message's row, claimed for processing; (row, False) when it was processed
    already or another worker is at it."""
    try:
        with transaction.atomic():
            mail = InboundMail.objects.create(
                message_id=parsed.message_id,
                mailbox=mailbox[:100],
                received_at=now,
                sender=parsed.sender,
                sender_name=parsed.sender_name,
                subject=parsed.subject,
                text="" if too_big else parsed.text,
                reply="" if too_big else parsed.reply,
                raw=b"" if too_big else raw,
                size=len(raw),
                outcome=Outcome.PROCESSING,
                reason=",".join(parsed.problems)[:100],
                claimed_at=now,
            )
            return mail, True
    except IntegrityError:
        pass
    mail = InboundMail.objects.select_related("case").get(message_id=parsed.message_id)
    if mail.outcome != Outcome.PROCESSING:
        return mail, False
    # Left half-done by a crash: taken over once its claim is old enough.
    stale = Q(claimed_at__isnull=True) | Q(claimed_at__lt=now - CLAIM_EXPIRES)
    if InboundMail.objects.filter(stale, id=mail.id, outcome=Outcome.PROCESSING).update(
        claimed_at=now
    ):
        return mail, True
    return mail, False


def _close(mail: InboundMail, outcome: str, reason: str, *, triage: bool = False) -> Received:
    fields = {"outcome": outcome, "reason": reason[:100], "claimed_at": None}
    if triage:
        fields["triage"] = InboundMail.Triage.OPEN
    InboundMail.objects.filter(id=mail.id, outcome=Outcome.PROCESSING).update(**fields)
    return Received(outcome, None)


def _refuse(mail: InboundMail, parsed, now: datetime) -> Received:
    """Too big to take: said once to a person (never to a robot), kept as a header row."""
    if parsed.sender and not parsed.automatic:
        with transaction.atomic():
            OutboundMail.objects.create(
                kind=OutboundMail.Kind.REFUSAL,
                to_address=parsed.sender,
                subject=f"Re: {parsed.subject}"[:300],
                body=_(
                    "Your message is larger than %(mb)s MB and could not be received. Send the "
                    "text again with smaller attachments, or call us."
                )
                % {"mb": settings.MAIL_MAX_BYTES // (1024 * 1024)},
                message_id=outbox.message_id(),
                in_reply_to=parsed.message_id,
                created_at=now,
                next_attempt_at=now,
            )
    return _close(mail, Outcome.REFUSED, "too_big")


def _thread(parsed) -> Case | None:
    """The case this message answers: a message Presidio sent (or the sender's own earlier
    message on a case), else the reference in the subject."""
    if parsed.in_reply_to:
        sent = (
            OutboundMail.objects.filter(message_id__in=parsed.in_reply_to, case__isnull=False)
            .select_related("case__end_user")
            .order_by("-created_at")
            .first()
        )
        if sent is not None:
            return sent.case
        earlier = (
            InboundMail.objects.filter(message_id__in=parsed.in_reply_to, case__isnull=False)
            .select_related("case__end_user")
            .order_by("-received_at")
            .first()
        )
        if earlier is not None:
            return earlier.case
    if parsed.reference:
        return Case.objects.select_related("end_user").filter(reference=parsed.reference).first()
    return None


def _reply_on(case: Case, mail: InboundMail, parsed, now: datetime) -> Received:
    owner = (case.end_user.email if case.end_user else "").lower()
    if not owner or owner != parsed.sender:
        return _close(mail, Outcome.TRIAGE, "sender_not_on_case", triage=True)
    done_at = case.closed_at or case.resolved_at
    if case.status not in OPEN_STATUSES and done_at and now - done_at > REOPEN_BY_MAIL:
        return _close(mail, Outcome.TRIAGE, "case_closed_long_ago", triage=True)
    mail.reply, mail.text, mail.subject = parsed.reply, parsed.text, parsed.subject
    try:
        case = services.add_customer_mail(
            actor=mailbox_user(),
            case=case,
            mail=mail,
            now=now,
            attachments=parsed.attachments,
        )
    except CaseChangedMeanwhile:
        return Received(Outcome.NOTE_ADDED, case.reference, duplicate=True)
    return Received(Outcome.NOTE_ADDED, case.reference)


def _new_case(mail: InboundMail, parsed, *, mailbox: str, now: datetime) -> Received:
    """A known end user's new message opens a case on their contract in force, with the
    mailbox's category; anything less certain goes to triage."""
    senders = list(EndUser.objects.filter(email=parsed.sender, is_active=True)[:2])
    if len(senders) != 1:
        reason = "unknown_sender" if not senders else "several_end_users"
        return _close(mail, Outcome.TRIAGE, reason, triage=True)
    end_user = senders[0]
    category = mailbox_category(mailbox)
    contract = (
        Contract.objects.filter(
            contract_selectors.in_force_on(now.date()), client_id=end_user.client_id
        )
        .order_by("code")
        .first()
        if category
        else None
    )
    if contract is None:
        reason = "no_category_rule" if not category else "no_contract"
        return _close(mail, Outcome.TRIAGE, reason, triage=True)
    try:
        case = services.open_case(
            actor=mailbox_user(),
            request=services.CaseRequest(
                contract_code=contract.code,
                category_code=category,
                channel=Channel.EMAIL,
                subject=parsed.subject or _("(no subject)"),
                description=parsed.reply or parsed.text or parsed.subject or _("(empty message)"),
                end_user_id=end_user.id,
                inbound_mail_id=mail.id,
                mail_attachments=tuple(parsed.attachments),
            ),
            now=now,
        )
    except CaseChangedMeanwhile:
        return Received(Outcome.CASE_OPENED, None, duplicate=True)
    except PresidioError as error:  # a similar open case, a category not in the contract…
        return _close(mail, Outcome.TRIAGE, f"not_opened: {error.code}", triage=True)
    return Received(Outcome.CASE_OPENED, case.reference)


# --- Triage ------------------------------------------------------------------------------------


def open_case_from_triage(
    *, actor, mail_id: int, end_user_id: int, contract_code: str, category: str, now: datetime
) -> Case:
    """An operator names the caller of a message in triage: the case is opened from it (the
    message becomes its description), in one transaction with the triage decision."""
    mail = InboundMail.objects.get(id=mail_id)
    if mail.outcome != Outcome.TRIAGE:
        raise TriageDone()
    return services.open_case(
        actor=actor,
        request=services.CaseRequest(
            contract_code=contract_code,
            category_code=category,
            channel=Channel.EMAIL,
            subject=mail.subject or _("(no subject)"),
            description=mail.reply or mail.text or mail.subject or _("(empty message)"),
            end_user_id=end_user_id,
            inbound_mail_id=mail.id,
            mail_attachments=tuple(mailparse.parse(bytes(mail.raw)).attachments)
            if mail.raw
            else (),
        ),
        now=now,
    )


def discard_from_triage(*, actor, mail_id: int, note: str, now: datetime) -> InboundMail:
    """Spam, or nothing to do: recorded with who decided and why."""
    done = InboundMail.objects.filter(id=mail_id, outcome=Outcome.TRIAGE).update(
        outcome=Outcome.IGNORED,
        triage=InboundMail.Triage.DISCARDED,
        triaged_by=actor,
        triaged_at=now,
        triage_note=(note or "").strip()[:300],
    )
    if not done:
        raise TriageDone()
    return InboundMail.objects.get(id=mail_id)


def mailbox_category(mailbox: str) -> str:
    """The category new cases from this mailbox get ("" sends them to triage)."""
    categories = settings.MAILBOX_CATEGORIES
    return categories.get(mailbox) or categories.get("*", "")


# --- The outbox -------------------------------------------------------------------------------


@dataclass(frozen=True)
class SendRun:
    sent: int
    retried: int
    failed: int


SEND_BATCH = 500


def send_due_mail(
    *, now: datetime | None = None, mail_id: int | None = None, limit: int = SEND_BATCH
):
    """Send the outbox rows that are due (or the one given), each claimed by a conditional
    update so two workers never send the same mail."""
    now = now or timezone.now()
    due = OutboundMail.objects.filter(
        Q(claimed_at__isnull=True) | Q(claimed_at__lt=now - CLAIM_EXPIRES),
        status=OutboundMail.Status.PENDING,
        next_attempt_at__lte=now,
    )
    if mail_id is not None:
        due = due.filter(id=mail_id)
    ids = list(due.order_by("next_attempt_at").values_list("id", flat=True)[:limit])
    sent = retried = failed = 0
    connection = None
    for row_id in ids:
        if not due.filter(id=row_id).update(claimed_at=now):
            continue  # another worker took it
        mail = OutboundMail.objects.select_related("case").get(id=row_id)
        connection = connection or get_connection(fail_silently=False)
        try:
            _message(mail, connection).send()
        except (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused) as error:
            _failed(mail, error, now)
            failed += 1
        except (smtplib.SMTPException, OSError) as error:
            if mail.attempts + 1 >= len(SEND_BACKOFF_MINUTES):
                _failed(mail, error, now)
                failed += 1
            else:
                _retry(mail, error, now)
                retried += 1
            connection = None
        else:
            _sent(mail, now)
            sent += 1
    return SendRun(sent, retried, failed)


def _message(mail: OutboundMail, connection) -> EmailMessage:
    headers = {"Message-ID": mail.message_id}
    if mail.in_reply_to:
        headers |= {"In-Reply-To": mail.in_reply_to, "References": mail.in_reply_to}
    if mail.kind in (OutboundMail.Kind.ACKNOWLEDGEMENT, OutboundMail.Kind.REFUSAL):
        headers["Auto-Submitted"] = "auto-replied"  # RFC 3834: robots do not answer it
    return EmailMessage(
        subject=mail.subject,
        body=mail.body,
        to=[mail.to_address],
        headers=headers,
        connection=connection,
    )


def _sent(mail: OutboundMail, now: datetime) -> None:
    with transaction.atomic():
        OutboundMail.objects.filter(id=mail.id).update(
            status=OutboundMail.Status.SENT,
            sent_at=now,
            attempts=mail.attempts + 1,
            claimed_at=None,
            last_error="",
        )
        if mail.case_id:
            CaseEvent.objects.create(
                case_id=mail.case_id,
                kind=CaseEvent.Kind.MAIL_SENT,
                at=now,
                to_value=mail.kind,
                detail={"message_id": mail.message_id, "to": mail.to_address},
            )
    if mail.case_id and mail.case.channel == Channel.EMAIL and mail.kind != "ack":
        services.first_response_by_mail(mail.case_id, message_id=mail.message_id, now=now)


def _retry(mail: OutboundMail, error: Exception, now: datetime) -> None:
    minutes = SEND_BACKOFF_MINUTES[mail.attempts]
    OutboundMail.objects.filter(id=mail.id).update(
        attempts=mail.attempts + 1,
        next_attempt_at=now + timedelta(minutes=minutes),
        claimed_at=None,
        last_error=_error_text(error),
    )
    logger.warning(
        "mail %s not sent (attempt %d): retried in %d min", mail.id, mail.attempts + 1, minutes
    )


def _failed(mail: OutboundMail, error: Exception, now: datetime) -> None:
    with transaction.atomic():
        OutboundMail.objects.filter(id=mail.id).update(
            status=OutboundMail.Status.FAILED,
            attempts=mail.attempts + 1,
            claimed_at=None,
            last_error=_error_text(error),
        )
        if mail.case_id:
            CaseEvent.objects.create(
                case_id=mail.case_id,
                kind=CaseEvent.Kind.MAIL_FAILED,
                at=now,
                to_value=mail.kind,
                detail={"message_id": mail.message_id, "error": _error_text(error)},
            )
    logger.error("mail %s not delivered: failed for good", mail.id)


def _error_text(error: Exception) -> str:
    """The server's answer without the addresses it may quote."""
    code = getattr(error, "smtp_code", None)
    return f"{type(error).__name__}{f' {code}' if code else ''}"[:300]
