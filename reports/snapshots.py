"""Backlog snapshots: every 5 minutes, the open cases counted by queue, client, contract,
priority, status and age, plus the inflow and outflow since the previous snapshot.

Set-based: one GROUP BY over the open cases, two counts for the flow, one bulk insert.
Idempotent per 5-minute slot (`BacklogSnapshot.slot` is unique): a second run in the same
slot, late or concurrent, writes nothing.
"""

import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import Case as When_
from django.db.models import CharField, Count, Q, Value, When

from care.models import OPEN_STATUSES, Case
from reports.models import AgeBucket, BacklogRow, BacklogSnapshot

SLOT = timedelta(minutes=5)
# Upper bounds of the age buckets, youngest first; older than the last is "over 7 days".
AGE_LIMITS = (
    (timedelta(hours=1), AgeBucket.UNDER_1H),
    (timedelta(hours=4), AgeBucket.H1_4),
    (timedelta(hours=24), AgeBucket.H4_24),
    (timedelta(days=3), AgeBucket.D1_3),
    (timedelta(days=7), AgeBucket.D3_7),
)
INSERT_BATCH = 1000


@dataclass(frozen=True)
class SnapshotResult:
    slot: datetime
    open_cases: int
    rows: int
    inflow: int
    outflow: int
    seconds: float
    created: bool  # False: this slot had its snapshot already


def slot_of(now: datetime) -> datetime:
    """The start of the 5-minute slot holding `now`, in UTC."""
    moment = now.astimezone(UTC)
    return moment.replace(minute=moment.minute - moment.minute % 5, second=0, microsecond=0)


def age_bucket_expression(now: datetime) -> When_:
    return When_(
        *[When(opened_at__gt=now - limit, then=Value(bucket)) for limit, bucket in AGE_LIMITS],
        default=Value(AgeBucket.OVER_7D),
        output_field=CharField(),
    )


def take_backlog_snapshot(*, now: datetime) -> SnapshotResult:
    started = time.perf_counter()
    slot = slot_of(now)
    existing = BacklogSnapshot.objects.filter(slot=slot).first()
    if existing is not None:
        return _unchanged(existing, started)
    try:
        with transaction.atomic(durable=True):
            previous = BacklogSnapshot.objects.filter(slot__lt=slot).order_by("-slot").first()
            since = previous.taken_at if previous else now - SLOT
            groups = list(
                Case.objects.filter(status__in=OPEN_STATUSES, opened_at__lte=now)
                .annotate(age_bucket=age_bucket_expression(now))
                .values(
                    "queue_code", "client_id", "contract_id", "priority", "status", "age_bucket"
                )
                .annotate(count=Count("id"))
                .order_by()
            )
            opened = Case.objects.filter(opened_at__gt=since, opened_at__lte=now)
            done = Case.objects.filter(
                Q(resolved_at__gt=since, resolved_at__lte=now)
                | Q(closed_at__gt=since, closed_at__lte=now)
            )
            flow: dict[str, dict[str, int]] = {}
            for name, found in (("inflow", opened), ("outflow", done)):
                for row in found.values("queue_code").annotate(n=Count("id")).order_by():
                    flow.setdefault(row["queue_code"], {"inflow": 0, "outflow": 0})[name] = row["n"]
            snapshot = BacklogSnapshot.objects.create(
                slot=slot,
                taken_at=now,
                since=since,
                open_cases=sum(g["count"] for g in groups),
                inflow=sum(f["inflow"] for f in flow.values()),
                outflow=sum(f["outflow"] for f in flow.values()),
                flow_by_queue=flow,
            )
            BacklogRow.objects.bulk_create(
                [BacklogRow(snapshot=snapshot, **group) for group in groups],
                batch_size=INSERT_BATCH,
            )
            snapshot.seconds = round(time.perf_counter() - started, 3)
            snapshot.save(update_fields=["seconds"])
    except IntegrityError:  # a concurrent run took this slot first
        return _unchanged(BacklogSnapshot.objects.get(slot=slot), started)
    return SnapshotResult(
        slot=slot,
        open_cases=snapshot.open_cases,
        rows=len(groups),
        inflow=snapshot.inflow,
        outflow=snapshot.outflow,
        seconds=snapshot.seconds,
        created=True,
    )


def _unchanged(snapshot: BacklogSnapshot, started: float) -> SnapshotResult:
    return SnapshotResult(
        slot=snapshot.slot,
        open_cases=snapshot.open_cases,
        rows=snapshot.rows.count(),
        inflow=snapshot.inflow,
        outflow=snapshot.outflow,
        seconds=time.perf_counter() - started,
        created=False,
    )
