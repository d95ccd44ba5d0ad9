"""Every write of the routing app: filing cases in queues, presence, emergencies (and their
end when time runs out), take-next (pull), auto-assign (push) and a supervisor's
reassignment. Every assignment writes an `Assignment`: the decision record with its kind,
level, reason and what was passed over.

Take-next is exactly-once under concurrency: on PostgreSQL the chosen case row is locked with
`SELECT … FOR UPDATE OF care_case SKIP LOCKED` (operators never wait on each other, they move
on to the next case); on SQLite `select_for_update` does nothing and the IMMEDIATE transaction
serialises writers. Its decisions are taken by the same code on both; its reads and writes
are the ORM's on SQLite and prepared statements on PostgreSQL (`routing.sql`, for
throughput), and a property test requires the two to agree.
"""

import logging
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Case as DbCase
from django.db.models import CharField, Exists, F, OuterRef, Q, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _

from care import services as care_services
from care import wording
from care.exceptions import CaseChangedMeanwhile
from care.models import OPEN_STATUSES, Case
from config import audit
from config.db import AnyOf, update_row
from config.models import ConfigChange
from config.tasks import enqueue
from routing import engine, selectors, sql
from routing.exceptions import (
    AlreadyAssignedToOperator,
    CapacityReached,
    CaseNotAssignable,
    InvalidRoutingData,
    NoOperatorProfile,
    OperatorNotAvailable,
    OutsideSupervisorScope,
    QueueNotInEmergency,
    ReassignOutsideScope,
    SupervisorOnly,
    TargetAtCapacity,
    TargetHasNoProfile,
    TargetLacksLanguage,
    TargetNotEligible,
    TargetOffline,
)
from routing.models import (
    DEFAULT_QUEUE,
    Assignment,
    AssignmentKind,
    AssignmentLevel,
    Call,
    Certification,
    OperatorProfile,
    PresenceChange,
    PresenceState,
    Queue,
    QueueEvent,
)
from routing.scope import SupervisorScope, supervisor_scope

logger = logging.getLogger(__name__)

MAX_EMERGENCY_MINUTES = 24 * 60
# What an operator or supervisor may choose; on a call and after-call work come from the PBX.
CHOSEN_PRESENCES = (
    PresenceState.AVAILABLE,
    PresenceState.BUSY,
    PresenceState.AWAY,
    PresenceState.OFFLINE,
)
REASON_MAX = 300
# What the configuration audit keeps of an emergency switched on or off.
EMERGENCY_FIELDS = ("emergency_until", "emergency_reason")


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


def criteria_condition(queue: Queue) -> Q:
    """`_matches` as a filter on cases: the same rule, for re-filing waiting cases set-based."""
    condition = Q()
    if queue.client_id is not None:
        condition &= Q(client_id=queue.client_id)
    if queue.segment:
        condition &= Q(client__segment=queue.segment)
    if queue.service:
        condition &= Q(contract_id__in=selectors.skilled_contracts([queue.service]))
    if queue.category_codes:
        condition &= Q(category__code__in=queue.category_codes)
    return condition or Q(pk__isnull=False)  # no criterion: every case


def filing_expression(queues: list[Queue]) -> DbCase:
    """The queue code intake would choose for a case, as one SQL expression: the active
    queues in `_specificity` order, the first whose criteria match, else the default."""
    whens = [
        When(criteria_condition(queue), then=Value(queue.code))
        for queue in sorted(queues, key=_specificity)
    ]
    return DbCase(*whens, default=Value(DEFAULT_QUEUE), output_field=CharField())


def queue_for(case: Case) -> str:
    """The code of the most specific active queue whose criteria the case meets, else the
    default (archived queues take no new case)."""
    matching = [q for q in selectors.active_queues() if _matches(q, case)]
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
    if state not in CHOSEN_PRESENCES:
        raise InvalidRoutingData(fields={"state": [_("Choose a valid presence.")]})
    if actor.id != profile.user_id:
        if not _is_supervisor(actor):
            raise SupervisorOnly()
        if not supervisor_scope(actor).covers_site(profile.site_id):
            raise OutsideSupervisorScope()
    # Alone, durable; inside routing.staff's deactivation, part of its transaction.
    with transaction.atomic(durable=not transaction.get_connection().in_atomic_block):
        profile = OperatorProfile.objects.select_for_update().get(id=profile.id)
        if profile.presence == state:
            return profile
        PresenceChange.objects.create(
            profile=profile, from_state=profile.presence, to_state=state, at=now, actor=actor
        )
        if profile.presence == PresenceState.WRAP_UP:  # ended early
            record_end_of_after_call_work(profile.user_id, now=now)
        profile.presence, profile.presence_since, profile.presence_until = state, now, None
        profile.save(update_fields=["presence", "presence_since", "presence_until"])
        if state == PresenceState.AVAILABLE:
            _after_commit_offer_waiting_to(profile.user_id)
    return profile


def record_end_of_after_call_work(user_id: int, *, now: datetime) -> None:
    """The operator's after-call work ended (by itself or early): its length goes on the
    call it followed, for handle time."""
    found = (
        Call.objects.filter(operator_id=user_id, ended_at__isnull=False, wrap_up_ended_at=None)
        .order_by("-ended_at")
        .values_list("id", "ended_at")
        .first()
    )
    if found is None:
        return
    call_id, ended_at = found
    if ended_at is None:
        return
    seconds = max(0, int((now - ended_at).total_seconds()))
    # updated_at: the calls rollup writes the call's day again (reports.call_rollups)
    ended = Call(id=call_id, wrap_up_ended_at=now, after_call_seconds=seconds, updated_at=now)
    update_row(ended, ("wrap_up_ended_at", "after_call_seconds", "updated_at"))


def offer_waiting_after_commit(user_id: int) -> None:
    """The operator is available again: once committed, offer them the waiting work."""
    _after_commit_offer_waiting_to(user_id)


# --- Emergency ------------------------------------------------------------------------------


def set_emergency(
    *, actor, queue: Queue, minutes: int, reason: str, now: datetime | None = None
) -> Queue:
    """A supervisor of the queue lets its front-office work use operators' full capacity for
    `minutes` (0 ends the emergency now; refused for a queue not in emergency, so that
    "ended" is never said of an emergency that goes on elsewhere). Audited in `QueueEvent`."""
    now = now or timezone.now()
    if not _is_supervisor(actor):
        raise SupervisorOnly()
    if not supervisor_scope(actor).covers_queue(queue.id):
        raise OutsideSupervisorScope()
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
        expired = _record_expiry(queue, now)
        if not minutes and queue.emergency_until is None:
            if expired:  # it ran out a moment ago: its end is written, as asked
                return queue
            message = _(
                "The queue “%(queue)s” is not in emergency: there is nothing to switch off."
            ) % {"queue": queue.name}
            raise QueueNotInEmergency(message, fields={"queue": [message]})
        until = (now + timedelta(minutes=minutes)).astimezone(UTC) if minutes else None
        QueueEvent.objects.create(
            queue=queue,
            kind=QueueEvent.Kind.EMERGENCY_ON if until else QueueEvent.Kind.EMERGENCY_OFF,
            actor=actor,
            at=now,
            until=until,
            reason=reason,
        )
        _switch_emergency(queue, until=until, reason=reason, actor=actor, now=now)
        if until:  # front-office work may now use back-office shares
            _after_commit_offer_waiting_to(None)
    return queue


EXPIRED = "expired"


def _switch_emergency(
    queue: Queue, *, until: datetime | None, reason: str, actor, now: datetime, why: str = ""
) -> None:
    """Set the queue's emergency (`until` None: off) and record the change, in the caller's
    transaction; `why` (default: the emergency's own reason) is the record's reason."""
    before = audit.snapshot(queue, EMERGENCY_FIELDS)
    queue.emergency_until, queue.emergency_reason = until, reason
    queue.save(update_fields=["emergency_until", "emergency_reason"])
    audit.record_change(
        actor=actor,
        now=now,
        target_type="emergency",
        target_id=queue.code,
        target_label=queue.name,
        action=ConfigChange.Action.CHANGED,
        before=before,
        after=audit.snapshot(queue, EMERGENCY_FIELDS),
        reason=why or reason,
    )


def _record_expiry(queue: Queue, now: datetime) -> bool:
    """If the queue's emergency ran out, write its end ("emergency_off", reason "expired", at
    the instant it ended, by whoever switched it on) and clear it, with its configuration
    change (target "emergency", by the system: no actor, reason "expired") in the same
    transaction. The queue row is locked by the caller and the end clears it, so the end is
    written once however many runs race."""
    if queue.emergency_until is None or queue.emergency_until > now:
        return False
    ended_at = queue.emergency_until
    started = queue.events.filter(kind=QueueEvent.Kind.EMERGENCY_ON).order_by("-at", "-id").first()
    if started is not None:  # an emergency is only ever switched on by set_emergency
        QueueEvent.objects.create(
            queue=queue,
            kind=QueueEvent.Kind.EMERGENCY_OFF,
            actor_id=started.actor_id,
            at=ended_at,
            until=ended_at,
            reason=EXPIRED,
        )
    # by the system (no actor), at the instant it ran out
    _switch_emergency(queue, until=None, reason="", actor=None, now=ended_at, why=EXPIRED)
    return True


def end_expired_emergencies(*, now: datetime | None = None) -> int:
    """Beat runs this every minute: every emergency whose time ran out gets exactly one
    "ended" event and is cleared. Idempotent: a second run finds nothing to end."""
    now = now or timezone.now()
    ended = 0
    expired_ids = list(
        Queue.objects.filter(emergency_until__lte=now).order_by("id").values_list("id", flat=True)
    )
    for queue_id in expired_ids:
        with transaction.atomic(durable=True):
            queue = Queue.objects.select_for_update().get(id=queue_id)
            ended += _record_expiry(queue, now)
    return ended


# --- Take next ------------------------------------------------------------------------------


_thresholds = selectors.thresholds_of


class _PullsWithOrm:
    """Take-next's reads and writes through the ORM: SQLite's path, and the reference that
    `routing.sql` (PostgreSQL's path) must agree with."""

    @staticmethod
    def lock_profile(user_id: int) -> selectors.LockedProfile | None:
        profile = (
            OperatorProfile.objects.select_for_update().filter(user_id=user_id).order_by("id")
        ).first()
        if profile is None:
            return None
        return selectors.LockedProfile(
            profile.presence,
            profile.capacity,
            float(profile.backoffice_share),
            selectors.Circles.of(profile),
            tuple(profile.languages or ()),
        )

    @staticmethod
    def held_and_queues(user_id: int) -> tuple[int, list[Queue]]:
        return _held(user_id), list(Queue.objects.all())

    @staticmethod
    def first_free(groups, circles: selectors.Circles, *, now: datetime) -> Case | None:
        """`ORDER BY … LIMIT 1 FOR UPDATE OF care_case SKIP LOCKED`: PostgreSQL applies the
        lock below the LIMIT, so rows held by others are skipped and rows changed by a
        transaction that committed meanwhile are re-checked against the WHERE clause."""
        candidates = selectors.eligible_cases(groups, circles, now=now)
        return candidates.select_for_update(skip_locked=True, of=("self",)).first()

    @staticmethod
    def passed_over_rows(groups, circles: selectors.Circles, chosen: Case, *, now) -> list:
        return list(
            selectors.waiting_cases()
            .filter(circles.tied(), selectors.ahead_of(chosen))
            .exclude(selectors.eligibility_condition(groups, circles, now=now))
            .order_by(*selectors.QUEUE_ORDER)
            .values("id", "reference", "opened_at", "contract_id", "client_id", "queue_code")[
                : engine.PASSED_OVER_MAX
            ]
        )

    @staticmethod
    def take(*, case: Case, assignee, now: datetime, why: dict) -> Case:
        return care_services.assign_case(
            actor=assignee, case=case, assignee=assignee, now=now, why=why, locked=True
        )

    @staticmethod
    def log_pull(**fields) -> Assignment:
        return Assignment.objects.create(kind=AssignmentKind.PULL, **fields)


class _PullsInSql:
    """PostgreSQL's path: prepared statements (see `routing.sql`)."""

    lock_profile = staticmethod(sql.lock_profile)
    held_and_queues = staticmethod(sql.held_and_queues)
    first_free = staticmethod(sql.first_free)
    passed_over_rows = staticmethod(sql.passed_over_rows)
    take = staticmethod(care_services.take_waiting_case)
    log_pull = staticmethod(sql.log_pull)


def _pulls():
    return _PullsInSql if connection.vendor == "postgresql" else _PullsWithOrm


def take_next_case(*, operator, now: datetime | None = None) -> Case | None:
    """Give the operator the best case they may take now, or None.

    In one transaction: the operator's profile is locked (two tabs of one operator are
    serialised against capacity), presence and capacity are checked, one bounded query finds
    and locks the best eligible case nobody else holds (`ORDER BY … LIMIT 1 FOR UPDATE OF
    care_case SKIP LOCKED`), which is assigned and logged as an `Assignment` with its level,
    reason and the cases passed over. Raises `NoOperatorProfile`, `OperatorNotAvailable` or
    `CapacityReached`; None when no case is there for them.

    The decisions are taken here; the reads and writes are the ORM's on SQLite and prepared
    statements on PostgreSQL (`routing.sql`, for throughput), which agree (tested)."""
    now = now or timezone.now()
    pulls = _pulls()
    with transaction.atomic(durable=True):
        profile = pulls.lock_profile(operator.id)
        if profile is None:
            raise NoOperatorProfile()
        if profile.presence != PresenceState.AVAILABLE:
            raise OperatorNotAvailable()
        held, all_queues = pulls.held_and_queues(operator.id)
        capacity, share = profile.capacity, profile.backoffice_share
        if not engine.may_take_more(held, capacity, share, emergency=True):
            raise CapacityReached()
        queues = all_queues
        emergency_only = not engine.may_take_more(held, capacity, share, emergency=False)
        if emergency_only:
            # Only the back-office share is left: usable only by queues in emergency.
            queues = [q for q in all_queues if q.in_emergency(now)]
            if not queues:
                raise CapacityReached()
        circles = profile.circles
        if not circles:
            return None
        barred = selectors.barred_queues(all_queues, profile.languages)
        groups = selectors.eligibility_groups(queues, emergency_only=emergency_only, barred=barred)
        case = pulls.first_free(groups, circles, now=now)
        if case is None:
            return None
        queue = next((q for q in queues if q.code == case.queue_code), None)
        waited = engine.waited_minutes(case.opened_at, now)
        level = engine.eligibility_level(circles.qualification(case), waited, _thresholds(queue))
        if level is None:  # cannot happen: the query applied the same rules
            raise AssertionError(f"case {case.id} is not eligible for {operator}")
        why = engine.reason_for(
            level, queue_code=case.queue_code, waited=waited, how=wording.TAKE_NEXT
        )
        passed_over = _why_passed_over(
            pulls.passed_over_rows(groups, circles, case, now=now), circles, all_queues, now
        )
        case = pulls.take(case=case, assignee=operator, now=now, why=why)
        assignment = pulls.log_pull(
            case=case,
            operator=operator,
            queue_code=case.queue_code,
            at=now,
            level=level.value,
            reason=why["how"],
            passed_over=passed_over,
        )
    case.routing_assignment = assignment  # the API shows the level and reason
    return case


def _why_passed_over(
    rows: list[dict], circles: selectors.Circles, all_queues: list[Queue], now: datetime
) -> list[dict]:
    """The decision record of a pull: the waiting cases ahead of the chosen one in queue
    order that the operator could not take yet, and why. Cases ahead that others were
    taking at that moment are not listed: they were free for nobody."""
    by_code = {q.code: q for q in all_queues}
    passed = []
    for row in rows:
        qualification = engine.Qualification(
            certified_on_contract=row["contract_id"] in circles.contracts,
            certified_on_client=row["client_id"] in circles.clients,
            has_service_skill=row["contract_id"] in circles.skilled_contracts,
        )
        waited = engine.waited_minutes(row["opened_at"], now)
        thresholds = _thresholds(by_code.get(row["queue_code"]))
        if engine.eligibility_level(qualification, waited, thresholds) is not None:
            why = engine.BACKOFFICE_KEPT  # eligible, but only a queue in emergency counts now
        else:
            why = engine.why_not_yet(qualification, waited, thresholds)
        passed.append(why.entry(row["reference"]))
    return passed


# --- Auto-assign (push) ---------------------------------------------------------------------
#
# A waiting case is offered (= assigned, kind "push") to the eligible available operator who
# has been idle longest. Idle since = the latest of: when the operator became available
# (`presence_since`), their last assignment, and the last resolution of a case they held.
# The same eligibility and back-office protection as take-next apply: the operator must be
# available, qualified for the case at its waiting time, and under their front-office limit
# (their full capacity while the case's queue is in emergency).
#
# Exactly once: the case row is locked `FOR UPDATE OF care_case SKIP LOCKED` and re-checked
# (new, unassigned); the operator's profile is locked (SKIP LOCKED: an operator in the middle
# of a take-next is skipped for the next one) and their load counted inside the transaction,
# so racing pushes and pulls never exceed a capacity. Lock order is always case, then
# profile for pushes and reassignments; take-next locks its profile first but never waits on
# a case (SKIP LOCKED), so no cycle can form.

PUSH_PASSED_OVER_MAX = 10
PUSH_ATTEMPTS = 3
OFFER_BATCH = 200


def offer_case(*, case_id: int, now: datetime | None = None) -> Case | None:
    """Offer one waiting case to the operator idle longest who may take it; the case, or
    None when it is no longer waiting, someone else is handling it, or nobody may take it."""
    now = now or timezone.now()
    with transaction.atomic(durable=True):
        case = (
            selectors.waiting_cases()
            .filter(id=case_id)
            .select_related("contract")
            .select_for_update(skip_locked=True, of=("self",))
            .first()
        )
        if case is None:
            return None
        queue = Queue.objects.filter(code=case.queue_code).first()
        thresholds = _thresholds(queue)
        emergency = queue is not None and queue.in_emergency(now)
        waited = engine.waited_minutes(case.opened_at, now)
        candidates = _push_candidates(case, thresholds, emergency=emergency, now=now, queue=queue)
        tried: list[int] = []
        for chosen in engine.push_takers(candidates)[:PUSH_ATTEMPTS]:
            profile = (
                OperatorProfile.objects.select_for_update(skip_locked=True)
                .filter(user_id=chosen.user_id, presence=PresenceState.AVAILABLE)
                .first()
            )
            held = _held(chosen.user_id) if profile is not None else None
            if profile is None or held is None or held >= chosen.limit or chosen.level is None:
                tried.append(chosen.user_id)  # busy meanwhile: the next one idle longest
                continue
            why = engine.reason_for(
                chosen.level, queue_code=case.queue_code, waited=waited, how=wording.AUTO_ASSIGN
            )
            passed_over = engine.push_passed_over(
                candidates,
                chosen,
                waited=waited,
                thresholds=thresholds,
                tried=tuple(tried),
                limit=PUSH_PASSED_OVER_MAX,
            )
            case = care_services.assign_case(
                actor=None, case=case, assignee=profile.user, now=now, why=why, locked=True
            )
            Assignment.objects.create(
                case=case,
                operator_id=chosen.user_id,
                queue_code=case.queue_code,
                at=now,
                level=chosen.level.value,
                kind=AssignmentKind.PUSH,
                reason=why["how"],
                passed_over=passed_over,
            )
            return case
    return None


def _held(user_id: int) -> int:
    return Case.objects.filter(assignee_id=user_id, status__in=OPEN_STATUSES).count()


def _push_candidates(
    case: Case,
    thresholds: engine.Thresholds,
    *,
    emergency: bool,
    now: datetime,
    queue: Queue | None = None,
) -> list[engine.Candidate]:
    """Every operator tied to the case (certified on its contract or client, or skilled in
    one of its services) and speaking the queue's language if it asks for one, with
    presence, load and idle time (2 queries)."""
    services_offered = set(case.contract.services or [])
    skilled = [
        profile_id
        for profile_id, skills in OperatorProfile.objects.order_by().values_list("id", "skills")
        if services_offered.intersection(skills or [])
    ]
    certified = Certification.objects.filter(profile_id=OuterRef("pk"))
    profiles = (
        OperatorProfile.objects.select_related("user")
        .annotate(
            on_contract=Exists(certified.filter(contract_id=case.contract_id)),
            on_client=Exists(certified.filter(client_id=case.client_id)),
            **selectors.idle_since_subqueries(),
        )
        .filter(Q(on_contract=True) | Q(on_client=True) | Q(id__in=skilled))
        .order_by("id")
    )
    waited = engine.waited_minutes(case.opened_at, now)
    skilled_ids = set(skilled)
    candidates = []
    for profile in profiles:
        if not selectors.speaks_for(queue, profile.languages):
            continue
        qualification = engine.Qualification(
            certified_on_contract=profile.on_contract,
            certified_on_client=profile.on_client,
            has_service_skill=profile.id in skilled_ids,
        )
        candidates.append(
            engine.Candidate(
                user_id=profile.user_id,
                label=profile.user.get_username(),
                available=profile.presence == PresenceState.AVAILABLE,
                presence=profile.presence,
                held=profile.held,  # type: ignore[attr-defined]  # annotated by the query
                limit=engine.front_office_limit(
                    profile.capacity, float(profile.backoffice_share), emergency=emergency
                ),
                level=engine.eligibility_level(qualification, waited, thresholds),
                qualification=qualification,
                idle_since=engine.idle_since(
                    profile.presence_since,
                    profile.last_assigned_at,  # type: ignore[attr-defined]  # annotated
                    profile.last_released_at,  # type: ignore[attr-defined]  # annotated
                ),
            )
        )
    return candidates


def offer_waiting_cases(
    *, now: datetime | None = None, operator_id: int | None = None, limit: int = OFFER_BATCH
) -> int:
    """Offer waiting cases that an available operator with room may take (all of them, or
    those `operator_id` may take), in queue order, at most `limit`; how many were assigned.

    Beat runs it every minute to heal lost triggers, and it runs when an operator becomes
    available or frees a case. The candidate cases are found in one set-based query; each
    is then offered by `offer_case`, in its own transaction, so concurrent runs are safe.
    """
    now = now or timezone.now()
    profiles = OperatorProfile.objects.filter(presence=PresenceState.AVAILABLE)
    if operator_id is not None:
        profiles = profiles.filter(user_id=operator_id)
    rows = list(
        profiles.annotate(held=selectors.idle_since_subqueries()["held"]).values_list(
            "id", "capacity", "backoffice_share", "skills", "held", "languages"
        )
    )
    with_room = {
        emergency: [
            (profile_id, skills, languages)
            for profile_id, capacity, share, skills, held, languages in rows
            if engine.may_take_more(held, capacity, float(share), emergency=emergency)
        ]
        for emergency in (False, True)
    }
    if not with_room[True]:
        return 0
    queues = list(Queue.objects.all())
    condition = Q(pk__in=[])
    for queue in [*queues, None]:
        emergency = queue is not None and queue.in_emergency(now)
        room = [
            (profile_id, skills)
            for profile_id, skills, languages in with_room[emergency]
            if selectors.speaks_for(queue, languages)
        ]
        if not room:
            continue
        where = (
            Q(queue_code=queue.code)
            if queue is not None
            else ~Q(queue_code__in=[q.code for q in queues])
        )
        condition |= where & _anyone_eligible(room, _thresholds(queue), now)
    case_ids = list(
        selectors.waiting_cases()
        .filter(condition)
        .order_by(*selectors.QUEUE_ORDER)
        .values_list("id", flat=True)[:limit]
    )
    return sum(offer_case(case_id=case_id, now=now) is not None for case_id in case_ids)


def _anyone_eligible(room: list[tuple[int, list]], thresholds: engine.Thresholds, now) -> Q:
    """Cases at least one of these operators may take now (certifications by subquery)."""
    profile_ids = [profile_id for profile_id, _skills in room]
    certified = Certification.objects.filter(profile_id__in=profile_ids)
    condition = Q(contract_id__in=certified.filter(contract__isnull=False).values("contract_id"))
    condition |= Q(
        client_id__in=certified.filter(client__isnull=False).values("client_id"),
        opened_at__lte=now - timedelta(minutes=thresholds.client_minutes),
    )
    skills = {skill for _profile_id, profile_skills in room for skill in (profile_skills or [])}
    if skills:
        condition |= Q(
            AnyOf(F("contract_id"), selectors.skilled_contracts(skills)),
            opened_at__lte=now - timedelta(minutes=thresholds.national_minutes),
        )
    return condition


def auto_assign_enabled() -> bool:
    return getattr(settings, "ROUTING_AUTO_ASSIGN", True)


def trigger_offer_case(case_id: int) -> None:
    """A case was opened: a worker offers it (called after commit). Never raises."""
    if auto_assign_enabled():
        enqueue("routing.tasks.offer_case_task", case_id)


def trigger_offer_waiting(user_id: int | None) -> None:
    """An operator became available or freed a case (or an emergency opened back-office
    shares: `user_id` None): a worker offers the waiting cases they may take (called after
    commit). Never raises: a broker that is down is healed by beat's auto-assign sweep."""
    if auto_assign_enabled():
        enqueue("routing.tasks.offer_waiting_cases_task", user_id)


def _after_commit_offer_waiting_to(user_id: int | None) -> None:
    """Once the transaction commits, ask a worker to offer waiting cases (those `user_id`
    may take, or all)."""
    transaction.on_commit(lambda: trigger_offer_waiting(user_id), robust=True)


# --- Supervisor reassignment ----------------------------------------------------------------


def reassign_case(
    *,
    actor,
    case: Case,
    operator,
    override_reason: str = "",
    expected_version: int | None = None,
    now: datetime | None = None,
) -> Case:
    """A supervisor gives a case to an operator (a waiting case, or one someone else holds).

    The operator must have a profile, not be offline and hold fewer cases than their
    capacity (a supervisor's decision may use the back-office share). An operator not
    qualified for the case at its waiting time is refused unless `override_reason` says why
    (the assignment is then recorded at level "override"). Outside the supervisor's scope
    (`routing.scope`: an operator of another site, or a case neither in one of their queues
    nor held by one of their operators) it is refused too unless `override_reason` says
    why; the reason is then kept on the decision record and the case's timeline. Writes an
    `Assignment` (kind manual, `assigned_by`); the previous holder's freed capacity is
    offered to waiting cases. Refusals write nothing.
    """
    now = now or timezone.now()
    if not _is_supervisor(actor):
        raise SupervisorOnly()
    scope = supervisor_scope(actor)
    if scope.empty:  # a supervisor of nothing acts on nothing, reason or not
        raise OutsideSupervisorScope()
    override_reason = (override_reason or "").strip()[:REASON_MAX]
    with transaction.atomic(durable=True):
        locked = Case.objects.select_for_update().filter(id=case.id).first()
        if locked is None:
            raise CaseNotAssignable()
        if expected_version is not None and locked.row_version != expected_version:
            raise CaseChangedMeanwhile()
        if locked.status not in OPEN_STATUSES:
            raise CaseNotAssignable()
        if locked.assignee_id == operator.id:
            raise AlreadyAssignedToOperator()
        profile = (
            OperatorProfile.objects.select_for_update()
            .filter(user_id=operator.id)
            .order_by("id")
            .first()
        )
        if profile is None:
            raise TargetHasNoProfile()
        queue = Queue.objects.filter(code=locked.queue_code).first()
        outside = _outside_scope(scope, locked, queue, profile)
        if outside and not override_reason:
            raise ReassignOutsideScope(fields=outside)
        if profile.presence == PresenceState.OFFLINE:
            raise TargetOffline()
        if _held(operator.id) >= profile.capacity:
            raise TargetAtCapacity()
        waited = engine.waited_minutes(locked.opened_at, now)
        level = engine.eligibility_level(
            selectors.Circles.of(profile).qualification(locked), waited, _thresholds(queue)
        )
        if not selectors.speaks_for(queue, profile.languages):
            if not override_reason:
                raise TargetLacksLanguage(fields={"override_reason": [_("Say why.")]})
            level = None  # recorded as an override, with its reason
        if level is None and not override_reason:
            raise TargetNotEligible(fields={"override_reason": [_("Say why.")]})
        previous = locked.assignee
        if level is None:
            why = engine.reason_for(
                AssignmentLevel.OVERRIDE,
                queue_code=locked.queue_code,
                waited=waited,
                how=wording.OVERRIDE,
            ) | {"override_reason": override_reason}
        else:
            why = engine.reason_for(
                level, queue_code=locked.queue_code, waited=waited, how=wording.REASSIGNED
            )
            if outside:  # eligible, but outside the supervisor's scope: the reason is kept
                why |= {"override_reason": override_reason}
            else:
                override_reason = ""
        passed_over = [engine.Why("held_before").entry(previous.get_username())] if previous else []
        case = care_services.assign_case(
            actor=actor, case=locked, assignee=operator, now=now, why=why, locked=True
        )
        case.routing_assignment = Assignment.objects.create(  # type: ignore[attr-defined]
            case=case,
            operator=operator,
            queue_code=case.queue_code,
            at=now,
            level=level.value if level else AssignmentLevel.OVERRIDE,
            kind=AssignmentKind.MANUAL,
            reason=why["how"],
            passed_over=passed_over,
            assigned_by=actor,
            override_reason=override_reason,
        )
        if previous is not None:
            _after_commit_offer_waiting_to(previous.id)
    return case


def _outside_scope(
    scope: SupervisorScope, case: Case, queue: Queue | None, profile: OperatorProfile
) -> dict[str, list[str]]:
    """What of a reassignment lies outside the supervisor's scope, as field errors (empty
    when nothing does): the new operator must work at one of their sites, and the case be in
    one of their queues or held by one of their operators."""
    if scope.national:
        return {}
    outside: dict[str, list[str]] = {}
    if not scope.covers_site(profile.site_id):
        outside["operator"] = [_("This operator works at a site you do not supervise.")]
    if not scope.covers_queue(queue.id if queue else None) and not _held_by_theirs(scope, case):
        outside["case"] = [
            _("This case is not in a queue you supervise, nor held by one of your operators.")
        ]
    if outside:
        outside["override_reason"] = [
            _("Say why you act outside the sites and queues you supervise.")
        ]
    return outside


def _held_by_theirs(scope: SupervisorScope, case: Case) -> bool:
    """The case is held by an operator of the supervisor's sites (1 query if held)."""
    if case.assignee_id is None:
        return False
    return OperatorProfile.objects.filter(
        scope.operators_filter(), user_id=case.assignee_id
    ).exists()
