"""The decision records in the reader's language.

The engine stores each assignment's reason and each passed-over entry as an English sentence
(a log for people who read the code and for reports) and, with each entry, the rule and the
facts it rests on (`engine.Why`). Pages say them in the user's language from those facts;
entries recorded before the facts were kept show their English sentence.
"""

from django.utils import formats, timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

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
    facts = {name: value for name, value in entry.items() if name not in ("who", "why", "rule")}
    rule = entry.get("rule")
    if rule == "client_only":
        return (
            _("certified on the client only: overflow after %(after)s min (waited %(waited)s min)")
            % facts
        )
    if rule == "skill_only":
        return (
            _("service skill only: national overflow after %(after)s min (waited %(waited)s min)")
            % facts
        )
    if rule == "not_tied":
        return _("not certified on the contract or the client, no service skill")
    if rule == "backoffice_kept":
        return _("back-office share kept free: the queue is not in emergency")
    if rule == "not_available":
        presence = facts.get("presence", "")
        label = PresenceState(presence).label if presence in PresenceState.values else presence
        return _("not available (%(presence)s)") % {"presence": label}
    if rule == "at_capacity":
        return _("at capacity (%(held)s of %(limit)s cases)") % facts
    if rule == "idle_less":
        return _("idle for less time (since %(since)s)") % {"since": _instant(facts.get("since"))}
    if rule == "became_busy":
        return _("became busy while the case was offered")
    if rule == "held_before":
        return _("held the case before")
    return entry.get("why", "")


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
