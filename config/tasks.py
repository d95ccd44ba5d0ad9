"""Config's beat task (the worker heartbeat) and how every app sends work to the workers.

`enqueue(task, *args)` / `enqueue_after_commit(task, *args)`, with the task or its import path
(a service names the task it triggers, so it never imports the tasks module that imports it:
tasks call services, never the reverse): a request never fails, nor
waits, because the broker is down (DESIGN.md §10). Tasks are triggers and the database is
the truth: every trigger has a beat sweep that heals what was not sent. A broker that is
down costs its client the publisher's connection retries for each message (0.7 s measured
with the connection refused, longer when its host does not answer); after one failure this
process stops trying for `BROKER_BACKOFF_SECONDS`, so only the first request of that window
pays it.
"""

import importlib
import logging
import socket
import time

from celery import shared_task
from django.db import transaction
from django.utils import timezone
from kombu.exceptions import OperationalError

from config.models import Heartbeat
from config.services import record_heartbeat

logger = logging.getLogger(__name__)

BROKER_BACKOFF_SECONDS = 30.0
_broker_down_until = 0.0  # time.monotonic() before which this process does not try


def enqueue(task, *args) -> bool:
    """Send `task(*args)` to the workers (a task or a registered task's name); whether it was
    sent. Never raises."""
    global _broker_down_until
    if isinstance(task, str):
        try:
            task = task_at(task)
        except (ImportError, AttributeError):  # tests/config/test_enqueue.py checks every path
            logger.exception("no task at %s: not sent", task)
            return False
    if time.monotonic() < _broker_down_until:
        logger.warning("broker down: %s%r not sent; beat's sweep heals it", task.name, args)
        return False
    try:
        task.apply_async(args=args)
    except OperationalError:  # the broker cannot be reached
        _broker_down_until = time.monotonic() + BROKER_BACKOFF_SECONDS
        logger.exception(
            "broker down: %s%r not sent; no new try for %d s, beat's sweep heals it",
            task.name,
            args,
            BROKER_BACKOFF_SECONDS,
        )
        return False
    except Exception:  # eager mode (tests, `make run` without a worker) ran it and it failed
        logger.exception("%s%r failed; beat's sweep heals it", task.name, args)
        return False
    return True


def task_at(path: str):
    """The task at an import path ("care.tasks.run_retention_task"), its module imported on
    first use: a web process, which never autodiscovers tasks, registers it then."""
    module, _dot, name = path.rpartition(".")
    return getattr(importlib.import_module(module), name)


def enqueue_after_commit(task, *args) -> None:
    """`enqueue` once the current transaction commits (nothing if it rolls back)."""
    transaction.on_commit(lambda: enqueue(task, *args))


@shared_task(max_retries=3)
def record_worker_heartbeat_task() -> str:
    """Beat sends this every 30 s; /healthz reads when a worker last ran it."""
    heartbeat = record_heartbeat(
        name=Heartbeat.WORKER, now=timezone.now(), detail={"host": socket.gethostname()}
    )
    logger.info("worker heartbeat recorded at %s", heartbeat.beat_at.isoformat())
    return heartbeat.beat_at.isoformat()
