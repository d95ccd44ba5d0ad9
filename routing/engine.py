"""Pure rules of the assignment engine: plain values in, plain values out, `now` passed in.

No Django here: services turn rows into these values and back.
"""

import math
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class Level(StrEnum):
    """Who may take a case, from the narrowest circle to the widest."""

    CONTRACT = "contract"
    CLIENT = "client"
    NATIONAL = "national"


@dataclass(frozen=True)
class Thresholds:
    """Minutes of waiting after which a queue's case overflows to a wider circle."""

    client_minutes: int = 10
    national_minutes: int = 30


@dataclass(frozen=True)
class Qualification:
    """What ties one operator to one case."""

    certified_on_contract: bool = False
    certified_on_client: bool = False
    has_service_skill: bool = False


def waited_minutes(opened_at: datetime, now: datetime) -> float:
    return max((now - opened_at).total_seconds() / 60, 0.0)


def open_levels(waited: float, thresholds: Thresholds) -> tuple[Level, ...]:
    """The circles a case that waited `waited` minutes is offered to."""
    levels = [Level.CONTRACT]
    if waited >= thresholds.client_minutes:
        levels.append(Level.CLIENT)
    if waited >= thresholds.national_minutes:
        levels.append(Level.NATIONAL)
    return tuple(levels)


def eligibility_level(
    qualification: Qualification, waited: float, thresholds: Thresholds
) -> Level | None:
    """The narrowest open circle the operator belongs to, or None if the case is not theirs
    (yet). An operator certified on the contract is in every circle."""
    levels = open_levels(waited, thresholds)
    if qualification.certified_on_contract:
        return Level.CONTRACT
    if qualification.certified_on_client and Level.CLIENT in levels:
        return Level.CLIENT
    if qualification.has_service_skill and Level.NATIONAL in levels:
        return Level.NATIONAL
    return None


# Sorts after every real instant: a case without a due time comes after those with one.
_NO_DUE = (1, 0.0)


def ordering_key(priority: str, resolution_due_at: datetime | None, opened_at: datetime) -> tuple:
    """Queue order: priority (P1 first), then earliest resolution due time (none last), then
    the oldest."""
    due = _NO_DUE if resolution_due_at is None else (0, resolution_due_at.timestamp())
    return (priority, due, opened_at.timestamp())


def front_office_limit(capacity: int, backoffice_share: float, *, emergency: bool) -> int:
    """How many cases an operator may hold: all of the capacity in an emergency, otherwise
    what the back-office share leaves (rounded down, at least one, never more than
    the capacity)."""
    if emergency:
        return capacity
    front = math.floor(capacity * (1 - float(backoffice_share)) + 1e-9)
    return min(capacity, max(1, front))


def may_take_more(held: int, capacity: int, backoffice_share: float, *, emergency: bool) -> bool:
    return held < front_office_limit(capacity, backoffice_share, emergency=emergency)


def reason_for(level: Level, *, queue_code: str, waited: float) -> str:
    """Why the case went to the operator, in words stored with the assignment (English:
    a log for people who read the code and for reports)."""
    circle = {
        Level.CONTRACT: "certified on the contract",
        Level.CLIENT: "certified on the client (overflow)",
        Level.NATIONAL: "service skill, national overflow",
    }[level]
    return f"take-next from queue {queue_code or '-'}: {circle}; waited {int(waited)} min"
