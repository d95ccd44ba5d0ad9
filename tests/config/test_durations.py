"""`config.durations.in_words`: spans as people say them, in the reader's language."""

from datetime import timedelta

import pytest
from django.utils import translation
from hypothesis import given
from hypothesis import strategies as st

from config.durations import in_words, working_time_in_words


@pytest.mark.parametrize(
    ("minutes", "italian", "english"),
    [
        (0, "0 min", "0 min"),
        (45, "45 min", "45 min"),
        (60, "1 h", "1 h"),
        (125, "2 h 5 min", "2 h 5 min"),
        (24 * 60, "1 g", "1 d"),
        (4813, "3 g 8 h", "3 d 8 h"),  # the "waited 4813 min"
        (3 * 24 * 60 + 7, "3 g", "3 d"),  # minutes dropped once days are said
    ],
)
def test_a_span_reads_as_people_say_it(minutes, italian, english):
    with translation.override("it"):
        assert in_words(minutes) == italian
        assert in_words(timedelta(minutes=minutes)) == italian
    with translation.override("en"):
        assert in_words(minutes) == english


def test_the_sign_and_the_seconds_are_dropped_and_nothing_is_a_dash():
    with translation.override("it"):
        assert in_words(timedelta(minutes=-90, seconds=-30)) == "1 h 30 min"
        assert in_words(timedelta(seconds=59)) == "0 min"
        assert in_words(None) == "—"


_UNIT = {"g": 24 * 60, "h": 60, "min": 1}


@given(st.integers(min_value=0, max_value=10**7))
def test_at_most_two_units_largest_first_and_never_more_than_the_span(minutes):
    with translation.override("it"):
        said = in_words(minutes)
    parts = said.split()
    numbers, units = [int(n) for n in parts[::2]], parts[1::2]
    assert 1 <= len(units) <= 2
    assert units == sorted(units, key=lambda unit: -_UNIT[unit])
    assert len(set(units)) == len(units)
    total = sum(n * _UNIT[u] for n, u in zip(numbers, units, strict=True))
    assert total <= minutes
    # minutes are left out only once days are said; nothing else is ever rounded away
    assert minutes - total == 0 if units[0] != "g" else minutes - total < 60
    assert all(n > 0 for n in numbers) or said == "0 min"


def test_working_time_is_said_in_hours_never_days():
    with translation.override("it"):
        assert [working_time_in_words(m) for m in (45, 90, 480, 2400)] == [
            "45 min",
            "1 h 30 min",
            "8 h",
            "40 h",
        ]
