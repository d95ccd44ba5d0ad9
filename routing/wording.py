"""The decision records in the reader's language.

The engine stores each assignment's reason and each passed-over entry as an English sentence
(a log for people who read the code and for reports) and, with each entry, the rule and the
facts it rests on (`engine.Why`). Pages say them in the user's language from those facts;
entries recorded before the facts were kept show their English sentence.
"""

from django.utils import formats, timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from routing import engine
from routing.models import AssignmentLevel, PresenceState


def reason_in_words(decision, opened_at) -> str:
    """Why the case went to the operator: the circle (or a supervisor's override), the
    queue and how long the case had waited."""
    minutes = max(int((decision.at - opened_at).total_seconds() // 60), 0)
    return _("%(level)s, queue “%(queue)s”, waiting for %(minutes)s min") % {
        "level": AssignmentLevel(decision.level).label,
        "queue": decision.queue_code or "—",
        "minutes": minutes,
    }


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
    """The decision records with `reason_in_words` and `passed_over_in_words` set."""
    for decision in decisions:
        decision.reason_in_words = reason_in_words(decision, opened_at)
        decision.passed_over_in_words = [
            {"who": entry.get("who", ""), "why": why_in_words(entry)}
            for entry in decision.passed_over or []
        ]
    return decisions
