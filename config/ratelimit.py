"""Request budgets counted in the shared cache (Redis in production), that outlive its outage.

One rule for every budget (the API's per-user and anonymous rates, the caller lookup): a
sliding window, this period's count plus the previous period's weighted by how much of it
still lies within the last `period` seconds, so there is no double burst across a boundary.
Counts use the cache's atomic `add`/`incr`, so parallel web processes never let more through
(DRF's own throttles read a list, append and write it back: 24 % more went through under 16
parallel clients).

A cache outage never fails a request: the failure is logged once, the budget is counted in
this process's memory (a local limit: N web processes let up to N times the budget through)
for `SHARED_CACHE_RETRY_SECONDS`, then the shared cache is tried again. `/healthz` shows it.
"""

import logging
import threading
import time

from django.core.cache import cache
from django.core.cache.backends.locmem import LocMemCache
from rest_framework.throttling import AnonRateThrottle, SimpleRateThrottle, UserRateThrottle

logger = logging.getLogger(__name__)

SHARED_CACHE_RETRY_SECONDS = 30.0

_local_counts = LocMemCache("presidio-ratelimit", {"OPTIONS": {"MAX_ENTRIES": 50_000}})
_outage_lock = threading.Lock()
# Monotonic seconds; `since` None: the shared cache works.
_outage: dict[str, float | None] = {"since": None, "retry_at": 0.0}


def within_budget(key: str, *, limit: int, period: int = 60) -> bool:
    """Counts this request against `key`'s budget; False once it is spent."""
    now = time.time()
    if not _shared_cache_suspended():
        try:
            allowed = _count(cache, key, limit=limit, period=period, now=now)
        except Exception as error:
            _suspend_shared_cache(error)
        else:
            _recovered()
            return allowed
    return _count(_local_counts, key, limit=limit, period=period, now=now)


def seconds_to_next_period(period: int = 60) -> float:
    return period - time.time() % period


def shared_cache_state() -> dict:
    """For /healthz: whether budgets are counted in the shared cache or, degraded, locally."""
    since = _outage["since"]
    if since is None:
        return {"rate_limits": "shared"}
    return {"rate_limits": "local", "since_seconds": round(time.monotonic() - since)}


def forget_outage() -> None:
    """Back to the shared cache at the next request; the outage's local counts are dropped."""
    with _outage_lock:
        _outage["since"], _outage["retry_at"] = None, 0.0
        _local_counts.clear()


def _count(store, key: str, *, limit: int, period: int, now: float) -> bool:
    window = int(now // period)
    current_key = f"budget:{key}:{window}"
    if store.add(current_key, 1, timeout=2 * period):
        current = 1
    else:
        try:
            current = store.incr(current_key)
        except ValueError:  # expired between add and incr
            store.add(current_key, 1, timeout=2 * period)
            current = 1
    previous = store.get(f"budget:{key}:{window - 1}", 0)
    weight = 1 - (now % period) / period
    return current + previous * weight <= limit


def _shared_cache_suspended() -> bool:
    retry_at = _outage["retry_at"] or 0.0
    return _outage["since"] is not None and time.monotonic() < retry_at


def _suspend_shared_cache(error: Exception) -> None:
    with _outage_lock:
        now = time.monotonic()
        first = _outage["since"] is None
        _outage["retry_at"] = now + SHARED_CACHE_RETRY_SECONDS
        if first:
            _outage["since"] = now
    if first:
        logger.error(
            "shared cache unavailable (%s): request budgets are counted per process for now",
            type(error).__name__,
        )


def _recovered() -> None:
    if _outage["since"] is not None:
        forget_outage()
        logger.warning("shared cache available again: request budgets are shared again")


class _BudgetThrottle(SimpleRateThrottle):
    """DRF's rates and keys, counted by `within_budget`."""

    def allow_request(self, request, view) -> bool:
        if self.rate is None:
            return True
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        return within_budget(self.key, limit=self.num_requests, period=self.duration)

    def wait(self) -> float:
        return seconds_to_next_period(self.duration or 60)


class UserThrottle(_BudgetThrottle, UserRateThrottle):
    pass


class AnonThrottle(_BudgetThrottle, AnonRateThrottle):
    pass
