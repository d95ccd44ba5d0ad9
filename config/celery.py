"""The Celery app: settings come from Django's CELERY_* names, tasks from each app's tasks.py.

Every task is a `PresidioTask`: an error is retried with backoff, and a task runs at most
`MAX_TRIES` times per task id, counting both retries and the redeliveries that follow a worker
killed in the middle (`acks_late` + `reject_on_worker_lost` alone would redeliver a task that
kills its worker forever). Tries are counted in the shared cache (Redis in production).
"""

import logging
import os

from celery import Celery, Task
from django.conf import settings

from config.env import exit_on_configuration_error

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
logger = logging.getLogger(__name__)

MAX_TRIES = 3
TRIES_KEPT_SECONDS = 24 * 60 * 60


def count_try(task_id: str) -> int:
    """This delivery's number for the task id (1 for the first)."""
    from django.core.cache import cache

    key = f"celery-tries:{task_id}"
    cache.add(key, 0, timeout=TRIES_KEPT_SECONDS)
    return cache.incr(key)


class PresidioTask(Task):
    autoretry_for = (Exception,)
    max_retries = MAX_TRIES - 1
    retry_backoff = 2
    retry_backoff_max = 60
    retry_jitter = False

    def __call__(self, *args, **kwargs):
        request = self.request
        if request.id and not request.called_directly and not request.is_eager:
            tries = count_try(request.id)
            if tries > MAX_TRIES:
                logger.error("task %s[%s] dropped after %d tries", self.name, request.id, MAX_TRIES)
                return None
        return super().__call__(*args, **kwargs)


app = Celery("presidio", task_cls=PresidioTask)
with exit_on_configuration_error():
    settings.INSTALLED_APPS  # noqa: B018 -- load now: Django's settings are lazy
    app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# The SLA notification fan-out needs queues, so it lives in routing (care imports no routing).
app.autodiscover_tasks(["routing"], related_name="notifications")
