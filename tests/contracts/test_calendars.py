"""The business calendar every SLA is measured with: worked examples, then its laws.

Around DST changes instants are compared in UTC on purpose: Python compares two datetimes
sharing a tzinfo by wall time (an hour's error hides there), and never finds a datetime in the
repeated autumn hour (fold=1) equal to one in another zone.
"""

from datetime import UTC, date, datetime, time, timedelta, timezone
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contracts.calendars import (
    CalendarSpec,
    Interval,
    NoOpeningError,
    add_business_minutes,
    always_open_spec,
    business_minutes_between,
    business_time_between,
    closed_day_reason,
    holiday_language,
    is_closed_day,
    is_open,
    next_opening,
    opening_intervals,
)

ROME = ZoneInfo("Europe/Rome")
WEEKDAY = (Interval(8 * 60 + 30, 13 * 60), Interval(14 * 60, 17 * 60 + 30))
OFFICE = CalendarSpec(weekly_hours=(WEEKDAY,) * 5 + ((), ()))
ROUND_THE_CLOCK = CalendarSpec(weekly_hours=((Interval(0, 1440),),) * 7)
NO_HOURS = CalendarSpec(weekly_hours=((),) * 7)
PROPERTY = settings(max_examples=200, deadline=None, database=None)


def rome(*args: int) -> datetime:
    return datetime(*args, tzinfo=ROME)


def office_in(province: str | None) -> CalendarSpec:
    return CalendarSpec(weekly_hours=OFFICE.weekly_hours, province=province)


def utc(instant: datetime) -> datetime:
    return instant.astimezone(UTC)


# --- Worked examples: office hours Mon-Fri 08:30-13:00 and 14:00-17:30 in Rome ---------------


def test_case_opened_on_saturday_starts_on_monday_morning():
    opened = rome(2026, 11, 14, 10, 0)
    assert next_opening(OFFICE, opened) == rome(2026, 11, 16, 8, 30)
    assert add_business_minutes(OFFICE, opened, 60) == rome(2026, 11, 16, 9, 30)


def test_friday_evening_minutes_carry_over_to_monday():
    assert add_business_minutes(OFFICE, rome(2026, 11, 13, 17, 0), 60) == rome(2026, 11, 16, 9, 0)


def test_lunch_break_is_skipped():
    assert add_business_minutes(OFFICE, rome(2026, 11, 18, 12, 30), 60) == rome(
        2026, 11, 18, 14, 30
    )


def test_christmas_and_saint_stephen_are_skipped_with_the_weekend():
    due = add_business_minutes(OFFICE, rome(2026, 12, 24, 17, 0), 60)
    assert due == rome(2026, 12, 28, 9, 0)
    assert closed_day_reason(OFFICE, date(2026, 12, 25)) == "Christmas Day"
    assert closed_day_reason(OFFICE, date(2026, 12, 26)) == "Saint Stephen's Day"


@pytest.mark.parametrize(
    ("province", "saint_day", "next_morning", "other_province"),
    [
        ("PA", date(2026, 7, 15), date(2026, 7, 16), "MI"),  # Santa Rosalia
        ("MI", date(2026, 12, 7), date(2026, 12, 9), "RM"),  # Sant'Ambrogio, then the 8th
        ("RM", date(2026, 6, 29), date(2026, 6, 30), "PA"),  # Santi Pietro e Paolo
    ],
)
def test_case_opened_on_patron_saint_day_starts_next_morning(
    province, saint_day, next_morning, other_province
):
    opened = datetime.combine(saint_day, time(9, 0), tzinfo=ROME)
    assert is_closed_day(office_in(province), saint_day)
    expected = datetime.combine(next_morning, time(8, 30), tzinfo=ROME)
    assert next_opening(office_in(province), opened) == expected
    assert not is_closed_day(office_in(other_province), saint_day)
    assert not is_closed_day(office_in(None), saint_day)
    assert next_opening(office_in(other_province), opened) == opened


def test_patron_saints_go_by_the_names_the_holidays_package_gives_them():
    assert closed_day_reason(office_in("PA"), date(2026, 7, 15)) == "Saint Rosalia's Day"
    assert closed_day_reason(office_in("MI"), date(2026, 12, 7)) == "Saint Ambrose's Day"
    assert closed_day_reason(office_in("RM"), date(2026, 6, 29)) == "Saints Peter and Paul's Day"


def test_san_francesco_is_a_national_holiday_from_2026_only():
    assert closed_day_reason(OFFICE, date(2026, 10, 4)) == (
        "Saint Francis of Assisi, Patron Saint of Italy"
    )
    assert date(2026, 10, 4).weekday() == 6  # a Sunday: no office day lost in 2026
    assert not is_closed_day(OFFICE, date(2025, 10, 4))
    assert is_closed_day(OFFICE, date(2027, 10, 4))  # a Monday


def test_easter_monday_is_closed():
    assert is_closed_day(OFFICE, date(2026, 4, 6))
    assert closed_day_reason(OFFICE, date(2026, 4, 6)) == "Easter Monday"
    assert next_opening(OFFICE, rome(2026, 4, 6, 10, 0)) == rome(2026, 4, 7, 8, 30)


def test_two_holidays_on_one_date_come_joined():
    # National Unity Day is the first Sunday of November: in 2026 that is All Saints' Day.
    assert closed_day_reason(OFFICE, date(2026, 11, 1)) == "All Saints' Day; National Unity Day"


def test_custom_closure_day_is_skipped():
    spec = CalendarSpec(weekly_hours=OFFICE.weekly_hours, closures=frozenset({date(2026, 12, 24)}))
    assert is_closed_day(spec, date(2026, 12, 24))
    assert closed_day_reason(spec, date(2026, 12, 24)) == "closure"
    assert add_business_minutes(spec, rome(2026, 12, 23, 17, 0), 60) == rome(2026, 12, 28, 9, 0)


def test_a_holiday_is_named_even_when_also_a_closure_day():
    spec = CalendarSpec(weekly_hours=OFFICE.weekly_hours, closures=frozenset({date(2026, 12, 25)}))
    assert closed_day_reason(spec, date(2026, 12, 25)) == "Christmas Day"


def test_open_days_have_no_closed_reason():
    assert not is_closed_day(OFFICE, date(2026, 11, 18))
    assert closed_day_reason(OFFICE, date(2026, 11, 18)) is None


def test_a_24x7_calendar_knows_no_holidays_or_closures():
    spec = CalendarSpec(
        weekly_hours=((),) * 7, closures=frozenset({date(2026, 12, 24)}), always_open=True
    )
    for day in (date(2026, 12, 24), date(2026, 12, 25)):
        assert not is_closed_day(spec, day)
        assert closed_day_reason(spec, day) is None
    assert is_open(spec, rome(2026, 12, 25, 3, 0))


@pytest.mark.parametrize("spec", [always_open_spec(), ROUND_THE_CLOCK], ids=["24x7", "00-24"])
def test_spring_forward_night_is_counted_in_real_minutes(spec):
    due = add_business_minutes(spec, datetime(2026, 3, 29, 1, 0, tzinfo=ROME), 120)
    assert due == datetime(2026, 3, 29, 2, 0, tzinfo=UTC)
    assert (due.hour, due.utcoffset()) == (4, timedelta(hours=2))


def test_short_and_long_nights_of_dst_last_five_and_seven_hours():
    night = CalendarSpec(weekly_hours=((Interval(0, 6 * 60),),) * 7)
    spring, autumn = rome(2026, 3, 29, 0, 0), rome(2026, 10, 25, 0, 0)
    assert business_time_between(night, spring, spring + timedelta(days=1)) == timedelta(hours=5)
    assert business_time_between(night, autumn, autumn + timedelta(days=1)) == timedelta(hours=7)


def test_friday_evening_minutes_carry_over_the_autumn_dst_weekend():
    due = add_business_minutes(OFFICE, rome(2026, 10, 23, 17, 0), 60)
    assert due == rome(2026, 10, 26, 9, 0)
    assert due.utcoffset() == timedelta(hours=1)


def test_the_repeated_autumn_hour_keeps_its_fold():
    due = add_business_minutes(always_open_spec(), datetime(2026, 10, 25, 0, 0, tzinfo=UTC), 60)
    assert (due.hour, due.fold, due.utcoffset()) == (2, 1, timedelta(hours=1))
    assert utc(due) == datetime(2026, 10, 25, 1, 0, tzinfo=UTC)
    # PEP 495: the same instant, yet unequal across zones; callers must compare in UTC.
    assert due != datetime(2026, 10, 25, 1, 0, tzinfo=UTC)


def test_wall_times_missing_on_the_spring_night_are_not_counted_twice():
    # 02:50 does not exist on 2026-03-29; read with the winter offset it lands at 03:50 CEST,
    # after the start of the next interval. Open from 01:00 to 04:00 wall time: 2 real hours.
    spec = CalendarSpec(weekly_hours=((Interval(60, 170), Interval(180, 240)),) * 7)
    day = rome(2026, 3, 29, 0, 0)
    assert business_time_between(spec, day, day + timedelta(days=1)) == timedelta(hours=2)
    spans = list(opening_intervals(spec, day, day + timedelta(days=1)))
    assert [(utc(start), utc(end)) for start, end in spans] == [
        (datetime(2026, 3, 29, 0, 0, tzinfo=UTC), datetime(2026, 3, 29, 2, 0, tzinfo=UTC))
    ]


def test_business_minutes_between_friday_evening_and_monday_morning():
    assert (
        business_minutes_between(OFFICE, rome(2026, 11, 13, 17, 0), rome(2026, 11, 16, 9, 0)) == 60
    )


def test_business_time_is_zero_when_end_is_not_after_start():
    assert business_time_between(
        OFFICE, rome(2026, 11, 18, 10), rome(2026, 11, 18, 9)
    ) == timedelta(0)
    assert list(opening_intervals(OFFICE, rome(2026, 11, 18, 10), rome(2026, 11, 18, 10))) == []


def test_budget_running_out_at_closing_time_returns_closing_time():
    due = add_business_minutes(OFFICE, rome(2026, 11, 18, 17, 0), 30)
    assert due == rome(2026, 11, 18, 17, 30)
    assert not is_open(OFFICE, due)
    assert add_business_minutes(OFFICE, due, 0) == rome(2026, 11, 19, 8, 30)


def test_zero_minutes_give_the_next_opening():
    assert add_business_minutes(OFFICE, rome(2026, 11, 14, 10, 0), 0) == rome(2026, 11, 16, 8, 30)
    assert add_business_minutes(OFFICE, rome(2026, 11, 18, 10, 0), 0) == rome(2026, 11, 18, 10, 0)


def test_intervals_are_half_open():
    assert is_open(OFFICE, rome(2026, 11, 18, 8, 30))
    assert not is_open(OFFICE, rome(2026, 11, 18, 13, 0))
    assert is_open(OFFICE, rome(2026, 11, 18, 12, 59, 59, 999999))
    assert not is_open(OFFICE, rome(2026, 11, 18, 8, 29, 59, 999999))


def test_instants_in_any_zone_are_accepted_and_answers_come_in_the_calendar_zone():
    opened = datetime(2026, 11, 13, 16, 0, tzinfo=UTC)  # 17:00 in Rome
    due = add_business_minutes(OFFICE, opened, 60)
    assert due == rome(2026, 11, 16, 9, 0)
    assert due.tzinfo == ROME
    assert next_opening(OFFICE, opened).tzinfo == ROME


def test_fractional_minutes_are_exact_to_the_microsecond():
    due = add_business_minutes(OFFICE, rome(2026, 11, 18, 9, 0), 0.5)
    assert due == rome(2026, 11, 18, 9, 0, 30)
    assert business_minutes_between(OFFICE, rome(2026, 11, 18, 9, 0), due) == 0.5


def test_opening_intervals_are_clipped_to_the_window():
    spans = list(opening_intervals(OFFICE, rome(2026, 11, 13, 9, 0), rome(2026, 11, 16, 9, 0)))
    assert spans == [
        (rome(2026, 11, 13, 9, 0), rome(2026, 11, 13, 13, 0)),
        (rome(2026, 11, 13, 14, 0), rome(2026, 11, 13, 17, 30)),
        (rome(2026, 11, 16, 8, 30), rome(2026, 11, 16, 9, 0)),
    ]


def test_touching_intervals_are_reported_as_one_span():
    spans = list(opening_intervals(ROUND_THE_CLOCK, rome(2026, 11, 13, 9), rome(2026, 11, 16, 9)))
    assert spans == [(rome(2026, 11, 13, 9), rome(2026, 11, 16, 9))]


def test_unsorted_intervals_are_sorted_and_overlapping_ones_rejected():
    spec = CalendarSpec(weekly_hours=(tuple(reversed(WEEKDAY)),) * 5 + ((), ()))
    assert spec == OFFICE
    with pytest.raises(ValueError, match="overlap"):
        CalendarSpec(weekly_hours=((Interval(60, 120), Interval(90, 150)),) + ((),) * 6)


@pytest.mark.parametrize(("start", "end"), [(-1, 60), (0, 0), (120, 60), (0, 1441), (1440, 1441)])
def test_interval_bounds_are_checked(start, end):
    with pytest.raises(ValueError, match="interval"):
        Interval(start, end)


def test_spec_rejects_a_wrong_week_an_unknown_zone_or_province():
    with pytest.raises(ValueError, match="7 days"):
        CalendarSpec(weekly_hours=((),) * 6)
    with pytest.raises(ValueError, match="time zone"):
        CalendarSpec(weekly_hours=((),) * 7, timezone="Europe/Atlantis")
    with pytest.raises(ValueError, match="province"):
        CalendarSpec(weekly_hours=((),) * 7, province="XX")


def test_blank_province_means_national_holidays_only():
    assert CalendarSpec(weekly_hours=OFFICE.weekly_hours, province="") == OFFICE


@pytest.mark.parametrize(
    "call",
    [
        lambda at: is_open(OFFICE, at),
        lambda at: next_opening(OFFICE, at),
        lambda at: add_business_minutes(OFFICE, at, 10),
        lambda at: business_time_between(OFFICE, at, rome(2026, 12, 1, 9)),
        lambda at: business_minutes_between(OFFICE, rome(2026, 11, 1, 9), at),
        lambda at: opening_intervals(OFFICE, at, rome(2026, 12, 1, 9)),
    ],
)
def test_naive_datetimes_are_refused(call):
    with pytest.raises(ValueError, match="naive"):
        call(datetime(2026, 11, 18, 10, 0))  # noqa: DTZ001 - the point of the test


@pytest.mark.parametrize("minutes", [-1, -0.001, float("nan")])
def test_negative_or_nan_minutes_are_refused(minutes):
    with pytest.raises(ValueError, match="minutes"):
        add_business_minutes(OFFICE, rome(2026, 11, 18, 10), minutes)


def test_calendar_without_hours_has_no_opening():
    with pytest.raises(NoOpeningError):
        add_business_minutes(NO_HOURS, rome(2026, 11, 18, 10), 60)
    with pytest.raises(NoOpeningError):
        next_opening(NO_HOURS, rome(2026, 11, 18, 10))
    assert not is_open(NO_HOURS, rome(2026, 11, 18, 10))
    assert business_time_between(NO_HOURS, rome(2026, 1, 1), rome(2027, 1, 1)) == timedelta(0)


def test_minutes_beyond_the_three_year_horizon_raise():
    with pytest.raises(NoOpeningError):
        add_business_minutes(OFFICE, rome(2026, 11, 18, 10), 10_000_000)


def test_no_opening_error_is_a_value_error():
    assert issubclass(NoOpeningError, ValueError)


# --- Laws, on random calendars and instants --------------------------------------------------

CALENDAR_ZONES = ["Europe/Rome", "Europe/Rome", "Europe/Rome", "UTC", "America/Santiago"]
INPUT_ZONES = [UTC, ROME, ZoneInfo("America/New_York"), timezone(timedelta(hours=5, minutes=30))]
PROVINCES = [None, "PA", "MI", "RM", "NA"]
# Rome's DST changes (at 01:00 UTC), Santiago's (at local midnight), Christmas, Santa Rosalia.
ANCHORS = [
    datetime(2026, 3, 29, 1, 0, tzinfo=UTC),
    datetime(2026, 10, 25, 1, 0, tzinfo=UTC),
    datetime(2027, 3, 28, 1, 0, tzinfo=UTC),
    datetime(2026, 4, 5, 3, 0, tzinfo=UTC),
    datetime(2026, 9, 6, 4, 0, tzinfo=UTC),
    datetime(2026, 12, 24, 16, 0, tzinfo=UTC),
    datetime(2026, 7, 15, 7, 0, tzinfo=UTC),
]
# Minutes where clocks change or offices usually open and close.
NOTABLE_MINUTES = (0, 60, 120, 150, 170, 180, 190, 510, 780, 840, 1050, 1380, 1439, 1440)
MAX_MINUTES = 20_000


# Strategies are built once: building them inside a composite costs milliseconds per example.
# One draw per minute (a one_of would take two): notable minutes weigh as much as all others.
MINUTES = st.sampled_from(NOTABLE_MINUTES * 100 + tuple(range(1441)))
GAPS = st.integers(0, 600)
INTERVAL_COUNTS = st.integers(0, 3)
LAYOUTS = st.integers(0, 3**7 - 1)
CALENDAR_ZONE_CHOICES = st.sampled_from(CALENDAR_ZONES)
INPUT_ZONE_CHOICES = st.sampled_from(INPUT_ZONES)
PROVINCE_CHOICES = st.sampled_from(PROVINCES)
ANCHOR_CHOICES = st.sampled_from(ANCHORS)
NEAR_ANCHOR = st.one_of(
    st.integers(-3 * 1440, 3 * 1440).map(lambda m: timedelta(minutes=m)),
    st.integers(-(10**11), 10**11).map(lambda us: timedelta(microseconds=us)),
)
SINCE_2025 = st.integers(0, 4 * 366 * 86_400 * 10**6).map(lambda us: timedelta(microseconds=us))
# Closure days as a bit mask over the days from 3 before the start on: one draw, not a list.
CLOSURE_MASKS = st.integers(0, 2**40 - 1)
BUDGETS = st.integers(0, MAX_MINUTES)
FRACTIONAL_BUDGETS = st.floats(0, MAX_MINUTES, allow_nan=False)
SPLIT_GAPS = st.integers(0, 40 * 86_400 * 10**6).map(lambda us: timedelta(microseconds=us))
WINDOWS = st.integers(0, 20 * 1440).map(lambda m: timedelta(minutes=m))


def _minute_from(draw, minutes: st.SearchStrategy[int], low: int) -> int:
    """A minute >= low, often one where clocks change or offices open and close."""
    minute = draw(minutes)
    if minute < low:
        minute = low + draw(GAPS)
    return min(minute, 1440)


@st.composite
def day_hours(draw, minutes: st.SearchStrategy[int] = MINUTES) -> tuple[Interval, ...]:
    intervals, cursor = [], 0
    for _ in range(draw(INTERVAL_COUNTS)):
        start = _minute_from(draw, minutes, cursor)
        if start >= 1440:
            break
        cursor = _minute_from(draw, minutes, start + 1)
        intervals.append(Interval(start, cursor))
    return tuple(intervals)


DAY_HOURS = day_hours()
# Night hours crowd around Rome's DST changes, between 02:00 and 03:00.
NIGHT_HOURS = day_hours(st.integers(0, 300))
DST_NIGHTS = st.sampled_from(
    [datetime(2026, 3, 29, tzinfo=ROME), datetime(2026, 10, 25, tzinfo=ROME)]
)


@st.composite
def instants(draw) -> datetime:
    """Aware instants in 2025-2028 in various zones, half of them near a DST change."""
    if draw(st.booleans()):
        moment = draw(ANCHOR_CHOICES) + draw(NEAR_ANCHOR)
    else:
        moment = datetime(2025, 1, 1, tzinfo=UTC) + draw(SINCE_2025)
        if draw(st.booleans()):
            moment = moment.replace(second=0, microsecond=0)
    return moment.astimezone(draw(INPUT_ZONE_CHOICES))


INSTANTS = instants()


@st.composite
def scenarios(draw) -> tuple[CalendarSpec, datetime]:
    """A random calendar open at least once a week, and an instant to start from.

    Real weeks repeat a day or two of hours, and fewer draws keep the examples fast: each day
    is closed or follows one of two random patterns, picked by one base-3 digit of ``layout``.
    Closures fall in the days around the start, where they matter.
    """
    start = draw(INSTANTS)
    patterns = ((), draw(DAY_HOURS), draw(DAY_HOURS))
    layout = draw(LAYOUTS)
    week = [patterns[layout // 3**weekday % 3] for weekday in range(7)]
    if not any(week):
        week[layout % 7] = (Interval(9 * 60, 17 * 60),)
    first = start.date()
    spec = CalendarSpec(
        weekly_hours=tuple(week),
        timezone=draw(CALENDAR_ZONE_CHOICES),
        province=draw(PROVINCE_CHOICES),
        closures=frozenset(first + timedelta(days=bit - 3) for bit in bits(draw(CLOSURE_MASKS))),
    )
    return spec, start


def bits(mask: int) -> list[int]:
    return [bit for bit in range(mask.bit_length()) if mask >> bit & 1]


def budget_cap(spec: CalendarSpec) -> int:
    """Minutes that surely fit the horizon: 100 weeks' worth, whatever holidays take away."""
    weekly = sum(i.end - i.start for day in spec.weekly_hours for i in day)
    return min(MAX_MINUTES, weekly * 100)


def minutes_for(data, spec: CalendarSpec) -> int:
    return min(data.draw(BUDGETS), budget_cap(spec))


@PROPERTY
@given(scenario=scenarios(), data=st.data())
def test_adding_minutes_then_measuring_gives_back_exactly_those_minutes(scenario, data):
    spec, start = scenario
    minutes = minutes_for(data, spec)
    due = add_business_minutes(spec, start, minutes)
    assert business_time_between(spec, start, due) == timedelta(minutes=minutes)
    assert business_minutes_between(spec, start, due) == minutes
    assert due.tzinfo == ZoneInfo(spec.timezone)


@PROPERTY
@given(scenario=scenarios(), data=st.data())
def test_fractional_minutes_round_trip_to_the_microsecond(scenario, data):
    spec, start = scenario
    minutes = min(data.draw(FRACTIONAL_BUDGETS), budget_cap(spec))
    due = add_business_minutes(spec, start, minutes)
    assert business_time_between(spec, start, due) == timedelta(minutes=minutes)


@PROPERTY
@given(scenario=scenarios(), data=st.data())
def test_the_deadline_falls_in_an_opening_or_at_its_end(scenario, data):
    spec, start = scenario
    minutes = minutes_for(data, spec)
    due = add_business_minutes(spec, start, minutes)
    assert utc(due) >= utc(start)
    at_closing = minutes > 0 and is_open(spec, due - timedelta(microseconds=1))
    assert is_open(spec, due) or at_closing


@PROPERTY
@given(scenario=scenarios(), data=st.data())
def test_more_minutes_never_give_an_earlier_deadline(scenario, data):
    spec, start = scenario
    fewer, more = sorted((minutes_for(data, spec), minutes_for(data, spec)))
    assert utc(add_business_minutes(spec, start, fewer)) <= utc(
        add_business_minutes(spec, start, more)
    )


@PROPERTY
@given(scenario=scenarios(), data=st.data())
def test_adding_in_two_steps_equals_adding_at_once(scenario, data):
    spec, start = scenario
    first = minutes_for(data, spec)
    second = max(1, min(data.draw(BUDGETS), budget_cap(spec) - first))
    halfway = add_business_minutes(spec, start, first)
    assert utc(add_business_minutes(spec, halfway, second)) == utc(
        add_business_minutes(spec, start, first + second)
    )
    # Zero more minutes moves a deadline met at closing time on to the next opening.
    assert utc(add_business_minutes(spec, halfway, 0)) == utc(next_opening(spec, halfway))


@PROPERTY
@given(scenario=scenarios(), data=st.data())
def test_business_time_splits_at_any_intermediate_instant(scenario, data):
    spec, start = scenario
    gaps = [data.draw(SPLIT_GAPS) for _ in "ab"]
    middle, end = utc(start) + gaps[0], utc(start) + gaps[0] + gaps[1]
    assert business_time_between(spec, start, end) == business_time_between(
        spec, start, middle
    ) + business_time_between(spec, middle, end)


@PROPERTY
@given(scenario=scenarios())
def test_next_opening_is_open_and_no_business_time_precedes_it(scenario):
    spec, start = scenario
    opening = next_opening(spec, start)
    assert is_open(spec, opening)
    assert utc(opening) >= utc(start)
    assert business_time_between(spec, start, opening) == timedelta(0)
    if is_open(spec, start):
        assert utc(opening) == utc(start)


@PROPERTY
@given(start=INSTANTS, minutes=st.integers(0, MAX_MINUTES), zone=st.sampled_from(CALENDAR_ZONES))
def test_a_24x7_calendar_counts_real_minutes(start, minutes, zone):
    spec = always_open_spec(zone)
    due = add_business_minutes(spec, start, minutes)
    assert utc(due) == utc(start) + timedelta(minutes=minutes)
    assert due.tzinfo == ZoneInfo(zone)
    assert business_time_between(spec, start, due) == timedelta(minutes=minutes)
    assert utc(next_opening(spec, start)) == utc(start)


@PROPERTY
@given(scenario=scenarios(), data=st.data())
def test_opening_intervals_are_ordered_apart_and_add_up_to_business_time(scenario, data):
    spec, start = scenario
    end = utc(start) + data.draw(WINDOWS)
    spans = [(utc(low), utc(high)) for low, high in opening_intervals(spec, start, end)]
    assert all(utc(start) <= low < high <= end for low, high in spans)
    assert all(before[1] < after[0] for before, after in pairwise(spans))
    assert sum((high - low for low, high in spans), timedelta(0)) == business_time_between(
        spec, start, end
    )
    for low, high in spans:
        assert is_open(spec, low)
        assert is_open(spec, high - timedelta(microseconds=1))
        assert high == end or not is_open(spec, high)


@PROPERTY
@given(scenario=scenarios())
def test_is_open_agrees_with_the_opening_intervals_around_it(scenario):
    spec, instant = scenario
    window = opening_intervals(spec, instant - timedelta(days=2), instant + timedelta(days=2))
    inside = any(utc(low) <= utc(instant) < utc(high) for low, high in window)
    assert is_open(spec, instant) == inside


@PROPERTY
@given(scenario=scenarios(), offset=st.integers(-3, 90))
def test_a_day_is_closed_exactly_when_it_has_a_reason(scenario, offset):
    spec, instant = scenario
    day = instant.date() + timedelta(days=offset)
    reason = closed_day_reason(spec, day)
    assert is_closed_day(spec, day) == (reason is not None)
    without_closures = CalendarSpec(weekly_hours=spec.weekly_hours, province=spec.province)
    if day in spec.closures and not is_closed_day(without_closures, day):
        assert reason == "closure"


@PROPERTY
@given(hours=NIGHT_HOURS, night=DST_NIGHTS)
def test_dst_nights_never_count_an_instant_twice(hours, night):
    spec = CalendarSpec(weekly_hours=(hours,) * 7)
    end = night + timedelta(days=1)
    spans = [(utc(low), utc(high)) for low, high in opening_intervals(spec, night, end)]
    assert all(before[1] < after[0] for before, after in pairwise(spans))
    total = business_time_between(spec, night, end)
    assert total == sum((high - low for low, high in spans), timedelta(0))
    assert total <= utc(end) - utc(night)
    for low, high in spans:
        assert is_open(spec, low)
        assert is_open(spec, high - timedelta(microseconds=1))
        assert high == utc(end) or not is_open(spec, high)


def test_holiday_names_follow_the_readers_language_and_closed_days_do_not_change():
    assert closed_day_reason(office_in("MI"), date(2026, 12, 7), language="it_IT") == (
        "Sant'Ambrogio"
    )
    assert closed_day_reason(OFFICE, date(2026, 12, 8), language="it_IT") == (
        "Immacolata Concezione"
    )
    assert closed_day_reason(OFFICE, date(2026, 12, 8)) == "Immaculate Conception"
    assert closed_day_reason(OFFICE, date(2026, 12, 9), language="it_IT") is None
    assert [holiday_language(code) for code in ("it", "it-it", "en", "en-gb", "de", None)] == [
        "it_IT",
        "it_IT",
        "en_US",
        "en_US",
        "en_US",
        "en_US",
    ]
