"""The state of a target at a moment: one rule, shared by the pages and the recompute."""

from datetime import UTC, datetime, timedelta

import pytest

from care.clock import state_at

DUE = datetime(2026, 12, 2, 11, 0, tzinfo=UTC)
AT_RISK = DUE - timedelta(minutes=12)


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (AT_RISK - timedelta(seconds=1), "ok"),
        (AT_RISK, "at_risk"),
        (DUE, "at_risk"),  # an answer at the due instant itself is on time
        (DUE + timedelta(microseconds=1), "breached"),
    ],
)
def test_a_running_target_moves_from_ok_to_at_risk_to_breached(now, expected):
    assert state_at(stored="ok", at_risk_at=AT_RISK, due_at=DUE, paused=False, now=now) == (
        expected
    )


@pytest.mark.parametrize("stored", ["met", "breached", "none"])
def test_final_states_never_change(stored):
    later = DUE + timedelta(days=3)
    assert (
        state_at(stored=stored, at_risk_at=AT_RISK, due_at=DUE, paused=False, now=later) == stored
    )


def test_a_paused_clock_does_not_advance():
    later = DUE + timedelta(days=3)
    assert state_at(stored="ok", at_risk_at=AT_RISK, due_at=DUE, paused=True, now=later) == "ok"
