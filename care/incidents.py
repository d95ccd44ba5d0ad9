"""Major incidents: one outage, many callers, one answer (issue #23). Every write of an
incident lives here; the reads pages, API, intake and console share are in
`care.incident_selectors`.

- Supervisors and managers (`supervise` or `manage_contracts`) open, update, confirm,
  link, unlink and resolve; every change is an `IncidentEvent` (who, when, what).
- Linking and resolving are set-based: a few statements whatever the number of cases
  (INSERT ... SELECT of the links and of one `CaseEvent` per case, one conditional UPDATE of
  the cases), under the incident's row lock, so two supervisors resolving at once resolve
  each case exactly once (the second finds the incident resolved: 409, nothing changed).
- Resolution resolves the linked cases that an operator could resolve (new, assigned, in
  progress, waiting for the customer). A case waiting for another unit stays open and
  linked: it leaves `waiting_unit` only through the unit's answer (care.services).
- The resolution e-mail: one notice per resolved case whose end user has an address, written
  to the outbox in the resolution's transaction and in bulk (`care.outbox`); after commit
  `care.signals.incident_resolved(incident_id, case_ids)` tells whoever listens.
- The surge detection (`detect_surges`, beat every 5 minutes) compares the cases opened in
  the last 15 minutes per (service, province, category) with the usual count for that hour
  of the week, from care's own cases of the previous weeks (care may not read reports'
  snapshots, and those hold backlog, not arrivals), and raises one suspected incident per
  surge with the evidence, told once to every supervisor.
"""

import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import IntegrityError, connection, transaction
from django.db.models import Case as CaseWhen
from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _

from care import outbox, signals
from care.exceptions import (
    IncidentAlreadyResolved,
    IncidentCasesRefused,
    IncidentNotFound,
    InvalidIncidentData,
)
from care.models import (
    ACTIVE_INCIDENT_STATUSES,
    OPEN_STATUSES,
    Case,
    CaseEvent,
    CaseStatus,
    Incident,
    IncidentCase,
    IncidentContact,
    IncidentEvent,
    IncidentNotice,
    IncidentStatus,
    SlaState,
)
from config import roles
from config.db import try_advisory_xact_lock
from contracts import selectors as contract_selectors
from contracts.identifiers import province_codes
from contracts.models import Client, Contract, Priority, Service

# Who runs incidents: supervisors and managers (config.roles capabilities).
MANAGE_CAPABILITIES = ("supervise", "manage_contracts")
READ_CAPABILITIES = (*MANAGE_CAPABILITIES, "view_reports")
# The statuses an incident's resolution resolves (waiting_unit waits for the unit's answer).
RESOLVABLE = (
    CaseStatus.NEW,
    CaseStatus.ASSIGNED,
    CaseStatus.IN_PROGRESS,
    CaseStatus.WAITING_CUSTOMER,
)
EDITABLE = (
    "title",
    "services",
    "client_ids",
    "provinces",
    "lines",
    "started_at",
    "expected_end_at",
    "public_message",
    "category_code",
    "priority",
    "resolution_code",
    "owner_id",
)


# The closing code of the cases an incident resolves (national default list) unless it says.
INCIDENT_CODE = "incidente-risolto"
PLAUSIBLE_YEARS = (2000, 2100)  # a date outside is a typing mistake (or a probe)


def may_manage(user) -> bool:
    return bool(user and user.is_authenticated) and any(
        user.has_perm(f"config.{name}") for name in MANAGE_CAPABILITIES
    )


# --- Opening and updating -------------------------------------------------------------------


@dataclass
class IncidentData:
    """What a form or the API sends; on update only the names in `given` change."""

    title: str = ""
    services: list[str] = field(default_factory=list)
    client_ids: list[int] = field(default_factory=list)
    provinces: list[str] = field(default_factory=list)
    lines: str = ""
    started_at: datetime | None = None
    expected_end_at: datetime | None = None
    public_message: str = ""
    category_code: str = ""
    priority: str = ""
    resolution_code: str = ""
    owner_id: int | None = None
    given: tuple[str, ...] = EDITABLE


def _checked(incident: Incident, data: IncidentData) -> dict:
    """The new values of `data.given`, or InvalidIncidentData with every problem at once."""
    errors: dict[str, list[str]] = {}
    values: dict = {}
    for name in data.given:
        values[name] = getattr(data, name)
    if "title" in values:
        values["title"] = (values["title"] or "").strip()[:200]
        if not values["title"]:
            errors["title"] = [_("Give the incident a title.")]
    if "services" in values:
        services = sorted({(s or "").strip().lower() for s in values["services"] or []})
        if not services:
            errors["services"] = [_("Name at least one service: an incident needs a scope.")]
        elif unknown := [s for s in services if s not in Service.values]:
            errors["services"] = [_("Unknown service: %(s)s.") % {"s": ", ".join(unknown)}]
        values["services"] = services
    if "provinces" in values:
        provinces = sorted({(p or "").strip().upper() for p in values["provinces"] or []})
        if unknown := [p for p in provinces if p not in province_codes()]:
            errors["provinces"] = [_("Unknown province: %(p)s.") % {"p": ", ".join(unknown)}]
        values["provinces"] = provinces
    if "client_ids" in values:
        ids = sorted({int(i) for i in values["client_ids"] or []})
        if ids and Client.objects.filter(id__in=ids).count() != len(ids):
            errors["clients"] = [_("Unknown client.")]
        values["client_ids"] = ids
    if "priority" in values and values["priority"] not in ("", *Priority.values):
        errors["priority"] = [_("Choose a priority from P1 to P4.")]
    if "category_code" in values:
        values["category_code"] = (values["category_code"] or "").strip()[:50]
    if "resolution_code" in values:
        sent = (values["resolution_code"] or "").strip()[:50]
        national = {c.code for c in contract_selectors.default_closing_codes()}
        if sent and sent not in national:
            errors["resolution_code"] = [
                _("Choose a closing code of the national default list: it applies to every case.")
            ]
        values["resolution_code"] = sent or incident.resolution_code or INCIDENT_CODE
    if "public_message" in values:
        values["public_message"] = (values["public_message"] or "").strip()
    if "lines" in values:
        values["lines"] = (values["lines"] or "").strip()
    for name in ("started_at", "expected_end_at"):
        if (
            values.get(name) is not None
            and not PLAUSIBLE_YEARS[0] <= values[name].year <= (PLAUSIBLE_YEARS[1])
        ):
            errors[name] = [_("Give a date between 2000 and 2100.")]
    started = values.get("started_at", incident.started_at)
    if "started_at" in values and started is None:
        errors["started_at"] = [_("Say when the incident started.")]
    ends = values.get("expected_end_at", incident.expected_end_at)
    plausible = "started_at" not in errors and "expected_end_at" not in errors
    if plausible and started is not None and ends is not None and ends < started:
        errors["expected_end_at"] = [_("The expected end is before the start.")]
    if errors:
        raise InvalidIncidentData(fields=errors)
    return values


def _record(incident: Incident, kind: str, *, actor, at: datetime, **detail) -> IncidentEvent:
    return IncidentEvent.objects.create(
        incident=incident, kind=kind, actor=actor, at=at, detail=detail
    )


def _json_value(value):
    return value.isoformat() if isinstance(value, datetime) else value


def open_incident(
    *, actor, data: IncidentData, now: datetime | None = None, status: str = "confirmed"
) -> Incident:
    """A supervisor or manager opens an incident (confirmed, or suspected to check first)."""
    now = now or timezone.now()
    if status not in ACTIVE_INCIDENT_STATUSES:
        raise InvalidIncidentData(fields={"status": [_("Open it suspected or confirmed.")]})
    incident = Incident(opened_at=now, opened_by=actor, status=status, started_at=now)
    values = _checked(incident, IncidentData(**{**data.__dict__, "given": EDITABLE}))
    if not values.get("resolution_code"):
        values["resolution_code"] = INCIDENT_CODE
    with transaction.atomic(durable=True):
        for name, value in values.items():
            setattr(incident, name, value)
        if status == IncidentStatus.CONFIRMED:
            incident.confirmed_at = now
        incident.save()
        _record(
            incident,
            IncidentEvent.Kind.OPENED,
            actor=actor,
            at=now,
            status=status,
            **{k: _json_value(v) for k, v in values.items()},
        )
    return incident


def _locked(incident_id: int) -> Incident:
    incident = Incident.objects.select_for_update().filter(id=incident_id).first()
    if incident is None:
        raise IncidentNotFound
    return incident


def update_incident(
    *, actor, incident: Incident, data: IncidentData, now: datetime | None = None
) -> Incident:
    """Change what `data.given` names; the timeline keeps each field's before and after.
    A resolved incident keeps its scope (its cases are resolved): 409."""
    now = now or timezone.now()
    with transaction.atomic(durable=True):
        incident = _locked(incident.id)
        if incident.status == IncidentStatus.RESOLVED:
            raise IncidentAlreadyResolved(_("A resolved incident does not change."))
        values = _checked(incident, data)
        changes = {
            name: {"from": _json_value(getattr(incident, name)), "to": _json_value(value)}
            for name, value in values.items()
            if getattr(incident, name) != value
        }
        if not changes:
            return incident
        for name, value in values.items():
            setattr(incident, name, value)
        incident.row_version += 1
        incident.save(update_fields=[*values, "row_version"])
        _record(incident, IncidentEvent.Kind.UPDATED, actor=actor, at=now, changes=changes)
    return incident


def confirm_incident(*, actor, incident: Incident, now: datetime | None = None) -> Incident:
    """A suspected incident is real. One the surge detection raised links the open cases it
    counted (same service, province and category, opened since its window started)."""
    now = now or timezone.now()
    with transaction.atomic(durable=True):
        incident = _locked(incident.id)
        if incident.status == IncidentStatus.RESOLVED:
            raise IncidentAlreadyResolved
        if incident.status != IncidentStatus.SUSPECTED:
            raise InvalidIncidentData(_("The incident is already confirmed."))
        incident.status, incident.confirmed_at = IncidentStatus.CONFIRMED, now
        incident.row_version += 1
        incident.save(update_fields=["status", "confirmed_at", "row_version"])
        linked = 0
        if incident.detection_key:
            since = incident.evidence.get("window_start") or incident.started_at.isoformat()
            cases = cases_matching(
                service=incident.services[0] if incident.services else "",
                province=incident.provinces[0] if incident.provinces else "",
                category_code=incident.category_code,
                opened_since=datetime.fromisoformat(since),
            )
            linked = _link(incident, cases, actor=actor, now=now)
        _record(incident, IncidentEvent.Kind.CONFIRMED, actor=actor, at=now, linked=linked)
        _notices_handled(incident, now=now)
    return incident


# --- Linking --------------------------------------------------------------------------------


def cases_matching(
    *,
    service: str = "",
    province: str = "",
    category_code: str = "",
    opened_since: datetime | None = None,
) -> QuerySet[Case]:
    """Open cases not linked to any incident, by what the bulk-link form filters on. The
    service is the contract's (a handful of contracts: their ids are read first)."""
    in_an_incident = IncidentCase.objects.filter(case=OuterRef("pk"), unlinked_at__isnull=True)
    cases = Case.objects.filter(status__in=OPEN_STATUSES).exclude(Exists(in_an_incident))
    if service:
        contract_ids = [
            cid
            for cid, services in Contract.objects.values_list("id", "services")
            if service in (services or [])
        ]
        cases = cases.filter(contract_id__in=contract_ids)
    if province:
        cases = cases.filter(client__province=province.upper())
    if category_code:
        cases = cases.filter(category__code=category_code)
    if opened_since is not None:
        cases = cases.filter(opened_at__gte=opened_since)
    return cases


def _adapt(value):
    """A bound value for hand-written SQL, as the ORM would send it."""
    if isinstance(value, datetime):
        return connection.ops.adapt_datetimefield_value(value)
    if isinstance(value, dict):
        if connection.vendor == "postgresql":
            from psycopg.types.json import Jsonb

            return Jsonb(value)
        return json.dumps(value)
    return value


def _insert_events(selected: QuerySet[Case], *, kind: str, actor, now: datetime, to: str, detail):
    """One CaseEvent per selected case in one INSERT ... SELECT (from_value: its status)."""
    sub, params = selected.order_by().values("id", "status").query.sql_with_params()
    sql = (
        f"INSERT INTO {CaseEvent._meta.db_table} "  # noqa: S608 - table names from the models
        "(case_id, kind, at, actor_id, from_value, to_value, detail) "
        f"SELECT s.id, %s, %s, %s, s.status, %s, %s FROM ({sub}) s"
    )
    values = [kind, _adapt(now), actor.pk if actor else None, to[:100], _adapt(detail)]
    with connection.cursor() as cursor:
        cursor.execute(sql, [*values, *params])
        return cursor.rowcount


def _lock_cases(cases: QuerySet[Case]) -> list[tuple]:
    """The selected cases' rows locked in id order (as every service locks cases)."""
    locked = cases.select_for_update(of=("self",)) if connection.vendor == "postgresql" else cases
    return list(locked.order_by("id").values_list("id", "status", "assignee_id"))


def _link(incident: Incident, cases: QuerySet[Case], *, actor, now: datetime) -> int:
    """Link the open, unlinked ones of `cases` (the incident is locked by the caller)."""
    selected = cases_matching().filter(id__in=cases.values("id"))
    if not _lock_cases(selected):
        return 0
    # Locked: re-read in new statements, so a case another transaction linked meanwhile is
    # skipped here, never linked twice (the unique constraint holds it anyway).
    linked = _insert_events(
        selected,
        kind=CaseEvent.Kind.INCIDENT_LINKED,
        actor=actor,
        now=now,
        to=incident.reference,
        detail={"incident": incident.id},
    )
    sub, params = selected.order_by().values("id").query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {IncidentCase._meta.db_table} "  # noqa: S608 - names from the models
            "(incident_id, case_id, linked_at, linked_by_id, unlinked_at) "
            f"SELECT %s, s.id, %s, %s, NULL FROM ({sub}) s",
            [incident.id, _adapt(now), actor.pk if actor else None, *params],
        )
    return linked


def link_cases(
    *,
    actor,
    incident: Incident,
    references: list[str] | None = None,
    cases: QuerySet[Case] | None = None,
    now: datetime | None = None,
) -> int:
    """Link cases to an active incident; returns how many were linked.

    By `references` (the API): all or nothing; a closed, resolved, unknown case or one in
    another incident refuses the whole request (409 with the references), and a case
    already in this incident is skipped. By `cases` (the bulk form's filtered list): its open
    cases not in any incident."""
    now = now or timezone.now()
    with transaction.atomic(durable=True):
        incident = _locked(incident.id)
        if not incident.is_active:
            raise IncidentAlreadyResolved(_("A resolved incident takes no more cases."))
        if references is not None:
            wanted = sorted({(r or "").strip().upper() for r in references if r})
            if not wanted:
                raise InvalidIncidentData(fields={"cases": [_("Name at least one case.")]})
            cases = Case.objects.filter(reference__in=wanted)
            _refuse_unlinkable(incident, wanted, cases)
        if cases is None:
            raise InvalidIncidentData(fields={"cases": [_("Name at least one case.")]})
        linked = _link(incident, cases, actor=actor, now=now)
        if linked:
            _record(incident, IncidentEvent.Kind.CASES_LINKED, actor=actor, at=now, count=linked)
    return linked


def _refuse_unlinkable(incident: Incident, wanted: list[str], cases: QuerySet[Case]) -> None:
    rows = list(
        cases.annotate(
            other=Count(
                "incident_links",
                filter=Q(incident_links__unlinked_at__isnull=True)
                & ~Q(incident_links__incident_id=incident.id),
            )
        ).values_list("reference", "status", "other")
    )
    found = {reference for reference, _status, _other in rows}
    closed = sorted(ref for ref, status, _other in rows if status not in OPEN_STATUSES)
    elsewhere = sorted(ref for ref, _status, other in rows if other)
    unknown = [ref for ref in wanted if ref not in found]
    errors = {}
    if closed:
        errors["closed"] = [
            _("Resolved or closed cases cannot be linked: %(refs)s.") % {"refs": ", ".join(closed)}
        ]
    if elsewhere:
        errors["other_incident"] = [
            _("Already in another incident: %(refs)s.") % {"refs": ", ".join(elsewhere)}
        ]
    if unknown:
        errors["unknown"] = [_("Unknown cases: %(refs)s.") % {"refs": ", ".join(unknown)}]
    if errors:
        raise IncidentCasesRefused(fields=errors)


def unlink_case(*, actor, incident: Incident, case: Case, now: datetime | None = None) -> bool:
    """A case that needs more work leaves the incident before it is resolved. Idempotent:
    a case not linked returns False."""
    now = now or timezone.now()
    with transaction.atomic(durable=True):
        incident = _locked(incident.id)
        if incident.status == IncidentStatus.RESOLVED:
            raise IncidentAlreadyResolved(_("A resolved incident keeps its cases."))
        changed = IncidentCase.objects.filter(
            incident=incident, case_id=case.id, unlinked_at__isnull=True
        ).update(unlinked_at=now)
        if changed:
            CaseEvent.objects.create(
                case_id=case.id,
                kind=CaseEvent.Kind.INCIDENT_UNLINKED,
                actor=actor,
                at=now,
                from_value=incident.reference,
                detail={"incident": incident.id},
            )
            _record(
                incident,
                IncidentEvent.Kind.CASE_UNLINKED,
                actor=actor,
                at=now,
                case=case.reference,
            )
    return bool(changed)


def log_information_contact(
    *, actor, incident: Incident, client_id: int, call_id: str = "", now: datetime | None = None
) -> IncidentContact:
    """The caller only wanted to know ("solo informazione"): counted, no case."""
    now = now or timezone.now()
    with transaction.atomic(durable=True):
        if not Incident.objects.filter(
            id=incident.id, status__in=ACTIVE_INCIDENT_STATUSES
        ).exists():
            raise IncidentAlreadyResolved(_("This incident is no longer active."))
        return IncidentContact.objects.create(
            incident=incident,
            client_id=client_id,
            call_id=(call_id or "")[:100],
            at=now,
            actor=actor,
        )


# --- Resolving ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Resolution:
    incident: Incident
    resolved_case_ids: list[int]
    left_open: int  # linked cases waiting for another unit


def resolve_incident(*, actor, incident: Incident, now: datetime | None = None) -> Resolution:
    """Resolve the incident and, in one set-based operation, its linked open cases: one
    `status_changed` event each with the incident's resolution code, the resolution and
    first-response targets met (or breached) as a transition would. A constant number of
    statements whatever the number of cases.

    Under the incident's row lock: a second resolution (or two supervisors at once) finds
    it resolved and is refused, 409, with nothing changed; each case is resolved once."""
    now = now or timezone.now()
    with transaction.atomic(durable=True):
        incident = _locked(incident.id)
        if incident.status == IncidentStatus.RESOLVED:
            raise IncidentAlreadyResolved
        linked = Case.objects.filter(
            incident_links__incident=incident, incident_links__unlinked_at__isnull=True
        )
        resolvable = Case.objects.filter(id__in=linked.values("id"), status__in=RESOLVABLE)
        rows = _lock_cases(resolvable)
        code = incident.resolution_code or INCIDENT_CODE
        if rows:
            _insert_events(
                resolvable,
                kind=CaseEvent.Kind.STATUS_CHANGED,
                actor=actor,
                now=now,
                to=CaseStatus.RESOLVED,
                detail={"resolution_code": code, "incident": incident.id},
            )
            _resolve_cases(resolvable, code=code, now=now)
        left_open = linked.filter(status__in=OPEN_STATUSES).count()
        incident.status, incident.resolved_at = IncidentStatus.RESOLVED, now
        incident.row_version += 1
        incident.save(update_fields=["status", "resolved_at", "row_version"])
        case_ids = [case_id for case_id, _status, _assignee in rows]
        _record(
            incident,
            IncidentEvent.Kind.RESOLVED,
            actor=actor,
            at=now,
            resolved_cases=len(case_ids),
            left_open=left_open,
            resolution_code=code,
        )
        _notices_handled(incident, now=now)
        outbox.queue_incident_resolution(incident, case_ids, now=now)  # told by mail
        incident_id = incident.id
        transaction.on_commit(lambda: _announce(incident_id, case_ids), robust=True)
        # Their holders' capacity is free again: once per holder, not once per case.
        for assignee_id, case_id in {a: c for c, _s, a in rows if a}.items():
            _release_later(case_id, assignee_id)
    return Resolution(incident=incident, resolved_case_ids=case_ids, left_open=left_open)


def _notices_handled(incident: Incident, *, now: datetime) -> None:
    """A confirmed or resolved incident is no longer news to the supervisors told of it."""
    IncidentNotice.objects.filter(incident=incident, read_at__isnull=True).update(read_at=now)


def _announce(incident_id: int, case_ids: list[int]) -> None:
    """After commit: the incident is resolved (a notification; the mail is already in the
    outbox)."""
    resolved = signals.incident_resolved  # a notification: nobody's answer is read
    resolved.send(sender=Incident, incident_id=incident_id, case_ids=case_ids)


def _release_later(case_id: int, assignee_id: int) -> None:
    transaction.on_commit(
        lambda: signals.case_released.send(sender=Case, case_id=case_id, assignee_id=assignee_id),
        robust=True,
    )


def _resolve_cases(cases: QuerySet[Case], *, code: str, now: datetime) -> int:
    """The move to resolved of `care.services._change_status`, as one UPDATE. A paused case
    (waiting for the customer) cannot have gone late while paused: its running target is
    met. Its paused minutes are not added up here (the case is resolved: no due time left
    to move)."""
    running = (SlaState.OK, SlaState.AT_RISK)
    return cases.update(
        status=CaseStatus.RESOLVED,
        resolved_at=now,
        resolution_code=code[:50],
        first_contact_resolution=False,
        paused_at=None,
        resolution_state=CaseWhen(
            When(
                Q(resolution_state__in=running)
                & (
                    Q(paused_at__isnull=False)
                    | Q(resolution_due_at__isnull=True)
                    | Q(resolution_due_at__gte=now)
                ),
                then=Value(SlaState.MET),
            ),
            When(resolution_state__in=running, then=Value(SlaState.BREACHED)),
            default="resolution_state",
        ),
        first_response_state=CaseWhen(
            When(
                Q(first_response_at__isnull=True, first_response_state__in=running)
                & (
                    Q(paused_at__isnull=False)
                    | Q(first_response_due_at__isnull=True)
                    | Q(first_response_due_at__gte=now)
                ),
                then=Value(SlaState.MET),
            ),
            When(
                first_response_at__isnull=True,
                first_response_state__in=running,
                then=Value(SlaState.BREACHED),
            ),
            default="first_response_state",
        ),
        first_response_at=CaseWhen(
            When(first_response_at__isnull=True, then=Value(now)),
            default="first_response_at",
        ),
        row_version=F("row_version") + 1,
        updated_at=now,
    )


# --- Surge detection ------------------------------------------------------------------------

SURGE_WINDOW = timedelta(minutes=15)
BASELINE_WEEKS = 4
BASELINE_HALF_SPAN = timedelta(minutes=30)  # the hour of the week around the same instant
SURGE_MIN_CASES = 10
SURGE_FACTOR = 4.0
# pg_try_advisory_xact_lock key of the detection: "INC1" in ASCII. Unique in the project.
ADVISORY_LOCK_KEY = 0x494E4331


@dataclass(frozen=True)
class Surge:
    service: str
    province: str
    category_code: str
    cases: int
    usual: float  # cases per 15 minutes at this hour of the week

    @property
    def key(self) -> str:
        return f"{self.service}:{self.province}:{self.category_code}"[:120]


def find_surges(*, now: datetime) -> list[Surge]:
    """Two grouped counts (the last 15 minutes; the same hour of the week in the previous
    weeks), added up per (service, province, category) in Python over groups, not cases."""
    start = now - SURGE_WINDOW
    past = Q()
    for week in range(1, BASELINE_WEEKS + 1):
        at = now - timedelta(weeks=week)
        past |= Q(opened_at__gte=at - BASELINE_HALF_SPAN, opened_at__lt=at + BASELINE_HALF_SPAN)

    def grouped(where: Q) -> list[dict]:
        return list(
            Case.objects.filter(where)
            .values("contract_id", "client__province", "category__code")
            .annotate(n=Count("id"))
            .order_by()
        )

    recent, before = grouped(Q(opened_at__gte=start, opened_at__lt=now)), grouped(past)
    if not recent:
        return []
    services = dict(Contract.objects.values_list("id", "services"))
    quarters = BASELINE_WEEKS * (2 * BASELINE_HALF_SPAN / SURGE_WINDOW)
    counts: dict[tuple, list[float]] = defaultdict(lambda: [0, 0.0])
    for rows, slot in ((recent, 0), (before, 1)):
        for row in rows:
            for service in services.get(row["contract_id"]) or []:
                key = (service, row["client__province"], row["category__code"])
                if slot == 1 and key not in counts:
                    continue
                counts[key][slot] += row["n"]
    surges = []
    for (service, province, category), (cases, usual_total) in sorted(counts.items()):
        usual = usual_total / quarters
        if cases >= SURGE_MIN_CASES and cases >= SURGE_FACTOR * usual:
            surges.append(Surge(service, province, category, int(cases), round(usual, 2)))
    return surges


def detect_surges(*, now: datetime | None = None) -> list[Incident]:
    """Raise a suspected incident ("possibile incidente") per surge that has no active one
    yet, with its evidence, told once to every supervisor. Idempotent: the partial unique
    constraint on the detection key keeps one active incident per surge however often or
    concurrently this runs; returns the incidents raised now."""
    now = now or timezone.now()
    surges = find_surges(now=now)
    if not surges:
        return []
    raised = []
    with transaction.atomic(durable=True):
        if not try_advisory_xact_lock(ADVISORY_LOCK_KEY):
            return []
        active = set(
            Incident.objects.filter(
                status__in=ACTIVE_INCIDENT_STATUSES, detection_key__in=[s.key for s in surges]
            ).values_list("detection_key", flat=True)
        )
        for surge in surges:
            if surge.key in active:
                continue
            try:
                with transaction.atomic():
                    raised.append(_raise_suspected(surge, now=now))
            except IntegrityError:  # another run raised it meanwhile
                continue
        if raised:
            supervisors = list(roles.users_with("supervise").values_list("id", flat=True))
            IncidentNotice.objects.bulk_create(
                [
                    IncidentNotice(recipient_id=user_id, incident=incident, created_at=now)
                    for incident in raised
                    for user_id in supervisors
                ],
                ignore_conflicts=True,
            )
    return raised


def _raise_suspected(surge: Surge, *, now: datetime) -> Incident:
    start = now - SURGE_WINDOW
    evidence = {
        "service": surge.service,
        "province": surge.province,
        "category": surge.category_code,
        "cases": surge.cases,
        "usual_per_15_minutes": surge.usual,
        "weeks_compared": BASELINE_WEEKS,
        "window_start": start.isoformat(),
        "window_end": now.isoformat(),
    }
    incident = Incident.objects.create(
        title=_("Possible incident: %(service)s, %(province)s, %(category)s")
        % {
            "service": Service(surge.service).label if surge.service in Service.values else "",
            "province": surge.province,
            "category": surge.category_code,
        },
        status=IncidentStatus.SUSPECTED,
        services=[surge.service],
        provinces=[surge.province],
        client_ids=[],
        category_code=surge.category_code,
        started_at=start,
        opened_at=now,
        detection_key=surge.key,
        evidence=evidence,
    )
    _record(incident, IncidentEvent.Kind.SUSPECTED, actor=None, at=now, **evidence)
    return incident
