"""Reads about calls: who may see which, a call with the cases handled on it, the wallboard's
figures per queue, the callback worklist. Each a fixed number of queries."""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import Count, Min, Q, QuerySet

from care.models import CaseCall
from routing.call_measures import CallMeasures
from routing.models import (
    Call,
    Callback,
    CallOutcome,
    OperatorProfile,
    PresenceState,
    Queue,
)
from routing.scope import NATIONAL, SupervisorScope

WALLBOARD_WINDOW = timedelta(minutes=30)


def sees_every_call(user) -> bool:
    return user.has_perm("config.supervise") or user.has_perm("config.view_reports")


def calls_visible_to(user) -> QuerySet[Call]:
    """Supervisors and report readers see every call (numbers masked); an operator sees the
    calls they answered."""
    calls = Call.objects.select_related("operator")
    return calls if sees_every_call(user) else calls.filter(operator=user)


def with_case_references(calls: list[Call]) -> list[Call]:
    """Each call's `case_references`: the cases opened or updated on it (1 query)."""
    by_call: dict[str, set[str]] = {}
    for call_id, reference in CaseCall.objects.filter(
        call_id__in=[c.call_id for c in calls]
    ).values_list("call_id", "case__reference"):
        by_call.setdefault(call_id, set()).add(reference)
    for call in calls:
        call.case_references = sorted(by_call.get(call.call_id, ()))
    return calls


@dataclass
class QueueBoard:
    code: str
    name: str
    waiting: int = 0
    longest_wait_seconds: int = 0
    answered: int = 0
    abandoned: int = 0
    missed: int = 0
    answered_in_time: int = 0
    service_level: float | None = None  # share of offered-and-ended calls answered in time
    target: int = 80
    average_handle_seconds: int | None = None
    longest_wait_alarm_seconds: int = 120
    alarms: list[str] = field(default_factory=list)


@dataclass
class Wallboard:
    at: datetime
    queues: list[QueueBoard]
    operators: dict[str, int]  # presence -> count


def wallboard(*, now: datetime, scope: SupervisorScope = NATIONAL) -> Wallboard:
    """Per queue of `scope`: calls waiting now and the longest wait; over the calls offered
    in the last 30 minutes: answered, abandoned, missed, the service level and the average
    handle time (defined in `routing.call_measures`); the operators of the scope's sites by
    presence. An archived queue is shown only while it has calls waiting or in the window
    (as on the supervisor console). Four queries."""
    since = now - WALLBOARD_WINDOW
    queues = {q.code: q for q in Queue.objects.filter(scope.queues_filter())}
    calls = Call.objects.all()
    if not scope.national:
        calls = calls.filter(queue_code__in=list(queues))
    boards = {
        code: QueueBoard(
            code=code,
            name=q.name,
            target=q.service_level_target,
            longest_wait_alarm_seconds=q.longest_wait_alarm_seconds,
        )
        for code, q in queues.items()
    }
    waiting = (
        calls.filter(outcome=CallOutcome.WAITING, offered_at__gte=now - timedelta(hours=4))
        .values("queue_code")
        .annotate(n=Count("id"), oldest=Min("offered_at"))
    )
    for row in waiting:
        board = boards.get(row["queue_code"])
        if board is not None:
            board.waiting = row["n"]
            board.longest_wait_seconds = max(0, int((now - row["oldest"]).total_seconds()))
    measures = CallMeasures.for_queues((c, q.service_level_seconds) for c, q in queues.items())
    rows = (
        calls.filter(offered_at__gte=since, offered_at__lte=now)
        .values("queue_code")
        .annotate(**measures.aggregates())
    )
    for row in rows:
        board = boards.get(row["queue_code"])
        if board is None:
            continue
        board.answered, board.abandoned, board.missed = (
            row["answered"],
            row["abandoned"],
            row["missed"],
        )
        board.answered_in_time = measures.answered_in_time(row, board.code)
        board.service_level = measures.service_level(row, board.code)
        board.average_handle_seconds = measures.average_handle(row)
    for code, queue in queues.items():
        board = boards[code]
        if queue.archived_at is not None and not (
            board.waiting or board.answered or board.abandoned or board.missed
        ):
            del boards[code]
    for board in boards.values():
        if board.service_level is not None and board.service_level < board.target:
            board.alarms.append("service_level")
        if board.longest_wait_seconds > board.longest_wait_alarm_seconds:
            board.alarms.append("longest_wait")
    operators = dict(
        OperatorProfile.objects.filter(scope.operators_filter())
        .values_list("presence")
        .annotate(n=Count("id"))
        .order_by()
    )
    return Wallboard(
        at=now,
        queues=sorted(boards.values(), key=lambda b: (-len(b.alarms), -b.waiting, b.code)),
        operators={state: operators.get(state, 0) for state in PresenceState.values},
    )


def callback_worklist(user, *, now: datetime, limit: int = 100) -> QuerySet[Callback]:
    """Callbacks to make, most overdue first, and the ones this operator has taken."""
    return (
        Callback.objects.filter(
            Q(status=Callback.Status.WAITING) | Q(status=Callback.Status.TAKEN, assignee=user)
        )
        .select_related("end_user", "client", "contract", "assignee")
        .prefetch_related("end_user__phones")
        .order_by("due_at", "id")[:limit]
    )


def callbacks_waiting() -> int:
    """How many callbacks wait to be made (the workspace shows it beside the next case)."""
    return Callback.objects.filter(status=Callback.Status.WAITING).count()
