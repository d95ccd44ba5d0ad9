"""Data-subject requests: everything Presidio holds on one end user, and their erasure.

Administrators only (the views check it). The record lists the person, every case that
still names them (with notes, hand-offs and attachments' names) and every consultation of
their data from the access log: when, what kind, why, and whether it was refused, never by
whom (the operators' names are not the subject's to know). Erasure anonymises every case of
the person exactly as retention does (care.retention), then either blanks the directory
entry (anonymise: the row stays, so a re-import does not bring them back unseen) or deletes
it (erase). Both are written to the access log with the request's reference as purpose.
"""

import contextlib
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.db.models import Prefetch
from django.utils.translation import gettext_lazy as _

from care.models import OPEN_STATUSES, Case, Handoff, Note
from care.retention import BATCH, ERASURE, anonymise_cases
from config.errors import Conflict, InvalidInput, NotFound
from config.models import AccessLog
from contracts.identifiers import InvalidIdentifier, normalise_codice_fiscale
from contracts.models import EndUser
from contracts.phones import InvalidPhoneNumber, normalise_phone

# Why each logged route touches a person's data, as the person should read it.
PURPOSES = {
    "api:lookup": _("Caller identified during a call"),
    "contracts:lookup": _("Caller identified during a call"),
    "contracts:lookup-panel": _("Caller identified during a call"),
    "care:intake": _("Caller identified during a call"),
    "care:intake-caller": _("Caller identified during a call"),
    "api:end-user-list": _("Client's directory maintained"),
    "api:end-user-detail": _("Client's directory maintained"),
    "care:case-detail": _("Request handled"),
    "api:case-detail": _("Request handled"),
    "care:attachment-download": _("Request handled"),
    "care:subject-search": _("Data-subject request"),
    "care:subject-request": _("Data-subject request"),
    "care:subject-export": _("Data-subject request"),
    "care:subject-erase": _("Data-subject request"),
}


class EndUserNotFound(NotFound):
    code = "end_user_not_found"
    default_message = _("End user not found.")


class SubjectHasOpenCases(Conflict):
    code = "subject_has_open_cases"
    default_message = _("Close the person's open cases first.")


def find_subjects(*, query: str) -> list[EndUser]:
    """An administrator's search: phone, e-mail, employee code or codice fiscale, exact."""
    query = query.strip()
    if not query:
        raise InvalidInput(
            _("Type a phone number, an e-mail, an employee code or a codice fiscale.")
        )
    end_users = EndUser.objects.select_related("client").prefetch_related("phones")
    if "@" in query:
        return list(end_users.filter(email=query.lower()).order_by("id")[:20])
    ids = set(EndUser.objects.filter(employee_code=query[:40]).values_list("id", flat=True))
    with contextlib.suppress(InvalidIdentifier):
        ids |= set(
            EndUser.objects.filter(codice_fiscale=normalise_codice_fiscale(query)).values_list(
                "id", flat=True
            )
        )
    try:
        number = normalise_phone(query)
    except InvalidPhoneNumber:
        number = None
    if number:
        ids |= set(EndUser.objects.filter(phones__number=number).values_list("id", flat=True))
    return list(end_users.filter(id__in=ids).order_by("last_name", "first_name", "id")[:20])


def _subject(end_user_id: int) -> EndUser:
    end_user = (
        EndUser.objects.select_related("client")
        .prefetch_related("phones")
        .filter(id=end_user_id)
        .first()
    )
    if end_user is None:
        raise EndUserNotFound
    return end_user


@dataclass(frozen=True)
class SubjectRecord:
    end_user: EndUser
    cases: list[Case]
    consultations: list[dict]

    def as_data(self, *, generated_at: datetime) -> dict:
        """Plain data for the JSON export (and the same content as the HTML page)."""
        person = self.end_user
        return {
            "generated_at": generated_at.isoformat(),
            "person": {
                "id": person.id,
                "client": person.client.name,
                "first_name": person.first_name,
                "last_name": person.last_name,
                "email": person.email,
                "employee_code": person.employee_code,
                "codice_fiscale": person.codice_fiscale,
                "phones": [phone.number for phone in person.phones.all()],
                "active": person.is_active,
                "in_directory_since": person.created_at.isoformat(),
                "last_changed": person.updated_at.isoformat(),
            },
            "cases": [
                {
                    "reference": case.reference,
                    "contract": case.contract.code,
                    "opened_at": case.opened_at.isoformat(),
                    "closed_at": case.closed_at.isoformat() if case.closed_at else None,
                    "status": case.status,
                    "channel": case.channel,
                    "category": case.category.name,
                    "priority": case.priority,
                    "subject": case.subject,
                    "description": case.description,
                    "notes": [
                        {
                            "written_at": note.created_at.isoformat(),
                            "visibility": note.visibility,
                            "text": note.body,
                            "attachments": [a.original_name for a in note.attachments.all()],
                        }
                        for note in case.notes.all()
                    ],
                    "handoffs": [
                        {
                            "unit": handoff.unit_name,
                            "sent_at": handoff.requested_at.isoformat(),
                            "request": handoff.request,
                            "answered_at": handoff.answered_at.isoformat()
                            if handoff.answered_at
                            else None,
                            "answer": handoff.answer,
                        }
                        for handoff in case.handoffs.all()
                    ],
                }
                for case in self.cases
            ],
            "consultations": [
                {**row, "at": row["at"].isoformat(), "purpose": str(row["purpose"])}
                for row in self.consultations
            ],
        }


def subject_record(end_user_id: int) -> SubjectRecord:
    """Everything held on the person, in a fixed number of queries."""
    end_user = _subject(end_user_id)
    cases = list(
        Case.objects.filter(end_user_id=end_user.id)
        .select_related("contract", "category")
        .prefetch_related(
            Prefetch("notes", queryset=Note.objects.order_by("created_at", "id")),
            "notes__attachments",
            Prefetch("handoffs", queryset=Handoff.objects.order_by("requested_at", "id")),
        )
        .order_by("opened_at", "id")
    )
    return SubjectRecord(end_user, cases, consultations_of(end_user.id))


def consultations_of(end_user_id: int) -> list[dict]:
    """When and why the person's data was searched, seen or exported; not by whom."""
    rows = (
        AccessLog.objects.filter(subjects__end_user_id=end_user_id)
        .order_by("at", "id")
        .values("at", "action", "route", "purpose", "outcome")
    )
    actions = dict(AccessLog.Action.choices)
    return [
        {
            "at": row["at"],
            "action": str(actions.get(row["action"], row["action"])),
            "purpose": PURPOSES.get(row["route"], actions.get(row["action"], "")),
            "stated_reason": row["purpose"],
            "refused": row["outcome"] == AccessLog.Outcome.DENIED,
        }
        for row in rows
    ]


def erase_subject(*, actor, end_user_id: int, keep_entry: bool, now: datetime) -> dict:
    """Anonymise every case of the person, then blank (keep_entry) or delete their entry.
    Refused while a case of theirs is open: someone is still working on their request."""
    end_user = _subject(end_user_id)
    open_cases = list(
        Case.objects.filter(end_user_id=end_user.id, status__in=OPEN_STATUSES)
        .order_by("reference")
        .values_list("reference", flat=True)
    )
    if open_cases:
        raise SubjectHasOpenCases(
            _("Close the person's open cases first: %(refs)s.") % {"refs": ", ".join(open_cases)}
        )
    anonymised = 0
    while True:
        batch = list(
            Case.objects.filter(end_user_id=end_user.id).values_list("id", flat=True)[:BATCH]
        )
        done = anonymise_cases(batch, now=now, why=ERASURE, actor=actor) if batch else 0
        if not done:
            break
        anonymised += done
    with transaction.atomic():
        end_user = EndUser.objects.select_for_update().get(id=end_user.id)
        if Case.objects.filter(end_user_id=end_user.id).exists():  # opened meanwhile
            raise SubjectHasOpenCases
        end_user.phones.all().delete()
        if keep_entry:
            end_user.first_name, end_user.last_name = "—", f"#{end_user.id}"
            end_user.email = end_user.employee_code = end_user.codice_fiscale = ""
            end_user.is_active = False
            end_user.save()
        else:
            end_user.delete()
    return {"cases_anonymised": anonymised, "entry": "anonymised" if keep_entry else "deleted"}
