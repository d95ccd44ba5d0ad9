import time

import pytest
from django.urls import reverse

from config.models import Heartbeat
from config.tasks import record_worker_heartbeat_task

pytestmark = pytest.mark.worker


def wait_for(predicate, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


def test_a_real_worker_records_the_heartbeat_that_healthz_reports(celery_worker, client):
    assert client.get(reverse("healthz")).json()["worker_heartbeat"] is None
    record_worker_heartbeat_task.delay()
    assert wait_for(lambda: Heartbeat.objects.filter(name=Heartbeat.WORKER).exists())
    body = client.get(reverse("healthz")).json()
    assert body["worker_heartbeat"]["status"] == "ok"
