"""`care.clock` against the pure calendar it is built on: the same instants for any opening,
target, warning share and pause, on the Palermo office calendar (DST weeks and holidays
included) and on a 24x7 one. No database."""

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from hypothesis import example, given, settings
from hypothesis import strategies as st

from care import clock
from contracts import calendars

ROME = ZoneInfo("Europe/Rome")
OFFICE = tuple(
    (calendars.Interval(510, 780), calendars.Interval(840, 1050)) if day < 5 else ()
    for day in range(7)
)
PALERMO = calendars.CalendarSpec(weekly_hours=OFFICE, timezone="Europe/Rome", province="PA")
ALWAYS = calendars.always_open_spec("Europe/Rome")

# Days where the clock is most likely wrong: DST changes, national holidays, Santa Rosalia.
TRICKY_DAYS = [
    date(2026, 3, 27),  # Friday before spring forward (29 Mar 2026)
    date(2026, 3, 29),
    date(2026, 4, 6),  # Easter Monday
    date(2026, 7, 14),  # the day before Santa Rosalia (15 Jul, Palermo)
    date(2026, 10, 23),  # Friday before fall back (25 Oct 2026)
    date(2026, 10, 25),
    date(2026, 12, 4),  # Friday before Immacolata (8 Dec)
    date(2026, 12, 24),
    date(2026, 12, 31),
    date(2027, 3, 26),  # Friday before spring forward (28 Mar 2027)
    date(2027, 3, 28),
    date(2027, 10, 29),  # Friday before fall back (31 Oct 2027)
    date(2027, 10, 31),
]

plain_instants = st.datetimes(
    min_value=datetime(2026, 1, 1),  # noqa: DTZ001 - bounds of naive wall times, zone below
    max_value=datetime(2027, 12, 31, 23, 59),  # noqa: DTZ001
    timezones=st.just(ROME),
    allow_imaginary=False,
)
tricky_instants = st.builds(
    lambda day, minute, extra_days: datetime.combine(
        day + timedelta(days=extra_days), time(*divmod(minute, 60)), tzinfo=ROME
    ),
    st.sampled_from(TRICKY_DAYS),
    st.integers(0, 24 * 60 - 1),
    st.integers(0, 2),
)
openings = st.one_of(plain_instants, tricky_instants)
targets = st.integers(1, 5000)
shares = st.floats(0.05, 0.5)
pauses = st.one_of(st.just(0), st.floats(0, 2000))
calendars_under_test = st.sampled_from([PALERMO, ALWAYS])


def in_utc(instant: datetime) -> datetime:
    """Compare in UTC: Python never finds an instant of the repeated autumn hour (fold=1)
    equal to one in another zone, even when they are the same instant."""
    return instant.astimezone(UTC)


@settings(max_examples=100, deadline=None, database=None)
# 24x7, the night clocks go back: at risk at 02:15 summer time, due at 02:00 winter time.
@example(
    spec=ALWAYS,
    opened_at=datetime(2026, 10, 25, 0, 0, tzinfo=ROME),
    first_response=1,
    resolution=180,
    share=0.25,
    paused=0,
)
@given(
    spec=calendars_under_test,
    opened_at=openings,
    first_response=targets,
    resolution=targets,
    share=shares,
    paused=pauses,
)
def test_deadlines_agree_with_the_business_calendar(
    spec, opened_at, first_response, resolution, share, paused
):
    found = clock.deadlines(
        spec,
        opened_at=opened_at,
        first_response_minutes=first_response,
        resolution_minutes=resolution,
        at_risk_share=share,
        paused_minutes=paused,
    )

    def after(minutes):
        return in_utc(calendars.add_business_minutes(spec, opened_at, minutes))

    assert in_utc(found.clock_started_at) == in_utc(calendars.next_opening(spec, opened_at))
    assert in_utc(found.first_response_due_at) == after(first_response + paused)
    assert in_utc(found.resolution_due_at) == after(resolution + paused)
    assert in_utc(found.first_response_at_risk_at) == after(first_response * (1 - share) + paused)
    assert in_utc(found.resolution_at_risk_at) == after(resolution * (1 - share) + paused)
    # Ordered as instants whatever zone they come in (in Rome's zone, two instants of the
    # repeated autumn hour would compare by wall clock).
    assert found.clock_started_at <= found.first_response_at_risk_at
    assert found.first_response_at_risk_at <= found.first_response_due_at
    assert found.resolution_at_risk_at <= found.resolution_due_at
    # The time left at the at-risk instant is the warning share of the target.
    left = calendars.business_minutes_between(
        spec, found.resolution_at_risk_at, found.resolution_due_at
    )
    assert abs(left - resolution * share) < 1e-3


@settings(max_examples=100, deadline=None, database=None)
@given(spec=calendars_under_test, start=openings, minutes=st.floats(0, 5000))
def test_a_pause_lasts_the_business_minutes_between_its_ends(spec, start, minutes):
    end = calendars.add_business_minutes(spec, start, minutes)
    paused = clock.paused_business_minutes(spec, start, end)
    assert paused == calendars.business_minutes_between(spec, start, end)
    assert abs(paused - minutes) < 1e-6


def test_the_share_may_be_a_decimal_as_stored_on_the_contract_version():
    opened = datetime(2026, 12, 2, 10, 0, tzinfo=ROME)
    found = clock.deadlines(
        PALERMO,
        opened_at=opened,
        first_response_minutes=60,
        resolution_minutes=960,
        at_risk_share=Decimal("0.20"),
    )
    assert found.first_response_at_risk_at == datetime(2026, 12, 2, 10, 48, tzinfo=ROME)
    assert found.first_response_due_at == datetime(2026, 12, 2, 11, 0, tzinfo=ROME)


def test_an_opening_on_santa_rosalia_starts_the_clock_the_next_morning():
    found = clock.deadlines(
        PALERMO,
        opened_at=datetime(2026, 7, 15, 10, 0, tzinfo=ROME),  # Wednesday, patron saint
        first_response_minutes=30,
        resolution_minutes=240,
        at_risk_share=0.2,
    )
    assert found.clock_started_at == datetime(2026, 7, 16, 8, 30, tzinfo=ROME)
    assert found.first_response_due_at == datetime(2026, 7, 16, 9, 0, tzinfo=ROME)
    # 240 minutes from 08:30 end before the lunch break.
    assert found.resolution_due_at == datetime(2026, 7, 16, 12, 30, tzinfo=ROME)
