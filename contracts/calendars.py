"""Business calendars: the clock every SLA of the portal is measured with.

Pure Python on purpose (no Django): plain values in, plain values out, so the SLA rules can be
tested exhaustively and reused by services, tasks and reports alike.

How time is counted:

* A calendar opens during intervals of local wall time on each weekday, e.g. 08:30-13:00 and
  14:00-17:30. An interval of a local date is turned into two aware instants with
  ``datetime.combine(day, time, tzinfo=zone)`` (24:00 is the next day's 00:00).
* Business time is *real* elapsed time inside those spans, computed in UTC: across a DST change
  the night 00:00-06:00 lasts 5 or 7 hours, and a 24x7 calendar counts real minutes.
* Italian national holidays, the patron saint of the calendar's province and custom closure
  days are closed all day; a 24x7 calendar ignores all of them.

Every function takes aware datetimes in any zone and answers in the calendar's zone. Internally
all arithmetic is done on UTC datetimes: Python compares and subtracts two datetimes sharing a
``tzinfo`` by wall time, which would be wrong by an hour across a DST change.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from itertools import pairwise
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays

__all__ = [
    "CalendarSpec",
    "Interval",
    "NoOpeningError",
    "add_business_minutes",
    "always_open_spec",
    "business_minutes_between",
    "business_time_between",
    "closed_day_reason",
    "is_closed_day",
    "is_open",
    "next_opening",
    "opening_intervals",
]

MINUTES_PER_DAY = 24 * 60
# How far ahead to look for an opening before giving up: a calendar with no reachable opening
# (no hours, or everything closed) must fail loudly instead of looping forever.
HORIZON_DAYS = 3 * 365 + 1
# Holiday names are requested in English explicitly: left unset, the holidays package picks
# the language from the process locale (LANG, LC_ALL...), so names would differ between hosts.
HOLIDAY_LANGUAGE = "en_US"
# Names shown to a reader follow their language (a presentation matter: which days are
# closed never depends on it). The holidays package knows Italian and American English.
HOLIDAY_LANGUAGES = {"it": "it_IT", "en": "en_US"}
CLOSURE_REASON = "closure"

_ONE_DAY = timedelta(days=1)
_ONE_MINUTE = timedelta(minutes=1)

Span = tuple[datetime, datetime]


class NoOpeningError(ValueError):
    """No opening within the search horizon (e.g. a calendar without any opening hours)."""


# The unit's time zone: a calendar's default (settings.TIME_ZONE says the same for Django).
UNIT_TIME_ZONE = "Europe/Rome"


@dataclass(frozen=True)
class Interval:
    """An opening interval [start, end) in minutes from local midnight; end 1440 is 24:00."""

    start: int
    end: int

    def __post_init__(self) -> None:
        for value in (self.start, self.end):
            if not isinstance(value, int) or isinstance(value, bool):
                raise TypeError(f"interval bounds are whole minutes, got {value!r}")
        if not 0 <= self.start < self.end <= MINUTES_PER_DAY:
            raise ValueError(
                f"interval {self.start}-{self.end} is not within 0 <= start < end <= 1440"
            )


@dataclass(frozen=True)
class CalendarSpec:
    """Everything needed to tell open from closed; hashable, so derived data can be cached.

    ``weekly_hours`` holds exactly 7 tuples of intervals, Monday first. They are stored sorted;
    overlapping intervals are rejected because they would count the same minutes twice.
    ``province`` is a province code understood by ``holidays.Italy`` ("PA", "MI", "RM"...);
    ``None`` (or "") means national holidays only.
    """

    weekly_hours: tuple[tuple[Interval, ...], ...]
    timezone: str = UNIT_TIME_ZONE
    province: str | None = None
    closures: frozenset[date] = frozenset()
    always_open: bool = False

    def __post_init__(self) -> None:
        days = tuple(self.weekly_hours)
        if len(days) != 7:
            raise ValueError(f"weekly_hours needs 7 days (Monday first), got {len(days)}")
        normalised = tuple(_sorted_day(day) for day in days)
        object.__setattr__(self, "weekly_hours", normalised)
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError, TypeError) as exc:
            raise ValueError(f"unknown time zone {self.timezone!r}") from exc
        if self.province == "":
            object.__setattr__(self, "province", None)
        elif self.province is not None and self.province not in holidays.Italy.subdivisions:
            raise ValueError(f"unknown Italian province {self.province!r}")
        closures = frozenset(self.closures)
        for day in closures:
            if not isinstance(day, date) or isinstance(day, datetime):
                raise TypeError(f"closures are dates, got {day!r}")
        object.__setattr__(self, "closures", closures)


def _sorted_day(intervals: Iterable[Interval]) -> tuple[Interval, ...]:
    ordered = tuple(sorted(intervals, key=lambda interval: (interval.start, interval.end)))
    for before, after in pairwise(ordered):
        if after.start < before.end:
            raise ValueError(
                f"intervals {before.start}-{before.end} and {after.start}-{after.end} overlap"
            )
    return ordered


def always_open_spec(timezone: str = UNIT_TIME_ZONE) -> CalendarSpec:
    """A 24x7 calendar: open at every instant, holidays and closures included."""
    return CalendarSpec(weekly_hours=((),) * 7, timezone=timezone, always_open=True)


# --- Closed days ----------------------------------------------------------------------------


@lru_cache(maxsize=1024)
def _holidays(province: str | None, year: int) -> dict[date, str]:
    """National holidays plus the province's patron saint, by date; one lookup per year."""
    found = holidays.Italy(subdiv=province, years=year, language=HOLIDAY_LANGUAGE)
    return dict(found.items())


def _is_closed(spec: CalendarSpec, day: date) -> bool:
    return day in spec.closures or day in _holidays(spec.province, day.year)


def is_closed_day(spec: CalendarSpec, day: date) -> bool:
    """Whether the whole local date is closed: holiday, patron saint or custom closure."""
    if spec.always_open:
        return False
    return _is_closed(spec, _as_date(day))


@lru_cache(maxsize=256)
def _holiday_names(province: str | None, year: int, language: str) -> dict[date, str]:
    """The holidays' names in `language` (one of HOLIDAY_LANGUAGES' values), by date."""
    found = holidays.Italy(subdiv=province, years=year, language=language)
    return dict(found.items())


def holiday_language(language_code: str | None) -> str:
    """The holidays package's language for a reader's language code ("it", "en-gb", ...);
    English for any other."""
    base = (language_code or "").lower().replace("_", "-").split("-")[0]
    return HOLIDAY_LANGUAGES.get(base, HOLIDAY_LANGUAGE)


def closed_day_reason(
    spec: CalendarSpec, day: date, *, language: str = HOLIDAY_LANGUAGE
) -> str | None:
    """Why a date is closed: the holiday name(s) in `language` (see `holiday_language`),
    "closure", or None when it is not closed.

    A holiday wins over a closure on the same day, since it would be closed anyway. Several
    holidays on one date come joined by the holidays package ("All Saints' Day; ...").
    """
    if spec.always_open:
        return None
    day = _as_date(day)
    name = _holidays(spec.province, day.year).get(day)
    if name is not None:
        return _holiday_names(spec.province, day.year, language).get(day, name)
    return CLOSURE_REASON if day in spec.closures else None


def _as_date(day: date) -> date:
    # A datetime is a date too, but would never match a holiday or a closure.
    if isinstance(day, datetime) or not isinstance(day, date):
        raise TypeError(f"expected a date, got {day!r}")
    return day


# --- Open spans -----------------------------------------------------------------------------


@lru_cache(maxsize=256)
def _minute_hours(spec: CalendarSpec) -> tuple[tuple[tuple[int, int], ...], ...]:
    """The weekly hours as plain (start, end) pairs: cheap to hash in the per-day cache."""
    return tuple(tuple((i.start, i.end) for i in day) for day in spec.weekly_hours)


@lru_cache(maxsize=8192)
def _midnight(timezone: str, day: date) -> datetime:
    """Local 00:00 of ``day`` as a UTC instant: where one calendar day hands over to the next."""
    return datetime.combine(day, time(0), tzinfo=ZoneInfo(timezone)).astimezone(UTC)


def _wall(timezone: str, day: date, minute: int) -> datetime:
    if minute == MINUTES_PER_DAY:
        return _midnight(timezone, day + _ONE_DAY)
    local = datetime.combine(day, time(*divmod(minute, 60)), tzinfo=ZoneInfo(timezone))
    return local.astimezone(UTC)


@lru_cache(maxsize=16384)
def _day_spans(timezone: str, hours: tuple[tuple[int, int], ...], day: date) -> tuple[Span, ...]:
    """The UTC spans one local date is open, as sorted, disjoint, non-touching pairs.

    Spans are clipped to the date's own [00:00, 24:00) and merged, so that no instant is
    counted twice even when a DST gap maps a wall time past a later one (e.g. 02:50 does not
    exist on the spring-forward night and lands after 03:00).
    """
    low, high = _midnight(timezone, day), _midnight(timezone, day + _ONE_DAY)
    spans = []
    for start, end in hours:
        begin = max(_wall(timezone, day, start), low)
        finish = min(_wall(timezone, day, end), high)
        if begin < finish:
            spans.append((begin, finish))
    spans.sort()
    merged: list[Span] = []
    for begin, finish in spans:
        if merged and begin <= merged[-1][1]:
            if finish > merged[-1][1]:
                merged[-1] = (merged[-1][0], finish)
        else:
            merged.append((begin, finish))
    return tuple(merged)


def _day_of(timezone: str, instant: datetime) -> date:
    """The local date whose [00:00, 24:00) holds the UTC ``instant``."""
    day = instant.astimezone(ZoneInfo(timezone)).date()
    # Only a clock change across midnight (none in Europe/Rome) needs these corrections.
    if instant < _midnight(timezone, day):
        return day - _ONE_DAY
    if instant >= _midnight(timezone, day + _ONE_DAY):
        return day + _ONE_DAY
    return day


def _spans(spec: CalendarSpec, after: datetime, last_day: date) -> Iterator[Span]:
    """The open UTC spans ending after ``after``, day by day up to ``last_day`` included.

    Spans come unclipped, in order, never overlapping; touching spans of consecutive days
    (24:00 then 00:00) are yielded separately.
    """
    hours = _minute_hours(spec)
    if not any(hours):
        return
    day = _day_of(spec.timezone, after)
    while day <= last_day:
        today = hours[day.weekday()]
        if today and not _is_closed(spec, day):
            for span in _day_spans(spec.timezone, today, day):
                if span[1] > after:
                    yield span
        try:
            day += _ONE_DAY
        except OverflowError:
            return


def _horizon(spec: CalendarSpec, instant: datetime) -> date:
    day = _day_of(spec.timezone, instant)
    try:
        return day + timedelta(days=HORIZON_DAYS)
    except OverflowError:
        return date.max


def _utc(instant: datetime) -> datetime:
    if not isinstance(instant, datetime):
        raise TypeError(f"expected an aware datetime, got {instant!r}")
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError(f"naive datetime {instant!r}: pass an aware datetime")
    return instant.astimezone(UTC)


def _local(spec: CalendarSpec, instant: datetime) -> datetime:
    return instant.astimezone(ZoneInfo(spec.timezone))


def _budget(minutes: float) -> timedelta:
    """Minutes as an exact timedelta (rounded once, to the microsecond)."""
    if minutes != minutes:  # NaN compares unequal to itself
        raise ValueError("minutes is NaN")
    if minutes < 0:
        raise ValueError(f"minutes must not be negative, got {minutes!r}")
    try:
        return timedelta(minutes=minutes)
    except OverflowError as exc:
        raise ValueError(f"minutes out of range: {minutes!r}") from exc


# --- Public clock ---------------------------------------------------------------------------


def is_open(spec: CalendarSpec, instant: datetime) -> bool:
    """Whether the calendar is open at ``instant`` (spans are half-open: the end is closed)."""
    moment = _utc(instant)
    if spec.always_open:
        return True
    day = _day_of(spec.timezone, moment)
    today = _minute_hours(spec)[day.weekday()]
    if not today or _is_closed(spec, day):
        return False
    return any(begin <= moment < end for begin, end in _day_spans(spec.timezone, today, day))


def next_opening(spec: CalendarSpec, instant: datetime) -> datetime:
    """``instant`` itself when open, else the start of the next open span."""
    moment = _utc(instant)
    if spec.always_open:
        return _local(spec, moment)
    for begin, _end in _spans(spec, moment, _horizon(spec, moment)):
        return _local(spec, max(begin, moment))
    raise NoOpeningError(f"no opening within {HORIZON_DAYS} days of {instant.isoformat()}")


def opening_intervals(spec: CalendarSpec, start: datetime, end: datetime) -> Iterator[Span]:
    """The open spans clipped to [start, end), in order; touching spans come merged."""
    low, high = _utc(start), _utc(end)
    return _clipped_intervals(spec, low, high)


def _clipped_intervals(spec: CalendarSpec, low: datetime, high: datetime) -> Iterator[Span]:
    if high <= low:
        return
    if spec.always_open:
        yield _local(spec, low), _local(spec, high)
        return
    pending: Span | None = None
    for begin, end in _spans(spec, low, _day_of(spec.timezone, high)):
        if begin >= high:
            break
        span = (max(begin, low), min(end, high))
        if pending is not None and span[0] == pending[1]:
            pending = (pending[0], span[1])
            continue
        if pending is not None:
            yield _local(spec, pending[0]), _local(spec, pending[1])
        pending = span
    if pending is not None:
        yield _local(spec, pending[0]), _local(spec, pending[1])


def add_business_minutes(spec: CalendarSpec, start: datetime, minutes: float) -> datetime:
    """The instant ``minutes`` of business time after ``start``, counted from its next opening.

    A budget that runs out exactly at the end of a span returns that end, not the next
    opening: a deadline is met up to the last open instant. Zero minutes gives the next
    opening. Exact to the microsecond: the minutes become one timedelta, never a float sum.
    """
    moment = _utc(start)
    budget = _budget(minutes)
    if spec.always_open:
        try:
            return _local(spec, moment + budget)
        except OverflowError as exc:
            raise ValueError(f"{minutes!r} minutes after {start!r} is out of range") from exc
    for begin, end in _spans(spec, moment, _horizon(spec, moment)):
        begin = max(begin, moment)
        available = end - begin
        if budget <= available:
            return _local(spec, begin + budget)
        budget -= available
    raise NoOpeningError(
        f"{minutes} business minutes do not fit within {HORIZON_DAYS} days of {start.isoformat()}"
    )


def business_time_between(spec: CalendarSpec, start: datetime, end: datetime) -> timedelta:
    """Real time the calendar is open within [start, end); zero when end <= start."""
    low, high = _utc(start), _utc(end)
    if high <= low:
        return timedelta(0)
    if spec.always_open:
        return high - low
    total = timedelta(0)
    for begin, finish in _spans(spec, low, _day_of(spec.timezone, high)):
        if begin >= high:
            break
        total += min(finish, high) - max(begin, low)
    return total


def business_minutes_between(spec: CalendarSpec, start: datetime, end: datetime) -> float:
    """``business_time_between`` in (possibly fractional) minutes."""
    return business_time_between(spec, start, end) / _ONE_MINUTE
