"""The outbox: what the end user is told by e-mail, written in the same transaction as what
it tells, so a rolled-back change sends nothing and a committed one is never forgotten.

`queue_mail` is called by the case services (a case opened by mail is acknowledged, a note
for the customer is sent, the resolution is announced); `care.mail.send_due_mail` (a worker,
after commit and again by beat) hands the rows to the mail server with retries. Only what the
end user may see goes out: the note written for them, their case's reference and subject,
never an internal note or another person's data.
"""

from datetime import datetime
from email.utils import make_msgid

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F
from django.template.loader import render_to_string
from django.utils import translation

from care.models import Case, InboundMail, Note, OutboundMail
from config.db import AnyOf
from config.tasks import enqueue

IDS_PER_READ = 5000  # SQLite: well within its bound parameters
SUBJECTS = {
    OutboundMail.Kind.ACKNOWLEDGEMENT: "[{reference}] {subject}",
    OutboundMail.Kind.NOTE: "Re: [{reference}] {subject}",
    OutboundMail.Kind.RESOLUTION: "[{reference}] {subject}",
}


def message_id() -> str:
    return make_msgid(domain=settings.MAIL_DOMAIN)


def queue_mail(
    case: Case, kind: str, *, now: datetime, note: Note | None = None
) -> OutboundMail | None:
    """An outbox row for the case's end user (None when they have no address), sent once the
    transaction commits."""
    end_user = case.end_user
    address = (end_user.email if end_user else "").strip()
    if not address:
        return None
    signature = case.contract.mail_signature or settings.MAIL_SIGNATURE
    with translation.override(end_user.language or settings.LANGUAGE_CODE):
        body = render_to_string(
            f"mail/{kind}.txt", {"case": case, "note": note, "signature": signature}
        )
    last_in = (
        InboundMail.objects.filter(case=case).order_by("-received_at").values("message_id").first()
    )
    mail = OutboundMail.objects.create(
        case=case,
        note=note,
        kind=kind,
        to_address=address,
        subject=SUBJECTS[kind].format(reference=case.reference, subject=case.subject)[:300],
        body=body,
        message_id=message_id(),
        in_reply_to=last_in["message_id"] if last_in else "",
        created_at=now,
        next_attempt_at=now,
    )
    transaction.on_commit(lambda: enqueue("care.tasks.send_mail_task", mail.id), robust=True)
    return mail


def will_send_to(case: Case) -> bool:
    """Whether a note for the customer of this case goes out by e-mail."""
    return bool(case.end_user and case.end_user.email)


def queue_incident_resolution(incident, case_ids: list[int], *, now: datetime) -> int:
    """The resolution notice of a major incident: one row per case it resolved now
    (`case_ids`) whose end user has an address, in the resolution's transaction and in bulk
    (the text is rendered once per language and signature, not once per case: 10,000 cases
    stay within seconds). Returns how many; one worker run sends them after commit.

    The cases are read by their ids: the planner cannot know the rows the resolution has
    just written (their statistics are older), and joined through the incident's links it
    chose a nested loop that took 13 s for 10,000 cases. On PostgreSQL the ids are one array
    parameter (`AnyOf`), one statement for any number of cases; SQLite binds each id, so it
    reads them a few thousand at a time."""
    per_read = max(1, len(case_ids)) if connection.vendor == "postgresql" else IDS_PER_READ
    rows = []
    for start in range(0, len(case_ids), per_read):
        rows += (
            Case.objects.filter(AnyOf(F("id"), case_ids[start : start + per_read]))
            .filter(end_user__isnull=False)
            .exclude(end_user__email="")
            .order_by("id")
            .values_list(
                "id",
                "reference",
                "end_user__email",
                "end_user__language",
                "contract__mail_signature",
            )
        )
    bodies: dict[tuple[str, str], str] = {}
    mails = []
    for case_id, reference, address, language, signature in rows:
        key = (language or settings.LANGUAGE_CODE, signature or settings.MAIL_SIGNATURE)
        if key not in bodies:
            with translation.override(key[0]):
                bodies[key] = render_to_string(
                    "mail/incident_resolution.txt", {"incident": incident, "signature": key[1]}
                )
        mails.append(
            OutboundMail(
                case_id=case_id,
                kind=OutboundMail.Kind.RESOLUTION,
                to_address=address,
                subject=f"[{reference}] {incident.title}"[:300],
                body=bodies[key],
                message_id=message_id(),
                created_at=now,
                next_attempt_at=now,
            )
        )
    OutboundMail.objects.bulk_create(mails, batch_size=1000)
    if mails:
        transaction.on_commit(lambda: enqueue("care.tasks.send_due_mail_task"), robust=True)
    return len(mails)
