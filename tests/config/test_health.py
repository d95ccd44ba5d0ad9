from datetime import timedelta

import pytest
from django.db import OperationalError, connection
from django.urls import reverse
from django.utils import timezone

from config.celery import app as celery_app
from config.models import Heartbeat
from config.services import record_heartbeat
from config.tasks import record_worker_heartbeat_task

pytestmark = pytest.mark.django_db


def test_healthz_answers_without_login_and_reports_each_part(client):
    response = client.get(reverse("healthz"))
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"]["status"] == "ok"
    assert body["broker"]["status"] == "ok"
    assert body["worker_heartbeat"] is None
    assert body["last_sla_recompute"] is None
    assert response["Cache-Control"].startswith("max-age=0")


def test_healthz_shows_the_heartbeat_written_by_the_beat_task(client):
    record_worker_heartbeat_task.delay()
    body = client.get(reverse("healthz")).json()
    assert body["worker_heartbeat"]["status"] == "ok"
    assert body["worker_heartbeat"]["age_seconds"] <= 5


def test_heartbeat_older_than_the_limit_is_stale(client):
    record_heartbeat(name=Heartbeat.WORKER, now=timezone.now() - timedelta(minutes=5))
    body = client.get(reverse("healthz")).json()
    assert body["worker_heartbeat"]["status"] == "stale"
    assert client.get(reverse("healthz")).status_code == 200  # a stale worker is not an outage


def test_recording_a_heartbeat_twice_keeps_one_row(now):
    record_heartbeat(name=Heartbeat.WORKER, now=now)
    record_heartbeat(name=Heartbeat.WORKER, now=now + timedelta(seconds=30))
    assert Heartbeat.objects.get().beat_at == now + timedelta(seconds=30)


@pytest.fixture
def broker_down():
    """A broker URL on a closed loopback port: nothing listens there."""
    conf = celery_app.conf
    saved = conf.broker_write_url, conf.broker_transport, conf.broker_transport_options
    conf.broker_write_url = "redis://127.0.0.1:9/0"
    conf.broker_transport = None  # the URL's scheme decides, not the embedded broker's class
    conf.broker_transport_options = {}
    celery_app.close()  # drop pooled connections to the broker in use
    yield
    conf.broker_write_url, conf.broker_transport, conf.broker_transport_options = saved
    celery_app.close()  # drop pooled connections to the broker in use


def test_healthz_is_503_when_the_broker_is_down(client, broker_down):
    response = client.get(reverse("healthz"))
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "down"
    assert body["broker"] == {"status": "down", "transport": "redis"}
    assert body["database"]["status"] == "ok"
    assert "127.0.0.1" not in response.content.decode()  # no hosts or credentials leak


def refuse_every_query(execute, sql, params, many, context):
    raise OperationalError("connection refused")


def test_healthz_is_503_with_json_when_the_database_is_down(client):
    with connection.execute_wrapper(refuse_every_query):
        response = client.get(reverse("healthz"))
    assert response.status_code == 503
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body["status"] == "down"
    assert body["database"] == {"status": "down"}
    assert body["broker"]["status"] == "ok"
    assert body["worker_heartbeat"] is None
    assert body["last_sla_recompute"] is None


@pytest.mark.redis
def test_healthz_reaches_a_real_redis_broker(client, settings):
    if not settings.REDIS_URL:
        pytest.skip("no Redis server in this run")
    body = client.get(reverse("healthz")).json()
    assert body["broker"] == {"status": "ok", "transport": "redis"}
