"""Reads of major incidents shared by the pages, the API, intake, the console and reports.

Incident pages show no caller: linked cases appear by reference, status, client and
category only, so the list and detail hold no personal data (config/access_routes.py).
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Count, IntegerField, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce

from care.exceptions import IncidentNotFound
from care.models import (
    ACTIVE_INCIDENT_STATUSES,
    OPEN_STATUSES,
    Case,
    CaseCall,
    Incident,
    IncidentCase,
    IncidentContact,
    IncidentNotice,
    IncidentStatus,
)
from contracts.models import Category

QUARTER = timedelta(minutes=15)


def category_name(code: str) -> str:
    """The name contracts give the incident's category ("SIM smarrita o rubata" for
    `sim-lost`), from the newest contract version that has it; the code if none does."""
    if not code:
        return ""
    name = (
        Category.objects.filter(code=code)
        .order_by("-version_id")
        .values_list("name", flat=True)
        .first()
    )
    return name or code


def _count(queryset: QuerySet) -> Coalesce:
    return Coalesce(
        Subquery(
            queryset.order_by().values("incident_id").annotate(n=Count("id")).values("n")[:1],
            output_field=IntegerField(),
        ),
        0,
    )


def incidents_listed() -> QuerySet[Incident]:
    """Every incident, newest first, with its linked, still-open and information-only counts
    (subqueries: the list's query count does not grow with its length)."""
    current = IncidentCase.objects.filter(incident=OuterRef("pk"), unlinked_at__isnull=True)
    return Incident.objects.select_related("owner").annotate(
        linked_count=_count(current),
        open_count=_count(current.filter(case__status__in=OPEN_STATUSES)),
        contact_count=_count(IncidentContact.objects.filter(incident=OuterRef("pk"))),
    )


def incident_by_id(incident_id) -> Incident:
    incident = incidents_listed().filter(id=incident_id).first() if incident_id else None
    if incident is None:
        raise IncidentNotFound
    return incident


def linked_cases(incident: Incident) -> QuerySet[Case]:
    """The cases linked now: reference, status, client, category (no caller)."""
    return (
        Case.objects.filter(
            incident_links__incident=incident, incident_links__unlinked_at__isnull=True
        )
        .select_related("client", "category")
        .only(
            "reference",
            "status",
            "opened_at",
            "resolution_code",
            "client__name",
            "category__name",
            "category__code",
        )
        .order_by("-opened_at", "-id")
    )


def case_named(reference: str) -> Case | None:
    """The case a supervisor names to unlink (as typed: spaces and case ignored)."""
    wanted = (reference or "").strip().upper()
    return Case.objects.filter(reference=wanted).only("id", "reference").first()


def active_incidents_for_caller(*, client, contract_services) -> list[Incident]:
    """The confirmed incidents whose scope covers a caller: one of their contract's services,
    their client (or all clients), their province (or the whole country). The province is
    the client's: the end-user directory has none. One query over the few active incidents;
    the scope test runs on their value lists. Suspected incidents are not read out to
    callers until a supervisor confirms them."""
    services = set(contract_services or [])
    return [
        incident
        for incident in Incident.objects.filter(status=IncidentStatus.CONFIRMED).only(
            "id",
            "title",
            "services",
            "client_ids",
            "provinces",
            "public_message",
            "category_code",
            "priority",
            "expected_end_at",
            "started_at",
            "status",
        )
        if services.intersection(incident.services)
        and (not incident.client_ids or client.id in incident.client_ids)
        and (not incident.provinces or client.province in incident.provinces)
    ]


@dataclass(frozen=True)
class ConsoleIncident:
    incident: Incident
    linked: int
    contacts: int
    calls_per_quarter: list[tuple[datetime, int]]  # the last two hours, oldest first


def console_incidents(*, now: datetime, quarters: int = 8) -> list[ConsoleIncident]:
    """Active incidents with their linked cases and the calls they took per 15 minutes:
    calls on which a linked case was opened or updated, and information-only contacts
    logged during a call. Three grouped queries whatever the number of incidents."""
    incidents = list(incidents_listed().filter(status__in=ACTIVE_INCIDENT_STATUSES))
    if not incidents:
        return []
    ids = [incident.id for incident in incidents]
    start = _quarter_floor(now) - QUARTER * (quarters - 1)
    buckets: dict[int, dict[datetime, set]] = {i: {} for i in ids}
    on_cases = CaseCall.objects.filter(
        at__gte=start,
        case__incident_links__incident_id__in=ids,
        case__incident_links__unlinked_at__isnull=True,
    ).values_list("case__incident_links__incident_id", "at", "call_id")
    info = (
        IncidentContact.objects.filter(incident_id__in=ids, at__gte=start)
        .exclude(call_id="")
        .values_list("incident_id", "at", "call_id")
    )
    for incident_id, at, call_id in [*on_cases, *info]:
        buckets[incident_id].setdefault(_quarter_floor(at), set()).add(call_id)
    slots = [start + QUARTER * n for n in range(quarters)]
    return [
        ConsoleIncident(
            incident=incident,
            linked=incident.linked_count,
            contacts=incident.contact_count,
            calls_per_quarter=[(slot, len(buckets[incident.id].get(slot, ()))) for slot in slots],
        )
        for incident in incidents
    ]


def _quarter_floor(at: datetime) -> datetime:
    return at.replace(minute=at.minute - at.minute % 15, second=0, microsecond=0)


def unread_incident_notices(user) -> QuerySet[IncidentNotice]:
    return IncidentNotice.objects.filter(recipient=user, read_at__isnull=True).select_related(
        "incident"
    )
