"""Take-next's reads and its decision record on PostgreSQL, as prepared statements.

The target is 300 assignments a second with 32 operators on a 2-core machine, i.e. under
7 ms of CPU for a whole take, database included. Through the ORM a take cost 16 ms of Python
(building and compiling eleven statements) and 6.6 ms of PostgreSQL, half of it planning.
Here each statement is written once, prepared on first use and run on a generic plan
(`config.db.prepared_cursor`): four reads and two writes, the second one
`care.services.take_waiting_case`.

The rules are the ones `routing.selectors` states for the ORM, which the portable path
(SQLite) and push assignment use: `eligibility_groups` decides which queues share which
thresholds for both, and each group's test here is `Circles.eligible` and `Circles.tied`
written in SQL. `tests/routing/test_take_next_sql.py` runs both paths on the same data and
requires the same choices, levels and decision records.
"""

from datetime import datetime, timedelta

from psycopg.types.json import Jsonb

from care.models import OPEN_STATUSES, Case
from config.db import prepared_cursor
from routing import engine
from routing.models import Assignment, AssignmentKind, Queue
from routing.selectors import Circles, LockedProfile, QueueGroup

# Every statement below is built from this module's own SQL and the models' column names;
# values are always bound parameters (hence the `noqa: S608`).

_OPEN = sorted(OPEN_STATUSES)
_WAITING = "c.status = 'new' AND c.assignee_id IS NULL"
_QUEUE_ORDER = "c.priority, c.resolution_due_at ASC NULLS LAST, c.opened_at, c.id"
# What take-next reads of the case it locks: enough to rank it and write the decision (in
# the model's field order, as `Model.from_db` wants them).
_CANDIDATE = tuple(
    field.attname
    for field in Case._meta.concrete_fields
    if field.attname
    in {"id", "status", "priority", "resolution_due_at", "opened_at", "contract_id",
        "client_id", "queue_code"}
)  # fmt: skip
_PASSED = ("id", "reference", "opened_at", "contract_id", "client_id", "queue_code")


def lock_profile(user_id: int) -> LockedProfile | None:
    """The operator's profile, locked until the end of the transaction, with their circles
    (certified contracts and clients; contracts offering one of their skills)."""
    with prepared_cursor() as cursor:
        cursor.execute(
            """
            SELECT p.presence, p.capacity, p.backoffice_share,
                ARRAY(SELECT jsonb_array_elements_text(p.languages)
                      WHERE jsonb_typeof(p.languages) = 'array'),
                ARRAY(SELECT r.contract_id FROM routing_certification r
                      WHERE r.profile_id = p.id AND r.contract_id IS NOT NULL),
                ARRAY(SELECT r.client_id FROM routing_certification r
                      WHERE r.profile_id = p.id AND r.client_id IS NOT NULL),
                ARRAY(SELECT k.id FROM contracts_contract k
                      WHERE jsonb_typeof(p.skills) = 'array'
                        AND k.services ?| ARRAY(SELECT jsonb_array_elements_text(p.skills)))
            FROM routing_operatorprofile p
            WHERE p.user_id = %s
            ORDER BY p.id
            LIMIT 1
            FOR UPDATE OF p
            """,
            [user_id],
        )
        row = cursor.fetchone()
    if row is None:
        return None
    presence, capacity, share, languages, contracts, clients, skilled = row
    return LockedProfile(
        presence,
        capacity,
        float(share),
        Circles(contracts, clients, skilled),
        tuple(languages),
    )


def held_and_queues(user_id: int) -> tuple[int, list[Queue]]:
    """The open cases the operator holds (read after their profile's lock was granted, in a
    statement of its own, so a racing take that committed meanwhile is counted) and the
    queues with their thresholds, emergencies and the language they ask for."""
    with prepared_cursor() as cursor:
        cursor.execute(
            """
            SELECT h.held, q.code, q.overflow_client_minutes, q.overflow_national_minutes,
                q.emergency_until, q.language
            FROM (SELECT count(*) AS held FROM care_case
                  WHERE assignee_id = %s AND status = ANY(%s)) h
            LEFT JOIN routing_queue q ON TRUE
            ORDER BY q.code
            """,
            [user_id, _OPEN],
        )
        rows = cursor.fetchall()
    queues = [
        Queue(
            code=code,
            overflow_client_minutes=client_minutes,
            overflow_national_minutes=national_minutes,
            emergency_until=emergency_until,
            language=language,
        )
        for _held, code, client_minutes, national_minutes, emergency_until, language in rows
        if code is not None
    ]
    return rows[0][0], queues


def _circles(circles: Circles) -> dict:
    """The operator's circles as named array parameters, sent once per statement however
    often the statement tests them."""
    return {
        "contracts": list(circles.contracts),
        "clients": list(circles.clients),
        "skilled": list(circles.skilled_contracts),
    }


def _eligible(groups: list[QueueGroup], now: datetime) -> tuple[str, dict]:
    """`selectors.eligibility_condition` in SQL: per group of queues, certified on the
    contract at once, on the client after the first threshold, by skill after the second
    (with the parameters of `_circles`)."""
    tests, params = [], {}
    for n, group in enumerate(groups):
        tests.append(
            f"(c.queue_code {'<> ALL' if group.others else '= ANY'}(%(codes{n})s::varchar[])"
            " AND (c.contract_id = ANY(%(contracts)s::bigint[])"
            f" OR (c.client_id = ANY(%(clients)s::bigint[]) AND c.opened_at <= %(client{n})s)"
            f" OR (c.contract_id = ANY(%(skilled)s::bigint[]) AND c.opened_at <= %(national{n})s)))"
        )
        params |= {
            f"codes{n}": list(group.codes),
            f"client{n}": now - timedelta(minutes=group.thresholds.client_minutes),
            f"national{n}": now - timedelta(minutes=group.thresholds.national_minutes),
        }
    return "(" + (" OR ".join(tests) or "FALSE") + ")", params


def _partial_case(names: tuple[str, ...], row) -> Case:
    return Case.from_db(Case.objects.db, [*names], row)


def first_free(groups: list[QueueGroup], circles: Circles, *, now: datetime) -> Case | None:
    """The first case in queue order the operator may take now and nobody else holds,
    locked (`FOR UPDATE OF c SKIP LOCKED` below the `LIMIT`, as in the ORM path), with the
    columns of `_CANDIDATE` only."""
    eligible, params = _eligible(groups, now)
    with prepared_cursor() as cursor:
        cursor.execute(
            f"SELECT {', '.join('c.' + name for name in _CANDIDATE)} FROM care_case c "  # noqa: S608
            f"WHERE {_WAITING} AND {eligible} ORDER BY {_QUEUE_ORDER} "
            "LIMIT 1 FOR UPDATE OF c SKIP LOCKED",
            _circles(circles) | params,
        )
        row = cursor.fetchone()
    return _partial_case(_CANDIDATE, row) if row else None


def passed_over_rows(
    groups: list[QueueGroup], circles: Circles, chosen: Case, *, now: datetime
) -> list[dict]:
    """The waiting cases ahead of `chosen` in queue order that the operator is tied to but
    may not take now (at most `engine.PASSED_OVER_MAX`), as `routing.services` reads them
    through the ORM. Bounded by a row comparison with `chosen`, which the takeable index
    uses as its start (see `selectors.ahead_of`)."""
    eligible, params = _eligible(groups, now)
    if chosen.resolution_due_at is not None:
        ahead = (
            "(c.priority, c.resolution_due_at, c.opened_at, c.id)"
            " < (%(priority)s, %(due)s, %(opened)s, %(id)s)"
        )
    else:  # a row with no due time comes after every row with one
        ahead = (
            "c.priority <= %(priority)s AND (c.priority < %(priority)s"
            " OR c.resolution_due_at IS NOT NULL OR (c.opened_at, c.id) < (%(opened)s, %(id)s))"
        )
    params |= {"priority": chosen.priority, "opened": chosen.opened_at, "id": chosen.id}
    if chosen.resolution_due_at is not None:
        params["due"] = chosen.resolution_due_at
    tied = (
        "(c.contract_id = ANY(%(contracts)s::bigint[]) OR c.client_id = ANY(%(clients)s::bigint[])"
        " OR c.contract_id = ANY(%(skilled)s::bigint[]))"
    )
    with prepared_cursor() as cursor:
        cursor.execute(
            f"SELECT {', '.join('c.' + name for name in _PASSED)} FROM care_case c "  # noqa: S608
            f"WHERE {_WAITING} AND {tied} AND {ahead} AND NOT {eligible} "
            f"ORDER BY {_QUEUE_ORDER} LIMIT {engine.PASSED_OVER_MAX}",
            _circles(circles) | params,
        )
        return [dict(zip(_PASSED, row, strict=True)) for row in cursor.fetchall()]


def log_pull(
    *, case: Case, operator, queue_code: str, at: datetime, level: str, reason: str, passed_over
) -> Assignment:
    """The decision record of a take-next (an `Assignment` of kind pull)."""
    fields = {
        "case_id": case.id,
        "operator_id": operator.pk,
        "queue_code": queue_code,
        "at": at,
        "level": level,
        "kind": AssignmentKind.PULL.value,
        "reason": reason,
        "passed_over": passed_over,
        "assigned_by_id": None,
        "override_reason": "",
    }
    with prepared_cursor() as cursor:
        cursor.execute(
            f"INSERT INTO routing_assignment ({', '.join(fields)}) "  # noqa: S608
            f"VALUES ({', '.join(['%s'] * len(fields))}) RETURNING id",
            [Jsonb(value) if name == "passed_over" else value for name, value in fields.items()],
        )
        (assignment_id,) = cursor.fetchone()
    assignment = Assignment(id=assignment_id, **fields)
    assignment.case, assignment.operator = case, operator
    return assignment
