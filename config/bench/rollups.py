"""The daily rollups of the benchmark data set (`reports.DailyRollup`, issue #25) and its calls
rollup (`reports.CallRollup`, version 2: a data set of version 1 is rebuilt whole): written once
on the stored data set, so each benchmark run's copy starts with them instead of rebuilding
them (about four minutes on the national set).

An incremental step with its own version marker (table `bench_dataset_step`, as the
back-office step in `config.bench.back_office`): a data set built before this step gains the
rollups the next time `make bench` (or `seed_demo --scale …`) runs; a new build runs it after
the back-office step. The rows are those `rebuild_rollups` writes: the same as the engine's.
"""

import time

from django.db import connection
from django.utils import timezone

from config.bench.back_office import needed, write_step
from config.bench.data import BuildError, Progress, read_marker
from reports.models import CallRollup, DailyRollup, RollupRefresh
from reports.rollups import rebuild_rollups

STEP = "rollups"
STEP_VERSION = 2


def build_rollups(*, progress: Progress | None = None) -> dict:
    """Write the daily rollups of the data set in this database from scratch, once per step
    version. Returns the counts (empty when the step was already there)."""
    if read_marker() is None:
        raise BuildError("no benchmark data set in this database: build it first.")
    if not needed(STEP, STEP_VERSION):
        return {}
    progress = progress or Progress()
    started = time.perf_counter()
    progress.say("daily rollups and calls rollup")
    result = rebuild_rollups(
        now=timezone.now(),
        progress=lambda first, last, rows: progress.say(f"rollups {first:%Y-%m}: {rows} rows"),
    )
    counts = {
        "reports.DailyRollup": DailyRollup.objects.count(),
        "reports.CallRollup": CallRollup.objects.count(),
    }
    write_step(STEP, STEP_VERSION, seconds=time.perf_counter() - started, counts=counts)
    with connection.cursor() as cursor:
        for model in (DailyRollup, CallRollup, RollupRefresh):
            cursor.execute(f'ANALYZE "{model._meta.db_table}"')
    progress.say(f"rollups step in {result.seconds:.1f}s: {counts}")
    return counts
