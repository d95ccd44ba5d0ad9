"""The calls rollup: the calls report's counts per Rome half hour, queue, site and client
(`reports.models.CallRollup`), kept with the daily rollups (`reports.rollups`).

One rule in one place: the half hour is the report's own (the Rome hour, `TruncHour`, and
whether the minute is 30 or more: `HALF_HOUR`), the measures are the wallboard's
(`routing.call_measures.CallMeasures.sums`), and `_grouped` counts them for the writer and for
the days the report reads live. Each call is counted once in the rows without a client (every
call) and once in the rows of each client whose end users its caller matched: a report
filtered by client reads that client's rows, an unfiltered one the rows without a client. The
rows of each site are added up in rows of all sites (`all_sites`), which a report not filtered
by site reads.

Maintenance, in the same run and transaction as the daily rollups:
- the days of the calls changed since the previous run (`Call.updated_at`, with the same
  margin: the days of their events, so a call a late event moved to another day leaves the
  old one too), today and yesterday are written again, whole days (delete and insert);
- the rows counted with a service-level threshold their queue no longer has are written
  again (their days, that queue), so the service level is the live one after a change; until
  that run the report reads the affected periods live (`stale`).
The site is the answering operator's when the row is written: an operator who moves later
does not move their past calls (the presence report does the same).
"""

from collections.abc import Iterable, Iterator
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import (
    Case,
    Count,
    Exists,
    F,
    IntegerField,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.db.models.functions import TruncDate, TruncHour

from contracts.calendars import UNIT_TIME_ZONE
from reports import rollups as daily  # a module: `reports.rollups` imports this one
from reports.forms import ReportFilters
from reports.models import CallRollup
from routing.call_measures import CallMeasures
from routing.models import Call, CallEvent, Queue

ZONE = ZoneInfo(UNIT_TIME_ZONE)
COUNTS = (
    "offered",
    "answered",
    "abandoned",
    "short_abandoned",
    "missed",
    "in_time",
    "wait_sum",
    "wait_count",
    "handle_sum",
    "handle_count",
)
INSERT_BATCH = 2000
_DAY = timedelta(days=1)
SITE = F("operator__operator_profile__site")

Runs = list[tuple[date, date]]


def half_hour() -> dict[str, Any]:
    """The annotations of a call's half hour: its Rome hour and whether it is the later
    half (the calls report's definition, DST included)."""
    return {
        "hour": TruncHour("offered_at", tzinfo=ZONE),
        "late": Case(
            When(offered_at__minute__gte=30, then=Value(1)),
            default=Value(0),
            output_field=IntegerField(),
        ),
    }


def half_hour_start(hour: datetime, late: int) -> datetime:
    return hour.astimezone(ZONE) + timedelta(minutes=30 * late)


def current_measures() -> CallMeasures:
    return CallMeasures.for_queues(Queue.objects.values_list("code", "service_level_seconds"))


def _days_in(runs: Runs) -> Q:
    found = Q(pk__in=[])
    for first, last in runs:
        found |= Q(day__gte=first, day__lte=last)
    return found


def of_client(client) -> Exists:
    """The call matched an end user of `client`."""
    links = Call.end_users.through.objects.filter(call_id=OuterRef("id"), enduser__client=client)
    return Exists(links)


def _per_client(calls: QuerySet) -> QuerySet:
    """`calls` once per client of the end users they matched (`client_id`): of a call's end
    users of one client, only the first one's row is kept."""
    earlier = Call.end_users.through.objects.filter(
        call_id=OuterRef("id"),
        enduser__client_id=OuterRef("client_id"),
        enduser_id__lt=OuterRef("end_user_id"),
    )
    return calls.annotate(
        client_id=F("end_users__client_id"), end_user_id=F("end_users__id")
    ).filter(~Exists(earlier), client_id__isnull=False)


def _grouped(calls: QuerySet, measures: CallMeasures, *names: str, **dims) -> QuerySet:
    """The measures of `calls` by half hour, queue and the given dimensions."""
    return (
        calls.annotate(**half_hour())
        .values("hour", "late", "queue_code", *names, **dims)
        .annotate(offered=Count("id"), **measures.sums())
    )


def _counts(row: dict, measures: CallMeasures) -> dict:
    """A grouped row as the rollup's counts (the in-time count of its queue's threshold)."""
    counts = {name: row.get(name) or 0 for name in COUNTS}
    counts["in_time"] = measures.answered_in_time(row, row["queue_code"])
    return counts


# --- maintenance (writes, inside the caller's transaction) -------------------------------------


def write_call_days(runs: Runs, queues: Iterable[str] | None = None) -> int:
    """Replace the rows of the days in `runs` (of `queues` only, if given) with what the
    calls say now: two grouped queries (every call, per client), whatever the calls."""
    if not runs:
        return 0
    measures = current_measures()
    calls = Call.objects.filter(daily.in_runs("offered_at", runs))
    stored = CallRollup.objects.filter(_days_in(runs))
    if queues is not None:
        calls = calls.filter(queue_code__in=list(queues))
        stored = stored.filter(queue_code__in=list(queues))
    stored.delete()
    groups = [
        *_grouped(calls, measures, site_id=SITE).order_by(),
        *_grouped(_per_client(calls), measures, "client_id", site_id=SITE).order_by(),
    ]
    rows = []
    every_site: dict[tuple, CallRollup] = {}  # the sums of the sites' rows, added up here
    for row in groups:
        start = half_hour_start(row["hour"], row["late"])
        counts = _counts(row, measures)
        dims = {
            "day": start.date(),
            "half_hour": start,
            "queue_code": row["queue_code"],
            "client_id": row.get("client_id"),
            "threshold": measures.thresholds.get(row["queue_code"]),
        }
        rows.append(CallRollup(site_id=row["site_id"], **dims, **counts))
        key = (start, row["queue_code"], dims["client_id"])
        summed = every_site.get(key)
        if summed is None:
            every_site[key] = CallRollup(all_sites=True, **dims, **counts)
        else:
            for name, value in counts.items():
                setattr(summed, name, getattr(summed, name) + value)
    rows += every_site.values()
    CallRollup.objects.bulk_create(rows, batch_size=INSERT_BATCH)
    return len(rows)


def _stale_rows() -> QuerySet:
    """Rows counted with a threshold their queue does not have now (or before it existed)."""
    found = Q(pk__in=[])
    for code, seconds in Queue.objects.values_list("code", "service_level_seconds"):
        # Two ranges and a null, not "<>": each is a range of the (queue, threshold) index.
        other = Q(threshold__isnull=True) | Q(threshold__lt=seconds) | Q(threshold__gt=seconds)
        found |= Q(queue_code=code) & other
    return CallRollup.objects.filter(found)


def rewrite_stale_thresholds() -> int:
    """Write again the days and queues whose rows used another threshold (one set-based
    look-up; nothing to write after most runs)."""
    stale = list(_stale_rows().values_list("queue_code", "day").distinct().order_by())
    if not stale:
        return 0
    return write_call_days(
        daily.runs_of({day for _queue, day in stale}), {queue for queue, _day in stale}
    )


def refresh_call_rollups(*, since: datetime | None, today: date) -> tuple[int, int]:
    """The days of the calls changed since `since` (every day the first time, or while no
    row was ever written), today and yesterday; then the stale thresholds. Returns (days,
    rows)."""
    if since is None or not CallRollup.objects.exists():
        first = first_call_day()
        days = (
            {first + timedelta(days=i) for i in range((today - first).days + 1)} if first else set()
        )
    else:
        # A call is offered at the instant of one of its events (its first, or the new
        # call's): the days of the changed calls' events hold the day it was counted in before
        # a late event moved it, and the day it is offered at now.
        events = CallEvent.objects.filter(call__updated_at__gte=since)
        days = set(
            events.annotate(d=TruncDate("at", tzinfo=ZONE))
            .values_list("d", flat=True)
            .distinct()
            .order_by()
        )
    days = {day for day in days | {today - _DAY, today} if day <= today}
    runs = daily.runs_of(days)
    rows = write_call_days(runs) + rewrite_stale_thresholds()
    return sum((last - first).days + 1 for first, last in runs), rows


def first_call_day() -> date | None:
    first = Call.objects.aggregate(first=Min("offered_at"))["first"]
    return first.astimezone(ZONE).date() if first else None


# --- reading (the calls report) ----------------------------------------------------------------


class Chained:
    """Stored rows (a grouped queryset, lazy) followed by the live ones (a short list): what
    `reports.definitions.Rows` counts, pages and streams like a queryset."""

    def __init__(self, stored: QuerySet, live: list[dict]):
        self.stored, self.live = stored, live
        self._stored_count: int | None = None

    def stored_count(self) -> int:
        if self._stored_count is None:
            self._stored_count = self.stored.count()
        return self._stored_count

    def count(self) -> int:
        return self.stored_count() + len(self.live)

    def __getitem__(self, index: slice) -> list[dict]:
        start, stop = index.start or 0, index.stop
        head = self.stored_count()
        stop = self.count() if stop is None else stop
        rows = list(self.stored[start : min(stop, head)]) if start < head else []
        return rows + self.live[max(start - head, 0) : max(stop - head, 0)]

    def iterator(self, chunk_size: int) -> Iterator[dict]:
        yield from self.stored.iterator(chunk_size=chunk_size)
        yield from self.live


def live_call_groups(runs: Runs, filters: ReportFilters) -> list[dict]:
    """The report's rows of the days in `runs` as counts and sums, from the calls."""
    if not runs:
        return []
    measures = current_measures()
    calls = Call.objects.filter(daily.in_runs("offered_at", runs))
    if filters.queue:
        calls = calls.filter(queue_code=filters.queue.code)
    if filters.site:
        calls = calls.filter(operator__operator_profile__site=filters.site)
    if filters.client:
        calls = calls.filter(of_client(filters.client))
    return [
        {
            "half_hour": half_hour_start(row["hour"], row["late"]),
            "queue_code": row["queue_code"],
            **_counts(row, measures),
        }
        for row in _grouped(calls, measures).order_by("hour", "late", "queue_code")
    ]


def call_groups(filters: ReportFilters, final: date | None) -> Chained:
    """The calls report's rows as counts and sums: the days through `final` (the last final
    day of the rollups) from the rollup, the others live. Everything live while a queue's
    threshold changed since its rows were written, or before the first rows."""
    last = min(final, filters.date_to) if final else None
    stored = CallRollup.objects.none()
    if last is not None and last >= filters.date_from:
        period = Q(half_hour__gte=filters.start, half_hour__lt=daily.start_of(last + _DAY))
        if CallRollup.objects.exists() and not _stale_rows().filter(period).exists():
            stored = CallRollup.objects.filter(
                period, client=filters.client, all_sites=not filters.site
            )
        else:
            last = None
    else:
        last = None
    if filters.site:
        stored = stored.filter(site=filters.site)
    if filters.queue:
        stored = stored.filter(queue_code=filters.queue.code)
    live_from = filters.date_from if last is None else last + _DAY
    live = live_call_groups(_runs_between(live_from, filters.date_to), filters)
    summed = (
        stored.values("half_hour", "queue_code")
        .annotate(**{name: Sum(name) for name in COUNTS})
        .order_by("half_hour", "queue_code")
    )
    return Chained(summed, live)


def _runs_between(first: date, last: date) -> Runs:
    return [(first, last)] if first <= last else []
