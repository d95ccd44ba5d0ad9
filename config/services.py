"""Writes of the system app."""

from datetime import datetime

from django.db import transaction

from config.models import Heartbeat


def record_heartbeat(*, name: str, now: datetime, detail: dict | None = None) -> Heartbeat:
    """Idempotent: the row holds the latest beat, never a history."""
    with transaction.atomic():
        heartbeat, _ = Heartbeat.objects.update_or_create(
            name=name, defaults={"beat_at": now, "detail": detail or {}}
        )
    return heartbeat
