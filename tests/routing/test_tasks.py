"""The routing tasks beat sends: registered under the names the schedule uses, idempotent."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from config.celery import app
from routing import services, tasks
from routing.models import QueueEvent

pytestmark = pytest.mark.django_db


def test_the_beat_schedule_sends_registered_routing_tasks_every_minute():
    mine = {"routing.auto_assign_waiting", "routing.end_expired_emergencies"}
    entries = [e for e in settings.CELERY_BEAT_SCHEDULE.values() if e["task"] in mine]
    assert {entry["task"] for entry in entries} == mine
    for entry in entries:
        assert entry["task"] in app.tasks
        assert entry["schedule"] == entry["options"]["expires"] == 60.0


def test_the_emergency_task_ends_an_expired_emergency_once(supervisor, default_queue):
    started = timezone.now() - timedelta(hours=1)
    services.set_emergency(
        actor=supervisor, queue=default_queue, minutes=5, reason="Guasto", now=started
    )
    assert tasks.end_expired_emergencies_task() == 1
    assert tasks.end_expired_emergencies_task() == 0
    assert QueueEvent.objects.filter(kind="emergency_off", reason="expired").count() == 1


def test_the_sweep_task_with_nothing_waiting_assigns_nothing(default_queue):
    assert tasks.auto_assign_waiting_task() == 0
