"""The nightly runner: send `config.nightly.nightly` once per date, and record what each
hook answered in `NightlyRun` (unique on job and date). The hooks are each app's own,
connected in its AppConfig.ready(): the loyalty worklist's feed, retention, the access-log
chain check."""

import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from config.nightly import nightly
from reports.models import NightlyRun

logger = logging.getLogger(__name__)

JOB = "nightly"
# A run that started this long ago and never finished died with its worker: take it over.
STALE_AFTER = timedelta(hours=1)
# Beat triggers every hour; the date's run happens at the first trigger from this local hour
# (so a beat that was down at night is healed by the next trigger, once).
STARTS_AT_HOUR = 2


@dataclass(frozen=True)
class NightlyResult:
    date: date
    ran: bool  # False: this date's run happened already (or is under way)
    hooks: dict


def run_nightly_jobs(*, today: date, now: datetime) -> NightlyResult:
    run = _claim(today=today, now=now)
    if run is None:
        return NightlyResult(date=today, ran=False, hooks={})
    hooks = {}
    for receiver, answer in nightly.send_robust(sender=NightlyRun, date=today, now=now):
        name = f"{receiver.__module__}.{receiver.__qualname__}"
        if isinstance(answer, Exception):
            logger.error("nightly hook %s failed: %r", name, answer)
            hooks[name] = {"error": type(answer).__name__}
        else:
            hooks[name] = {"result": answer}
    with transaction.atomic(durable=True):
        NightlyRun.objects.filter(id=run.id).update(finished_at=now, detail={"hooks": hooks})
    return NightlyResult(date=today, ran=True, hooks=hooks)


def run_nightly_jobs_when_due(*, now: datetime) -> NightlyResult | None:
    """The run of today's local date, if it is past the start hour; None before it."""
    local = timezone.localtime(now)
    if local.hour < STARTS_AT_HOUR:
        return None
    return run_nightly_jobs(today=local.date(), now=now)


def _claim(*, today: date, now: datetime) -> NightlyRun | None:
    """The run of `today` for this worker, or None when it exists and is not stale."""
    try:
        with transaction.atomic(durable=True):
            return NightlyRun.objects.create(job=JOB, date=today, started_at=now)
    except IntegrityError:
        pass
    run = NightlyRun.objects.get(job=JOB, date=today)
    if run.finished_at is not None or now - run.started_at < STALE_AFTER:
        return None
    with transaction.atomic(durable=True):  # take over a crashed run; one taker wins
        taken = NightlyRun.objects.filter(
            id=run.id, finished_at__isnull=True, started_at=run.started_at
        ).update(started_at=now)
    return run if taken else None
