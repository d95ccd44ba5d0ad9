"""The bookkeeping of exports and the one entry point of the page and the API.

Who exported what (`log_export`), and the job of a big export written by a worker
(`create_export_job`, `record_export_progress`, `finish_export_job`, `run_export_job`): the
only writers of those rows. How rows become files is `reports.formats`'.
"""

import uuid
from datetime import datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.http import FileResponse, StreamingHttpResponse
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from config.tasks import enqueue, enqueue_after_commit
from reports import definitions
from reports.changes import COLUMNS as CHANGE_COLUMNS
from reports.formats import (
    SEPARATORS,
    csv_response,
    default_sep,
    dialect_for,
    write_csv,
    write_xlsx,
    xlsx_response,
)
from reports.forms import ReportFilterForm
from reports.models import ExportJob, ExportLog

WRITE_TASK = "reports.tasks.write_export_task"  # triggered by name: the tasks import this module


# --- Bookkeeping: the export log and the jobs of big exports --------------------------------


def exports_dir() -> Path:
    folder = Path(settings.MEDIA_ROOT) / "exports"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def log_export(*, user, report: str, filters: dict, fmt: str, row_count: int, now=None):
    """Every export is logged: who, which report, with which filters, format and rows."""
    return ExportLog.objects.create(
        user=user,
        report=report,
        filters=filters,
        format=fmt,
        row_count=row_count,
        at=now or timezone.now(),
    )


def create_export_job(*, user, report: str, filters: dict, fmt: str, total: int, now=None):
    return ExportJob.objects.create(
        owner=user,
        report=report,
        filters=filters,
        format=fmt,
        rows_total=total,
        created_at=now or timezone.now(),
    )


def record_export_progress(*, job_id: int, rows_done: int, status: str | None = None) -> None:
    changes = {"rows_done": rows_done, "heartbeat_at": timezone.now()}
    if status:
        changes["status"] = status
    ExportJob.objects.filter(id=job_id).update(**changes)


def finish_export_job(*, job, path: Path, rows_done: int, now=None) -> bool:
    """The file is ready: the job points at it, expires in a day, and the export is logged.
    False, and the file removed, if a later attempt took the job over meanwhile (this one
    was thought dead)."""
    now = now or timezone.now()
    with transaction.atomic():
        finished = ExportJob.objects.filter(
            id=job.id, status=ExportJob.Status.RUNNING, attempts=job.attempts
        ).update(
            status=ExportJob.Status.READY,
            rows_done=rows_done,
            file_name=path.name,
            finished_at=now,
            expires_at=now + timedelta(hours=24),
        )
        if not finished:
            path.unlink(missing_ok=True)
            return False
        log_export(
            user=job.owner,
            report=job.report,
            filters=job.filters,
            fmt=job.format,
            row_count=rows_done,
            now=now,
        )
    return True


def fail_export_job(*, job_id: int, error: str) -> None:
    """The job failed: it says why, and the part of its file already written is removed."""
    _remove_files_of(ExportJob.objects.filter(id=job_id))
    ExportJob.objects.filter(id=job_id).update(
        status=ExportJob.Status.FAILED, error=error[:300], file_name=""
    )


def _remove_files_of(jobs) -> None:
    for file_name in jobs.exclude(file_name="").values_list("file_name", flat=True):
        (exports_dir() / file_name).unlink(missing_ok=True)


# A job is written by one worker at a time. A worker that dies leaves its job "running": the
# task, redelivered (acks_late + reject_on_worker_lost), recognises its own run and starts it
# again at once; a job whose task was lost waits for its heartbeat to grow old and the sweep
# below; at most EXPORT_MAX_ATTEMPTS times in all.
EXPORT_STALLED_AFTER = timedelta(minutes=5)
EXPORT_MAX_ATTEMPTS = 3
GAVE_UP = f"the worker writing it stopped {EXPORT_MAX_ATTEMPTS} times"  # a log, not shown


def _claimable(now: datetime):
    from django.db.models import Q

    stalled = Q(status=ExportJob.Status.RUNNING) & (
        Q(heartbeat_at__lt=now - EXPORT_STALLED_AFTER) | Q(heartbeat_at__isnull=True)
    )
    return ExportJob.objects.filter(Q(status=ExportJob.Status.PENDING) | stalled)


def _claim(job_id: int, now: datetime, run_id: str = "") -> bool:
    """Take the job for this worker: waiting, left running by a dead one (old heartbeat), or
    left running by an earlier delivery of this very task (`run_id`: redelivered only after
    its worker was lost). One UPDATE, so two deliveries never both write it."""
    from django.db.models import F, Q

    own_run = Q(status=ExportJob.Status.RUNNING, run_id=run_id) if run_id else Q(pk__in=[])
    claimable = ExportJob.objects.filter(Q(pk__in=_claimable(now).values("pk")) | own_run)
    claimed = claimable.filter(id=job_id, attempts__lt=EXPORT_MAX_ATTEMPTS).update(
        status=ExportJob.Status.RUNNING,
        heartbeat_at=now,
        attempts=F("attempts") + 1,
        rows_done=0,
        run_id=run_id,
    )
    return bool(claimed)


def resume_stalled_exports(*, now=None) -> tuple[int, int]:
    """Beat's sweep: jobs left running by a dead worker, and jobs still waiting after
    `EXPORT_STALLED_AFTER` (their task was lost, e.g. with the broker down), are queued
    again; those that used their attempts fail with a message. Returns (queued, failed)."""
    now = now or timezone.now()
    cutoff = now - EXPORT_STALLED_AFTER
    stalled = _claimable(now).exclude(status=ExportJob.Status.PENDING, created_at__gte=cutoff)
    spent = stalled.filter(attempts__gte=EXPORT_MAX_ATTEMPTS)
    _remove_files_of(spent)
    failed = spent.update(status=ExportJob.Status.FAILED, error=GAVE_UP, file_name="")
    queued = list(stalled.filter(attempts__lt=EXPORT_MAX_ATTEMPTS).values_list("id", flat=True))
    for job_id in queued:
        enqueue(WRITE_TASK, job_id)
    return len(queued), failed


def purge_expired_exports(*, now=None) -> int:
    """Delete the files of jobs older than their expiry and mark the jobs expired
    (idempotent: a second run finds nothing)."""
    now = now or timezone.now()
    expired = ExportJob.objects.filter(status=ExportJob.Status.READY, expires_at__lte=now)
    count = 0
    for job in expired.only("id", "file_name"):
        if job.file_name:
            (exports_dir() / job.file_name).unlink(missing_ok=True)
        count += 1
    expired.update(status=ExportJob.Status.EXPIRED, file_name="")
    return count


# --- One entry point for the page and the API -----------------------------------------------


def async_threshold() -> int:
    return int(getattr(settings, "REPORTS_ASYNC_EXPORT_ROWS", 50_000))


def export_report(definition, filters, user, fmt: str, *, sep: str | None = None, now=None):
    """Export a report in `fmt` (csv or xlsx): a response streamed now, or, over the
    threshold, an ExportJob written by a worker (returned instead of a response)."""
    now = now or timezone.now()
    # The CSV dialect as chosen, else the reader's (Italian: `;` and decimal comma), fixed now
    # so that a background job writes what the reader asked for.
    sep = sep if sep in SEPARATORS else default_sep(get_language())
    rows = definition.rows(filters, user, now)
    total = rows.count()
    query = filters.as_query()
    if total > async_threshold():
        job = create_export_job(
            user=user,
            report=definition.name,
            filters={**query, **({"sep": sep} if fmt == "csv" else {})},
            fmt=fmt,
            total=total,
            now=now,
        )
        enqueue_after_commit(WRITE_TASK, job.id)
        return job
    return export_now(
        name=definition.name,
        title=str(definition.title),
        columns=list(definition.columns),
        rows=rows,
        total=total,
        fmt=fmt,
        sep=sep,
        user=user,
        filters=query,
        now=now,
    )


def export_now(*, name: str, title: str, columns: list, rows, total: int, fmt: str, sep: str,
               user, filters: dict, now) -> StreamingHttpResponse | FileResponse:  # fmt: skip
    """Log the export and answer the file at once: CSV streamed, XLSX written write-only,
    both formula-safe (`reports.formats`)."""
    log_export(user=user, report=name, filters=filters, fmt=fmt, row_count=total, now=now)
    if fmt == "csv":
        return csv_response(name, columns, rows, dialect_for(sep))
    return xlsx_response(name, title, columns, rows)


def write_export_file(job, definition, filters) -> tuple[Path, int]:
    """The worker's half: write the job's file under MEDIA_ROOT/exports/, reporting progress."""
    path = exports_dir() / f"{definition.name}-{job.id}-{uuid.uuid4().hex[:12]}.{job.format}"
    # Named before it is written: an attempt that dies leaves a file the next one removes.
    type(job).objects.filter(id=job.id).update(file_name=path.name)
    rows = definition.rows(filters, job.owner)

    def progress(done: int) -> None:
        record_export_progress(job_id=job.id, rows_done=done)

    columns = list(definition.columns)
    if job.format == "csv":
        sep = job.filters.get("sep")
        done = write_csv(path, columns, rows, dialect=dialect_for(sep), progress=progress)
    else:
        done = write_xlsx(path, columns, rows, title=str(definition.title), progress=progress)
    return path, done


def run_export_job(*, job_id: int, run_id: str = "") -> str:
    """Write the file of a pending job, or of one a dead worker left running (state-based: a
    job being written by a live worker, finished or failed is left alone, so a repeated
    delivery does nothing). `run_id`, the task id, lets a redelivered task resume at once."""
    if not _claim(job_id, timezone.now(), run_id):
        return "skipped"
    job = ExportJob.objects.select_related("owner").get(id=job_id)
    if job.file_name:  # what an earlier attempt, which died, had begun to write
        (exports_dir() / job.file_name).unlink(missing_ok=True)
    definition = definitions.get(job.report)
    form = ReportFilterForm(job.filters)
    if definition is None or not form.is_valid():
        fail_export_job(job_id=job.id, error="invalid report or filters")
        return ExportJob.Status.FAILED
    try:
        path, done = write_export_file(job, definition, form.filters())
    except Exception as error:
        fail_export_job(job_id=job.id, error=f"{type(error).__name__}: {error}")
        raise
    if not finish_export_job(job=job, path=path, rows_done=done):
        return "superseded"
    return ExportJob.Status.READY


def export_changes(changes, filters, user, fmt: str, *, sep: str | None = None, now=None):
    """The configuration audit (`reports.changes`), filtered, as CSV or XLSX (logged)."""
    return export_now(
        name="configuration-changes",
        title=str(_("Configuration changes")),
        columns=list(CHANGE_COLUMNS),
        rows=changes,
        total=changes.count(),
        fmt=fmt,
        sep=sep if sep in SEPARATORS else default_sep(get_language()),
        user=user,
        filters=filters.as_query(),
        now=now or timezone.now(),
    )
