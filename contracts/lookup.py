"""The caller lookup as every interface runs it (the lookup page and its intake panel, the
intake page, `POST /api/v1/lookup/`): the per-user limit, the selector, and the access-log note
of what was searched and whom it found. One rule, one home."""

from datetime import date
from math import ceil

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from config import access_log
from config.errors import PresidioError
from config.ratelimit import seconds_to_next_period, within_budget
from contracts import selectors

LOOKUP_LIMIT_MESSAGE = _("Too many searches in a minute: wait a moment and try again.")


class LookupLimitReached(PresidioError):
    code = "too_many_lookups"
    status = 429
    default_message = LOOKUP_LIMIT_MESSAGE

    @property
    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(ceil(seconds_to_next_period()))}


def lookup_allowed(user) -> bool:
    """Counts this lookup; False once the user went over `LOOKUPS_PER_MINUTE` in the last
    minute (a refused search counts too). The window and the cache-outage fallback are
    `config.ratelimit`'s."""
    return within_budget(f"lookup:{user.pk}", limit=settings.LOOKUPS_PER_MINUTE)


def look_up_callers(request, *, on: date, **keys: str) -> list[selectors.CallerMatch]:
    """The matches of `selectors.caller_lookup` for a phone, e-mail or employee code, counted
    against the user's limit and noted in the request's access-log row. Raises
    `LookupLimitReached` (the row says refused) or the selector's error for a bad key."""
    searched = {key: str(value) for key, value in keys.items() if value}
    if not lookup_allowed(request.user):
        access_log.note(request, searched=searched, denied=True)
        raise LookupLimitReached()
    access_log.note(request, searched=searched)
    matches = selectors.caller_lookup(on=on, **keys)
    access_log.note(request, matches=len(matches), end_users=[m.end_user.id for m in matches])
    return matches
