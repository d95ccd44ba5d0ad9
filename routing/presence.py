"""Presence and adherence: how long each operator was available, busy, away and offline on
each day (Rome's days), read from the append-only presence history (`PresenceChange`).

Each change opens an interval in its new state that the next change of the same operator
closes (SQL's LEAD over the changes per profile); the last interval stays open until `now`
(or the end of the period). Intervals that begin and end on the same Rome day are added up in
SQL, per profile, day and state; only the few that cross a midnight, and the open ones, come
back one by one to be split here. Before the first change of the period the operator was in
the state the last earlier change left them in (one indexed look-up per profile), offline if
there was none (a new profile's state). Two queries, whatever the number of operators or
changes; the rows returned grow with the operators, days and states, not with the changes.
Lengths are counted in integer microseconds and turned into seconds at the end.
"""

from bisect import bisect_right
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from django.db import connection
from django.db.models import F, OuterRef, QuerySet, Subquery, Window
from django.db.models.functions import Lead
from django.utils import timezone

from routing.models import OperatorProfile, PresenceChange, PresenceState
from routing.scope import SupervisorScope
from routing.selectors import held_subquery

AVAILABLE, BUSY, AWAY, OFFLINE = "available", "busy", "away", "offline"
BUCKETS = (AVAILABLE, BUSY, AWAY, OFFLINE)
# Busy is working: on a case (the operator's own "busy"), on a call or in after-call work.
BUCKET_OF: dict[str, str] = {
    PresenceState.AVAILABLE: AVAILABLE,
    PresenceState.BUSY: BUSY,
    PresenceState.ON_CALL: BUSY,
    PresenceState.WRAP_UP: BUSY,
    PresenceState.AWAY: AWAY,
    PresenceState.OFFLINE: OFFLINE,
}


@dataclass
class Totals:
    """Seconds in each bucket."""

    seconds: dict[str, float] = field(default_factory=lambda: dict.fromkeys(BUCKETS, 0.0))

    def add(self, other: "Totals") -> None:
        for bucket in BUCKETS:
            self.seconds[bucket] += other.seconds[bucket]

    @property
    def logged_in(self) -> float:
        """Signed in, whatever the state: available, busy or away."""
        return self.seconds[AVAILABLE] + self.seconds[BUSY] + self.seconds[AWAY]

    @property
    def occupancy(self) -> float | None:
        """Busy as a share (%) of the time available for work (available + busy)."""
        working = self.seconds[AVAILABLE] + self.seconds[BUSY]
        return round(100 * self.seconds[BUSY] / working, 1) if working else None

    def hours(self, bucket: str) -> float:
        return round(self.seconds[bucket] / 3600, 2)

    @property
    def clock(self) -> dict[str, str]:
        """Each bucket (and the time signed in) as hours and minutes, "7:05", for pages."""
        shown = {**self.seconds, "logged_in": self.logged_in}
        return {key: _hours_minutes(value) for key, value in shown.items()}


def _hours_minutes(seconds: float) -> str:
    minutes = int(seconds // 60)
    return f"{minutes // 60}:{minutes % 60:02d}"


def day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=timezone.get_default_timezone())


class _Days:
    """The period's Rome days and the instants (UTC) where they begin: an interval is cut at
    midnights by bisection, with no time-zone arithmetic per change."""

    def __init__(self, date_from: date, date_to: date):
        count = (date_to - date_from).days + 1
        self.days = [date_from + timedelta(days=i) for i in range(count)]
        self.bounds = [
            day_start(date_from + timedelta(days=i)).astimezone(UTC) for i in range(count + 1)
        ]

    def split(self, start: datetime, end: datetime) -> Iterable[tuple[date, timedelta]]:
        """[start, end) cut at Rome's midnights: (day, length) for each day it touches."""
        i = bisect_right(self.bounds, start) - 1
        while start < end:
            piece_end = min(end, self.bounds[i + 1])
            yield self.days[i], piece_end - start
            start, i = piece_end, i + 1


def presence_by_day(
    profiles: QuerySet[OperatorProfile], *, date_from: date, date_to: date, now: datetime
) -> dict[int, dict[date, Totals]]:
    """Per profile id and day of [date_from, date_to], the time in each bucket (two queries).
    Time after `now` is not counted: today's figures run up to now."""
    days = _Days(date_from, date_to)
    micros: dict[int, dict[date, dict[str, int]]] = defaultdict(
        lambda: defaultdict(lambda: dict.fromkeys(BUCKETS, 0))
    )

    def summed_in_sql(profile_id: int, day: int, bucket: str, length: int) -> None:
        micros[profile_id][days.days[day]][bucket] += length

    def one_interval(profile_id: int, bucket: str, start: datetime, end: datetime) -> None:
        for day, length in days.split(start, end):
            micros[profile_id][day][bucket] += length // timedelta(microseconds=1)

    _walk(profiles, days, now, summed_in_sql, one_interval)
    return {
        profile_id: {day: _totals(buckets) for day, buckets in by_day.items()}
        for profile_id, by_day in micros.items()
    }


def presence_totals(
    profiles: QuerySet[OperatorProfile], *, date_from: date, date_to: date, now: datetime
) -> dict[int, Totals]:
    """Per profile id, the time in each bucket over the whole period: the intervals of
    `presence_by_day`, not cut at midnights (a report of the period needs no days, and an
    operator away for two years is one interval, not 730 days)."""
    days = _Days(date_from, date_to)
    micros: dict[int, dict[str, int]] = defaultdict(lambda: dict.fromkeys(BUCKETS, 0))

    def summed_in_sql(profile_id: int, day: int, bucket: str, length: int) -> None:
        micros[profile_id][bucket] += length

    def one_interval(profile_id: int, bucket: str, start: datetime, end: datetime) -> None:
        micros[profile_id][bucket] += (end - start) // timedelta(microseconds=1)

    _walk(profiles, days, now, summed_in_sql, one_interval)
    return {profile_id: _totals(buckets) for profile_id, buckets in micros.items()}


def _totals(micros: dict[str, int]) -> Totals:
    return Totals({bucket: value / 1_000_000 for bucket, value in micros.items()})


def _walk(
    profiles: QuerySet[OperatorProfile],
    days: _Days,
    now: datetime,
    summed_in_sql: Callable[[int, int, str, int], None],
    one_interval: Callable[[int, str, datetime, datetime], None],
) -> None:
    """Every interval of the period, in two queries: those SQL added up per profile, day (an
    index into `days`) and bucket, in microseconds; then one by one those that cross a
    midnight, are still open, or come before the period's first change (the state the last
    earlier change left, offline if none), each clipped to the period."""
    start = days.bounds[0]
    end = min(days.bounds[-1], now.astimezone(UTC))
    if end <= start:
        return
    in_period = PresenceChange.objects.filter(
        profile_id=OuterRef("pk"), at__gte=start, at__lt=end
    ).order_by("at", "id")
    before = PresenceChange.objects.filter(profile_id=OuterRef("pk"), at__lt=start).order_by(
        "-at", "-id"
    )
    seeds = list(
        profiles.order_by()
        .annotate(
            seed=Subquery(before.values("to_state")[:1]),
            first=Subquery(in_period.values("at")[:1]),
        )
        .values_list("id", "seed", "first")
    )
    if not seeds:
        return
    for profile_id, state, day, one, length, at, until in _intervals(profiles, days, start, end):
        bucket = BUCKET_OF.get(state, OFFLINE)
        if one is None:  # summed in SQL: intervals that begin and end on the same day
            summed_in_sql(profile_id, day, bucket, _micros(length))
        else:  # across midnight, or still open
            closed = end if until is None else _instant(until)
            one_interval(profile_id, bucket, _instant(at), closed)
    for profile_id, seed, first in seeds:
        one_interval(profile_id, BUCKET_OF.get(seed or OFFLINE, OFFLINE), start, first or end)


def _intervals(
    profiles: QuerySet[OperatorProfile], days: _Days, start: datetime, end: datetime
) -> Iterable[tuple]:
    """The period's intervals, one query: each change lasts until the operator's next one
    (LEAD). Rows of (profile id, state, day's index, one change's id or NULL, length, at,
    until): with NULL, the sum (SUM) of the intervals in that state that end on the Rome day
    they began; with an id, one interval that crosses a midnight or is still open at the end
    (`until` NULL), to be cut by the caller.

    SQL cannot add up a window function directly: the window is computed in a subquery
    (the ORM's) and summed over, on SQLite and PostgreSQL alike. An instant's day is found
    among the period's midnights (computed here, in Rome's time, so DST is right) by a
    binary tree of CASE (a handful of comparisons per row, no time zone per row); lengths are
    the ORM's own date subtraction (integer microseconds on SQLite, an interval on
    PostgreSQL), so the sums are exact."""
    window = (
        PresenceChange.objects.filter(profile_id__in=profiles.order_by().values("id"))
        .filter(at__gte=start, at__lt=end)
        .order_by()
        .values(
            iv_id=F("id"),
            iv_profile=F("profile_id"),
            iv_state=F("to_state"),
            iv_at=F("at"),
            iv_until=Window(
                Lead("at"), partition_by=[F("profile_id")], order_by=[F("at").asc(), F("id").asc()]
            ),
        )
    )
    inner, inner_params = window.query.sql_with_params()
    ops = connection.ops
    change, profile, state, at, until, day, until_day, length, one = (
        ops.quote_name(f"iv_{name}")
        for name in ("id", "profile", "state", "at", "until", "day", "until_day", "length", "one")
    )
    midnights = [ops.adapt_datetimefield_value(bound) for bound in days.bounds[1:-1]]
    day_of_at, at_params = _day_index(at, midnights, 0)
    day_of_until, until_params = _day_index(until, midnights, 0)
    difference = _difference(until, at)
    # the inner query is the ORM's, the names are our own aliases (quoted), values are bound
    query = (
        f"SELECT {profile}, {state}, {day}, {one}, SUM({length}), MIN({at}), MAX({until}) "  # noqa: S608
        f"FROM (SELECT {profile}, {state}, {at}, {until}, {day}, {length}, CASE WHEN {until} "
        f"IS NOT NULL AND {until_day} = {day} THEN NULL ELSE {change} END AS {one} FROM ("
        f"SELECT iv.*, {day_of_at} AS {day}, {day_of_until} AS {until_day}, "
        f"{difference} AS {length} FROM ({inner}) iv) by_day) intervals "
        f"GROUP BY {profile}, {day}, {state}, {one}"
    )
    params = (*at_params, *until_params, *inner_params)
    with connection.cursor() as cursor:
        cursor.execute(query, params)
        yield from cursor


def _difference(later: str, earlier: str) -> str:
    """SQL for `later - earlier`, exact: the ORM's own date subtraction (an interval on
    PostgreSQL). On SQLite, where the ORM calls back into Python for every row, integer
    microseconds read from the stored text, "YYYY-MM-DD HH:MM:SS[.ffffff]" in UTC: the whole
    seconds by strftime('%s') of the text before the dot (SQLite would round a fraction to
    milliseconds, .9995 to the next second), then the digits after the dot (none: 0)."""
    if connection.vendor != "sqlite":
        return connection.ops.subtract_temporals("DateTimeField", (later, []), (earlier, []))[0]
    return (
        f"((strftime('%%s', substr({later}, 1, 19)) - strftime('%%s', substr({earlier}, 1, 19)))"
        " * 1000000"
        f" + CAST(substr({later}, 21, 6) AS INTEGER) - CAST(substr({earlier}, 21, 6) AS INTEGER))"
    )


def _day_index(column: str, midnights: list, first: int) -> tuple[str, list]:
    """SQL for the index (from `first`) of the day `column` falls in, `midnights` being the
    days' bounds between them: nested CASE halving the list, and its parameters."""
    if not midnights:
        return str(first), []
    middle = len(midnights) // 2
    before, before_params = _day_index(column, midnights[:middle], first)
    after, after_params = _day_index(column, midnights[middle + 1 :], first + middle + 1)
    sql = f"CASE WHEN {column} < %s THEN {before} ELSE {after} END"
    return sql, [midnights[middle], *before_params, *after_params]


def _instant(value: datetime | str) -> datetime:
    """A time as the database returns it from raw SQL (SQLite: text in UTC)."""
    if isinstance(value, str):
        return datetime.fromisoformat(value).replace(tzinfo=UTC)
    return value


def _micros(length: timedelta | int) -> int:
    """A summed length as the database returns it: an interval, or microseconds (SQLite)."""
    return length // timedelta(microseconds=1) if isinstance(length, timedelta) else int(length)


def summed(days: dict[date, Totals]) -> Totals:
    whole = Totals()
    for totals in days.values():
        whole.add(totals)
    return whole


# --- Pages: who is signed in now, a day's figures, an operator's own days ------------------


@dataclass(frozen=True)
class OperatorDay:
    """One operator on the supervisor's page: who, where, the state now and the day's time."""

    profile_id: int
    name: str
    username: str
    site_name: str
    remote: bool
    presence: str
    presence_label: str
    since: datetime | None
    held: int  # open cases in hand
    totals: Totals


def operators_in_scope(scope: SupervisorScope) -> QuerySet[OperatorProfile]:
    """The operator profiles a supervisor reaches (their sites'), with the cases in hand."""
    if scope.empty:
        return OperatorProfile.objects.none()
    return (
        OperatorProfile.objects.filter(scope.operators_filter())
        .select_related("user", "site")
        .annotate(held=held_subquery())
        .order_by("site__code", "user__last_name", "user__first_name", "user__username")
    )


def operator_days(scope: SupervisorScope, *, day: date, now: datetime) -> list[OperatorDay]:
    """Every operator in the scope with their state now and their time on `day` (3 queries)."""
    profiles = operators_in_scope(scope)
    by_day = presence_by_day(profiles, date_from=day, date_to=day, now=now)
    labels = dict(PresenceState.choices)
    return [
        OperatorDay(
            profile_id=p.id,
            name=p.user.get_full_name() or p.user.get_username(),
            username=p.user.get_username(),
            site_name=p.site.name if p.site else "",
            remote=p.remote,
            presence=p.presence,
            presence_label=str(labels.get(p.presence, p.presence)),
            since=p.presence_since,
            held=p.held,  # type: ignore[attr-defined]  # annotated
            totals=by_day.get(p.id, {}).get(day, Totals()),
        )
        for p in profiles
    ]


def site_totals(rows: Iterable[OperatorDay]) -> list[tuple[str, Totals, int]]:
    """The day's time summed per site (name, totals, operators signed in now)."""
    sites: dict[str, tuple[Totals, list[int]]] = {}
    for row in rows:
        totals, online = sites.setdefault(row.site_name, (Totals(), [0]))
        totals.add(row.totals)
        online[0] += row.presence != PresenceState.OFFLINE
    return [(name, totals, online[0]) for name, (totals, online) in sorted(sites.items())]


def own_days(
    profile: OperatorProfile, *, date_from: date, date_to: date, now: datetime
) -> list[tuple[date, Totals]]:
    """An operator's own days, newest first (days still to come are left out)."""
    profiles = OperatorProfile.objects.filter(id=profile.id)
    by_day = presence_by_day(profiles, date_from=date_from, date_to=date_to, now=now).get(
        profile.id, {}
    )
    last = min(date_to, timezone.localtime(now).date())
    days = [last - timedelta(days=i) for i in range((last - date_from).days + 1)]
    return [(day, by_day.get(day, Totals())) for day in days]
