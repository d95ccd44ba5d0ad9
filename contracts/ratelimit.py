"""The caller-lookup limit, shared by the lookup page and the API."""

import time

from django.conf import settings
from django.core.cache import cache
from django.utils.translation import gettext_lazy as _
from rest_framework.throttling import BaseThrottle

LOOKUP_LIMIT_MESSAGE = _("Too many searches in a minute: wait a moment and try again.")


def lookup_allowed(user) -> bool:
    """Counts this lookup in the user's current minute; False once over the limit.

    A fixed one-minute window in the shared cache (Redis in production), so every web
    process counts the same searches.
    """
    window = int(time.time() // 60)
    key = f"lookup-rate:{user.pk}:{window}"
    if cache.add(key, 1, timeout=120):
        return True
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.add(key, 1, timeout=120)
        return True
    return count <= settings.LOOKUPS_PER_MINUTE


class LookupThrottle(BaseThrottle):
    def allow_request(self, request, view) -> bool:
        return lookup_allowed(request.user)

    def wait(self) -> float:
        return 60 - time.time() % 60
