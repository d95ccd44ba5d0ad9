"""Reads of the routing app shared by the API, the services and the pages.

Each costs a fixed, small number of queries whatever the number of cases or operators:

- `profile_of(user) -> OperatorProfile`: the user's profile, or `NoOperatorProfile`.
- `queue_overview(*, now, scope) -> list[QueueOverview]`: per queue, waiting cases, oldest
  wait, open cases at risk or breached, the emergency while it is on (2 queries).
- `operator_overview(*, site=None, now, scope) -> list[OperatorOverview]`: per operator,
  site, presence, cases held, capacity and front-office limit (1 query).
- `operators_elsewhere(scope)`: the operators outside a supervisor's sites (1 query).

`scope` is a supervisor's reach (`routing.scope`); reads default to the whole unit.
- `waiting_for(user, *, now) -> int`: the waiting cases the operator may take now by the
  take-next eligibility (certification, overflow by waiting time); 0 without a profile
  (at most 5 queries).
- `decisions_for(case) -> list[Assignment]`: the decision records of a case, newest first,
  with `operator` and `assigned_by` (1 query).
- `queue_names(codes) -> dict`: the queues' names by code, for timelines (1 query).
- `queue_by_code(code, scope)`, `site_by_code(code)`, `user_by_id(user_id)`,
  `operator_profile_by_user_id(user_id, scope)`: one row or the matching error.
- `Circles.of(profile)`, `eligibility_groups(...)` and `eligible_cases(...)`: the
  eligibility rules take-next, push and the counts above share.
"""

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.contrib.auth import get_user_model
from django.db.models import (
    Count,
    F,
    IntegerField,
    Max,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.fields.tuple_lookups import Tuple, TupleLessThan
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _

from care.models import OPEN_STATUSES, Case, CaseStatus, SlaState
from config.db import AnyOf
from contracts.models import Contract
from routing import engine
from routing.exceptions import (
    InvalidRoutingData,
    NoOperatorProfile,
    OperatorNotFound,
    QueueNotFound,
    SiteNotFound,
)
from routing.models import Assignment, OperatorProfile, Queue, Site
from routing.scope import NATIONAL, SupervisorScope, supervisor_scope


def profile_of(user) -> OperatorProfile:
    """The user's operator profile; `NoOperatorProfile` if there is none."""
    profile = OperatorProfile.objects.filter(user_id=user.id).order_by("id").first()
    if profile is None:
        raise NoOperatorProfile()
    return profile


def queue_by_code(code: str, *, scope: SupervisorScope = NATIONAL) -> Queue:
    """The queue with this code among those of `scope`; `QueueNotFound` else (missing and
    not supervised answer the same)."""
    queue = Queue.objects.filter(scope.queues_filter(), code=code).first()
    if queue is None:
        raise QueueNotFound()
    return queue


def active_queues() -> QuerySet[Queue]:
    """The queues intake files into and the console and the forms offer (not archived)."""
    return Queue.objects.filter(archived_at__isnull=True)


def site_by_code(code: str) -> Site:
    """The site with this code; an unknown code is a mistake in the filter (400)."""
    site = Site.objects.filter(code=code).first()
    if site is None:
        raise InvalidRoutingData(fields={"site": [_("Unknown site.")]})
    return site


def user_by_id(user_id: int):
    """An active user (the target of a supervisor's assignment); `OperatorNotFound` else."""
    user = get_user_model().objects.filter(id=user_id, is_active=True).first()
    if user is None:
        raise OperatorNotFound()
    return user


def operator_profile_by_user_id(
    user_id: int, *, scope: SupervisorScope = NATIONAL
) -> OperatorProfile:
    """The operator profile of an active user of a site of `scope`; `OperatorNotFound` else
    (missing and not supervised answer the same)."""
    profile = (
        OperatorProfile.objects.select_related("user")
        .filter(scope.operators_filter(), user_id=user_id, user__is_active=True)
        .first()
    )
    if profile is None:
        raise OperatorNotFound()
    return profile


# --- Eligibility ----------------------------------------------------------------------------


def thresholds_of(queue: Queue | None) -> engine.Thresholds:
    """The queue's overflow thresholds; the defaults for a case in a queue with no row."""
    if queue is None:
        return engine.Thresholds()
    return engine.Thresholds(queue.overflow_client_minutes, queue.overflow_national_minutes)


def skilled_contracts(skills) -> set[int]:
    """Contracts offering one of the services in `skills` (one query; none without skills).
    Contracts are few (about a hundred) and JSON containment is not portable."""
    skills = set(skills or [])
    if not skills:
        return set()
    return {
        contract_id
        for contract_id, services in Contract.objects.order_by().values_list("id", "services")
        if skills.intersection(services or [])
    }


class Circles:
    """What ties one operator to cases: certified contracts and clients, skilled contracts."""

    def __init__(self, contracts=(), clients=(), skilled_contracts=()) -> None:
        self.contracts = set(contracts)
        self.clients = set(clients)
        self.skilled_contracts = set(skilled_contracts)

    @classmethod
    def of(cls, profile: OperatorProfile) -> "Circles":
        """The operator's circles, read with the ORM (two queries)."""
        pairs = list(profile.certifications.values_list("contract_id", "client_id"))
        return cls(
            contracts={contract for contract, _client in pairs if contract},
            clients={client for _contract, client in pairs if client},
            skilled_contracts=skilled_contracts(profile.skills),
        )

    def __bool__(self) -> bool:
        return bool(self.contracts or self.clients or self.skilled_contracts)

    def qualification(self, case: Case) -> engine.Qualification:
        return engine.Qualification(
            certified_on_contract=case.contract_id in self.contracts,
            certified_on_client=case.client_id in self.clients,
            has_service_skill=case.contract_id in self.skilled_contracts,
        )

    def tied(self) -> Q:
        """Cases the operator may take now or after some waiting."""
        return (
            Q(AnyOf(F("contract_id"), self.contracts))
            | Q(AnyOf(F("client_id"), self.clients))
            | Q(AnyOf(F("contract_id"), self.skilled_contracts))
        )

    def eligible(self, thresholds: engine.Thresholds, now: datetime) -> Q:
        """Cases of one queue this operator may take now: certified on the contract at once,
        on the client after the first threshold, by skill after the second."""
        condition = Q(AnyOf(F("contract_id"), self.contracts))
        if self.clients:
            condition |= Q(
                AnyOf(F("client_id"), self.clients),
                opened_at__lte=now - timedelta(minutes=thresholds.client_minutes),
            )
        if self.skilled_contracts:
            condition |= Q(
                AnyOf(F("contract_id"), self.skilled_contracts),
                opened_at__lte=now - timedelta(minutes=thresholds.national_minutes),
            )
        return condition


@dataclass(frozen=True)
class LockedProfile:
    """What take-next reads of the operator's profile, locked for its transaction."""

    presence: str
    capacity: int
    backoffice_share: float
    circles: Circles
    languages: tuple[str, ...] = ()


QUEUE_ORDER = ("priority", F("resolution_due_at").asc(nulls_last=True), "opened_at", "id")


def ahead_of(case: Case) -> Q:
    """Cases before `case` in queue order. With a due time it is one row comparison, which
    the takeable index uses as its bound, so a scan stops at `case` instead of running to
    the end of the queue. A row with no due time compares as unknown (it comes last)."""
    if case.resolution_due_at is not None:
        return Q(
            TupleLessThan(
                Tuple("priority", "resolution_due_at", "opened_at", "id"),
                (case.priority, case.resolution_due_at, case.opened_at, case.id),
            )
        )
    return Q(priority__lte=case.priority) & (
        Q(priority__lt=case.priority)
        | Q(resolution_due_at__isnull=False)
        | Q(TupleLessThan(Tuple("opened_at", "id"), (case.opened_at, case.id)))
    )


def waiting_cases() -> QuerySet[Case]:
    """Cases nobody holds yet: new and unassigned."""
    return Case.objects.filter(status=CaseStatus.NEW, assignee__isnull=True)


@dataclass(frozen=True)
class QueueGroup:
    """Queues that share their overflow thresholds: one eligibility test serves them all.
    `others`: the group is every code except `codes` (the defaults also hold for cases filed
    under a code with no queue row)."""

    thresholds: engine.Thresholds
    codes: tuple[str, ...]
    others: bool = False


def barred_queues(queues: list[Queue], languages) -> tuple[str, ...]:
    """The codes of the queues asking for a language the operator does not speak: routing
    never offers their cases to them (take-next, push, overflow, reassignment)."""
    spoken = set(languages or [])
    return tuple(sorted(q.code for q in queues if q.language and q.language not in spoken))


def speaks_for(queue: Queue | None, languages) -> bool:
    """Whether an operator speaking `languages` may be offered the queue's cases."""
    return queue is None or not queue.language or queue.language in set(languages or [])


def eligibility_groups(
    queues: list[Queue], *, emergency_only: bool, barred: Collection[str] = ()
) -> list[QueueGroup]:
    """The queues whose cases an operator may take, grouped by equal thresholds.
    `emergency_only`: only the back-office share is left, so only the given queues (those in
    emergency) count; otherwise cases filed under a code with no queue row follow the
    default thresholds.

    `barred`: codes of queues whose cases the operator may not take at all (a language they
    do not speak, `barred_queues`).

    When every queue keeps the defaults (the usual set-up) there is a single group whatever
    the number of queues: short to build and to plan on the hot path of take-next."""
    by_thresholds: dict[engine.Thresholds, list[str]] = {}
    for queue in queues:
        if queue.code in barred:  # in no group, and out of the defaults' "every other code"
            continue
        by_thresholds.setdefault(thresholds_of(queue), []).append(queue.code)
    default = engine.Thresholds()
    if not emergency_only:
        by_thresholds.setdefault(default, [])
    groups = []
    for thresholds, codes in by_thresholds.items():
        if emergency_only or thresholds != default:
            groups.append(QueueGroup(thresholds, tuple(codes)))
        else:
            others = tuple(q.code for q in queues if q.code not in codes)
            groups.append(QueueGroup(thresholds, others, others=True))
    return groups


def eligibility_condition(groups: list[QueueGroup], circles: Circles, *, now: datetime) -> Q:
    """Which cases the operator may take now (`routing.sql` states the same in SQL)."""
    condition = Q(pk__in=[])
    for group in groups:
        where = Q(queue_code__in=group.codes)
        condition |= (~where if group.others else where) & circles.eligible(group.thresholds, now)
    return condition


def eligible_cases(groups: list[QueueGroup], circles: Circles, *, now: datetime) -> QuerySet[Case]:
    """Waiting cases the operator may take now, in queue order (bounded by the caller)."""
    return (
        waiting_cases()
        .filter(eligibility_condition(groups, circles, now=now))
        .order_by(*QUEUE_ORDER)
    )


# --- Supervisor console and operator workspace ----------------------------------------------


@dataclass(frozen=True)
class QueueOverview:
    """One line of the supervisor console's queue table."""

    code: str
    name: str
    waiting: int  # new and unassigned
    oldest_waiting_since: datetime | None  # opened_at of the oldest waiting case
    at_risk: int  # open cases whose first response or resolution is at risk or breached
    emergency_until: datetime | None  # only while the emergency is on
    emergency_reason: str
    configured: bool = True  # False: cases filed under a code that has no queue row

    @property
    def in_emergency(self) -> bool:
        return self.emergency_until is not None


_RISKY = (SlaState.AT_RISK, SlaState.BREACHED)


def queue_overview(*, now: datetime, scope: SupervisorScope = NATIONAL) -> list[QueueOverview]:
    """The queues of `scope` with their backlog figures (2 queries; none for an empty
    scope). Nationally, cases filed under a code with no queue row are listed too, under
    their code (`configured` False)."""
    if scope.empty:
        return []
    queues = list(Queue.objects.filter(scope.queues_filter()).order_by("code"))
    waiting = Q(status=CaseStatus.NEW, assignee__isnull=True)
    risky = Q(first_response_state__in=_RISKY) | Q(resolution_state__in=_RISKY)
    cases = Case.objects.filter(status__in=OPEN_STATUSES)
    if not scope.national:
        cases = cases.filter(queue_code__in=[q.code for q in queues])
    figures: dict[str, dict] = {
        row["queue_code"]: dict(row)
        for row in cases.order_by()
        .values("queue_code")
        .annotate(
            waiting=Count("id", filter=waiting),
            oldest=Min("opened_at", filter=waiting),
            at_risk=Count("id", filter=risky),
        )
    }
    rows = []
    for queue in queues:
        row = figures.pop(queue.code, {})
        if queue.archived_at is not None and not row:  # archived: shown while cases are open
            continue
        on = queue.in_emergency(now)
        rows.append(
            QueueOverview(
                code=queue.code,
                name=queue.name,
                waiting=row.get("waiting", 0),
                oldest_waiting_since=row.get("oldest"),
                at_risk=row.get("at_risk", 0),
                emergency_until=queue.emergency_until if on else None,
                emergency_reason=queue.emergency_reason if on else "",
            )
        )
    for code, row in sorted(figures.items()):
        rows.append(
            QueueOverview(
                code=code,
                name=code or "-",
                waiting=row["waiting"],
                oldest_waiting_since=row["oldest"],
                at_risk=row["at_risk"],
                emergency_until=None,
                emergency_reason="",
                configured=False,
            )
        )
    return rows


@dataclass(frozen=True)
class OperatorOverview:
    """One line of the supervisor console's operator table."""

    user_id: int
    username: str
    name: str  # full name, else the username
    site_code: str  # "" without a site
    site_name: str
    remote: bool
    presence: str  # PresenceState value
    presence_since: datetime | None
    held: int  # open cases assigned to the operator
    capacity: int
    backoffice_share: float
    front_office_limit: int  # cases front-office work may fill outside an emergency

    @property
    def at_capacity(self) -> bool:
        return self.held >= self.capacity


def held_subquery():
    return Coalesce(
        Subquery(
            Case.objects.filter(assignee_id=OuterRef("user_id"), status__in=OPEN_STATUSES)
            .order_by()
            .values("assignee_id")
            .annotate(n=Count("id"))
            .values("n")[:1],
            output_field=IntegerField(),
        ),
        Value(0),
    )


def operator_overview(
    *, site: Site | int | None = None, now: datetime, scope: SupervisorScope = NATIONAL
) -> list[OperatorOverview]:
    """Every operator profile of `scope` (of one site if given) with presence and load (1
    query; none for a scope without sites)."""
    if not scope.national and not scope.site_ids:
        return []
    profiles = (
        OperatorProfile.objects.filter(scope.operators_filter())
        .select_related("user", "site")
        .annotate(held=held_subquery())
        .order_by("site__code", "user__last_name", "user__first_name", "user__username")
    )
    if site is not None:
        profiles = profiles.filter(site_id=getattr(site, "id", site))
    return [
        OperatorOverview(
            user_id=p.user_id,
            username=p.user.get_username(),
            name=p.user.get_full_name() or p.user.get_username(),
            site_code=p.site.code if p.site else "",
            site_name=p.site.name if p.site else "",
            remote=p.remote,
            presence=p.presence,
            presence_since=p.presence_since,
            held=p.held,
            capacity=p.capacity,
            backoffice_share=float(p.backoffice_share),
            front_office_limit=engine.front_office_limit(
                p.capacity, float(p.backoffice_share), emergency=False
            ),
        )
        for p in profiles
    ]


def operators_elsewhere(scope: SupervisorScope) -> list[tuple[int, str]]:
    """The active operators outside `scope` as console choices [(user id, "name (username ·
    site)")], for a reassignment with an override reason (1 query; none nationally, where
    `operator_overview` lists everyone)."""
    if scope.national:
        return []
    rows = (
        OperatorProfile.objects.exclude(scope.operators_filter())
        .filter(user__is_active=True)
        .order_by("user__last_name", "user__first_name", "user__username")
        .values_list(
            "user_id", "user__first_name", "user__last_name", "user__username", "site__name"
        )
    )
    return [
        (user_id, operator_label(f"{first} {last}".strip() or username, username, site or ""))
        for user_id, first, last, username, site in rows
    ]


def operator_label(name: str, username: str, site_name: str) -> str:
    """How a console form names an operator: "name (username · site)"."""
    return f"{name} ({username}{f' · {site_name}' if site_name else ''})"


def waiting_for(user, *, now: datetime) -> int:
    """How many waiting cases the operator may take now by take-next's eligibility (their
    certifications and skills, overflow by waiting time), whatever their presence and load;
    0 without a profile."""
    profile = OperatorProfile.objects.filter(user_id=user.id).order_by("id").first()
    if profile is None:
        return 0
    circles = Circles.of(profile)
    if not circles:
        return 0
    queues = list(Queue.objects.all())
    groups = eligibility_groups(
        queues, emergency_only=False, barred=barred_queues(queues, profile.languages)
    )
    return eligible_cases(groups, circles, now=now).order_by().count()


def decisions_for(case: Case | int) -> list[Assignment]:
    """The decision records of a case ("why me?"), newest first, with the operator and the
    supervisor who assigned it (for a manual assignment)."""
    return list(
        Assignment.objects.filter(case_id=getattr(case, "id", case))
        .select_related("operator", "assigned_by")
        .order_by("-at", "-id")
    )


def idle_since_subqueries() -> dict:
    """Annotations for `OperatorProfile`: the operator's last assignment and the last time a
    case they held was resolved (see `services.offer_case` for the idle rule)."""
    return {
        "last_assigned_at": Subquery(
            Assignment.objects.filter(operator_id=OuterRef("user_id"))
            .order_by()
            .values("operator_id")
            .annotate(last=Max("at"))
            .values("last")[:1]
        ),
        "last_released_at": Subquery(
            Case.objects.filter(assignee_id=OuterRef("user_id"), resolved_at__isnull=False)
            .order_by()
            .values("assignee_id")
            .annotate(last=Max("resolved_at"))
            .values("last")[:1]
        ),
        "held": held_subquery(),
    }


def queue_names(codes: Collection[str]) -> dict[str, str]:
    """The queues' names by code, in one query (timelines and "why me?" name queues)."""
    return dict(Queue.objects.filter(code__in=set(codes)).values_list("code", "name"))


# --- Sites and queues set up by the unit (routing.administration) ---------------------------


def sites_visible_to(user) -> QuerySet[Site]:
    """The sites `user` sees on the set-up pages: all for administrators and managers, their
    own for a supervisor (`routing.scope`); with calendar and supervisors (3 queries)."""
    reach = supervisor_scope(user)
    sites = Site.objects.select_related("calendar").prefetch_related("supervisors")
    sites = sites.annotate(operator_count=Count("operators", distinct=True))
    if not reach.national:
        sites = sites.filter(id__in=reach.site_ids)
    return sites.order_by("code")


def site_visible_to(user, code: str) -> Site:
    """One site of `sites_visible_to`; missing and not yours are the same `SiteNotFound`."""
    site = sites_visible_to(user).filter(code=code).first()
    if site is None:
        raise SiteNotFound()
    return site


def queues_visible_to(user, *, archived: bool = False) -> QuerySet[Queue]:
    """The queues `user` sees on the set-up pages (active ones, or the archived ones): all
    for administrators and managers, their own for a supervisor; with client and
    supervisors (3 queries)."""
    reach = supervisor_scope(user)
    queues = Queue.objects.select_related("client").prefetch_related("supervisors")
    queues = queues.filter(archived_at__isnull=not archived).filter(reach.queues_filter())
    return queues.order_by("code")


def queue_visible_to(user, code: str) -> Queue:
    """One queue (active or archived) `user` sees; else `QueueNotFound`."""
    reach = supervisor_scope(user)
    queue = (
        Queue.objects.select_related("client")
        .prefetch_related("supervisors")
        .filter(reach.queues_filter(), code=code)
        .first()
    )
    if queue is None:
        raise QueueNotFound()
    return queue


def waiting_in(queue: Queue) -> int:
    """How many cases wait (new, unassigned) in the queue."""
    return waiting_cases().filter(queue_code=queue.code).count()
