import logging

from celery import shared_task
from django.utils import timezone

from care.sla import recompute_sla_states

logger = logging.getLogger(__name__)


@shared_task(max_retries=3)
def recompute_sla_task() -> dict:
    """Beat sends this every 60 s; a lost or late run is healed by the next one."""
    result = recompute_sla_states(now=timezone.now())
    if result.skipped:
        logger.info("SLA recompute skipped: another run holds the lock")
    else:
        logger.info(
            "SLA recompute: %d at risk, %d breached, %d scanned in %.3f s",
            result.at_risk,
            result.breached,
            result.scanned,
            result.seconds,
        )
    return {**result.as_detail(), "skipped": result.skipped}
