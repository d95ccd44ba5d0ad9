"""Pure rules of the assignment engine: plain values in, plain values out, `now` passed in.

No Django here: services turn rows into these values and back.
"""

import math
from dataclasses import dataclass
from datetime import UTC, datetime
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


def reason_for(level: Level | str, *, queue_code: str, waited: float, how: str) -> dict:
    """The facts of why the case went to the operator (stored on the case's "assigned" event;
    `care.wording.assignment_reason` says them in the reader's language): `how` (take_next,
    auto_assign, reassigned or override), the circle, the queue and the minutes waited."""
    return {"how": how, "level": str(level), "queue": queue_code, "waited": int(waited)}


# --- Decision records: who or what was passed over, and why --------------------------------
#
# Each entry keeps who (a case's reference or an operator's username), the rule and its
# facts: `routing.wording` says them in the reader's language.

PASSED_OVER_MAX = 5


def gettext_noop(message: str) -> str:
    """Marks a sentence for the translation catalogue (`makemessages` looks for this name)
    without importing Django here: `routing.wording` translates it for the reader."""
    return message


# The sentence of each rule: stored in English with its facts (the log), and the msgid
# `routing.wording` translates.
WHY_TEXTS = {
    "client_only": gettext_noop(
        "certified on the client only: overflow after %(after)s (waited %(waited)s)"
    ),
    "skill_only": gettext_noop(
        "service skill only: national overflow after %(after)s (waited %(waited)s)"
    ),
    "not_tied": gettext_noop("not certified on the contract or the client, no service skill"),
    "backoffice_kept": gettext_noop("back-office share kept free: the queue is not in emergency"),
    "not_available": gettext_noop("not available (%(presence)s)"),
    "at_capacity": gettext_noop("at capacity (%(held)s of %(limit)s cases)"),
    "idle_less": gettext_noop("idle for less time (since %(since)s)"),
    "became_busy": gettext_noop("became busy while the case was offered"),
    "held_before": gettext_noop("held the case before"),
}
_WHY_FACTS = ("after", "waited", "presence", "held", "limit", "since")


@dataclass(frozen=True)
class Why:
    """Why a case or an operator was passed over: a rule and the facts it rests on."""

    rule: str
    after: int | None = None  # minutes of waiting before the operator's circle may take it
    waited: int | None = None  # minutes the case had waited
    presence: str = ""
    held: int | None = None
    limit: int | None = None
    since: str = ""  # the ISO instant the operator had been idle since, if known

    @property
    def text(self) -> str:
        """In English, for logs and tests (`routing.wording` says it to people)."""
        values = {name: getattr(self, name) for name in _WHY_FACTS}
        minutes = {name: f"{values[name]} min" for name in ("after", "waited")}
        return WHY_TEXTS[self.rule] % (values | minutes | {"since": self.since or "-"})

    def facts(self) -> dict:
        return {
            name: value for name in _WHY_FACTS if (value := getattr(self, name)) not in (None, "")
        }

    def entry(self, who: str) -> dict:
        """The entry stored in `Assignment.passed_over`."""
        return {"who": who, "rule": self.rule, **self.facts()}


def why_not_yet(qualification: Qualification, waited: float, thresholds: Thresholds) -> Why:
    """Why an operator tied to a case may not take it yet (or at all)."""
    if qualification.certified_on_client:
        return Why("client_only", after=thresholds.client_minutes, waited=int(waited))
    if qualification.has_service_skill:
        return Why("skill_only", after=thresholds.national_minutes, waited=int(waited))
    return Why("not_tied")


BACKOFFICE_KEPT = Why("backoffice_kept")


@dataclass(frozen=True)
class Candidate:
    """One operator considered for a push: `level` None when not eligible for the case."""

    user_id: int
    label: str
    available: bool
    presence: str
    held: int
    limit: int  # cases the operator may hold for this case's queue
    level: Level | None
    qualification: Qualification
    idle_since: datetime | None

    @property
    def can_take(self) -> bool:
        return self.available and self.level is not None and self.held < self.limit


def idle_since(*instants: datetime | None) -> datetime | None:
    """When an operator became idle: the latest of when they became available, their last
    assignment and the last resolution of a case they held."""
    known = [instant for instant in instants if instant is not None]
    return max(known) if known else None


_NEVER = datetime.min.replace(tzinfo=UTC)


def push_order(candidate: Candidate) -> tuple:
    """Idle longest first; the user id settles ties so the choice never depends on row order."""
    return (candidate.idle_since or _NEVER, candidate.user_id)


def why_passed(candidate: Candidate, *, waited: float, thresholds: Thresholds) -> Why:
    """Why a push did not pick this operator (the chosen one excluded)."""
    if candidate.level is None:
        return why_not_yet(candidate.qualification, waited, thresholds)
    if not candidate.available:
        return Why("not_available", presence=candidate.presence)
    if candidate.held >= candidate.limit:
        return Why("at_capacity", held=candidate.held, limit=candidate.limit)
    since = candidate.idle_since.isoformat(timespec="minutes") if candidate.idle_since else ""
    return Why("idle_less", since=since)


def push_takers(candidates: list[Candidate]) -> list[Candidate]:
    """The operators who may take the case now, best first (idle longest)."""
    return sorted((c for c in candidates if c.can_take), key=push_order)


def push_passed_over(
    candidates: list[Candidate],
    chosen: Candidate,
    *,
    waited: float,
    thresholds: Thresholds,
    tried: tuple[int, ...] = (),
    limit: int = 10,
) -> list[dict]:
    """The decision record of a push: first whoever was idle longer than the chosen operator
    but could not take the case (not available, at capacity, not certified yet, or taken by
    another assignment meanwhile: `tried`), then those idle for less time; at most `limit`."""
    ordered = sorted((c for c in candidates if c.user_id != chosen.user_id), key=push_order)
    ahead = [c for c in ordered if push_order(c) < push_order(chosen)]
    behind = [c for c in ordered if push_order(c) >= push_order(chosen)]

    def why(candidate: Candidate) -> Why:
        if candidate.user_id in tried:
            return Why("became_busy")
        return why_passed(candidate, waited=waited, thresholds=thresholds)

    return [why(c).entry(c.label) for c in [*ahead, *behind][:limit]]
