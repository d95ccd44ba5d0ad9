"""Celery tasks of the routing app: thin triggers around `routing.services`.

Tasks are triggers, the database is the truth: every task recomputes from current rows, so
running one twice, late or concurrently assigns nothing twice (the services lock and
re-check), and a lost trigger is healed by the beat run of `auto_assign_waiting_task`.
The services trigger these by name (`services.trigger_offer_*`, which never raise: a broker
that is down must not fail a request). Push can be switched off with
`ROUTING_AUTO_ASSIGN = False` (pull-only operation).
"""

import logging

from celery import shared_task
from django.utils import timezone

from routing import calls, services
from routing.access_watch import send_access_alert_emails, watch_unusual_access

logger = logging.getLogger(__name__)


@shared_task(max_retries=3)
def offer_case_task(case_id: int) -> bool:
    if not services.auto_assign_enabled():  # sent before push was switched off
        return False
    case = services.offer_case(case_id=case_id, now=timezone.now())
    logger.info("routing: case %s %s", case_id, "offered" if case else "not offered")
    return case is not None


@shared_task(max_retries=3)
def offer_waiting_cases_task(user_id: int | None = None) -> int:
    if not services.auto_assign_enabled():
        return 0
    assigned = services.offer_waiting_cases(now=timezone.now(), operator_id=user_id)
    logger.info("routing: %d waiting cases offered (operator %s)", assigned, user_id or "any")
    return assigned


@shared_task(name="routing.auto_assign_waiting", max_retries=3)
def auto_assign_waiting_task() -> int:
    """Beat sends this every minute: waiting cases an available operator may take are
    offered, in queue order, a bounded batch per run."""
    if not services.auto_assign_enabled():
        return 0
    assigned = services.offer_waiting_cases(now=timezone.now())
    logger.info("routing: auto-assign sweep assigned %d waiting cases", assigned)
    return assigned


@shared_task(name="routing.end_expired_emergencies", max_retries=3)
def end_expired_emergencies_task() -> int:
    """Beat sends this every minute: each emergency that ran out is ended exactly once."""
    ended = services.end_expired_emergencies(now=timezone.now())
    logger.info("routing: %d expired emergencies ended", ended)
    return ended


@shared_task(max_retries=0)
def watch_unusual_access_task() -> int:
    """Beat, every 15 minutes: operators viewing unusually many end users outside their cases."""
    raised = watch_unusual_access(now=timezone.now())
    if raised:
        logger.warning("access watch: %d unusual access alert(s) raised", len(raised))
    return len(raised)


@shared_task(max_retries=0)
def end_after_call_work_task() -> int:
    """Beat sends this every few seconds: operators whose after-call work ran out are
    available again (their own page ends it sooner)."""
    ended = calls.end_expired_wrap_ups(now=timezone.now())
    if ended:
        logger.info("routing: after-call work ended for %d operators", ended)
    return ended


@shared_task(max_retries=0)
def end_stale_calls_task() -> int:
    """Beat, every five minutes: calls whose hang-up never came are ended and flagged."""
    ended = calls.end_stale_calls(now=timezone.now())
    if ended:
        logger.warning("telephony: %d call(s) ended without their hang-up (hangup_missing)", ended)
    return ended


@shared_task(max_retries=0)
def send_access_alert_emails_task() -> int:
    """After an alert commits, and beat every minute: the unusual-access e-mails due (new, or
    failed before and due again); the retries and their backoff are in the rows."""
    run = send_access_alert_emails(now=timezone.now())
    if run.sent or run.failed:
        logger.info("access watch: %d e-mail(s) sent, %d failed", run.sent, run.failed)
    return run.sent
