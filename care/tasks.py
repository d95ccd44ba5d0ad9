import logging

from celery import shared_task
from django.utils import timezone

from care import mail, mailboxes
from care.incidents import detect_surges
from care.retention import claim_queued_run, heal_retention_runs, run_retention
from care.sla import recompute_sla_states
from config.tasks import enqueue

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


@shared_task(max_retries=0)
def run_retention_task(run_id: int) -> dict:
    """A retention run a manager asked for. Only the worker that claims the queued run
    starts it: a message delivered twice finds it running or done and leaves it."""
    run = claim_queued_run(run_id, now=timezone.now())
    if run is None:
        return {"run": run_id, "skipped": True}
    run = run_retention(run)
    return {"run": run.id, "anonymised": run.done, "status": run.status}


@shared_task(max_retries=0)
def heal_retention_runs_task() -> dict:
    """Beat, every 5 minutes: lost retention messages sent again, dead runs closed."""
    sent, closed = heal_retention_runs(now=timezone.now())
    return {"sent_again": sent, "closed": closed}


@shared_task(max_retries=0)
def send_mail_task(mail_id: int) -> int:
    """After the transaction that wrote it: send one outbox row (beat retries the rest)."""
    return mail.send_due_mail(now=timezone.now(), mail_id=mail_id).sent


@shared_task(max_retries=0)
def send_due_mail_task() -> dict:
    """Beat, every minute (and after a bulk write, e.g. an incident's resolution notices):
    outbox rows due, a batch at a time; a full batch asks for the next run at once."""
    run = mail.send_due_mail(now=timezone.now())
    if run.sent or run.retried or run.failed:
        logger.info("outbox: %d sent, %d retried, %d failed", run.sent, run.retried, run.failed)
    if run.sent + run.retried + run.failed >= mail.SEND_BATCH:
        enqueue("care.tasks.send_due_mail_task")
    return {"sent": run.sent, "retried": run.retried, "failed": run.failed}


@shared_task(max_retries=0)
def poll_mailboxes_task() -> dict:
    """Beat, every minute: read the configured mailboxes over IMAP (care.mailboxes)."""
    return mailboxes.poll_all(now=timezone.now())


@shared_task(max_retries=0)
def detect_surges_task() -> dict:
    """Beat, every 5 minutes: a surge of cases raises a suspected incident once; a lost run
    is made up by the next (it looks at the last 15 minutes)."""
    raised = detect_surges(now=timezone.now())
    if raised:
        logger.info("surge detection: %d suspected incidents raised", len(raised))
    return {"raised": [incident.id for incident in raised]}
