"""The caller-lookup limit, shared by the lookup page, the intake page and the API."""

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from rest_framework.throttling import BaseThrottle

from config.ratelimit import seconds_to_next_period, within_budget

LOOKUP_LIMIT_MESSAGE = _("Too many searches in a minute: wait a moment and try again.")


def lookup_allowed(user) -> bool:
    """Counts this lookup; False once the user went over `LOOKUPS_PER_MINUTE` in the last
    minute (a refused search counts too). The window and the cache-outage fallback are
    `config.ratelimit`'s."""
    return within_budget(f"lookup:{user.pk}", limit=settings.LOOKUPS_PER_MINUTE)


class LookupThrottle(BaseThrottle):
    def allow_request(self, request, view) -> bool:
        return lookup_allowed(request.user)

    def wait(self) -> float:
        return seconds_to_next_period()
