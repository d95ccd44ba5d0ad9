"""The pure rules of the assignment engine, with plain values."""

from datetime import UTC, datetime, timedelta

import pytest

from routing import engine
from routing.engine import Level, Qualification, Thresholds

T0 = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
RULES = Thresholds(client_minutes=10, national_minutes=30)
ON_CONTRACT = Qualification(certified_on_contract=True)
ON_CLIENT = Qualification(certified_on_client=True)
BY_SKILL = Qualification(has_service_skill=True)
NOTHING = Qualification()


@pytest.mark.parametrize(
    ("qualification", "waited", "expected"),
    [
        (ON_CONTRACT, 0, Level.CONTRACT),
        (ON_CONTRACT, 60, Level.CONTRACT),
        (ON_CLIENT, 0, None),
        (ON_CLIENT, 9.9, None),
        (ON_CLIENT, 10, Level.CLIENT),
        (ON_CLIENT, 45, Level.CLIENT),
        (BY_SKILL, 10, None),
        (BY_SKILL, 29.9, None),
        (BY_SKILL, 30, Level.NATIONAL),
        (NOTHING, 600, None),
        (Qualification(certified_on_client=True, has_service_skill=True), 40, Level.CLIENT),
    ],
)
def test_eligibility_grows_with_waiting_time(qualification, waited, expected):
    assert engine.eligibility_level(qualification, waited, RULES) == expected


def test_waiting_minutes_are_never_negative():
    assert engine.waited_minutes(T0, T0 + timedelta(minutes=12)) == 12
    assert engine.waited_minutes(T0, T0 - timedelta(minutes=5)) == 0


def test_open_levels_follow_the_queue_thresholds():
    quick = Thresholds(client_minutes=0, national_minutes=5)
    assert engine.open_levels(0, quick) == (Level.CONTRACT, Level.CLIENT)
    assert engine.open_levels(5, quick) == (Level.CONTRACT, Level.CLIENT, Level.NATIONAL)


def test_ordering_is_priority_then_earliest_due_then_oldest_with_no_due_last():
    cases = {
        "p1-late-due": ("P1", T0 + timedelta(hours=8), T0),
        "p2-early-due-newer": ("P2", T0 + timedelta(hours=1), T0 + timedelta(minutes=30)),
        "p2-late-due-older": ("P2", T0 + timedelta(hours=2), T0 - timedelta(minutes=30)),
        "p2-no-due-oldest": ("P2", None, T0 - timedelta(hours=5)),
        "p3-same-due-older": ("P3", T0 + timedelta(hours=3), T0 - timedelta(minutes=1)),
        "p3-same-due-newer": ("P3", T0 + timedelta(hours=3), T0),
    }
    ordered = sorted(cases, key=lambda name: engine.ordering_key(*cases[name]))
    assert ordered == [
        "p1-late-due",
        "p2-early-due-newer",
        "p2-late-due-older",
        "p2-no-due-oldest",
        "p3-same-due-older",
        "p3-same-due-newer",
    ]


@pytest.mark.parametrize(
    ("capacity", "share", "emergency", "limit"),
    [
        (5, 0.4, False, 3),
        (5, 0.4, True, 5),
        (4, 0.4, False, 2),  # 2.4 rounded down
        (5, 0.0, False, 5),
        (5, 1.0, False, 1),  # at least one
        (1, 0.9, False, 1),
        (0, 0.4, False, 0),  # never more than the capacity
        (10, 0.35, False, 6),
    ],
)
def test_front_office_limit_keeps_the_back_office_share(capacity, share, emergency, limit):
    assert engine.front_office_limit(capacity, share, emergency=emergency) == limit


def test_an_operator_may_take_more_only_under_the_limit():
    assert engine.may_take_more(2, 5, 0.4, emergency=False)
    assert not engine.may_take_more(3, 5, 0.4, emergency=False)
    assert engine.may_take_more(3, 5, 0.4, emergency=True)
    assert not engine.may_take_more(5, 5, 0.4, emergency=True)


def test_the_reason_is_facts_not_a_sentence():
    for level in Level:
        assert engine.reason_for(level, queue_code="pa-mobile", waited=12.7, how="take_next") == {
            "how": "take_next",
            "level": level.value,
            "queue": "pa-mobile",
            "waited": 12,
        }
