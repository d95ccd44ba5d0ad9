"""Every write of the routing app: filing cases in queues, presence, emergencies and
take-next, the assignment engine's one entry point.

Take-next is exactly-once under concurrency: on PostgreSQL the chosen case row is locked with
`SELECT … FOR UPDATE OF care_case SKIP LOCKED` (operators never wait on each other, they move
on to the next case); on SQLite `select_for_update` does nothing and the IMMEDIATE transaction
serialises writers. The code path is the same on both.
"""

import logging
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from care import services as care_services
from care.models import OPEN_STATUSES, Case, CaseStatus
from contracts.models import Contract
from routing import engine
from routing.exceptions import (
    CapacityReached,
    InvalidRoutingData,
    NoOperatorProfile,
    OperatorNotAvailable,
    SupervisorOnly,
)
from routing.models import (
    DEFAULT_QUEUE,
    Assignment,
    OperatorProfile,
    PresenceChange,
    PresenceState,
    Queue,
    QueueEvent,
)

logger = logging.getLogger(__name__)

MAX_EMERGENCY_MINUTES = 24 * 60
REASON_MAX = 300


# --- Filing at intake -----------------------------------------------------------------------


def _specificity(queue: Queue) -> tuple:
    """More criteria first; among equals a client beats a category beats a service beats a
    segment; the code settles the rest so the choice never depends on row order."""
    flags = (
        queue.client_id is not None,
        bool(queue.category_codes),
        bool(queue.service),
        bool(queue.segment),
    )
    return (-sum(flags), *(not flag for flag in flags), queue.code)


def _matches(queue: Queue, case: Case) -> bool:
    return (
        (queue.client_id is None or queue.client_id == case.client_id)
        and (not queue.segment or queue.segment == case.client.segment)
        and (not queue.service or queue.service in (case.contract.services or []))
        and (not queue.category_codes or case.category.code in queue.category_codes)
    )


def queue_for(case: Case) -> str:
    """The code of the most specific queue whose criteria the case meets, else the default."""
    matching = [q for q in Queue.objects.all() if _matches(q, case)]
    if not matching:
        return DEFAULT_QUEUE
    return min(matching, key=_specificity).code


def file_case(case_id: int, *, now: datetime | None = None) -> Case:
    """File a case again by the current queue criteria (intake files new cases itself, through
    `queue_for`; this re-files one after the queues changed). Re-filing into the same queue
    changes nothing."""
    now = now or timezone.now()
    with transaction.atomic(durable=not transaction.get_connection().in_atomic_block):
        case = Case.objects.select_related("client", "contract", "category").get(id=case_id)
        return care_services.set_queue(actor=None, case=case, queue_code=queue_for(case), now=now)


# --- Presence -------------------------------------------------------------------------------


def _is_supervisor(user) -> bool:
    return user.has_perm("config.supervise")


def set_presence(
    *, actor, profile: OperatorProfile, state: str, now: datetime | None = None
) -> OperatorProfile:
    """Change an operator's presence (themselves, or a supervisor), keeping the history."""
    now = now or timezone.now()
    if state not in PresenceState.values:
        raise InvalidRoutingData(fields={"state": [_("Choose a valid presence.")]})
    if actor.id != profile.user_id and not _is_supervisor(actor):
        raise SupervisorOnly()
    with transaction.atomic(durable=True):
        profile = OperatorProfile.objects.select_for_update().get(id=profile.id)
        if profile.presence == state:
            return profile
        PresenceChange.objects.create(
            profile=profile, from_state=profile.presence, to_state=state, at=now, actor=actor
        )
        profile.presence, profile.presence_since = state, now
        profile.save(update_fields=["presence", "presence_since"])
    return profile


# --- Emergency ------------------------------------------------------------------------------


def set_emergency(
    *, actor, queue: Queue, minutes: int, reason: str, now: datetime | None = None
) -> Queue:
    """A supervisor lets front-office work of the queue use operators' full capacity for
    `minutes` (0 ends the emergency now). Audited in `QueueEvent`."""
    now = now or timezone.now()
    if not _is_supervisor(actor):
        raise SupervisorOnly()
    reason = (reason or "").strip()[:REASON_MAX]
    errors: dict[str, list[str]] = {}
    if not 0 <= minutes <= MAX_EMERGENCY_MINUTES:
        errors["minutes"] = [_("Between 0 and %(max)s minutes.") % {"max": MAX_EMERGENCY_MINUTES}]
    if minutes and not reason:
        errors["reason"] = [_("Say why the queue goes into emergency.")]
    if errors:
        raise InvalidRoutingData(fields=errors)
    with transaction.atomic(durable=True):
        queue = Queue.objects.select_for_update().get(id=queue.id)
        until = now + timedelta(minutes=minutes) if minutes else None
        QueueEvent.objects.create(
            queue=queue,
            kind=QueueEvent.Kind.EMERGENCY_ON if until else QueueEvent.Kind.EMERGENCY_OFF,
            actor=actor,
            at=now,
            until=until,
            reason=reason,
        )
        queue.emergency_until, queue.emergency_reason = until, reason
        queue.save(update_fields=["emergency_until", "emergency_reason"])
    return queue


# --- Take next ------------------------------------------------------------------------------


def _thresholds(queue: Queue | None) -> engine.Thresholds:
    if queue is None:
        return engine.Thresholds()
    return engine.Thresholds(queue.overflow_client_minutes, queue.overflow_national_minutes)


class _Circles:
    """What ties one operator to cases: certified contracts and clients, skilled contracts."""

    def __init__(self, profile: OperatorProfile) -> None:
        pairs = list(profile.certifications.values_list("contract_id", "client_id"))
        self.contracts = {contract for contract, _client in pairs if contract}
        self.clients = {client for _contract, client in pairs if client}
        skills = set(profile.skills or [])
        self.skilled_contracts: set[int] = set()
        if skills:
            # Contracts are few (about a hundred) and JSON containment is not portable.
            self.skilled_contracts = {
                contract_id
                for contract_id, services in Contract.objects.order_by().values_list(
                    "id", "services"
                )
                if skills.intersection(services or [])
            }

    def qualification(self, case: Case) -> engine.Qualification:
        return engine.Qualification(
            certified_on_contract=case.contract_id in self.contracts,
            certified_on_client=case.client_id in self.clients,
            has_service_skill=case.contract_id in self.skilled_contracts,
        )

    def eligible(self, thresholds: engine.Thresholds, now: datetime) -> Q:
        """Cases of one queue this operator may take now: certified on the contract at once,
        on the client after the first threshold, by skill after the second."""
        condition = Q(contract_id__in=self.contracts)
        if self.clients:
            condition |= Q(
                client_id__in=self.clients,
                opened_at__lte=now - timedelta(minutes=thresholds.client_minutes),
            )
        if self.skilled_contracts:
            condition |= Q(
                contract_id__in=self.skilled_contracts,
                opened_at__lte=now - timedelta(minutes=thresholds.national_minutes),
            )
        return condition


def _candidates(circles: _Circles, queues: list[Queue], *, emergency_only: bool, now) -> QuerySet:
    """Open unassigned cases the operator may take, in queue order (bounded by the caller)."""
    per_queue = Q()
    for queue in queues:
        per_queue |= Q(queue_code=queue.code) & circles.eligible(_thresholds(queue), now)
    if not emergency_only:
        # Cases in a queue with no row (the default before it is configured): default rules.
        per_queue |= ~Q(queue_code__in=[q.code for q in queues]) & circles.eligible(
            engine.Thresholds(), now
        )
    return Case.objects.filter(per_queue, status=CaseStatus.NEW, assignee__isnull=True).order_by(
        "priority", F("resolution_due_at").asc(nulls_last=True), "opened_at", "id"
    )


def take_next_case(*, operator, now: datetime | None = None) -> Case | None:
    """Give the operator the best case they may take now, or None.

    In one transaction: the operator's profile is locked (two tabs of one operator are
    serialised against capacity), presence and capacity are checked, one bounded query finds
    and locks the best eligible case nobody else holds (`ORDER BY … LIMIT 1 FOR UPDATE OF
    care_case SKIP LOCKED`), which is assigned through `care.services.assign_case` and
    logged as an `Assignment` with its level and reason. Raises `NoOperatorProfile`,
    `OperatorNotAvailable` or `CapacityReached`; None when no case is there for them.
    """
    now = now or timezone.now()
    with transaction.atomic(durable=True):
        profile = (
            OperatorProfile.objects.select_for_update().filter(user_id=operator.id).order_by("id")
        ).first()
        if profile is None:
            raise NoOperatorProfile()
        if profile.presence != PresenceState.AVAILABLE:
            raise OperatorNotAvailable()
        held = Case.objects.filter(assignee_id=operator.id, status__in=OPEN_STATUSES).count()
        share = float(profile.backoffice_share)
        if not engine.may_take_more(held, profile.capacity, share, emergency=True):
            raise CapacityReached()
        queues = list(Queue.objects.all())
        emergency_only = not engine.may_take_more(held, profile.capacity, share, emergency=False)
        if emergency_only:
            # Only the back-office share is left: usable only by queues in emergency.
            queues = [q for q in queues if q.in_emergency(now)]
            if not queues:
                raise CapacityReached()
        circles = _Circles(profile)
        if not (circles.contracts or circles.clients or circles.skilled_contracts):
            return None
        candidates = _candidates(circles, queues, emergency_only=emergency_only, now=now)
        case = _lock_first_free(candidates)
        if case is None:
            return None
        queue = next((q for q in queues if q.code == case.queue_code), None)
        waited = engine.waited_minutes(case.opened_at, now)
        level = engine.eligibility_level(circles.qualification(case), waited, _thresholds(queue))
        if level is None:  # cannot happen: the query applied the same rules
            raise AssertionError(f"case {case.id} is not eligible for {operator}")
        reason = engine.reason_for(level, queue_code=case.queue_code, waited=waited)
        case = care_services.assign_case(
            actor=operator, case=case, assignee=operator, now=now, reason=reason
        )
        assignment = Assignment.objects.create(
            case=case,
            operator=operator,
            queue_code=case.queue_code,
            at=now,
            level=level.value,
            reason=reason,
        )
    case.routing_assignment = assignment  # the API shows the level and reason
    return case


def _lock_first_free(candidates: QuerySet) -> Case | None:
    """The first candidate in queue order that nobody else holds, locked, in one bounded
    query: `ORDER BY … LIMIT 1 FOR UPDATE OF care_case SKIP LOCKED`. PostgreSQL applies the
    lock below the LIMIT: rows held by others are skipped and rows changed by a transaction
    that committed meanwhile are re-checked against the WHERE clause (status new, no
    assignee), so the answer is None only when no free eligible case is left."""
    return candidates.select_for_update(skip_locked=True, of=("self",)).first()
