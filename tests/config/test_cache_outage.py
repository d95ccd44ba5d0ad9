"""A shared-cache (Redis) outage degrades, never fails: request budgets are counted per process
for a while, the outage is logged once and shown on /healthz (config.ratelimit)."""

import logging
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.core.cache import cache
from django.db import connection
from django.urls import reverse

from care.models import Case
from config import ratelimit
from tests.conftest import look_up
from tests.factories import EndUserFactory

pytestmark = pytest.mark.django_db
CREATIONS = 120


@pytest.fixture
def cache_down(settings):
    """The shared cache on a closed loopback port: every call to it raises."""
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:9/0",
            "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
        }
    }
    with pytest.raises(Exception):  # noqa: B017, PT011 -- whatever the client raises
        cache.get("anything")


def case_body(contract, end_user, number: int) -> dict:
    return {
        "contract": contract.code,
        "end_user": end_user.id,
        "category": "sim-lost",
        "channel": "phone",
        "subject": f"SIM rubata {number}",
        "description": "Numero coinvolto: 3471234567\nDenuncia presentata: sì",
        "duplicate_override_reason": "chiamate distinte",
    }


def test_with_the_cache_down_every_case_creation_and_lookup_answers(
    cache_down, operator_api, contract, caplog
):
    caller = EndUserFactory(client=contract.client)
    with caplog.at_level(logging.ERROR, logger="config.ratelimit"):
        look_up(operator_api, caller)
        statuses = [
            operator_api.post(
                "/api/v1/cases/", case_body(contract, caller, number), format="json"
            ).status_code
            for number in range(CREATIONS)
        ]
    assert statuses == [201] * CREATIONS
    assert Case.objects.filter(end_user=caller).count() == CREATIONS
    outage_lines = [r for r in caplog.records if "shared cache unavailable" in r.getMessage()]
    assert len(outage_lines) == 1


def test_with_the_cache_down_the_lookup_limit_still_holds_per_process(
    cache_down, operator_api, settings
):
    settings.LOOKUPS_PER_MINUTE = 3
    statuses = [
        operator_api.post("/api/v1/lookup/", {"phone": "347 000 0001"}, format="json").status_code
        for _ in range(4)
    ]
    assert statuses == [200, 200, 200, 429]


def test_healthz_shows_the_cache_down_and_budgets_counted_locally(cache_down, client, operator):
    client.force_login(operator)  # a request that counts a budget meets the outage
    ratelimit.within_budget("probe", limit=10)
    response = client.get(reverse("healthz"))
    assert response.status_code == 200  # the portal still serves
    body = response.json()
    assert body["status"] == "degraded"
    assert body["cache"]["status"] == "down"
    assert body["cache"]["rate_limits"] == "local"


def test_budgets_are_shared_again_once_the_cache_is_back(settings, monkeypatch, caplog):
    monkeypatch.setattr(ratelimit, "SHARED_CACHE_RETRY_SECONDS", 0)
    healthy = settings.CACHES
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:9/0",
        }
    }
    assert ratelimit.within_budget("back", limit=10)
    assert ratelimit.shared_cache_state()["rate_limits"] == "local"
    settings.CACHES = healthy
    with caplog.at_level(logging.WARNING, logger="config.ratelimit"):
        assert ratelimit.within_budget("back", limit=10)
    assert ratelimit.shared_cache_state() == {"rate_limits": "shared"}
    assert "available again" in caplog.text


@pytest.mark.redis
def test_parallel_requests_never_get_past_a_shared_budget(settings):
    """The API's per-user budget under 16 parallel clients: exactly the limit goes through
    (DRF's read-append-write throttle let 24 % more through)."""
    if not settings.REDIS_URL or connection.vendor != "postgresql":
        pytest.skip("needs the PostgreSQL + Redis run")
    with ThreadPoolExecutor(max_workers=16) as pool:
        allowed = list(pool.map(lambda _: ratelimit.within_budget("race", limit=100), range(400)))
    assert sum(allowed) == 100
