"""Times `routing.presence.presence_by_day` (docs/performance.md, "Presence and adherence").

300 operators, 60 presence changes each per day over December 2026 (a call every 9 minutes
over a 9-hour day: on a call, after-call work, available; a lunch break; offline at night),
then one day, a week and the month read nationally, each three times (the median is shown).
Run it on a throwaway database (it migrates it and writes its operators once, then reuses
them): the database of DATABASE_URL, e.g.

    source scripts/services.sh && services_start && .venv/bin/python scripts/bench_presence.py
    services_stop

`--baseline FILE` times another version of routing/presence.py beside it (e.g.
`git show integration:routing/presence.py > .tmp/old_presence.py`) and checks that both give
the same totals.
"""

import argparse
import importlib.util
import os
import random
import statistics
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
ROME = ZoneInfo("Europe/Rome")
OPERATORS = 300
FIRST, LAST = date(2026, 12, 1), date(2026, 12, 31)
NOW = datetime(2027, 1, 1, 12, 0, tzinfo=ROME)
READINGS = {"one day": (LAST, LAST), "a week": (date(2026, 12, 25), LAST), "a month": (FIRST, LAST)}


def day_of_changes(rng: random.Random, day: date) -> list[tuple[datetime, str, str]]:
    """60 changes: available, 19 calls (on a call, after-call work, available), away, offline."""
    when = datetime.combine(day, datetime.min.time(), tzinfo=ROME) + timedelta(
        hours=8, minutes=rng.randint(0, 60)
    )
    changes, state = [], "offline"

    def change(new: str, after: float) -> None:
        nonlocal when, state
        when += timedelta(minutes=after)
        changes.append((when, state, new))
        state = new

    change("available", 0)
    for call in range(19):
        change("on_call", rng.uniform(1, 4))
        change("wrap_up", rng.uniform(3, 6))
        change("available", rng.uniform(0.5, 2))
        if call == 9:
            change("away", rng.uniform(1, 3))
            when += timedelta(minutes=rng.uniform(30, 60))
            change("available", 0)
    changes[-1] = (changes[-1][0], changes[-1][1], "offline")
    return changes[:60]


def populate() -> list[int]:
    from django.contrib.auth import get_user_model

    from routing.models import OperatorProfile, PresenceChange

    user_model = get_user_model()
    names = [f"bench.presence.{i:03d}" for i in range(OPERATORS)]
    if not user_model.objects.filter(username__in=names).exists():
        users = user_model.objects.bulk_create(user_model(username=name) for name in names)
        profiles = OperatorProfile.objects.bulk_create(OperatorProfile(user=u) for u in users)
        rng = random.Random(20261201)  # noqa: S311  # the same made-up day every run
        batch: list = []
        for profile in profiles:
            for offset in range((LAST - FIRST).days + 2):
                for when, old, new in day_of_changes(rng, FIRST - timedelta(days=1 - offset)):
                    batch.append(
                        PresenceChange(profile=profile, at=when, from_state=old, to_state=new)
                    )
            if len(batch) > 20_000:
                PresenceChange.objects.bulk_create(batch)
                batch = []
        PresenceChange.objects.bulk_create(batch)
    return list(
        OperatorProfile.objects.filter(user__username__in=names).values_list("id", flat=True)
    )


def load(path: str):
    spec = importlib.util.spec_from_file_location("presence_baseline", path)
    if spec is None or spec.loader is None:
        raise SystemExit(f"{path}: not a Python module")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", help="another routing/presence.py to time beside it")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from routing import presence
    from routing.models import OperatorProfile, PresenceChange

    call_command("migrate", verbosity=0)
    ids = populate()
    profiles = OperatorProfile.objects.filter(id__in=ids)
    versions = {"this": presence}
    if args.baseline:
        versions["baseline"] = load(args.baseline)
    print(f"{connection.vendor}, {len(ids)} operators, {PresenceChange.objects.count()} changes")
    for reading, (date_from, date_to) in READINGS.items():
        start = datetime.combine(date_from, datetime.min.time(), tzinfo=ROME).astimezone(UTC)
        end = datetime.combine(date_to + timedelta(days=1), datetime.min.time(), tzinfo=ROME)
        changes = PresenceChange.objects.filter(profile_id__in=ids, at__gte=start, at__lt=end)
        results = {}
        for name, module in versions.items():
            times = []
            for _ in range(3):
                began = time.perf_counter()
                results[name] = module.presence_by_day(
                    profiles, date_from=date_from, date_to=date_to, now=NOW
                )
                times.append(time.perf_counter() - began)
            print(f"{reading}, {changes.count()} changes, {name}: {statistics.median(times):.2f} s")
        if "baseline" in results:
            same = all(
                abs(totals.seconds[b] - results["baseline"][pid][day].seconds[b]) < 1e-6
                for pid, days in results["this"].items()
                for day, totals in days.items()
                for b in presence.BUCKETS
            )
            print(f"{reading}: same totals as the baseline: {same}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
