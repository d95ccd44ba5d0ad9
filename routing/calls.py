"""Every write about calls: telephony events in, the call record, the operator's presence on a
call and in after-call work, callbacks for callers who could not get through.

An event is stored once per call (`CallEvent.key`) under the call's row lock, then the call is
recomputed from all its events (`routing.call_facts.fold`): duplicates change nothing, and late
or out-of-order events end in the same record. The caller's number is stored on the call only;
it never goes to a log.
"""

import json
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from django.contrib.auth import get_user_model
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from config.db import insert_row, instance_from_row, update_row
from contracts import calendars
from contracts import selectors as contract_selectors
from contracts.models import Contract, EndUser
from contracts.phones import InvalidPhoneNumber, normalise_phone
from routing import call_facts, services
from routing.call_facts import Event
from routing.exceptions import CallbackNotAvailable
from routing.models import (
    DEFAULT_QUEUE,
    Call,
    Callback,
    CallEvent,
    CallOutcome,
    OperatorProfile,
    PresenceChange,
    PresenceState,
    Queue,
)

logger = logging.getLogger(__name__)

# A case can be opened on a call up to this long after it ended (the after-call work).
WORKABLE_AFTER_HANGUP = timedelta(hours=2)
# No event for this long and no hang-up: the PBX lost it (a restart, a dropped webhook).
STALE_CALL_AFTER = timedelta(hours=4)
HANGUP_MISSING = "hangup_missing"
UNIT_ZONE = ZoneInfo(calendars.UNIT_TIME_ZONE)


@dataclass(frozen=True)
class Received:
    call: Call
    duplicate: bool


@dataclass
class _Names:
    """The names an event carries, looked up once a request (most with the call's own row):
    a line's queue code (None: no such line), whether a queue exists, and an operator's user
    id by username or extension (None: nobody by that name)."""

    lines: dict[str, str | None] = field(default_factory=dict)
    queues: dict[str, bool] = field(default_factory=dict)
    operators: dict[str, int | None] = field(default_factory=dict)


def receive_event(
    event: Event, *, call_id: str, problems: tuple[str, ...] = (), now: datetime | None = None
) -> Received:
    """Store one telephony event (once) and bring its call, the operator's presence and the
    caller's callback up to date, in one transaction. `problems`: what the API could not
    read in the event (a malformed number), said on the call.

    A new call, the usual first event, is inserted with its facts at once (nothing to read
    back); any other event locks its call, then reads the call's stored events (after the
    lock, so that an event committed meanwhile is among them) and decides from them whether
    it is a duplicate."""
    now = now or timezone.now()
    names = _Names()
    with transaction.atomic(durable=True):
        call = created = None
        if event.event == call_facts.NEW_CALL:
            call = created = _inserted_call(call_id, event, problems, names, now)
        if call is None:
            call = _locked_call(call_id, event, names)
        if call is None:  # an answer or a hang-up before its new call
            call = created = _inserted_call(call_id, event, problems, names, now)
        if created is not None:
            before = (CallOutcome.WAITING, None)
            _after(created, before, event, now, callbacks=bool(created.caller_number))
            return Received(created, duplicate=False)
        if call is None:  # the call's other event created it meanwhile
            call = _locked_call(call_id, event, names)
        if call is None:
            raise Call.DoesNotExist(call_id)
        stored, callbacks_waiting = _stored_events(call)
        if event.key in {key for key, _event in stored}:
            return Received(call, duplicate=True)
        _store(event, call, now)
        events = [stored_event for _key, stored_event in stored]
        events.append(event)  # the caller's number is not in the stored rows
        before = (call.outcome, call.operator_id)
        had_number = call.caller_number
        relinked = _place(call, call_facts.fold(events), now, names, problems)
        update_row(call)
        if relinked:
            _match_end_users(call, had_number=bool(had_number))
        _after(call, before, event, now, callbacks=callbacks_waiting or relinked)
    return Received(call, duplicate=False)


def _after(call: Call, before: tuple, event: Event, now: datetime, *, callbacks: bool) -> None:
    """The operator's presence and the caller's callback after the call changed.
    `callbacks`: whether a callback may be waiting for one of the call's end users (when
    none is, a caller getting through has nothing to close)."""
    _presence_after(call, before, event, now)
    unanswered = call.outcome in (CallOutcome.ABANDONED, CallOutcome.MISSED)
    if unanswered and before[0] != call.outcome:
        _call_back_later(call, now)
    elif call.answered_at is not None and before[0] == CallOutcome.WAITING and callbacks:
        _got_through(call, now)


def _inserted_call(
    call_id: str, event: Event, problems: tuple[str, ...], names: _Names, now: datetime
) -> Call | None:
    """The call's first event: the call inserted with the facts of this one event, the event
    stored, the caller's end users matched. None when the call exists already (this or
    another of its events created it): nothing written."""
    call = Call(call_id=call_id, offered_at=event.at, updated_at=now)
    _place(call, call_facts.fold([event]), now, names, problems)
    if not insert_row(call, unless=("call_id",)):
        return None
    _store(event, call, now)
    if call.caller_number:
        _match_end_users(call, had_number=False)
    return call


# The two reads of every event but a call's first, written once in SQL: through the ORM,
# building them cost more than running them. Table and column names are the models' own;
# values are always bound parameters (hence the `noqa: S608`).
_LINE_QUEUE = """
    SELECT q.code FROM routing_telephonyline l JOIN routing_queue q ON q.id = l.queue_id
    WHERE l.number = %s
"""
_CALL_COLUMNS = ", ".join(f'c."{f.column}"' for f in Call._meta.concrete_fields)
_LOCK_CALL = f"""
    SELECT {_CALL_COLUMNS},
        COALESCE(
            (SELECT u.id FROM {get_user_model()._meta.db_table} u
             WHERE u.username = %s AND u.is_active ORDER BY u.id LIMIT 1),
            (SELECT p.user_id FROM routing_operatorprofile p WHERE p.extension = %s LIMIT 1)
        ),
        ({_LINE_QUEUE}),
        EXISTS (SELECT 1 FROM routing_queue q WHERE q.code = %s)
    FROM routing_call c
    WHERE c.call_id = %s
"""  # noqa: S608
_STORED_EVENTS = """
    SELECT e."key", e.event, e.at, e.data,
        EXISTS (SELECT 1 FROM routing_call_end_users l
                JOIN routing_callback b ON b.end_user_id = l.enduser_id
                WHERE l.call_id = e.call_id AND b.status = %s)
    FROM routing_callevent e
    WHERE e.call_id = %s
    ORDER BY e.at, e.id
"""


def _locked_call(call_id: str, event: Event, names: _Names) -> Call | None:
    """The call's row, locked, with what the event names looked up in the same statement
    (the operator by username or extension, the line's queue, whether the queue exists:
    configuration, which no call event changes)."""
    lock = " FOR UPDATE OF c" if connection.vendor == "postgresql" else ""
    params = [event.operator or None] * 2 + [event.line or None, event.queue or None, call_id]
    with connection.cursor() as cursor:
        cursor.execute(_LOCK_CALL + lock, params)
        row = cursor.fetchone()
    if row is None:
        return None
    width = len(Call._meta.concrete_fields)
    operator_id, line_queue, queue_known = row[width:]
    if event.operator:
        names.operators[event.operator] = operator_id
    if event.line:
        names.lines[event.line] = line_queue
    if event.queue:
        names.queues[event.queue] = bool(queue_known)
    return instance_from_row(Call, row[:width])


def _stored_events(call: Call) -> tuple[list[tuple[str, Event]], bool]:
    """The call's stored events (key, event) and whether a callback is waiting for one of
    its end users, in one statement (under the call's lock: nothing of this call changes
    meanwhile). A call with no stored event (made before events were kept) says a callback
    may be waiting: the callback's own query decides."""
    with connection.cursor() as cursor:
        cursor.execute(_STORED_EVENTS, [Callback.Status.WAITING.value, call.pk])
        rows = cursor.fetchall()
    stored = [(key, _as_event(kind, at, data)) for key, kind, at, data, _waiting in rows]
    return stored, bool(rows[0][4]) if rows else True


def _store(event: Event, call: Call, now: datetime) -> None:
    """The event kept, once per call (under the call's lock; the constraint holds it too)."""
    insert_row(
        CallEvent(
            call=call,
            key=event.key,
            event=event.event,
            at=event.at,
            received_at=now,
            data=_without_number(event),
        )
    )


def _without_number(event: Event) -> dict:
    data = {
        "line": event.line,
        "queue": event.queue,
        "operator": event.operator,
        "cause": event.cause,
        "direction": event.direction,
        "recording": event.recording,
    }
    return {k: v for k, v in data.items() if v}


def _as_event(kind: str, at, data) -> Event:
    """A stored event from its row as the driver gives it (on SQLite the data is its JSON
    text)."""
    if isinstance(data, str):
        data = json.loads(data)
    return Event(event=kind, at=_instant(at), **data)


def _instant(value) -> datetime:
    """An instant as the driver gives it: aware on PostgreSQL, UTC text on SQLite."""
    if isinstance(value, str):
        value = parse_datetime(value)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _place(
    call: Call, facts: call_facts.CallFacts, now: datetime, names: _Names, noticed=()
) -> bool:
    """Write the facts on the call (the caller saves it); the line, queue and operator are
    looked up again only when the events changed them (most events change neither). True
    when the caller's number changed: its end users are to be matched again."""
    problems = set(call.problems) | set(noticed)
    number = facts.caller_number or call.caller_number
    placed = call.queue_code and facts.line == call.line
    if not placed or (facts.queue and facts.queue != call.queue_code):
        problems -= {"unknown_line", "unknown_queue"}
        call.queue_code = _queue_of(facts, problems, names)
    if facts.operator[:150] != call.operator_ref:
        problems.discard("unknown_operator")
        call.operator_id = _operator_named(facts.operator, names) if facts.operator else None
        if facts.operator and call.operator_id is None:
            problems.add("unknown_operator")
    matched = number != call.caller_number
    call.caller_number = number
    call.direction = facts.direction
    call.line = facts.line
    call.operator_ref = facts.operator[:150]
    call.offered_at = facts.offered_at
    call.answered_at = facts.answered_at
    call.ended_at = facts.ended_at
    call.wait_seconds = facts.wait_seconds
    call.talk_seconds = facts.talk_seconds
    call.outcome = facts.state
    call.hangup_cause = facts.hangup_cause
    call.transfers = facts.transfers
    call.recording_ref = facts.recording[:300]
    call.problems = sorted(problems)
    call.updated_at = now
    return matched


_LINK_END_USERS = """
    INSERT INTO routing_call_end_users (call_id, enduser_id)
    SELECT %s, p.end_user_id
    FROM contracts_enduserphone p JOIN contracts_enduser u ON u.id = p.end_user_id
    WHERE p.number = %s AND u.is_active
    ORDER BY p.id
"""


def _match_end_users(call: Call, *, had_number: bool) -> None:
    """The end users the call's number is: the links replaced by one INSERT … SELECT of the
    active end users with that number (none for an empty number)."""
    if had_number:
        Call.end_users.through.objects.filter(call=call).delete()
    if call.caller_number:
        with connection.cursor() as cursor:
            cursor.execute(_LINK_END_USERS, [call.pk, call.caller_number])


def _queue_of(facts: call_facts.CallFacts, problems: set[str], names: _Names) -> str:
    """The queue the PBX named, else the line's; the default queue when neither is known."""
    queue_code = facts.queue
    if facts.line and not queue_code:
        if facts.line not in names.lines:
            with connection.cursor() as cursor:
                cursor.execute(_LINE_QUEUE, [facts.line])
                row = cursor.fetchone()
            names.lines[facts.line] = row[0] if row else None
        line_queue = names.lines[facts.line]
        if line_queue is None:
            problems.add("unknown_line")
        else:
            return line_queue
    if queue_code:
        if queue_code not in names.queues:
            names.queues[queue_code] = Queue.objects.filter(code=queue_code).exists()
        if not names.queues[queue_code]:
            problems.add("unknown_queue")
    return queue_code or DEFAULT_QUEUE


def _operator_named(name: str, names: _Names) -> int | None:
    """The PBX names the operator by username or by extension (once a request)."""
    if name not in names.operators:
        user = get_user_model().objects.filter(username=name, is_active=True).values("id").first()
        if user is not None:
            names.operators[name] = user["id"]
        else:
            profile = OperatorProfile.objects.filter(extension=name).values("user_id").first()
            names.operators[name] = profile["user_id"] if profile else None
    return names.operators[name]


def normalised_caller_number(raw: str) -> str | None:
    """E.164, or None when the PBX sent something that is not a phone number (withheld
    numbers come as "anonymous" and are kept empty)."""
    try:
        return normalise_phone(raw)
    except InvalidPhoneNumber:
        return None


# --- Presence on a call ---------------------------------------------------------------------


def _presence_after(call: Call, before: tuple, event: Event, now: datetime) -> None:
    """An answered call puts its operator on a call; its end puts them in after-call work
    for the queue's allowance (or straight back to available when that is already over); a
    transfer ends the call for who passed it on."""
    previous_operator = before[1]
    if previous_operator and previous_operator != call.operator_id:
        _to_wrap_up(previous_operator, call, ended_at=event.at, now=now)
    if call.operator_id is None:
        return
    if call.outcome == CallOutcome.TALKING:
        _set(call.operator_id, PresenceState.ON_CALL, now=now, until=None)
    elif call.answered_at is not None and call.ended_at is not None:
        _to_wrap_up(call.operator_id, call, ended_at=call.ended_at, now=now)


@dataclass(frozen=True)
class _Presence:
    """An operator's presence as read under their profile's row lock, with the wrap-up
    allowance of the queue asked for (configuration, read in the same statement)."""

    id: int
    presence: str
    until: datetime | None
    allowance: int | None


_LOCK_PRESENCE = """
    SELECT p.id, p.presence, p.presence_until,
        (SELECT q.wrap_up_seconds FROM routing_queue q WHERE q.code = %s)
    FROM routing_operatorprofile p
    WHERE p.user_id = %s
"""


def _locked_presence(
    user_id: int, *, queue_code: str | None = None, on_call_only: bool = False
) -> _Presence | None:
    """The operator's profile row locked until the end of the transaction (None without a
    profile, or when `on_call_only` and they are not on a call)."""
    sql, params = _LOCK_PRESENCE, [queue_code, user_id]
    if on_call_only:
        sql, params = f"{sql} AND p.presence = %s", [*params, PresenceState.ON_CALL.value]
    if connection.vendor == "postgresql":
        sql += " FOR UPDATE OF p"
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    if row is None:
        return None
    profile_id, presence, until, allowance = row
    return _Presence(profile_id, presence, _instant(until) if until else None, allowance)


def _to_wrap_up(user_id: int, call: Call, *, ended_at: datetime, now: datetime) -> None:
    """Out of a call into after-call work, unless the operator is already on another call
    (a transfer passed on while they took the next one, or a late or swept hang-up)."""
    profile = _locked_presence(user_id, queue_code=call.queue_code, on_call_only=True)
    if profile is None:
        return
    # Looked for after the lock, which the other call's answer may have held.
    talking = Call.objects.filter(operator_id=user_id, answered_at__isnull=False, ended_at=None)
    if talking.exclude(id=call.id).exists():
        return
    allowance = profile.allowance
    until = ended_at + timedelta(seconds=60 if allowance is None else allowance)
    if until > now:
        _set(user_id, PresenceState.WRAP_UP, now=now, until=until, locked=profile)
    else:
        _set(user_id, PresenceState.AVAILABLE, now=now, until=None, locked=profile)


def _set(
    user_id: int,
    state: str,
    *,
    now: datetime,
    until: datetime | None,
    locked: _Presence | None = None,
) -> None:
    """Change the operator's presence, with its history; `locked`: their presence, already
    read under the profile's row lock in this transaction."""
    profile = locked or _locked_presence(user_id)
    if profile is None or (profile.presence == state and profile.until == until):
        return
    if profile.presence == PresenceState.WRAP_UP and state != PresenceState.WRAP_UP:
        services.record_end_of_after_call_work(user_id, now=now)
    if profile.presence != state:
        change = PresenceChange(
            profile_id=profile.id, from_state=profile.presence, to_state=state, at=now, actor=None
        )
        insert_row(change)
    changed = OperatorProfile(
        id=profile.id, presence=state, presence_since=now, presence_until=until
    )
    update_row(changed, ("presence", "presence_since", "presence_until"))
    if state == PresenceState.AVAILABLE:
        services.offer_waiting_after_commit(user_id)


def end_expired_wrap_ups(*, now: datetime | None = None, user_id: int | None = None) -> int:
    """After-call work ends by itself when its allowance runs out (beat, and each operator's
    own page). Returns how many operators went back to available."""
    now = now or timezone.now()
    expired = Q(presence=PresenceState.WRAP_UP, presence_until__lte=now)
    if user_id is not None:
        expired &= Q(user_id=user_id)
    ended = 0
    for uid in OperatorProfile.objects.filter(expired).values_list("user_id", flat=True)[:500]:
        with transaction.atomic():
            profile = _locked_presence(uid)
            if profile is None or profile.presence != PresenceState.WRAP_UP:
                continue
            if profile.until is None or profile.until > now:
                continue
            _set(uid, PresenceState.AVAILABLE, now=now, until=None, locked=profile)
            ended += 1
    return ended


def end_stale_calls(*, now: datetime | None = None, limit: int = 500) -> int:
    """Calls not heard of for `STALE_CALL_AFTER` and never hung up are ended where their last
    event left them, flagged `hangup_missing` (beat, every few minutes). They stop counting as
    waiting or talking on the wallboard, their operator is no longer held on a call, and a
    known caller who was left waiting gets a callback, as any unanswered caller. The real
    hang-up, if it comes later, is a duplicate. Returns how many calls were ended."""
    now = now or timezone.now()
    stale = (
        Call.objects.filter(ended_at=None, updated_at__lt=now - STALE_CALL_AFTER)
        .order_by("updated_at")
        .values_list("call_id", flat=True)[:limit]
    )
    ended = 0
    for call_id in list(stale):
        last = (
            CallEvent.objects.filter(call__call_id=call_id)
            .order_by("-at")
            .values_list("at", flat=True)
            .first()
        )
        if last is None:
            continue
        hangup = Event(event=call_facts.HANGUP, at=last, cause="normal")
        received = receive_event(hangup, call_id=call_id, problems=(HANGUP_MISSING,), now=now)
        ended += not received.duplicate
    return ended


# --- The screen pop -------------------------------------------------------------------------


def current_call(user, *, now: datetime | None = None) -> Call | None:
    """The call the operator is on (answered, not ended), else None."""
    return (
        Call.objects.filter(operator=user, answered_at__isnull=False, ended_at__isnull=True)
        .order_by("-answered_at")
        .first()
    )


def caller_of_call(call_id: str, user) -> str | None:
    """care's port (`care.ports.caller_of_call`): the caller's number of a call this user
    answered, while on it or in the two hours after; "" for a withheld number."""
    if not call_id or not getattr(user, "is_authenticated", False):
        return None
    recent = Q(ended_at__isnull=True) | Q(ended_at__gte=timezone.now() - WORKABLE_AFTER_HANGUP)
    return (
        Call.objects.filter(recent, call_id=call_id, operator=user, answered_at__isnull=False)
        .values_list("caller_number", flat=True)
        .first()
    )


# --- Callbacks ------------------------------------------------------------------------------


def _contract_of(end_user: EndUser, on) -> Contract | None:
    return (
        Contract.objects.filter(contract_selectors.in_force_on(on), client_id=end_user.client_id)
        .select_related("calendar")
        .order_by("code")
        .first()
    )


def _call_back_later(call: Call, now: datetime) -> None:
    """One callback per known caller and day, however often they tried; due in the
    contract's business minutes from their first unanswered call."""
    end_user = call.end_users.order_by("id").select_related("client").first()
    if end_user is None:
        return
    day = call.offered_at.astimezone(UNIT_ZONE).date()
    callback = Callback.objects.select_for_update().filter(end_user=end_user, day=day).first()
    if callback is not None:
        if not callback.calls.filter(id=call.id).exists():
            callback.calls.add(call)
            callback.attempts_by_caller += 1
            if callback.status in (Callback.Status.REACHED, Callback.Status.UNREACHED):
                callback.status, callback.done_at, callback.assignee = "waiting", None, None
            callback.save(update_fields=["attempts_by_caller", "status", "done_at", "assignee"])
        return
    contract = _contract_of(end_user, day)
    queue = Queue.objects.filter(code=call.queue_code).first()
    minutes = queue.callback_minutes if queue else 120
    spec = (
        contract_selectors.calendar_spec(contract.calendar)
        if contract
        else calendars.always_open_spec()
    )
    try:
        with transaction.atomic():
            callback = Callback.objects.create(
                end_user=end_user,
                client_id=end_user.client_id,
                contract=contract,
                day=day,
                queue_code=call.queue_code,
                created_at=now,
                due_at=calendars.add_business_minutes(spec, call.offered_at, minutes),
            )
    except IntegrityError:  # created meanwhile for another of their calls
        callback = Callback.objects.get(end_user=end_user, day=day)
    callback.calls.add(call)


def _got_through(call: Call, now: datetime) -> None:
    """A caller with a callback waiting today got through on their own: nothing to call
    back."""
    day = call.offered_at.astimezone(UNIT_ZONE).date()
    for callback in Callback.objects.select_for_update().filter(
        end_user__in=call.end_users.all(), day=day, status=Callback.Status.WAITING
    ):
        callback.status, callback.done_at = Callback.Status.REACHED, now
        callback.tries = [
            *callback.tries,
            {"at": now.isoformat(), "by": "", "reached": True, "note": "inbound"},
        ]
        callback.calls.add(call)
        callback.save(update_fields=["status", "done_at", "tries"])


def take_callback(*, operator, callback_id: int, now: datetime | None = None) -> Callback:
    """The operator takes a waiting callback to call the end user back (exactly once: two
    operators never take the same one)."""
    now = now or timezone.now()
    with transaction.atomic(durable=True):
        taken = Callback.objects.filter(id=callback_id, status=Callback.Status.WAITING).update(
            status=Callback.Status.TAKEN, assignee=operator
        )
        if not taken:
            raise CallbackNotAvailable()
        return Callback.objects.get(id=callback_id)


def take_next_callback(*, operator, now: datetime | None = None) -> Callback | None:
    """The most overdue callback nobody is making, given to this operator (routing serves
    the callback worklist like its queues: in due order, each exactly once: the row is
    locked with SKIP LOCKED, so two operators never get the same one). None when there is
    nothing to call back."""
    now = now or timezone.now()
    with transaction.atomic(durable=True):
        callback = (
            Callback.objects.select_for_update(skip_locked=True)
            .filter(status=Callback.Status.WAITING)
            .order_by("due_at", "id")
            .first()
        )
        if callback is None:
            return None
        callback.status, callback.assignee = Callback.Status.TAKEN, operator
        callback.save(update_fields=["status", "assignee"])
    return callback


def record_callback_attempt(
    *,
    operator,
    callback: Callback,
    reached: bool,
    note: str = "",
    case_reference: str = "",
    now: datetime | None = None,
) -> Callback:
    """How the call back went: reached (done, linked to the case opened or updated), or not
    reached (back on the worklist, unreached after three tries)."""
    now = now or timezone.now()
    with transaction.atomic(durable=True):
        callback = Callback.objects.select_for_update().get(id=callback.id)
        if callback.status != Callback.Status.TAKEN or callback.assignee_id != operator.id:
            raise CallbackNotAvailable()
        callback.tries = [
            *callback.tries,
            {
                "at": now.isoformat(),
                "by": operator.get_username(),
                "reached": reached,
                "note": note.strip()[:300],
            },
        ]
        if reached:
            callback.status, callback.done_at = Callback.Status.REACHED, now
            callback.case_reference = case_reference.strip()[:20]
        elif len(callback.tries) >= 3:
            callback.status, callback.done_at = Callback.Status.UNREACHED, now
        else:
            callback.status, callback.assignee = Callback.Status.WAITING, None
        callback.save()
    return callback
