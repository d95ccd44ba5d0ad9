"""The decision records ("why me?") in the reader's language.

Each assignment keeps facts: how it was made (`reason`: take_next, auto_assign, reassigned,
override), the circle, the queue and when, and, for each candidate passed over, the rule and
the facts it rests on (`engine.Why`). The sentences are said here, with people's and queues'
names (one query each for a whole page); entries recorded before the facts were kept show
their English sentence.
"""

from django.utils import formats, timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from care import wording as care_wording
from care.wording import Names
from config import durations, people
from routing import engine, selectors
from routing.models import AssignmentKind, AssignmentLevel, PresenceState

_HOW = {
    AssignmentKind.PULL: care_wording.TAKE_NEXT,
    AssignmentKind.PUSH: care_wording.AUTO_ASSIGN,
    AssignmentKind.MANUAL: care_wording.REASSIGNED,
}


def how_of(decision) -> str:
    """How the assignment was made, from its kind and level (old rows kept a sentence)."""
    if decision.level == AssignmentLevel.OVERRIDE:
        return care_wording.OVERRIDE
    return _HOW.get(decision.kind, care_wording.TAKE_NEXT)


def reason_in_words(decision, opened_at, names: Names | None = None) -> str:
    """Why the case went to the operator: how, the queue (its name), the circle and how long
    the case had waited (`care.wording.assignment_reason`, the timeline's sentence too)."""
    names = names or Names(queues=selectors.queue_names([decision.queue_code]))
    said = care_wording.assignment_reason(
        how=how_of(decision),
        level=decision.level,
        queue=names.queue(decision.queue_code),
        waited=engine.waited_minutes(opened_at, decision.at),
    )
    return said[:1].upper() + said[1:]


def why_in_words(entry: dict) -> str:
    """Why a case (take-next) or an operator (push, reassignment) was passed over; the
    stored English sentence when the entry has no rule (or facts that do not fit it)."""
    try:
        return _why_in_words(entry)
    except (KeyError, TypeError, ValueError):
        return entry.get("why", "")


def _why_in_words(entry: dict) -> str:
    rule = entry.get("rule")
    if rule not in engine.WHY_TEXTS:
        return entry.get("why", "")
    facts = {name: value for name, value in entry.items() if name not in ("who", "why", "rule")}
    for minutes in ("after", "waited"):  # as people say them: "2 h 5 min"
        if minutes in facts:
            facts[minutes] = durations.in_words(float(facts[minutes]))
    if rule == "not_available":  # the presence's label, not its code
        presence = facts.get("presence", "")
        facts["presence"] = (
            PresenceState(presence).label if presence in PresenceState.values else presence
        )
    if rule == "idle_less":  # a local date and time, not an ISO instant
        facts["since"] = _instant(facts.get("since"))
    return _(engine.WHY_TEXTS[rule]) % facts


def _instant(iso: str | None) -> str:
    moment = parse_datetime(iso) if iso else None
    if moment is None:
        return "—"
    return formats.date_format(timezone.localtime(moment), "SHORT_DATETIME_FORMAT")


def decisions_in_words(decisions, opened_at) -> list:
    """The decision records with `reason_in_words`, `queue_name` and `passed_over_in_words`
    set (who: a person's name, or a case's reference); one query for the queues' names and
    one for the people passed over, whatever the number of records."""
    decisions = list(decisions)
    _by_id, by_username = people.names_of(
        usernames={entry.get("who", "") for d in decisions for entry in d.passed_over or []}
    )
    names = Names(
        usernames=by_username, queues=selectors.queue_names({d.queue_code for d in decisions})
    )
    for decision in decisions:
        decision.queue_name = names.queue(decision.queue_code)
        decision.reason_in_words = reason_in_words(decision, opened_at, names)
        decision.passed_over_in_words = [
            {"who": names.person(username=entry.get("who", "")), "why": why_in_words(entry)}
            for entry in decision.passed_over or []
        ]
    return decisions
