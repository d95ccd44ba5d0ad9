"""The contact-centre measures of calls, defined once for the wallboard and the reports.

Answered counts calls still talking and ended ones. The service level is the share answered
within the queue's threshold among those answered, abandoned or missed; a caller who hangs up
within 5 s dialled by mistake and is left out, as contact centres do. The handle time is talk
plus after-call work of the ended answered calls.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from django.db.models import Aggregate, Avg, Count, F, Q, Sum

from routing.models import CallOutcome

SHORT_ABANDON_SECONDS = 5

ANSWERED = Q(answered_at__isnull=False)
ABANDONED = Q(outcome=CallOutcome.ABANDONED, wait_seconds__gte=SHORT_ABANDON_SECONDS)
SHORT_ABANDONED = Q(outcome=CallOutcome.ABANDONED, wait_seconds__lt=SHORT_ABANDON_SECONDS)
MISSED = Q(outcome=CallOutcome.MISSED)
HANDLED = Q(outcome__in=[CallOutcome.ANSWERED, CallOutcome.TRANSFERRED])
HANDLE = F("talk_seconds") + F("after_call_seconds")


@dataclass(frozen=True)
class CallMeasures:
    """The aggregates of a group of calls, for queues with their service-level thresholds.

    The threshold is the queue's, so the calls answered in time are one conditional count per
    queue, all in the same query; `service_level` picks the group's own."""

    thresholds: Mapping[str, int]  # queue code -> seconds within which an answer is in time

    @classmethod
    def for_queues(cls, queues: Iterable[tuple[str, int]]) -> "CallMeasures":
        return cls(thresholds=dict(queues))

    def aggregates(self) -> dict[str, Aggregate]:
        return {
            "answered": Count("id", filter=ANSWERED),
            "abandoned": Count("id", filter=ABANDONED),
            "short_abandoned": Count("id", filter=SHORT_ABANDONED),
            "missed": Count("id", filter=MISSED),
            "handle": Avg(HANDLE, filter=HANDLED),
            **{
                self._in_time_key(code): Count(
                    "id", filter=ANSWERED & Q(queue_code=code, wait_seconds__lte=seconds)
                )
                for code, seconds in self.thresholds.items()
            },
        }

    def sums(self) -> dict[str, Aggregate]:
        """The same measures as counts and sums, which add up across groups (the calls
        rollup, `reports.call_rollups`): averages are recomputed from the sums."""
        counts = self.aggregates()
        del counts["handle"]
        return counts | {
            "wait_sum": Sum("wait_seconds", filter=ANSWERED),
            "wait_count": Count("wait_seconds", filter=ANSWERED),
            "handle_sum": Sum(HANDLE, filter=HANDLED),
            "handle_count": Count(HANDLE, filter=HANDLED),
        }

    def answered_in_time(self, row: Mapping, queue_code: str) -> int:
        if queue_code not in self.thresholds:
            return 0
        return row.get(self._in_time_key(queue_code), 0)

    def service_level(self, row: Mapping, queue_code: str) -> float | None:
        """Percent, one decimal; None when no call counts."""
        counted = row["answered"] + row["abandoned"] + row["missed"]
        in_time = self.answered_in_time(row, queue_code)
        return round(100 * in_time / counted, 1) if counted else None

    @staticmethod
    def average_handle(row: Mapping) -> int | None:
        return None if row["handle"] is None else round(row["handle"])

    def _in_time_key(self, queue_code: str) -> str:
        # Aggregate names must be identifiers; the position among the queues is one.
        return f"in_time_{list(self.thresholds).index(queue_code)}"
