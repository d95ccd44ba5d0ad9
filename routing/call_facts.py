"""What a call is, from the set of its telephony events: a pure function.

The PBX's events may come twice, late or out of order (a hang-up before its answer, an
answer without the new-call event). Instead of a state machine that moves on each arrival,
the call is recomputed from all the distinct events received so far, ordered by their own
instants: any order and any duplication of the same events gives the same call (a property
test checks it).
"""

from dataclasses import dataclass, field
from datetime import datetime

NEW_CALL, ANSWER, TRANSFER, HANGUP = "newCall", "answer", "transfer", "hangup"
EVENTS = (NEW_CALL, ANSWER, TRANSFER, HANGUP)
CAUSES = ("normal", "busy", "no_answer", "abandoned")
# At one instant, the order in which things happen in a call.
_ORDER = {NEW_CALL: 0, ANSWER: 1, TRANSFER: 2, HANGUP: 3}


@dataclass(frozen=True)
class Event:
    event: str
    at: datetime
    caller_number: str = ""
    line: str = ""
    queue: str = ""
    operator: str = ""
    cause: str = ""
    direction: str = ""
    recording: str = ""

    @property
    def key(self) -> str:
        """Idempotency: each event once per call; a transfer once per instant."""
        return f"{TRANSFER}@{self.at.isoformat()}" if self.event == TRANSFER else self.event


@dataclass
class CallFacts:
    offered_at: datetime
    state: str  # a CallOutcome value
    direction: str = "inbound"
    caller_number: str = ""
    line: str = ""
    queue: str = ""
    operator: str = ""  # as the PBX named them: the last to answer or receive a transfer
    answered_at: datetime | None = None
    ended_at: datetime | None = None
    hangup_cause: str = ""
    transfers: int = 0
    recording: str = ""
    wait_seconds: int = 0
    talk_seconds: int = 0
    seen: list[str] = field(default_factory=list)


def _seconds(start: datetime | None, end: datetime | None) -> int:
    if start is None or end is None or end < start:
        return 0
    return int((end - start).total_seconds())


def fold(events: list[Event]) -> CallFacts:
    """The call these events describe (at least one event)."""
    ordered = sorted(
        {e.key: e for e in sorted(events, key=_tiebreak)}.values(),
        key=lambda e: (e.at, _ORDER[e.event]),
    )
    first = ordered[0]
    new_call = next((e for e in ordered if e.event == NEW_CALL), None)
    answers = [e for e in ordered if e.event == ANSWER]
    transfers = [e for e in ordered if e.event == TRANSFER]
    hangup = next((e for e in ordered if e.event == HANGUP), None)
    facts = CallFacts(offered_at=(new_call or first).at, state="waiting")
    for e in ordered:  # the first that says it, new call first
        facts.caller_number = facts.caller_number or e.caller_number
        facts.line = facts.line or e.line
        facts.queue = facts.queue or e.queue
        facts.direction = e.direction or facts.direction
        facts.recording = e.recording or facts.recording
    if new_call is not None:
        facts.caller_number = new_call.caller_number or facts.caller_number
        facts.line = new_call.line or facts.line
        facts.queue = new_call.queue or facts.queue
    handlers = [e for e in ordered if e.event in (ANSWER, TRANSFER) and e.operator]
    facts.operator = handlers[-1].operator if handlers else ""
    facts.transfers = len(transfers)
    facts.seen = [e.key for e in ordered]
    if answers:
        facts.answered_at = answers[0].at
    if hangup is not None:
        facts.ended_at = hangup.at
        facts.hangup_cause = hangup.cause or "normal"
    answered = facts.answered_at is not None and (
        facts.ended_at is None or facts.answered_at <= facts.ended_at
    )
    if not answered:
        facts.answered_at = None
    if facts.ended_at is None:
        facts.state = "talking" if answered else "waiting"
    elif answered:
        facts.state = "transferred" if transfers else "answered"
    elif facts.hangup_cause in ("busy", "no_answer"):
        facts.state = "missed"
    else:  # hung up while waiting, normally or by the caller's choice
        facts.state = "abandoned"
    facts.wait_seconds = _seconds(facts.offered_at, facts.answered_at or facts.ended_at)
    facts.talk_seconds = _seconds(facts.answered_at, facts.ended_at)
    return facts


def _tiebreak(event: Event) -> tuple:
    """Two copies of one event with different fields: keep a deterministic one."""
    return (event.at, event.operator, event.cause, event.caller_number, event.queue, event.line)
