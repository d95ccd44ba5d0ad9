"""Reads of the care app shared by pages, the API and other apps."""

from datetime import datetime, timedelta

from django.db.models import Prefetch, Q, QuerySet

from care.exceptions import CaseNotFound
from care.models import OPEN_STATUSES, Attachment, Case, CaseEvent, CaseStatus, Handoff, Note
from contracts import selectors as contract_selectors
from contracts.models import ClosingCode

SIMILAR_WINDOW = timedelta(days=7)


def cases_visible_to(user) -> QuerySet[Case]:
    """The cases a user may list, with what list pages show in one query.

    People who work or supervise cases see every case, nationally (a call may concern any
    client); whose caller they see in full is need-to-know, decided by `care.privacy` for
    every page, API and export. Everyone else (a manager sees aggregates) sees none.
    """
    if not (user.has_perm("config.handle_cases") or user.has_perm("config.supervise")):
        return Case.objects.none()
    return Case.objects.select_related(
        "client", "contract", "category", "end_user", "referent", "assignee"
    )


def open_cases_assigned_to(user) -> QuerySet[Case]:
    """ "My cases": the user's open cases, the most urgent first (the list page and the
    operator's workspace)."""
    return (
        cases_visible_to(user)
        .filter(assignee=user, status__in=OPEN_STATUSES)
        .order_by("priority", "resolution_due_at", "opened_at")
    )


def case_by_reference(user, reference: str) -> Case:
    """Missing and not-yours answer the same."""
    case = (
        cases_visible_to(user)
        .select_related("contract__calendar", "contract_version", "opened_by")
        .prefetch_related(
            # Apart, not joined: two more copies of care_case in the join made planning this
            # one-row query take 9 ms; usually neither is set, and then no query is made.
            "merged_into",
            "linked_to",
            Prefetch(
                "notes",
                queryset=Note.objects.select_related("author").prefetch_related(
                    Prefetch("attachments", queryset=Attachment.objects.all())
                ),
            ),
            Prefetch("events", queryset=CaseEvent.objects.select_related("actor")),
            Prefetch("handoffs", queryset=Handoff.objects.select_related("requested_by")),
            "end_user__phones",
            "contract_version__sla_targets",
        )
        .filter(reference=(reference or "").strip().upper())
        .first()
    )
    if case is None:
        raise CaseNotFound()
    return case


def similar_cases(*, end_user_id: int, category_code: str, now: datetime) -> list[Case]:
    """Cases intake should offer instead of a new one: same caller and category, open or
    resolved/closed in the last 7 days (never a merged one)."""
    recent = Q(
        status__in=[CaseStatus.RESOLVED, CaseStatus.CLOSED], resolved_at__gte=now - SIMILAR_WINDOW
    ) | Q(status=CaseStatus.CLOSED, closed_at__gte=now - SIMILAR_WINDOW)
    return list(
        Case.objects.filter(
            end_user_id=end_user_id, category__code=category_code, merged_into__isnull=True
        )
        .filter(Q(status__in=OPEN_STATUSES) | recent)
        .select_related("category")
        .order_by("-opened_at")[:5]
    )


def open_cases_of_end_users(end_user_ids: list[int]) -> dict[int, list[dict]]:
    """For the caller lookup: each end user's open cases, newest first (one query)."""
    found: dict[int, list[dict]] = {}
    cases = (
        Case.objects.filter(end_user_id__in=end_user_ids, status__in=OPEN_STATUSES)
        .select_related("category")
        .order_by("-opened_at")
        .values(
            "end_user_id",
            "reference",
            "subject",
            "status",
            "priority",
            "category__code",
            "opened_at",
            "resolution_due_at",
        )
    )
    for case in cases:
        found.setdefault(case["end_user_id"], []).append(
            {
                "reference": case["reference"],
                "subject": case["subject"],
                "status": case["status"],
                "status_label": CaseStatus(case["status"]).label,
                "priority": case["priority"],
                "category": case["category__code"],
                "opened_at": case["opened_at"],
                "resolution_due_at": case["resolution_due_at"],
            }
        )
    return found


def timeline(case: Case) -> list[dict]:
    """Events and notes in one chronological list (uses the prefetched rows)."""
    items = [{"at": e.at, "kind": "event", "event": e} for e in case.events.all()]
    items += [{"at": n.created_at, "kind": "note", "note": n} for n in case.notes.all()]
    return sorted(items, key=lambda item: (item["at"], item["kind"] == "note"))


def closing_codes_of(case: Case) -> list[ClosingCode]:
    """The closing codes this case can be resolved with (its contract version's list, or the
    national default list; the category's restriction applied; the portal's own included)."""
    category_code = case.category.code if case.category_id else ""
    return contract_selectors.closing_codes_for(
        case.contract_version_id, category_code=category_code
    )
