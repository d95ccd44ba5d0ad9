"""The SLA recompute: moves every running case's targets to `at_risk` or `breached` from the
due instants stored on the case, with a few set-based statements (never a loop per case).

State-based and idempotent: a run writes only the rows whose state changes, and the alert of a
case, target and level is written once (`SlaAlert` unique constraint), however often, late or
concurrently the recompute runs. The alert is the one record of the transition, with its facts
(the state left, the due and at-risk instants): the timeline, the ledger and the API tell it as
a case event (`care.selectors.case_events`); no copy is written into `CaseEvent`. On
PostgreSQL overlapping runs are kept apart by a transaction advisory lock; on SQLite the
transaction is IMMEDIATE anyway.

On PostgreSQL the whole recompute is one statement: an UPDATE ... FROM of the running cases
whose state changes, both targets of a row in one write, RETURNING the changed rows into an
INSERT ... SELECT of the alerts (ON CONFLICT DO NOTHING); no row travels to Python. Partial
indexes on the open, running cases' instants (migration 0004) make the steady state a few
index range scans.
SQLite takes the portable ORM path below.

The state rule is written twice on purpose, for speed: here in SQL, and in Python in
`care.clock.state_at` (what pages show between two runs). `tests/care/test_sla_agreement.py`
holds the two together on random cases around holidays and DST changes.
"""

import time
from dataclasses import dataclass
from datetime import datetime

from django.db import connection, transaction
from django.db.models import F, QuerySet

from care.models import OPEN_STATUSES, Case, SlaAlert, SlaState
from config.db import try_advisory_xact_lock
from config.models import Heartbeat
from config.services import record_heartbeat

# pg_try_advisory_xact_lock key of the recompute: "SLA1" in ASCII. Unique in the project.
ADVISORY_LOCK_KEY = 0x534C4131
# Case ids per UPDATE ... WHERE id IN (...): below SQLite's limit of bound parameters.
UPDATE_BATCH = 5000


@dataclass(frozen=True)
class _Target:
    name: str
    state: str
    due: str
    at_risk_at: str


TARGETS = (
    _Target(
        SlaAlert.Target.FIRST_RESPONSE,
        "first_response_state",
        "first_response_due_at",
        "first_response_at_risk_at",
    ),
    _Target(
        SlaAlert.Target.RESOLUTION, "resolution_state", "resolution_due_at", "resolution_at_risk_at"
    ),
)


@dataclass(frozen=True)
class RecomputeResult:
    at_risk: int  # targets that turned at risk in this run
    breached: int  # targets that turned breached in this run
    scanned: int  # open cases whose clock runs (not paused)
    seconds: float
    skipped: bool = False  # another run held the lock: this one did nothing

    def as_detail(self) -> dict:
        return {
            "seconds": round(self.seconds, 3),
            "at_risk": self.at_risk,
            "breached": self.breached,
            "scanned": self.scanned,
        }


def recompute_sla_states(*, now: datetime) -> RecomputeResult:
    """Compare each running case's stored instants with `now`; record what changed."""
    started = time.perf_counter()
    with transaction.atomic(durable=True):
        if not try_advisory_xact_lock(ADVISORY_LOCK_KEY):
            return RecomputeResult(
                at_risk=0,
                breached=0,
                scanned=0,
                seconds=time.perf_counter() - started,
                skipped=True,
            )
        running = Case.objects.filter(status__in=OPEN_STATUSES, paused_at__isnull=True)
        scanned = running.count()
        if connection.vendor == "postgresql":
            at_risk, breached = _recompute_in_sql(now=now)
        else:
            at_risk, breached = _recompute_with_orm(running, now=now)
    result = RecomputeResult(
        at_risk=at_risk,
        breached=breached,
        scanned=scanned,
        seconds=time.perf_counter() - started,
    )
    record_heartbeat(name=Heartbeat.SLA_RECOMPUTE, now=now, detail=result.as_detail())
    return result


def _recompute_with_orm(running: QuerySet[Case], *, now: datetime) -> tuple[int, int]:
    """The portable path, target by target: (turned at risk, turned breached). Each case
    that changed gets one new version, however many of its targets moved (as in SQL)."""
    at_risk = breached = 0
    moved: set[int] = set()
    for target in TARGETS:
        # The rule of care.clock.state_at, in SQL: breached once past the due instant (an
        # answer at the instant itself is on time), at risk from the at-risk instant.
        # Breached first: a case past its due instant skips "at risk" altogether.
        live = running.filter(**{f"{target.state}__in": [SlaState.OK, SlaState.AT_RISK]})
        turned = _move(
            live.filter(**{f"{target.due}__lt": now}),
            target=target,
            level=SlaAlert.Level.BREACHED,
            now=now,
        )
        breached += len(turned)
        moved.update(turned)
        turned = _move(
            live.filter(
                **{
                    target.state: SlaState.OK,
                    f"{target.at_risk_at}__lte": now,
                    f"{target.due}__gte": now,
                }
            ),
            target=target,
            level=SlaAlert.Level.AT_RISK,
            now=now,
        )
        at_risk += len(turned)
        moved.update(turned)
    ids = sorted(moved)
    for start in range(0, len(ids), UPDATE_BATCH):
        Case.objects.filter(id__in=ids[start : start + UPDATE_BATCH]).update(
            row_version=F("row_version") + 1, updated_at=now
        )
    return at_risk, breached


def _move(changing: QuerySet[Case], *, target: _Target, level: str, now: datetime) -> list[int]:
    """Set `level` on the target of the `changing` cases and alert it, with its facts (an
    alert that exists stays as it is). Returns the ids of the cases moved (the caller gives
    each its new version)."""
    rows = list(
        changing.select_for_update()
        .order_by("id")
        .values_list("id", target.state, target.due, target.at_risk_at)
    )
    if not rows:
        return []
    SlaAlert.objects.bulk_create(
        [
            SlaAlert(
                case_id=case_id,
                target=target.name,
                level=level,
                at=now,
                from_state=state,
                due_at=due,
                at_risk_at=at_risk_at,
            )
            for case_id, state, due, at_risk_at in rows
        ],
        ignore_conflicts=True,
    )
    ids = [row[0] for row in rows]
    for start in range(0, len(ids), UPDATE_BATCH):
        Case.objects.filter(id__in=ids[start : start + UPDATE_BATCH]).update(
            **{target.state: level}
        )
    return ids


# --- PostgreSQL: one statement per target and level ----------------------------------------


def _recompute_in_sql(*, now: datetime) -> tuple[int, int]:
    """Same rule and effects as `_move` for every target and level, in one data-modifying
    statement: each changing case row is updated once, both targets together (as cheap as
    a bare UPDATE of those rows), then its alerts are inserted. Returns the targets that
    turned (at risk, breached)."""
    case = Case._meta.db_table
    alert = SlaAlert._meta.db_table
    open_statuses = ", ".join(f"'{status}'" for status in OPEN_STATUSES)

    def next_state(t: _Target) -> str:
        # Breached first: a case past its due instant skips "at risk" altogether.
        return (
            f"CASE WHEN c.{t.state} IN (%(ok)s, %(at_risk)s) AND c.{t.due} < %(now)s"
            f" THEN %(breached)s WHEN c.{t.state} = %(ok)s AND c.{t.at_risk_at} <= %(now)s"
            f" AND c.{t.due} >= %(now)s THEN %(at_risk)s ELSE c.{t.state} END"
        )

    def changing(t: _Target) -> str:
        return (
            f"(c.{t.state} IN (%(ok)s, %(at_risk)s) AND c.{t.due} < %(now)s)"
            f" OR (c.{t.state} = %(ok)s AND c.{t.at_risk_at} <= %(now)s AND c.{t.due} >= %(now)s)"
        )

    def moves_of(n: int, t: _Target) -> str:
        return (
            f"SELECT id, '{t.name}' AS target, before{n} AS before, after{n} AS level,"  # noqa: S608 - names from the models
            f" due{n} AS due, risk{n} AS risk FROM changed WHERE after{n} <> before{n}"
            f" AND after{n} IN (%(at_risk)s, %(breached)s)"
        )

    first, second = TARGETS
    sql = f"""
        WITH changed AS (
            UPDATE {case} c
            SET {first.state} = {next_state(first)}, {second.state} = {next_state(second)},
                row_version = c.row_version + 1, updated_at = %(now)s
            FROM {case} old
            WHERE old.id = c.id
              -- A row another transaction changed while this one waited for its lock is
              -- re-checked in its new version but `old` stays as it was: skipped, so the
              -- state it left is never misread. The next run (a minute later) takes it.
              AND old.row_version = c.row_version
              AND c.status IN ({open_statuses}) AND c.paused_at IS NULL
              AND ({changing(first)} OR {changing(second)})
            RETURNING c.id,
                old.{first.state} AS before1, c.{first.state} AS after1,
                c.{first.due} AS due1, c.{first.at_risk_at} AS risk1,
                old.{second.state} AS before2, c.{second.state} AS after2,
                c.{second.due} AS due2, c.{second.at_risk_at} AS risk2
        ),
        moves AS ({moves_of(1, first)} UNION ALL {moves_of(2, second)}),
        alerted AS (
            INSERT INTO {alert} (case_id, target, level, at, from_state, due_at, at_risk_at)
            SELECT id, target, level, %(now)s, before, due, risk FROM moves
            ON CONFLICT (case_id, target, level) DO NOTHING
        )
        SELECT count(*) FILTER (WHERE level = %(at_risk)s),
               count(*) FILTER (WHERE level = %(breached)s)
        FROM moves
    """  # noqa: S608 - table and column names from the models, values bound
    with connection.cursor() as cursor:
        cursor.execute(
            sql,
            {
                "now": now,
                "ok": SlaState.OK,
                "at_risk": SlaState.AT_RISK,
                "breached": SlaState.BREACHED,
            },
        )
        at_risk, breached = cursor.fetchone()
    return at_risk, breached
