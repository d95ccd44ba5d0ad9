"""Reads of the care app shared by pages, the API and other apps."""

from datetime import datetime, timedelta

from django.db.models import OuterRef, Prefetch, Q, QuerySet, prefetch_related_objects

from care import ports, wording
from care.exceptions import CaseNotFound
from care.models import (
    OPEN_STATUSES,
    Attachment,
    Case,
    CaseEvent,
    CaseStatus,
    Handoff,
    Note,
    SlaAlert,
)
from care.wording import Names
from config import people
from config.db import JSONRows, as_prefetched
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
        .select_related("contract__calendar", "contract__client", "contract_version", "opened_by")
        .prefetch_related(*_case_details())
        # The calendar's rules, the SLA targets and the caller's phones: JSON columns of the
        # case's row, not three more queries.
        .annotate(
            **contract_selectors.calendar_rules(OuterRef("contract__calendar_id")),
            sla_target_rows=contract_selectors.sla_targets_of(OuterRef("contract_version_id")),
            phone_rows=contract_selectors.phones_of(OuterRef("end_user_id")),
        )
        .filter(reference=(reference or "").strip().upper())
        .first()
    )
    if case is None:
        raise CaseNotFound()
    for note in case.notes.all():  # their attachments came as a JSON column of each note
        as_prefetched(note, "attachments", Attachment, note.attachment_rows)  # type: ignore[attr-defined]
    contract_selectors.keep_calendar_rules(case, case.contract.calendar)
    contract_selectors.keep_sla_targets(case.sla_target_rows, case.contract_version)
    if case.end_user is not None:
        contract_selectors.keep_phones(case.phone_rows, case.end_user)
    return case


def _case_details() -> tuple:
    return (
        # Apart, not joined: two more copies of care_case in the join made planning this
        # one-row query take 9 ms; usually neither is set, and then no query is made.
        "merged_into",
        "linked_to",
        Prefetch(
            "notes",
            queryset=Note.objects.select_related("author").annotate(
                attachment_rows=JSONRows(
                    Attachment.objects.filter(note_id=OuterRef("pk")).order_by("id"),
                    "id",
                    "note_id",
                    "file",
                    "original_name",
                    "content_type",
                    "size",
                )
            ),
        ),
        Prefetch("events", queryset=CaseEvent.objects.select_related("actor")),
        "sla_alerts",
        Prefetch("handoffs", queryset=Handoff.objects.select_related("requested_by")),
    )


def case_just_opened(case: Case) -> Case:
    """The case `services.open_case` returned (not from an e-mail), with what
    `case_by_reference` gives (its related rows are already on it, the caller's phones and
    the SLA targets too): not read back, only its events. Its opener sees it, as
    `cases_visible_to` lets them."""
    # A case opened this instant has no SLA transition and no hand-off yet, and no note
    # unless an e-mail's attachments made one: nothing to read (an empty queryset is
    # prefetched without a query).
    empty = {
        "sla_alerts": SlaAlert.objects.none(),
        "handoffs": Handoff.objects.none(),
        "notes": Note.objects.none(),
    }
    details = []
    for detail in _case_details():
        name = detail.prefetch_through if isinstance(detail, Prefetch) else detail
        details.append(Prefetch(name, queryset=empty[name]) if name in empty else detail)
    prefetch_related_objects([case], *details, "end_user__phones", "contract_version__sla_targets")
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
            "contract__code",
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
                "contract_code": case["contract__code"],
                "opened_at": case["opened_at"],
                "resolution_due_at": case["resolution_due_at"],
            }
        )
    return found


def latest_case_contracts(end_user_ids: list[int]) -> dict[int, str]:
    """Each end user's contract of their most recent case, for those who have one (one
    query, bounded: the newest case per end user is all the intake needs)."""
    found: dict[int, str] = {}
    rows = (
        Case.objects.filter(end_user_id__in=end_user_ids)
        .order_by("-opened_at")
        .values_list("end_user_id", "contract__code")[: 20 * max(1, len(end_user_ids))]
    )
    for end_user_id, code in rows:
        found.setdefault(end_user_id, code)
    return found


SLA_EVENT_KINDS: dict[str, str] = {
    SlaAlert.Level.AT_RISK: CaseEvent.Kind.SLA_AT_RISK,
    SlaAlert.Level.BREACHED: CaseEvent.Kind.SLA_BREACHED,
}


def case_events(case: Case) -> list[CaseEvent]:
    """The case's events by time, its SLA transitions among them: each `SlaAlert` (their one
    record) told as the event of kind `sla_at_risk`/`sla_breached` it used to be copied into,
    unsaved, with the same facts. An alert written before migration `slaalert_facts` has no
    facts: the event written with it is already in `case.events` and tells it. Uses the
    prefetched rows of `case_by_reference` (else one query each for events and alerts)."""
    told = [
        CaseEvent(
            case_id=alert.case_id,
            kind=SLA_EVENT_KINDS[alert.level],
            at=alert.at,
            from_value=alert.from_state,
            to_value=alert.level,
            detail={
                "target": alert.target,
                "due_at": alert.due_at.isoformat() if alert.due_at else None,
                "at_risk_at": alert.at_risk_at.isoformat() if alert.at_risk_at else None,
            },
        )
        for alert in case.sla_alerts.all()
        if alert.from_state
    ]
    # Stable: at the same instant, what people did comes before what the recompute saw.
    return sorted([*case.events.all(), *told], key=lambda event: event.at)


def timeline(case: Case) -> list[dict]:
    return timeline_with_names(case)[0]


def timeline_with_names(case: Case) -> tuple[list[dict], Names]:
    """Events and notes in one chronological list (uses the prefetched rows); each event
    said in the reader's language (`care.wording`: `what`, `change`, `reason`, `text`),
    with the names of the people and queues it mentions, the case's own queue among them
    (2 queries at most)."""
    events = case_events(case)
    units = {h.unit_code: h.unit_name for h in case.handoffs.all()}
    names = names_for_events(events, units=units, queues=(case.queue_code,))
    items = [
        {"at": e.at, "kind": "event", "event": e, **wording.event_in_words(e, names)}
        for e in events
    ]
    items += [{"at": n.created_at, "kind": "note", "note": n} for n in case.notes.all()]
    return sorted(items, key=lambda item: (item["at"], item["kind"] == "note")), names


def names_for_events(
    events, *, units: dict[str, str] | None = None, queues: tuple[str, ...] = ()
) -> Names:
    """The people and queues a list of case events names (`care.wording`): one query for
    the people, one for the queues, whatever the number of events. `units`: the hand-off
    units' names by code (the case's hand-offs know them); `queues`: more queues to name."""
    ids: set[int | None] = set()
    usernames: set[str] = set()
    codes: set[str] = set(queues)
    for event in events:
        detail = event.detail or {}
        if event.kind == CaseEvent.Kind.ASSIGNED:
            ids |= {detail.get("assignee"), detail.get("previous")}
            usernames |= {event.from_value, event.to_value}
            codes.add(detail.get("queue") or "")
        elif event.kind == CaseEvent.Kind.QUEUE_CHANGED:
            codes |= {event.from_value, event.to_value}
    by_id, by_username = people.names_of(ids=ids, usernames=usernames)
    return Names(
        people=by_id,
        usernames=by_username,
        queues=ports.queue_names({c for c in codes if c}),
        units=units or {},
    )


def closing_codes_of(case: Case) -> list[ClosingCode]:
    """The closing codes this case can be resolved with (its contract version's list, or the
    national default list; the category's restriction applied; the portal's own included)."""
    category_code = case.category.code if case.category_id else ""
    return contract_selectors.closing_codes_for(
        case.contract_version_id, category_code=category_code
    )
