"""The Celery app: settings come from Django's CELERY_* names, tasks from each app's tasks.py."""

import os

from celery import Celery

from config.env import exit_on_configuration_error

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("presidio")
with exit_on_configuration_error():
    app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
