"""Reads of the reports: the cases a report covers, who may see whose figures, and the
dashboard's series. Every read is set-based: aggregates in SQL, a fixed number of queries
whatever the number of cases."""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date, datetime, timedelta

from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import Count, F, Max, Q, QuerySet, Sum
from django.db.models.functions import TruncDate, TruncMonth
from django.utils import timezone

from care.models import OPEN_STATUSES, Case, Handoff, SlaState
from reports import rollups
from reports.forms import ReportFilters
from reports.models import BacklogRow, BacklogSnapshot, DailyRollup
from routing.scope import supervisor_scope


def cases_in_scope(filters: ReportFilters, *, period: bool = True) -> QuerySet[Case]:
    """The cases a report counts: opened in the period (unless `period` is off) and matching
    the client, contract, site (of the assignee), queue and priority filters."""
    cases = Case.objects.all()
    if period:
        cases = cases.filter(opened_at__gte=filters.start, opened_at__lt=filters.end)
    return _case_filters(cases, filters)


def _case_filters(cases, filters: ReportFilters, prefix: str = ""):
    if filters.client:
        cases = cases.filter(**{f"{prefix}client": filters.client})
    if filters.contract:
        cases = cases.filter(**{f"{prefix}contract": filters.contract})
    if filters.site:
        cases = cases.filter(**{f"{prefix}assignee__operator_profile__site": filters.site})
    if filters.queue:
        cases = cases.filter(**{f"{prefix}queue_code": filters.queue.code})
    if filters.priority:
        cases = cases.filter(**{f"{prefix}priority": filters.priority})
    return cases


def handoffs_in_scope(filters: ReportFilters) -> QuerySet[Handoff]:
    """Hand-offs of the cases opened in the period (and matching the filters)."""
    handoffs = Handoff.objects.filter(
        case__opened_at__gte=filters.start, case__opened_at__lt=filters.end
    )
    return _case_filters(handoffs, filters, prefix="case__")


def operators_visible_to(user) -> QuerySet:
    """Whose per-operator figures the user may see (employee data under Italian law): their
    own, and a supervisor those of the operators of the sites they supervise
    (`Site.supervisors`, DESIGN §2). Nobody else's."""
    users = get_user_model().objects.all()
    visible = Q(id=user.id)
    if user.has_perm("config.supervise"):
        visible |= Q(operator_profile__site__supervisors=user)
    return users.filter(visible)


def presence_operators_visible_to(user) -> QuerySet:
    """Whose presence figures the user may see one by one: an administrator everyone's, a
    supervisor those of the operators of the sites they supervise (`routing.scope`), anyone
    else nobody's (managers see sites and queues, not people)."""
    users = get_user_model().objects.all()
    if user.has_perm("config.administer"):
        return users
    if not user.has_perm("config.supervise"):
        return users.none()
    scope = supervisor_scope(user)
    if scope.empty:
        return users.none()
    return users.filter(operator_profile__isnull=False).filter(
        scope.operators_filter("operator_profile__")
    )


# Periods longer than this many days show their flow and backlog trend by calendar month (a
# month's rollups are one row per group: two years read about 24 months of them, not 730 days).
DAILY_SERIES_MAX_DAYS = 92


def series_unit(filters: ReportFilters) -> str:
    """ "day" or "month": the step of the dashboard's series for the period."""
    days = (filters.date_to - filters.date_from).days + 1
    return "day" if days <= DAILY_SERIES_MAX_DAYS else "month"


FLOW_FACTS = ("opened", "resolved_on_day")


def flow_set(filters: ReportFilters) -> "FactSet":
    """The rollup read of `period_flow` (for `read_together`)."""
    return (("day",), FLOW_FACTS, series_unit(filters) == "month")


def daily_flow(filters: ReportFilters) -> list[dict]:
    """Cases opened and resolved per day of the period (Rome's days), one row per day."""
    counts = {row["day"]: row for row in fact_totals(filters, by=("day",), facts=FLOW_FACTS)}
    days = (filters.date_to - filters.date_from).days + 1
    empty = {"opened": 0, "resolved_on_day": 0}
    return [
        {
            "day": day,
            "opened": counts.get(day, empty)["opened"],
            "resolved": counts.get(day, empty)["resolved_on_day"],
        }
        for day in (filters.date_from + timedelta(days=i) for i in range(days))
    ]


def monthly_flow(filters: ReportFilters) -> list[dict]:
    """Cases opened and resolved per calendar month of the period (the first and the last
    month as far as the period covers them), one row per month; `day` is the month's first
    day in the period. The sums of `daily_flow` by month, read from the months' own rows."""
    months = {
        month: {"day": max(month, filters.date_from), "opened": 0, "resolved": 0}
        for month in _months(filters.date_from, filters.date_to)
    }
    for row in fact_totals(filters, by=("day",), facts=FLOW_FACTS, whole_months=True):
        entry = months[row["day"].replace(day=1)]
        entry["opened"] += row["opened"]
        entry["resolved"] += row["resolved_on_day"]
    return list(months.values())


def period_flow(filters: ReportFilters) -> list[dict]:
    """The period's flow by `series_unit`: `daily_flow` or `monthly_flow`."""
    return daily_flow(filters) if series_unit(filters) == "day" else monthly_flow(filters)


def _months(first: date, last: date) -> list[date]:
    months, month = [], first.replace(day=1)
    while month <= last:
        months.append(month)
        month = (month.replace(day=28) + timedelta(days=4)).replace(day=1)
    return months


def backlog_trend(
    filters: ReportFilters, *, now: datetime, flow: list[dict] | None = None
) -> tuple[str, list[dict]]:
    """The open cases at the end of each day (or month, by `series_unit`) of the period.

    From the backlog snapshots (the last one of each day or month) when there are any;
    otherwise estimated from live data: today's open cases minus what opened after each
    step plus what was resolved after it (`flow`: the period's `period_flow`, if the caller
    has it)."""
    series = snapshot_series(filters)
    if series:
        return "snapshots", series
    flow = period_flow(filters) if flow is None else flow
    open_now = cases_in_scope(filters, period=False).filter(status__in=OPEN_STATUSES).count()
    series, backlog = [], open_now
    for step in reversed(flow):  # days or months of the period, not cases
        series.append({"day": step["day"], "open": max(backlog, 0)})
        backlog = backlog - step["opened"] + step["resolved"]
    series.reverse()
    return "live", series


def snapshot_series(filters: ReportFilters) -> list[dict]:
    """Open cases at the last snapshot of each day (or month, by `series_unit`) of the
    period (two queries). Snapshots know queue, client, contract and priority, not the
    site: with a site filter, nothing."""
    if filters.site:
        return []
    trunc = TruncDate if series_unit(filters) == "day" else TruncMonth
    last_slots = list(
        BacklogSnapshot.objects.filter(slot__gte=filters.start, slot__lt=filters.end)
        .annotate(day=trunc("slot", tzinfo=timezone.get_default_timezone()))
        .values("day")
        .annotate(last=Max("slot"))
        .values_list("day", "last")
    )
    if not last_slots:
        return []
    rows = BacklogRow.objects.filter(snapshot__slot__in=[slot for _day, slot in last_slots])
    if filters.client:
        rows = rows.filter(client=filters.client)
    if filters.contract:
        rows = rows.filter(contract=filters.contract)
    if filters.queue:
        rows = rows.filter(queue_code=filters.queue.code)
    if filters.priority:
        rows = rows.filter(priority=filters.priority)
    totals = dict(
        rows.values("snapshot__slot").annotate(n=Sum("count")).values_list("snapshot__slot", "n")
    )
    return [
        {"day": max(_as_date(day), filters.date_from), "open": totals.get(slot, 0)}
        for day, slot in sorted(last_slots)
    ]


def _as_date(value) -> date:
    return value.date() if isinstance(value, datetime) else value


def cases_at_risk(filters: ReportFilters, *, limit: int = 10) -> dict:
    """Open cases now at risk or breached (counts), and the most urgent at-risk ones."""
    open_cases = cases_in_scope(filters, period=False).filter(status__in=OPEN_STATUSES)
    at_risk = Q(first_response_state=SlaState.AT_RISK) | Q(resolution_state=SlaState.AT_RISK)
    breached = Q(first_response_state=SlaState.BREACHED) | Q(resolution_state=SlaState.BREACHED)
    counts = open_cases.aggregate(
        open=Count("id"),
        at_risk=Count("id", filter=at_risk & ~breached),
        breached=Count("id", filter=breached),
    )
    urgent = list(
        open_cases.filter(at_risk & ~breached)
        .order_by("resolution_due_at", "opened_at")
        .values(
            "reference",
            "priority",
            "queue_code",
            "resolution_due_at",
            client_name=F("client__name"),
        )[:limit]
    )
    return {**counts, "urgent": urgent}


def handoffs_waiting(filters: ReportFilters) -> list[dict]:
    """Hand-offs waiting for an answer now, per unit (its code and its name, shown)."""
    pending = _case_filters(
        Handoff.objects.filter(outcome=Handoff.Outcome.PENDING), filters, prefix="case__"
    )
    return list(
        pending.values("unit_code")
        .annotate(waiting=Count("id"), unit_name=Max("unit_name"))
        .order_by("-waiting", "unit_code")
    )


FactSet = tuple[tuple[str, ...], tuple[str, ...], bool]  # by, facts, whole_months
_READ_TOGETHER: ContextVar[dict | None] = ContextVar("fact_totals_read_together", default=None)


def fact_totals(
    filters: ReportFilters,
    *,
    by: tuple[str, ...],
    facts: tuple[str, ...],
    whole_months: bool = False,
) -> list[dict]:
    """The rollup facts of the period summed by `by` (names of `rollups.DIMS`): the days
    already final from the rollups (one grouped query), the others (today) counted live by
    the same rule the rollups are written with. Every fact named is in each row (0 if none).
    By "day", each day is a row of its own unless `whole_months`: then the months wholly
    in the period come as one row each, on their first day. Inside `read_together` for the
    same filters and set, the answer of that shared read."""
    wanted = (by, facts, whole_months)
    shared = _READ_TOGETHER.get()
    if shared is not None and (filters, wanted) in shared:
        return shared[(filters, wanted)]
    return _fact_totals_sets(filters, [wanted])[0]


@contextmanager
def read_together(filters: ReportFilters, wanted: list[FactSet]) -> Iterator[None]:
    """Within the block, `fact_totals(filters, by=, facts=, whole_months=)` of each set of
    `wanted` answers from one read: on PostgreSQL the stored rows are scanned once for all the
    sets (GROUPING SETS) and today is counted live once. The same numbers, fewer scans (the
    dashboard's three sums of the same rows). Nothing outlives the block."""
    results = _fact_totals_sets(filters, wanted)
    token = _READ_TOGETHER.set(
        {(filters, key): rows for key, rows in zip(wanted, results, strict=True)}
    )
    try:
        yield
    finally:
        _READ_TOGETHER.reset(token)


def _fact_totals_sets(filters: ReportFilters, wanted: list[FactSet]) -> list[list[dict]]:
    totals: list[dict[tuple, dict]] = [{} for _ in wanted]
    final = rollups.final_through()
    if final is not None and final >= filters.date_from:
        last = min(final, filters.date_to)
        reads: list[tuple[Q, list[int]]] = []  # the sets that sum the same stored rows
        for index, (by, _facts, whole_months) in enumerate(wanted):
            rows_q = rollups.stored_days(
                filters.date_from, last, by_day="day" in by and not whole_months
            )
            same = next((read for read in reads if read[0] == rows_q), None)
            if same is None:
                reads.append((rows_q, [index]))
            else:
                same[1].append(index)
        for rows_q, indexes in reads:
            rows = _rollup_filters(DailyRollup.objects.filter(rows_q), filters)
            if len(indexes) > 1 and connection.vendor == "postgresql":
                _stored_sets(rows, [wanted[i] for i in indexes], [totals[i] for i in indexes])
                continue
            for i in indexes:
                by, facts, _whole = wanted[i]
                sums = {f: Sum(f) for f in facts}
                if not by:  # one total: `values()` of nothing would group by every column
                    found = rows.aggregate(**sums)
                    totals[i][()] = {f: found[f] or 0 for f in facts}
                    continue
                for row in rows.values(*by).annotate(**sums).order_by():
                    totals[i][tuple(row[name] for name in by)] = {f: row[f] or 0 for f in facts}
    live_from = (
        filters.date_from if final is None else max(filters.date_from, final + timedelta(days=1))
    )
    if live_from <= filters.date_to:
        every_fact = tuple(dict.fromkeys(f for _by, facts, _w in wanted for f in facts))
        live = rollups.live_groups([(live_from, filters.date_to)], filters, every_fact)
        for (by, facts, _whole), into in zip(wanted, totals, strict=True):
            positions = [rollups.DIMS.index(name) for name in by]
            for key, values in live.items():
                entry = into.setdefault(tuple(key[p] for p in positions), dict.fromkeys(facts, 0))
                for fact in facts:
                    entry[fact] += values[fact]
    return [
        [dict(zip(by, key, strict=True)) | values for key, values in into.items()]
        for (by, _facts, _whole), into in zip(wanted, totals, strict=True)
    ]


def _stored_sets(rows: QuerySet, wanted: list[FactSet], into: list[dict[tuple, dict]]) -> None:
    """The sums of `rows` by each set's `by` in one statement (PostgreSQL's GROUPING SETS):
    the WHERE is the ORM's (its values travel as parameters); GROUPING() tells the sets
    apart."""
    dims = list(dict.fromkeys(name for by, _facts, _w in wanted for name in by))
    facts = list(dict.fromkeys(f for _by, fs, _w in wanted for f in fs))
    compiler = rows.query.get_compiler(using=rows.db)
    where, params = compiler.compile(rows.query.where)
    table = connection.ops.quote_name(DailyRollup._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(name) for name in dims)
    sums = ", ".join(f"SUM({connection.ops.quote_name(f)})" for f in facts)
    sets = ", ".join(
        "(" + ", ".join(connection.ops.quote_name(name) for name in by) + ")"
        for by in dict.fromkeys(by for by, _facts, _w in wanted)
    )
    sql = (
        f"SELECT GROUPING({columns}), {columns}, {sums} FROM {table} "  # noqa: S608
        f"WHERE {where} GROUP BY GROUPING SETS ({sets})"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        found = cursor.fetchall()
    for (by, wanted_facts, _whole), target in zip(wanted, into, strict=True):
        mask = sum(1 << (len(dims) - 1 - i) for i, name in enumerate(dims) if name not in by)
        positions = [1 + dims.index(name) for name in by]
        for row in found:
            if row[0] != mask:
                continue
            values = dict(zip(facts, row[1 + len(dims) :], strict=True))
            target[tuple(row[p] for p in positions)] = {f: values[f] or 0 for f in wanted_facts}


def _rollup_filters(rows: QuerySet, filters: ReportFilters) -> QuerySet:
    if filters.client:
        rows = rows.filter(client=filters.client)
    if filters.contract:
        rows = rows.filter(contract=filters.contract)
    if filters.site:
        rows = rows.filter(site=filters.site)
    if filters.queue:
        rows = rows.filter(queue_code=filters.queue.code)
    if filters.priority:
        rows = rows.filter(priority=filters.priority)
    return rows


def distinct_callers(filters: ReportFilters) -> dict[int, int]:
    """Per contract, the distinct end users plus the distinct referents of the cases opened
    in the period (not a sum of days: counted live). Distinct pairs hashed in one statement,
    cheaper than COUNT(DISTINCT) per group on a million cases."""
    cases = cases_in_scope(filters).order_by()
    parts, params = [], []
    for field in ("end_user_id", "referent_id"):
        pairs = cases.filter(**{f"{field}__isnull": False}).values("contract_id", field).distinct()
        sql, values = pairs.query.sql_with_params()
        parts.append(sql)
        params.extend(values)
    # The two selects are the ORM's (the filters travel as parameters).
    users, referents = parts
    union = f"SELECT * FROM ({users}) AS u UNION ALL SELECT * FROM ({referents}) AS r"  # noqa: S608
    query = f"SELECT p.contract_id, COUNT(*) FROM ({union}) AS p GROUP BY p.contract_id"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(query, params)
        return dict(cursor.fetchall())
