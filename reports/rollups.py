"""Daily rollups: the facts the aggregate reports count, per Rome calendar day, client,
contract, queue, site and priority (`reports.models.DailyRollup`).

One rule in one place: `live_groups` counts the facts of some days from the live tables (a
few GROUP BY queries, whatever the number of cases). Maintenance writes what it returns
(delete and insert per day, in one transaction); the reports read the rollups for the days
already final and call the same function for the rest (today).

Maintenance:
- `refresh_rollups` runs with the backlog snapshot (every 5 minutes). It writes today and
  yesterday, and the days of every case changed since the previous run (its `updated_at`,
  which every service and the SLA recompute stamp, with a margin for transactions still
  open): the day it was opened, the day it is resolved, the days of its status changes (a
  re-opening takes a resolution back from its day) and of its assignments; plus the days of
  the cases whose hand-offs, calls or mails moved since then. A day, once written after it
  ended, is final until such a change.
- `rebuild_rollups` writes every day (or a range) from scratch, month by month: the same
  rows, since both call `live_groups`.
The calls rollup of the calls report (`reports.call_rollups`) is written in the same runs.
"""

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from datetime import time as dtime
from typing import Any
from zoneinfo import ZoneInfo

from django.db import transaction
from django.db.models import Count, DurationField, ExpressionWrapper, F, Min, Q, Sum
from django.db.models.functions import TruncDate, TruncMonth

from care.models import Case, CaseCall, CaseEvent, Handoff, InboundMail, SlaState
from config.db import try_advisory_xact_lock
from contracts.calendars import UNIT_TIME_ZONE
from reports import call_rollups
from reports.models import DailyRollup, RollupRefresh
from routing.models import Assignment, Call

ZONE = ZoneInfo(UNIT_TIME_ZONE)
DIMS = ("day", "client_id", "contract_id", "queue_code", "site_id", "priority")
FACTS = (
    "opened",
    "resolved",
    "fcr",
    "fr_met",
    "fr_breached",
    "fr_open",
    "res_met",
    "res_breached",
    "res_open",
    "duplicates",
    "reopened",
    "reopenings",
    "merged",
    "handoffs",
    "handoff_cases",
    "handoffs_answered",
    "handoff_seconds",
    "calls",
    "cases_on_calls",
    "mails",
    "resolved_on_day",
    "assigned",
)
# Cases stamped this long before the previous run are looked at again: a transaction that
# stamped `updated_at` before the run and committed after it is not missed.
MARGIN = timedelta(minutes=15)
# pg_try_advisory_xact_lock key of the maintenance: "ROL1" in ASCII. Unique in the project.
ADVISORY_LOCK_KEY = 0x524F4C31
INSERT_BATCH = 2000
LIST_LIMIT = 10_000

Key = tuple
Runs = list[tuple[date, date]]


def start_of(day: date) -> datetime:
    return datetime.combine(day, dtime.min, tzinfo=ZONE)


def runs_of(days: Iterable[date]) -> Runs:
    """Days as runs of consecutive days [(first, last), ...], in order."""
    runs: Runs = []
    for day in sorted(set(days)):
        if runs and runs[-1][1] + timedelta(days=1) == day:
            runs[-1] = (runs[-1][0], day)
        else:
            runs.append((day, day))
    return runs


def in_runs(field: str, runs: Runs) -> Q:
    found = Q(pk__in=[])
    for first, last in runs:
        found |= Q(**{f"{field}__gte": start_of(first), f"{field}__lt": start_of(last) + _DAY})
    return found


_DAY = timedelta(days=1)


def _dimension_filters(rows, filters, prefix: str = "", site: str = "", queue: str = ""):
    """The report filters on a source: `prefix` leads to the case, `site` and `queue` name
    the source's own site and queue when it has them (assignments)."""
    if filters is None:
        return rows
    if filters.client:
        rows = rows.filter(**{f"{prefix}client": filters.client})
    if filters.contract:
        rows = rows.filter(**{f"{prefix}contract": filters.contract})
    if filters.site:
        rows = rows.filter(**{site or f"{prefix}assignee__operator_profile__site": filters.site})
    if filters.queue:
        rows = rows.filter(**{queue or f"{prefix}queue_code": filters.queue.code})
    if filters.priority:
        rows = rows.filter(**{f"{prefix}priority": filters.priority})
    return rows


def _case_dims(rows, day_field: str, prefix: str = ""):
    """`rows.values(...)` by the `DIMS` of their case (the case itself without a prefix)."""
    day = TruncDate(f"{prefix}{day_field}", tzinfo=ZONE)
    site = F(f"{prefix}assignee__operator_profile__site")
    if not prefix:
        return rows.values(
            "client_id", "contract_id", "queue_code", "priority", day=day, site_id=site
        )
    return rows.values(
        day=day,
        client_id=F(f"{prefix}client_id"),
        contract_id=F(f"{prefix}contract_id"),
        queue_code=F(f"{prefix}queue_code"),
        site_id=site,
        priority=F(f"{prefix}priority"),
    )


def _seconds(value) -> float:
    if value is None:
        return 0.0
    if isinstance(value, timedelta):
        return value.total_seconds()
    return float(value) / 1_000_000  # microseconds (SQLite)


SOURCES = {
    "opened": (
        "opened",
        "resolved",
        "fcr",
        "fr_met",
        "fr_breached",
        "fr_open",
        "res_met",
        "res_breached",
        "res_open",
        "duplicates",
        "reopened",
        "reopenings",
        "merged",
    ),
    "handoffs": ("handoffs", "handoff_cases", "handoffs_answered", "handoff_seconds"),
    "calls": ("calls", "cases_on_calls"),
    "mails": ("mails",),
    "resolved": ("resolved_on_day",),
    "assigned": ("assigned",),
}


def live_groups(runs: Runs, filters=None, facts: Iterable[str] = FACTS) -> dict[Key, dict]:
    """The rollup rows of the days in `runs`, counted from the live tables (one grouped
    query per source of the `facts` asked for, six for all), optionally restricted by report
    filters. Key: the `DIMS` values."""
    wanted = set(facts)
    needed = {name for name, given in SOURCES.items() if wanted & set(given)}
    if not runs:
        return {}
    groups: dict[Key, dict] = {}

    def add(rows: Iterable[dict], convert: Callable[[dict], None] | None = None) -> None:
        for row in rows:
            key = tuple(row.pop(name) for name in DIMS)
            if convert:
                convert(row)
            entry = groups.get(key)
            if entry is None:
                entry = groups[key] = dict.fromkeys(FACTS, 0)
            for fact, value in row.items():
                entry[fact] += value or 0

    def of_cases(model, field: str = "case__opened_at"):
        return _dimension_filters(model.objects.filter(in_runs(field, runs)), filters, "case__")

    if "opened" in needed:
        running = [SlaState.OK, SlaState.AT_RISK]
        opened = _dimension_filters(Case.objects.filter(in_runs("opened_at", runs)), filters)
        add(
            _case_dims(opened, "opened_at")
            .annotate(
                opened=Count("id"),
                resolved=Count("id", filter=Q(resolved_at__isnull=False)),
                fcr=Count("id", filter=Q(first_contact_resolution=True)),
                fr_met=Count("id", filter=Q(first_response_state=SlaState.MET)),
                fr_breached=Count("id", filter=Q(first_response_state=SlaState.BREACHED)),
                fr_open=Count("id", filter=Q(first_response_state__in=running)),
                res_met=Count("id", filter=Q(resolution_state=SlaState.MET)),
                res_breached=Count("id", filter=Q(resolution_state=SlaState.BREACHED)),
                res_open=Count("id", filter=Q(resolution_state__in=running)),
                duplicates=Count("id", filter=~Q(opening_reason="")),
                reopened=Count("id", filter=Q(reopen_count__gt=0)),
                reopenings=Sum("reopen_count"),
                merged=Count("id", filter=Q(merged_into__isnull=False)),
            )
            .order_by()
        )
    if "handoffs" in needed:
        turnaround = ExpressionWrapper(F("answered_at") - F("requested_at"), DurationField())
        answered = Q(answered_at__isnull=False)

        def seconds(row: dict) -> None:
            row["handoff_seconds"] = _seconds(row["handoff_seconds"])

        add(
            _case_dims(of_cases(Handoff), "opened_at", "case__")
            .annotate(
                handoffs=Count("id"),
                handoff_cases=Count("case", distinct=True),
                handoffs_answered=Count("id", filter=answered),
                handoff_seconds=Sum(turnaround, filter=answered),
            )
            .order_by(),
            seconds,
        )
    if "calls" in needed:
        add(
            _case_dims(of_cases(CaseCall), "opened_at", "case__")
            .annotate(calls=Count("id"), cases_on_calls=Count("case", distinct=True))
            .order_by()
        )
    if "mails" in needed:
        add(
            _case_dims(of_cases(InboundMail), "opened_at", "case__")
            .annotate(mails=Count("id"))
            .order_by()
        )
    if "resolved" in needed:
        resolved = _dimension_filters(Case.objects.filter(in_runs("resolved_at", runs)), filters)
        add(_case_dims(resolved, "resolved_at").annotate(resolved_on_day=Count("id")).order_by())
    if "assigned" in needed:
        assignments = _dimension_filters(
            Assignment.objects.filter(in_runs("at", runs)),
            filters,
            prefix="case__",
            site="operator__operator_profile__site",
            queue="queue_code",
        )
        add(
            assignments.values(
                "queue_code",
                day=TruncDate("at", tzinfo=ZONE),
                client_id=F("case__client_id"),
                contract_id=F("case__contract_id"),
                site_id=F("operator__operator_profile__site"),
                priority=F("case__priority"),
            )
            .annotate(assigned=Count("id"))
            .order_by()
        )
    return groups


# --- maintenance (writes) ----------------------------------------------------------------------


@dataclass(frozen=True)
class RollupResult:
    kind: str
    days: int
    rows: int
    seconds: float
    skipped: bool = False  # another run held the lock


def write_days(runs: Runs) -> int:
    """Replace the rollup rows of the days in `runs` with what the live tables say now.
    Inside the caller's transaction."""
    if not runs:
        return 0
    groups = live_groups(runs)
    day_filter = Q(pk__in=[])
    for first, last in runs:
        day_filter |= Q(day__gte=first, day__lte=last)
    DailyRollup.objects.filter(day_filter, whole_month=False).delete()
    DailyRollup.objects.bulk_create(
        [
            DailyRollup(**dict(zip(DIMS, key, strict=True)), **facts)
            for key, facts in groups.items()
        ],
        batch_size=INSERT_BATCH,
    )
    months = {day.replace(day=1) for run in runs for day in run}
    return len(groups) + write_months(months)


def write_months(months: set[date]) -> int:
    """Replace the `whole_month` rows of `months` (their 1st days) with the sums of their
    days' rows: one grouped query, inside the caller's transaction."""
    in_months = Q(pk__in=[])
    for first in months:
        in_months |= Q(day__gte=first, day__lte=_month_end(first))
    DailyRollup.objects.filter(day__in=months, whole_month=True).delete()
    sums = (
        DailyRollup.objects.filter(in_months, whole_month=False)
        .values(*DIMS[1:], month=TruncMonth("day"))
        .annotate(**{fact: Sum(fact) for fact in FACTS})
        .order_by()
    )
    rows = [_month_row(row) for row in sums]
    DailyRollup.objects.bulk_create(rows, batch_size=INSERT_BATCH)
    return len(rows)


def _month_row(row: dict) -> DailyRollup:
    month = row.pop("month")
    if isinstance(month, datetime):
        month = month.date()
    dims = {name: row.pop(name) for name in DIMS[1:]}
    return DailyRollup(day=month, whole_month=True, **dims, **{f: v or 0 for f, v in row.items()})


def changed_days(*, since: datetime) -> set[date]:
    """The days whose rows may have changed since `since` (see the module's docstring)."""
    # One scan of the cases for the stamp (a few hundred ids every 5 minutes; a calendar
    # change stamps every open case, then the scan is repeated rather than a list sent).
    stamped = Case.objects.filter(updated_at__gte=since).values("id")
    ids = list(stamped.values_list("id", flat=True)[: LIST_LIMIT + 1])
    changed: Any = stamped if len(ids) > LIST_LIMIT else ids
    days: set[date] = set()

    def dates(queryset, field: str) -> None:
        days.update(
            day
            for day in queryset.annotate(d=TruncDate(field, tzinfo=ZONE))
            .values_list("d", flat=True)
            .distinct()
            .order_by()
            if day is not None
        )

    touched = Q(id__in=changed)
    touched |= Q(
        id__in=Handoff.objects.filter(
            Q(requested_at__gte=since) | Q(answered_at__gte=since)
        ).values("case_id")
    )
    touched |= Q(id__in=CaseCall.objects.filter(at__gte=since).values("case_id"))
    touched |= Q(id__in=InboundMail.objects.filter(received_at__gte=since).values("case_id"))
    dates(Case.objects.filter(touched), "opened_at")
    dates(Case.objects.filter(id__in=changed, resolved_at__isnull=False), "resolved_at")
    dates(
        CaseEvent.objects.filter(
            case__in=changed,
            kind__in=[CaseEvent.Kind.STATUS_CHANGED, CaseEvent.Kind.REOPENED],
        ),
        "at",
    )
    dates(
        Assignment.objects.filter(Q(case__in=changed) | Q(at__gte=since)),
        "at",
    )
    return days


def refresh_rollups(*, now: datetime) -> RollupResult:
    """Today, yesterday and the days changed since the previous run; the first run ever
    writes every day."""
    started = time.perf_counter()
    with transaction.atomic(durable=True):
        if not try_advisory_xact_lock(ADVISORY_LOCK_KEY):
            return RollupResult("refresh", 0, 0, 0.0, skipped=True)
        previous = RollupRefresh.objects.order_by("-at").first()
        today = now.astimezone(ZONE).date()
        if previous is None:
            days = set(_all_days(until=today))
        else:
            days = changed_days(since=previous.at - MARGIN)
        days |= {today - _DAY, today}
        runs = runs_of(day for day in days if day <= today)
        rows = write_days(runs)
        call_days, call_rows = call_rollups.refresh_call_rollups(
            since=previous.at - MARGIN if previous else None, today=today
        )
        rows += call_rows
        seconds = round(time.perf_counter() - started, 3)
        day_count = sum((last - first).days + 1 for first, last in runs) + call_days
        RollupRefresh.objects.create(
            at=now, kind="refresh", days=day_count, rows=rows, seconds=seconds
        )
    return RollupResult("refresh", day_count, rows, seconds)


def _all_days(*, until: date) -> list[date]:
    first = _first_day()
    if first is None:
        return []
    return [first + timedelta(days=i) for i in range((until - first).days + 1)]


def _first_day() -> date | None:
    found = [
        Case.objects.aggregate(first=Min("opened_at"))["first"],
        Assignment.objects.aggregate(first=Min("at"))["first"],
        Call.objects.aggregate(first=Min("offered_at"))["first"],
    ]
    instants = [instant for instant in found if instant is not None]
    return min(instants).astimezone(ZONE).date() if instants else None


def rebuild_rollups(
    *,
    now: datetime,
    since: date | None = None,
    until: date | None = None,
    progress: Callable[[date, date, int], None] | None = None,
) -> RollupResult:
    """Every day from `since` (default: the first case) to `until` (default: today) written
    from scratch, one month per transaction. A whole rebuild is recorded as a run (its start
    is the watermark), so the next refresh looks only at what changed after it began."""
    started = time.perf_counter()
    whole = since is None and until is None
    today = now.astimezone(ZONE).date()
    until = min(until or today, today)
    since = since or _first_day() or today
    rows = days = 0
    first = since
    while first <= until:
        last = min(_month_end(first), until)
        with transaction.atomic(durable=True):
            written = write_days([(first, last)]) + call_rollups.write_call_days([(first, last)])
        rows += written
        days += (last - first).days + 1
        if progress:
            progress(first, last, written)
        first = last + _DAY
    seconds = round(time.perf_counter() - started, 3)
    if whole:  # a partial rebuild leaves the watermark alone: other days may wait for a refresh
        with transaction.atomic(durable=True):
            RollupRefresh.objects.create(
                at=now, kind="rebuild", days=days, rows=rows, seconds=seconds
            )
    return RollupResult("rebuild", days, rows, seconds)


def _month_end(day: date) -> date:
    following = (day.replace(day=28) + timedelta(days=4)).replace(day=1)
    return following - _DAY


def stored_days(first: date, last: date, *, by_day: bool = False) -> Q:
    """The rollup rows that add up the days from `first` to `last` once: the months wholly
    inside by their `whole_month` rows, the days around them by their own (all by their
    own rows when the figures are wanted `by_day`)."""
    months: list[date] = []
    start = first if first.day == 1 else _month_end(first) + _DAY
    while not by_day and _month_end(start) <= last:
        months.append(start)
        start = _month_end(start) + _DAY
    if not months:
        return Q(whole_month=False, day__gte=first, day__lte=last)
    return (
        Q(whole_month=True, day__in=months)
        | Q(whole_month=False, day__gte=first, day__lt=months[0])
        | Q(whole_month=False, day__gt=_month_end(months[-1]), day__lte=last)
    )


def final_through() -> date | None:
    """The last day whose rows are final: the day before the latest run (None: no run)."""
    latest = RollupRefresh.objects.order_by("-at").values_list("at", flat=True).first()
    return latest.astimezone(ZONE).date() - _DAY if latest else None
