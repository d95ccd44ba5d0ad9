"""Spans of time as people say them, in the reader's language: "3 g 8 h", "2 h 5 min",
"45 min" (English "3 d 8 h"). One helper for every page, timeline and API text that says how
long something took or waited: the two largest units, a zero second unit left out."""

from datetime import timedelta

from django.utils.translation import gettext as _

MINUTES_IN_A_DAY = 24 * 60


def in_words(span: timedelta | float | None) -> str:
    """A span (a `timedelta`, or minutes) in words; its sign is dropped (the caller says
    "late" or "left"), seconds are dropped, nothing is "0 min"."""
    if span is None:
        return "—"
    seconds = span.total_seconds() if isinstance(span, timedelta) else float(span) * 60
    minutes = int(abs(seconds) // 60)
    days, minutes = divmod(minutes, MINUTES_IN_A_DAY)
    hours, minutes = divmod(minutes, 60)
    if days and hours:
        return _("%(d)s d %(h)s h") % {"d": days, "h": hours}
    if days:
        return _("%(d)s d") % {"d": days}
    if hours and minutes:
        return _("%(h)s h %(m)s min") % {"h": hours, "m": minutes}
    if hours:
        return _("%(h)s h") % {"h": hours}
    return _("%(m)s min") % {"m": minutes}


def working_time_in_words(minutes: int) -> str:
    """Business minutes in hours and minutes, never days: a contract's 2,400 minutes are
    "40 h" of working time, which "1 d 16 h" would misread as calendar time."""
    hours, rest = divmod(int(minutes or 0), 60)
    if hours and rest:
        return _("%(h)s h %(m)s min") % {"h": hours, "m": rest}
    if hours:
        return _("%(h)s h") % {"h": hours}
    return _("%(m)s min") % {"m": rest}
