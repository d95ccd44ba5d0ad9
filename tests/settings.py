"""Test settings: the real settings, with eager Celery, a fast hasher and locmem e-mail.

Tests about background work start a real worker and switch eager mode off themselves.
"""

import tempfile

from config.settings import *  # noqa: F403
from config.settings import CELERY_BROKER_URL, REDIS_URL

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
MEDIA_ROOT = tempfile.mkdtemp(prefix="presidio-media-")

if not REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

if CELERY_BROKER_URL.startswith("filesystem://"):
    # Never share a queue folder with a `make run` worker on the same checkout.
    _queue = tempfile.mkdtemp(prefix="presidio-celery-")
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": _queue,
        "data_folder_out": _queue,
        "control_folder": tempfile.mkdtemp(prefix="presidio-celery-control-"),
    }

# The PBX's secret (tests that sign events set their own).
TELEPHONY_SECRETS = ["test-telephony-secret", ""]
