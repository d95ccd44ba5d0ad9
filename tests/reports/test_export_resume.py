"""Big exports survive a worker that dies: the redelivered task, or beat's sweep, starts the
job again (at most 3 attempts), a live worker's job is left alone, a lost task is sent again,
a failure says why, and no half-written file is left behind."""

from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from reports import exports
from reports.exports import (
    EXPORT_MAX_ATTEMPTS,
    GAVE_UP,
    create_export_job,
    exports_dir,
    finish_export_job,
    record_export_progress,
    resume_stalled_exports,
    run_export_job,
)
from reports.models import ExportJob, ExportLog
from reports.tasks import write_export_task
from tests.reports import known_data

pytestmark = pytest.mark.django_db

known = known_data.known
contract_with_handoff_units = known_data.contract_with_handoff_units
other_client_contract = known_data.other_client_contract


def new_job(manager) -> ExportJob:
    return create_export_job(
        user=manager,
        report="breaches",
        filters={"from": "2026-12-01", "to": "2026-12-31"},
        fmt="csv",
        total=2,
    )


def left_running(job: ExportJob, *, minutes_ago: int, attempts: int = 1) -> Path:
    """The job as a worker that died in the middle of its file leaves it."""
    partial = exports_dir() / f"breaches-{job.id}-0123456789ab.csv"
    partial.write_text("reference,opened\r\nCS-2026-")
    ExportJob.objects.filter(id=job.id).update(
        status=ExportJob.Status.RUNNING,
        attempts=attempts,
        heartbeat_at=timezone.now() - timedelta(minutes=minutes_ago),
        rows_done=1,
        file_name=partial.name,
    )
    return partial


@pytest.fixture
def sent(monkeypatch) -> list[int]:
    """The job ids the sweep sends to the workers (not run here)."""
    ids: list[int] = []
    monkeypatch.setattr(write_export_task, "apply_async", lambda args: ids.extend(args))
    return ids


def test_a_redelivered_task_takes_over_the_job_its_dead_worker_left(known, manager):
    job = new_job(manager)
    partial = left_running(job, minutes_ago=6)
    assert run_export_job(job_id=job.id) == "ready"
    job.refresh_from_db()
    assert (job.status, job.attempts, job.rows_done) == ("ready", 2, 2)
    assert not partial.exists()
    written = (exports_dir() / job.file_name).read_bytes().decode()
    assert written.count("\r\n") == 3  # the header and both cases, from the start
    assert ExportLog.objects.filter(report="breaches").count() == 1


def test_a_job_whose_worker_is_alive_is_left_alone(known, manager):
    job = new_job(manager)
    partial = left_running(job, minutes_ago=1)
    assert run_export_job(job_id=job.id) == "skipped"
    job.refresh_from_db()
    assert (job.status, job.attempts) == ("running", 1)
    assert partial.exists()


def test_progress_keeps_a_running_job_alive(known, manager):
    job = new_job(manager)
    left_running(job, minutes_ago=30)
    record_export_progress(job_id=job.id, rows_done=1)
    assert run_export_job(job_id=job.id) == "skipped"


def test_the_sweep_sends_again_stalled_and_lost_jobs_and_leaves_the_others(known, manager, sent):
    stalled = new_job(manager)
    left_running(stalled, minutes_ago=6)
    lost = new_job(manager)  # its task never reached a worker (broker down at the time)
    ExportJob.objects.filter(id=lost.id).update(created_at=timezone.now() - timedelta(minutes=6))
    on_its_way = new_job(manager)
    alive = new_job(manager)
    left_running(alive, minutes_ago=1)
    finished = new_job(manager)
    run_export_job(job_id=finished.id)

    assert resume_stalled_exports(now=timezone.now()) == (2, 0)
    assert sorted(sent) == sorted([stalled.id, lost.id])
    assert run_export_job(job_id=stalled.id) == run_export_job(job_id=lost.id) == "ready"
    assert ExportJob.objects.get(id=on_its_way.id).status == "pending"
    assert ExportJob.objects.get(id=alive.id).status == "running"


def test_a_job_that_used_its_attempts_fails_with_a_message_and_no_file(known, manager, sent):
    job = new_job(manager)
    partial = left_running(job, minutes_ago=6, attempts=EXPORT_MAX_ATTEMPTS)
    assert run_export_job(job_id=job.id) == "skipped"  # a 4th delivery does not start it
    assert resume_stalled_exports(now=timezone.now()) == (0, 1)
    assert sent == []
    job.refresh_from_db()
    assert (job.status, job.error, job.file_name) == ("failed", GAVE_UP, "")
    assert not partial.exists()
    assert resume_stalled_exports(now=timezone.now()) == (0, 0)


def test_an_attempt_taken_over_meanwhile_does_not_finish_the_job(known, manager, tmp_path):
    """A worker thought dead that finishes after another took the job over: its file is
    dropped and nothing is logged; the job waits for the other attempt."""
    job = new_job(manager)
    left_running(job, minutes_ago=6)
    slow = ExportJob.objects.get(id=job.id)  # attempt 1, still writing somewhere
    assert exports._claim(job.id, timezone.now())  # attempt 2 takes over
    late_file = exports_dir() / "breaches-late.csv"
    late_file.write_text("complete, but late")
    assert finish_export_job(job=slow, path=late_file, rows_done=2) is False
    assert not late_file.exists()
    assert ExportJob.objects.get(id=job.id).status == "running"
    assert not ExportLog.objects.exists()


def test_a_failing_export_says_why_and_leaves_no_partial_file(known, manager, monkeypatch):
    def disk_full(target, *args, **kwargs):
        Path(target).write_text("reference,opened\r\n")
        raise OSError("No space left on device")

    monkeypatch.setattr(exports, "write_csv", disk_full)
    job = new_job(manager)
    files_before = set(exports_dir().iterdir())
    with pytest.raises(OSError, match="No space left"):
        run_export_job(job_id=job.id)
    job.refresh_from_db()
    assert (job.status, job.file_name) == ("failed", "")
    assert "No space left on device" in job.error
    assert set(exports_dir().iterdir()) == files_before


def test_beat_sweeps_every_five_minutes(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["resume-stalled-exports"]
    assert (entry["task"], entry["schedule"]) == ("reports.tasks.resume_stalled_exports_task", 300)


def test_a_redelivered_task_resumes_its_own_run_at_once(known, manager):
    """A pool child killed mid-export: its task comes back at once (acks_late,
    reject_on_worker_lost) and recognises the run it had begun by its task id, with the
    heartbeat still fresh, instead of waiting for the sweep."""
    job = new_job(manager)
    partial = left_running(job, minutes_ago=0)
    ExportJob.objects.filter(id=job.id).update(run_id="task-1")
    result = write_export_task.apply(args=[job.id], task_id="task-1").get()
    assert result == {"job": job.id, "status": "ready"}
    job.refresh_from_db()
    assert (job.status, job.attempts, job.rows_done, job.run_id) == ("ready", 2, 2, "task-1")
    assert not partial.exists()
    written = (exports_dir() / job.file_name).read_bytes().decode()
    assert written.count("\r\n") == 3  # written again from the start


def test_another_delivery_leaves_a_live_run_alone(known, manager):
    job = new_job(manager)
    left_running(job, minutes_ago=0)
    ExportJob.objects.filter(id=job.id).update(run_id="task-1")
    assert run_export_job(job_id=job.id, run_id="task-2") == "skipped"
    assert run_export_job(job_id=job.id) == "skipped"
    job.refresh_from_db()
    assert (job.status, job.attempts, job.run_id) == ("running", 1, "task-1")


def test_a_redelivered_task_still_counts_its_attempts(known, manager):
    job = new_job(manager)
    left_running(job, minutes_ago=0, attempts=EXPORT_MAX_ATTEMPTS)
    ExportJob.objects.filter(id=job.id).update(run_id="task-1")
    assert run_export_job(job_id=job.id, run_id="task-1") == "skipped"


def test_the_export_task_is_acknowledged_late_and_requeued_on_worker_loss():
    assert write_export_task.acks_late is True
    assert write_export_task.reject_on_worker_lost is True


def test_a_new_job_records_the_task_that_writes_it(known, manager):
    job = new_job(manager)
    write_export_task.apply(args=[job.id], task_id="task-9").get()
    job.refresh_from_db()
    assert (job.status, job.run_id, job.attempts) == ("ready", "task-9", 1)
