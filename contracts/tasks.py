"""Thin triggers of the contracts app: each calls one service and logs a count."""

import logging

from celery import shared_task
from django.utils import timezone

from contracts.orders import services as order_services

logger = logging.getLogger(__name__)


@shared_task(max_retries=3)
def mark_late_orders_task() -> int:
    """Beat sends this every 5 minutes ("orders-mark-late"); a lost run is healed by the next."""
    count = order_services.mark_late_orders(now=timezone.now())
    logger.info("Orders marked late: %d", count)
    return count


def feed_loyalty_worklist_nightly(sender, *, date, now, **kwargs) -> dict:
    """Receiver of `config.nightly.nightly` (connected in `ContractsConfig.ready`): contracts
    expiring within `selectors.LOYALTY_HORIZON_DAYS` join the loyalty worklist. Idempotent,
    so a repeated night is harmless."""
    count = order_services.feed_loyalty_worklist(today=date)
    logger.info("Loyalty worklist: %d new items", count)
    return {"loyalty_items": count}
