"""A case's timeline in the reader's language.

Events store facts (codes, ids, minutes; `CaseEvent.detail`), never sentences: the sentence is
said here, when a page or the API shows the event, in the language of whoever reads it, with
people's and queues' names (`Names`, loaded once for a whole timeline by
`care.selectors.names_for_events`). Events written before the facts were kept show the text
they stored (a reason typed by a person always is).
"""

from dataclasses import dataclass, field

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from care.models import CaseEvent, CaseStatus, Handoff, OutboundMail, Priority, SlaState
from config import durations

# How a case reached its holder (`CaseEvent.detail["how"]`, `routing.models.Assignment.reason`).
TAKE_NEXT, AUTO_ASSIGN, REASSIGNED, OVERRIDE, CALL = (
    "take_next",
    "auto_assign",
    "reassigned",
    "override",
    "call",
)
# Reasons a service gives itself (`CaseEvent.detail["reason_code"]`), said in words.
CUSTOMER_REPLIED, NEW_CONTACT = "customer_replied", "new_contact"
HOLDER_DEACTIVATED = "holder_deactivated"  # care.services.release_cases

# The codes an event's from/to values hold, by kind: their labels are said instead.
VALUE_LABELS = {
    CaseEvent.Kind.OPENED: CaseStatus,
    CaseEvent.Kind.STATUS_CHANGED: CaseStatus,
    CaseEvent.Kind.REOPENED: CaseStatus,
    CaseEvent.Kind.HANDOFF_SENT: CaseStatus,
    CaseEvent.Kind.FIRST_RESPONSE: SlaState,
    CaseEvent.Kind.HANDOFF_ANSWERED: Handoff.Outcome,
    CaseEvent.Kind.MERGED: CaseStatus,
    CaseEvent.Kind.PRIORITY_CHANGED: Priority,
    CaseEvent.Kind.SLA_AT_RISK: SlaState,
    CaseEvent.Kind.SLA_BREACHED: SlaState,
    CaseEvent.Kind.MAIL_SENT: OutboundMail.Kind,
    CaseEvent.Kind.MAIL_FAILED: OutboundMail.Kind,
}
SLA_KINDS = (CaseEvent.Kind.SLA_AT_RISK, CaseEvent.Kind.SLA_BREACHED)
SLA_TARGETS = {
    "first_response": gettext_lazy("First response"),
    "resolution": gettext_lazy("Resolution"),
}
# The circle an operator was in when the case reached them (`routing.engine.Level`).
CIRCLES = {
    "contract": gettext_lazy("certified on the contract"),
    "client": gettext_lazy("certified on the client, overflow"),
    "national": gettext_lazy("service skill, national overflow"),
    "override": gettext_lazy("supervisor override"),
}


@dataclass(frozen=True)
class Names:
    """People's full names (by id and by username) and queues' names (by code); whatever
    is not known is said as stored."""

    people: dict[int, str] = field(default_factory=dict)
    usernames: dict[str, str] = field(default_factory=dict)
    queues: dict[str, str] = field(default_factory=dict)
    units: dict[str, str] = field(default_factory=dict)  # hand-off units, by code

    def person(self, user_id: int | None = None, username: str = "") -> str:
        if user_id is not None and user_id in self.people:
            return self.people[user_id]
        return self.usernames.get(username, username)

    def queue(self, code: str) -> str:
        return self.queues.get(code, code) if code else ""


def assignment_reason(*, how: str, level: str, queue: str, waited: float | None) -> str:
    """Why a case reached its holder: how, from which queue, in which circle, after how long.
    `queue` is the queue's name ("" for none); `waited` minutes."""
    if how == CALL:
        return _("kept by whoever answered the call")
    wait = (
        _("after %(span)s") % {"span": durations.in_words(waited)}
        if waited is not None and waited >= 1
        else _("at once")
    )
    source = _("from the queue “%(queue)s”") % {"queue": queue} if queue else _("with no queue")
    values = {"source": source, "circle": CIRCLES.get(level, level), "wait": wait}
    if how == AUTO_ASSIGN:
        sentence = _("offered automatically %(source)s (%(circle)s) %(wait)s")
    elif how in (REASSIGNED, OVERRIDE):
        sentence = _("reassigned by a supervisor %(source)s (%(circle)s) %(wait)s")
    else:
        sentence = _("taken %(source)s (%(circle)s) %(wait)s")
    return sentence % values


def _label(choices, value: str) -> str:
    if choices is not None and value in choices.values:
        return str(choices(value).label)
    return value


def _change(event: CaseEvent, names: Names) -> str:
    """What changed: "from → to" in words (people's and queues' names, labels of codes)."""
    detail = event.detail or {}
    if event.kind == CaseEvent.Kind.ASSIGNED:
        before = names.person(detail.get("previous"), event.from_value)
        after = names.person(detail.get("assignee"), event.to_value)
        if not after and detail.get("queue"):  # released: back to its queue
            after = names.queue(detail["queue"])
    elif event.kind == CaseEvent.Kind.QUEUE_CHANGED:
        before, after = names.queue(event.from_value), names.queue(event.to_value)
    else:
        labels = VALUE_LABELS.get(event.kind)
        before, after = _label(labels, event.from_value), _label(labels, event.to_value)
    change = f"{before} → {after}" if before else after
    target = detail.get("target") if event.kind in SLA_KINDS else None
    if target in SLA_TARGETS:
        return f"{SLA_TARGETS[target]}: {change}"
    return change


def _reason(event: CaseEvent, names: Names) -> str:
    """Why, in words: from the facts when the event has them, else the reason it stored."""
    detail = event.detail or {}
    if event.kind == CaseEvent.Kind.ASSIGNED and detail.get("how"):
        said = assignment_reason(
            how=detail["how"],
            level=detail.get("level", ""),
            queue=names.queue(detail.get("queue", "")),
            waited=detail.get("waited"),
        )
        if detail.get("override_reason"):
            said = f"{said}: {detail['override_reason']}"
        return said
    code = detail.get("reason_code")
    if code == CUSTOMER_REPLIED:
        return _("The customer replied by e-mail.")
    if code == HOLDER_DEACTIVATED:
        return _("Back to the queue: the operator's account was deactivated.")
    if code == NEW_CONTACT:
        return _("New contact: %(subject)s") % {"subject": detail.get("subject", "")}
    return str(detail.get("reason") or "")


def event_in_words(event: CaseEvent, names: Names) -> dict:
    """The parts a timeline shows: `what` (the kind), `change`, `unit` (a hand-off's unit by
    name), `reason` (`quoted` when a person typed it) and `text`, the whole sentence (the
    API's)."""
    what, change = str(event.get_kind_display()), _change(event, names)
    unit_code = (event.detail or {}).get("unit") or ""
    unit = names.units.get(unit_code, unit_code)
    reason = _reason(event, names)
    quoted = bool(reason) and reason == (event.detail or {}).get("reason")
    text = f"{what}: {change}" if change else what
    if unit:
        text = f"{text} · {unit}"
    if reason:
        text = f"{text} «{reason}»" if quoted else f"{text} ({reason})"
    return {
        "what": what,
        "change": change,
        "unit": unit,
        "reason": reason,
        "quoted": quoted,
        "text": text,
    }
