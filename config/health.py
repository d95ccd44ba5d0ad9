"""What /healthz reports: the database, the broker, the shared cache and the background jobs'
last signs."""

import os
from datetime import datetime

from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError, connection

from config.celery import app as celery_app
from config.models import Heartbeat
from config.ratelimit import shared_cache_state

BROKER_TIMEOUT_SECONDS = 2


def database_state() -> dict:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        return {"status": "down"}
    return {"status": "ok", "vendor": connection.vendor}


def broker_state() -> dict:
    """Opens a real connection to the broker (no credentials in the answer)."""
    options = celery_app.conf.broker_transport_options or {}
    folder = options.get("data_folder_out")
    if _transport() == "filesystem" and not (folder and os.access(folder, os.W_OK)):
        return {"status": "down", "transport": "filesystem"}
    try:
        with celery_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=BROKER_TIMEOUT_SECONDS)
            conn.default_channel.queue_declare(
                queue=settings.CELERY_TASK_DEFAULT_QUEUE, passive=False, durable=True
            )
    except Exception:
        return {"status": "down", "transport": _transport()}
    return {"status": "ok", "transport": _transport()}


def cache_state() -> dict:
    """A real round trip to the shared cache, and where request budgets are counted now."""
    try:
        cache.get("healthz")
    except Exception:
        reachable = False
    else:
        reachable = True
    return {**shared_cache_state(), "status": "ok" if reachable else "down"}


def _transport() -> str:
    return str(celery_app.conf.broker_write_url).split("://", 1)[0]


def heartbeat_state(name: str, *, now: datetime, stale_after) -> dict | None:
    heartbeat = Heartbeat.objects.filter(name=name).first()
    if heartbeat is None:
        return None
    age = (now - heartbeat.beat_at).total_seconds()
    return {
        "at": heartbeat.beat_at.isoformat(),
        "age_seconds": round(age),
        "status": "ok" if age <= stale_after.total_seconds() else "stale",
        **_durations(heartbeat.detail),
    }


def _durations(detail: dict) -> dict:
    """What a job recorded about its last run: how long it took and what it changed."""
    keys = ("seconds", "at_risk", "breached", "scanned")
    return {key: detail[key] for key in keys if key in (detail or {})}


def health_report(*, now: datetime) -> tuple[dict, bool]:
    """The report and whether the portal can serve (database and broker up; a cache outage
    only degrades it)."""
    database = database_state()
    broker = broker_state()
    stale = settings.WORKER_HEARTBEAT_STALE_AFTER
    report = {
        "database": database,
        "broker": broker,
        "cache": cache_state(),
        "worker_heartbeat": heartbeat_state(Heartbeat.WORKER, now=now, stale_after=stale)
        if database["status"] == "ok"
        else None,
        "last_sla_recompute": heartbeat_state(Heartbeat.SLA_RECOMPUTE, now=now, stale_after=stale)
        if database["status"] == "ok"
        else None,
    }
    healthy = database["status"] == "ok" and broker["status"] == "ok"
    # Without the shared cache the portal still serves (budgets count per process): degraded.
    degraded = report["cache"]["status"] != "ok" or report["cache"]["rate_limits"] != "shared"
    report["status"] = "down" if not healthy else "degraded" if degraded else "ok"
    return report, healthy
