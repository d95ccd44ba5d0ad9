"""The SLA clock of a case, from plain values: when each target falls due and when it turns
"at risk". No Django: the calendar is a `contracts.calendars.CalendarSpec`.

Due instants are recomputed from the opening instant with the business minutes of pauses
added to each target, so they can be rebuilt at any time from stored facts:
`due = add_business_minutes(opened_at, target + paused_minutes)`.
"""

from dataclasses import dataclass
from datetime import UTC, datetime

from contracts import calendars


@dataclass(frozen=True)
class Deadlines:
    clock_started_at: datetime
    first_response_due_at: datetime
    first_response_at_risk_at: datetime
    resolution_due_at: datetime
    resolution_at_risk_at: datetime


def deadlines(
    spec: calendars.CalendarSpec,
    *,
    opened_at: datetime,
    first_response_minutes: int,
    resolution_minutes: int,
    at_risk_share: float,
    paused_minutes: float = 0,
) -> Deadlines:
    """A target is at risk once at most `at_risk_share` of it is left."""

    def due(minutes: float) -> datetime:
        # In UTC: two instants of the repeated autumn hour in Rome's zone would compare by
        # wall clock and be misordered.
        return calendars.add_business_minutes(spec, opened_at, minutes + paused_minutes).astimezone(
            UTC
        )

    keep = 1 - float(at_risk_share)
    return Deadlines(
        clock_started_at=calendars.next_opening(spec, opened_at).astimezone(UTC),
        first_response_due_at=due(first_response_minutes),
        first_response_at_risk_at=due(first_response_minutes * keep),
        resolution_due_at=due(resolution_minutes),
        resolution_at_risk_at=due(resolution_minutes * keep),
    )


def paused_business_minutes(
    spec: calendars.CalendarSpec, paused_at: datetime, resumed_at: datetime
) -> float:
    return calendars.business_minutes_between(spec, paused_at, resumed_at)


def state_at(
    *,
    stored: str,
    at_risk_at: datetime | None,
    due_at: datetime | None,
    paused: bool,
    now: datetime,
) -> str:
    """The state of one target at `now`, from its stored state and instants.

    Met, breached and "no SLA" are final; a paused clock does not advance; otherwise the
    target is breached once `now` is past its due instant (an answer at the due instant
    itself is on time) and at risk from its at-risk instant. The per-minute recompute
    (`care.sla`) applies this same rule in SQL, a copy kept for speed;
    `tests/care/test_sla_agreement.py` holds the two together.
    """
    if stored not in ("ok", "at_risk") or due_at is None or paused:
        return stored
    if now > due_at:
        return "breached"
    if at_risk_at is not None and now >= at_risk_at:
        return "at_risk"
    return stored
