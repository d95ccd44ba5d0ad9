import logging

from celery import shared_task
from django.utils import timezone

from reports import subscriptions
from reports.exports import purge_expired_exports, resume_stalled_exports, run_export_job
from reports.nightly import run_nightly_jobs_when_due
from reports.rollups import refresh_rollups
from reports.snapshots import take_backlog_snapshot

logger = logging.getLogger(__name__)


@shared_task(max_retries=3)
def snapshot_backlog_task() -> dict:
    """Beat sends this every 5 minutes; a second run in the same slot writes nothing. The
    daily rollups are refreshed with it (today, and the days changed since)."""
    now = timezone.now()
    result = take_backlog_snapshot(now=now)
    rollup = refresh_rollups(now=now)
    logger.info(
        "rollups refreshed: %d days, %d rows, %.3f s, skipped=%s",
        rollup.days,
        rollup.rows,
        rollup.seconds,
        rollup.skipped,
    )
    logger.info(
        "backlog snapshot %s: %d open cases, %d rows, created=%s, %.3f s",
        result.slot.isoformat(),
        result.open_cases,
        result.rows,
        result.created,
        result.seconds,
    )
    return {"open_cases": result.open_cases, "rows": result.rows, "created": result.created}


@shared_task(max_retries=3)
def nightly_jobs_task() -> dict:
    """Beat sends this every hour; the hooks run once per date, from 02:00 local time."""
    result = run_nightly_jobs_when_due(now=timezone.now())
    if result is None:
        return {"ran": False}
    logger.info("nightly jobs of %s: ran=%s %s", result.date, result.ran, result.hooks)
    return {"date": result.date.isoformat(), "ran": result.ran}


@shared_task(
    bind=True,
    max_retries=3,
    soft_time_limit=30 * 60,
    time_limit=31 * 60,
    acks_late=True,
    reject_on_worker_lost=True,
)
def write_export_task(self, job_id: int) -> dict:
    """Write a big export's file (a job too big to stream); running it again on a finished
    or failed job does nothing. Redelivered after its worker died, it resumes its own job at
    once (the task id marks the run)."""
    status = run_export_job(job_id=job_id, run_id=self.request.id or "")
    logger.info("export job %s: %s", job_id, status)
    return {"job": job_id, "status": status}


@shared_task(max_retries=3)
def purge_expired_exports_task() -> int:
    """Beat sends this every hour: export files older than a day are deleted."""
    count = purge_expired_exports(now=timezone.now())
    logger.info("expired exports purged: %d", count)
    return count


@shared_task(max_retries=3)
def resume_stalled_exports_task() -> dict:
    """Beat sends this every 5 minutes: big exports a dead worker left, or whose task was
    lost, are queued again (or fail after 3 attempts)."""
    queued, failed = resume_stalled_exports(now=timezone.now())
    if queued or failed:
        logger.warning("stalled exports: %d queued again, %d failed", queued, failed)
    return {"queued": queued, "failed": failed}


@shared_task(max_retries=3)
def send_due_reports_task() -> dict:
    """E-mail the subscribed reports whose period just ended (each period once)."""
    result = subscriptions.send_due_reports()
    return {"sent": result.sent, "failed": result.failed}
