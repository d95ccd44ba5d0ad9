"""The caller-lookup limit, shared by the lookup page and the API."""

import time

from django.conf import settings
from django.core.cache import cache
from django.utils.translation import gettext_lazy as _
from rest_framework.throttling import BaseThrottle

LOOKUP_LIMIT_MESSAGE = _("Too many searches in a minute: wait a moment and try again.")


def lookup_allowed(user) -> bool:
    """Counts this lookup; False once the user went over the limit in the last minute.

    A sliding window in the shared cache (Redis in production), so every web process counts
    the same searches: the current minute's count plus the previous minute's, weighted by
    how much of it still lies within the last 60 seconds. Unlike a fixed window it allows
    no double burst across a minute boundary. A refused search is counted too.
    """
    now = time.time()
    window = int(now // 60)
    key = f"lookup-rate:{user.pk}:{window}"
    if not cache.add(key, 1, timeout=120):
        try:
            cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.add(key, 1, timeout=120)
    current = cache.get(key, 1)
    previous = cache.get(f"lookup-rate:{user.pk}:{window - 1}", 0)
    weight = 1 - (now % 60) / 60
    return current + previous * weight <= settings.LOOKUPS_PER_MINUTE


class LookupThrottle(BaseThrottle):
    def allow_request(self, request, view) -> bool:
        return lookup_allowed(request.user)

    def wait(self) -> float:
        return 60 - time.time() % 60
