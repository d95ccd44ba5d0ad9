import logging
import socket

from celery import shared_task
from django.utils import timezone

from config.models import Heartbeat
from config.services import record_heartbeat

logger = logging.getLogger(__name__)


@shared_task(max_retries=3)
def record_worker_heartbeat_task() -> str:
    """Beat sends this every 30 s; /healthz reads when a worker last ran it."""
    heartbeat = record_heartbeat(
        name=Heartbeat.WORKER, now=timezone.now(), detail={"host": socket.gethostname()}
    )
    logger.info("worker heartbeat recorded at %s", heartbeat.beat_at.isoformat())
    return heartbeat.beat_at.isoformat()
