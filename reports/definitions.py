"""The registry of reports: one definition per report, used by its page, the API and every
export, so the three always show the same numbers.

A definition has a name, a title, typed columns and a row source taking the validated
filters, the user and `now`. Row sources aggregate in SQL (values + annotate, Count with
filter); what Python does afterwards works on groups, never on cases, so the number of
queries does not grow with the number of cases.
"""

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.db import connection
from django.db.models import (
    Avg,
    Count,
    DurationField,
    ExpressionWrapper,
    F,
    Max,
    OuterRef,
    Q,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models import Case as CaseWhen
from django.db.models.functions import Coalesce
from django.db.models.query import QuerySet
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from care.models import (
    OPEN_STATUSES,
    ArticleScope,
    CaseArticleUse,
    CaseCall,
    CaseStatus,
    Incident,
    IncidentCase,
    IncidentContact,
    IncidentStatus,
    SlaState,
)
from contracts.calendars import UNIT_TIME_ZONE
from contracts.models import (
    CLOSED_ORDER_STATES,
    Category,
    Client,
    ClosingCode,
    Contract,
    ContractOrder,
    EndUserPhone,
    LoyaltyItem,
    LoyaltyOutcome,
    OrderKind,
    OrderState,
    Priority,
)
from contracts.privacy import mask_phone, short_name
from reports import call_rollups, rollups
from reports.formats import Column
from reports.formats import ColumnType as T
from reports.forms import ReportFilters
from reports.selectors import (
    cases_in_scope,
    distinct_callers,
    fact_totals,
    handoffs_in_scope,
    operators_visible_to,
    presence_operators_visible_to,
)
from routing.call_measures import ANSWERED
from routing.models import Assignment, Call, Callback, OperatorProfile, Queue, Site
from routing.presence import BUCKETS as PRESENCE_BUCKETS
from routing.presence import Totals, presence_totals

CHUNK = 2000


class Rows:
    """What a report yields: a queryset of dicts (streamed in chunks) or a small list, with
    a per-row transform (labels, masking, rates) applied on the way out."""

    def __init__(
        self,
        source: QuerySet | list | call_rollups.Chained,
        transform: Callable[[dict], dict] | None = None,
    ):
        self.source = source
        self.transform = transform or (lambda row: row)

    def count(self) -> int:
        return len(self.source) if isinstance(self.source, list) else self.source.count()

    def __iter__(self) -> Iterator[dict]:
        if isinstance(self.source, list):
            items: Iterable = self.source
        else:
            items = self.source.iterator(chunk_size=CHUNK)
        return (self.transform(row) for row in items)

    def page(self, offset: int, limit: int) -> list[dict]:
        return [self.transform(row) for row in self.source[offset : offset + limit]]

    def __getitem__(self, index: slice) -> list[dict]:
        """Slices only (what Django's Paginator asks for)."""
        return [self.transform(row) for row in self.source[index]]


@dataclass(frozen=True)
class Chart:
    """The chart beside a report's table, drawn from the rows the table shows: one bar (or
    point) per row labelled by the `label` columns, one series per `series` column. A list
    of cases has no numbers to compare: `count_by` counts its rows per value of a column."""

    label: tuple[str, ...]
    series: tuple[str, ...] = ()
    kind: str = "bar"  # "bar", "stacked" or "line"
    count_by: str = ""
    percent: bool = False  # the series are percentages: the scale runs from 0 to 100
    # Rows with the same label are added up, largest first, the `top` largest drawn (a report
    # whose rows are finer than what managers compare: contact reasons by code).
    sum_by_label: bool = False
    top: int = 0


@dataclass(frozen=True)
class ReportDefinition:
    name: str
    title: object
    description: object
    columns: tuple[Column, ...]
    source: Callable[[ReportFilters, object, datetime], Rows] = field(repr=False)
    uses_period: bool = True
    chart: Chart | None = None

    def rows(self, filters: ReportFilters, user, now: datetime | None = None) -> Rows:
        return self.source(filters, user, now or timezone.now())

    def column_dicts(self) -> list[dict]:
        return [{"key": c.key, "label": str(c.label), "type": c.type} for c in self.columns]


REGISTRY: dict[str, ReportDefinition] = {}


def register(definition: ReportDefinition) -> ReportDefinition:
    REGISTRY[definition.name] = definition
    return definition


def get(name: str) -> ReportDefinition | None:
    return REGISTRY.get(name)


def all_definitions() -> list[ReportDefinition]:
    return list(REGISTRY.values())


# --- Helpers ---------------------------------------------------------------------------------


def translated(choices) -> dict[str, str]:
    """Value -> label in the active language. A report translates its labels once when it
    is asked for rows, not once per cell: a million-row export would call gettext millions
    of times."""
    return {value: str(label) for value, label in choices}


def queue_names() -> dict[str, str]:
    """Queue code -> name, in one query: pages and exports show a queue by its name ("Utenti
    mobile"), and exports keep the code in a column of its own for integrations."""
    return dict(Queue.objects.values_list("code", "name"))


def person_name(first: str | None, last: str | None, username: str | None) -> str:
    """A person as colleagues call them ("Luca Bianchi"); the username only if no name."""
    return f"{first or ''} {last or ''}".strip() or (username or "")


def percent(part, whole) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def can_see_personal_data(user) -> bool:
    return user.has_perm("config.view_unmasked_personal_data")


def _period_between(field_name: str, filters: ReportFilters) -> Q:
    return Q(**{f"{field_name}__gte": filters.start, f"{field_name}__lt": filters.end})


# --- cases -----------------------------------------------------------------------------------

CASE_COLUMNS = (
    Column("reference", _("Reference")),
    Column("opened_at", _("Opened at"), T.DATETIME),
    Column("client_name", _("Client")),
    Column("contract_code", _("Contract")),
    Column("category_name", _("Category")),
    Column("priority", _("Priority")),
    Column("status", _("Status")),
    Column("queue", _("Queue")),
    Column("assignee", _("Assignee")),
    Column("caller", _("Caller")),
    Column("caller_phone", _("Caller's phone"), T.PHONE),
    Column("first_response_state", _("First response SLA")),
    Column("first_response_due_at", _("First response due"), T.DATETIME),
    Column("resolution_state", _("Resolution SLA")),
    Column("resolution_due_at", _("Resolution due"), T.DATETIME),
    Column("resolved_at", _("Resolved at"), T.DATETIME),
    Column("reopen_count", _("Re-openings"), T.INT),
    # Codes last, so that the columns integrations read keep their places.
    Column("queue_code", _("Queue code")),
    Column("assignee_username", _("Assignee's username")),
)


def case_rows(filters: ReportFilters, user, now: datetime) -> Rows:
    first_phone = EndUserPhone.objects.filter(end_user=OuterRef("end_user")).order_by("id")
    source = (
        cases_in_scope(filters)
        .order_by("-opened_at", "-id")
        .values(
            "reference",
            "opened_at",
            "queue_code",
            "priority",
            "first_response_due_at",
            "resolution_due_at",
            "resolved_at",
            "reopen_count",
            raw_status=F("status"),
            raw_fr=F("first_response_state"),
            raw_res=F("resolution_state"),
            client_name=F("client__name"),
            contract_code=F("contract__code"),
            category_name=F("category__name"),
            assignee_username=F("assignee__username"),
            assignee_first=F("assignee__first_name"),
            assignee_last=F("assignee__last_name"),
            first=Coalesce("end_user__first_name", "referent__first_name"),
            last=Coalesce("end_user__last_name", "referent__last_name"),
            phone=Coalesce(
                Subquery(first_phone.values("number")[:1]), "referent__phone", Value("")
            ),
        )
    )
    masked = not can_see_personal_data(user)

    status_labels, sla_labels = translated(CaseStatus.choices), translated(SlaState.choices)
    queues = queue_names()

    def transform(row: dict) -> dict:
        first, last, phone = row.pop("first"), row.pop("last"), row.pop("phone")
        row["queue"] = queues.get(row["queue_code"], row["queue_code"])
        row["assignee"] = person_name(
            row.pop("assignee_first"), row.pop("assignee_last"), row["assignee_username"]
        )
        row["caller"] = short_name(first, last) if masked else f"{first} {last}".strip()
        row["caller_phone"] = mask_phone(phone) if masked else phone
        row["status"] = status_labels.get(row.pop("raw_status"), "")
        row["first_response_state"] = sla_labels.get(row.pop("raw_fr"), "")
        row["resolution_state"] = sla_labels.get(row.pop("raw_res"), "")
        return row

    return Rows(source, transform)


register(
    ReportDefinition(
        name="cases",
        title=_("Cases"),
        description=_("Every case opened in the period, with its SLA states and due times."),
        columns=CASE_COLUMNS,
        source=case_rows,
    )
)


# --- sla-compliance --------------------------------------------------------------------------


def by_contract(filters: ReportFilters, facts: tuple[str, ...]) -> list[dict]:
    """The rollup facts of the cases opened in the period per client and contract (named),
    in the order of the names: the rows of the aggregate reports by contract."""
    totals = [
        row
        for row in fact_totals(filters, by=("client_id", "contract_id"), facts=facts)
        if row["opened"]
    ]
    names = {
        contract: (client, code)
        for contract, code, client in Contract.objects.filter(
            id__in={row["contract_id"] for row in totals}
        ).values_list("id", "code", "client__name")
    }
    rows = [
        {
            "client_name": names.get(row["contract_id"], ("", ""))[0],
            "contract_code": names.get(row["contract_id"], ("", ""))[1],
            **row,
        }
        for row in totals
    ]
    return sorted(rows, key=lambda row: (row["client_name"], row["contract_code"]))


SLA_FACTS = ("fr_met", "fr_breached", "fr_open", "res_met", "res_breached", "res_open")
# The rollup reads of sla-compliance and of workload's period (for `selectors.read_together`).
SLA_SET = (("client_id", "contract_id"), ("opened", *SLA_FACTS), False)
WORKLOAD_SET = (("site_id", "queue_code"), ("resolved_on_day", "assigned"), False)


def sla_compliance_rows(filters: ReportFilters, user, now: datetime) -> Rows:
    source = [
        {
            "client_name": row["client_name"],
            "contract_code": row["contract_code"],
            "cases": row["opened"],
            **{fact: row[fact] for fact in SLA_FACTS},
        }
        for row in by_contract(filters, SLA_SET[1])
    ]

    def transform(row: dict) -> dict:
        row["fr_compliance"] = percent(row["fr_met"], row["fr_met"] + row["fr_breached"])
        row["res_compliance"] = percent(row["res_met"], row["res_met"] + row["res_breached"])
        return row

    return Rows(source, transform)


register(
    ReportDefinition(
        name="sla-compliance",
        title=_("SLA compliance"),
        description=_(
            "Cases opened in the period by client and contract: targets met, breached and "
            "still running, for first response and resolution. Compliance = met / (met + "
            "breached)."
        ),
        columns=(
            Column("client_name", _("Client")),
            Column("contract_code", _("Contract")),
            Column("cases", _("Cases"), T.INT),
            Column("fr_met", _("First response met"), T.INT),
            Column("fr_breached", _("First response breached"), T.INT),
            Column("fr_open", _("First response running"), T.INT),
            Column("fr_compliance", _("First response compliance %"), T.DECIMAL),
            Column("res_met", _("Resolution met"), T.INT),
            Column("res_breached", _("Resolution breached"), T.INT),
            Column("res_open", _("Resolution running"), T.INT),
            Column("res_compliance", _("Resolution compliance %"), T.DECIMAL),
        ),
        source=sla_compliance_rows,
        chart=Chart(
            label=("client_name", "contract_code"),
            series=("fr_compliance", "res_compliance"),
            percent=True,
        ),
    )
)


# --- breaches --------------------------------------------------------------------------------


def breach_rows(filters: ReportFilters, user, now: datetime) -> Rows:
    breached = Q(first_response_state=SlaState.BREACHED) | Q(resolution_state=SlaState.BREACHED)
    source = (
        cases_in_scope(filters)
        .filter(breached)
        .order_by("-opened_at", "-id")
        .values(
            "reference",
            "opened_at",
            "queue_code",
            "priority",
            "first_response_due_at",
            "first_response_at",
            "resolution_due_at",
            "resolved_at",
            raw_status=F("status"),
            raw_fr=F("first_response_state"),
            raw_res=F("resolution_state"),
            client_name=F("client__name"),
            contract_code=F("contract__code"),
            category_name=F("category__name"),
        )
    )

    status_labels, sla_labels = translated(CaseStatus.choices), translated(SlaState.choices)
    queues = queue_names()

    def transform(row: dict) -> dict:
        row["queue"] = queues.get(row["queue_code"], row["queue_code"])
        row["status"] = status_labels.get(row.pop("raw_status"), "")
        row["first_response_state"] = sla_labels.get(row.pop("raw_fr"), "")
        row["resolution_state"] = sla_labels.get(row.pop("raw_res"), "")
        return row

    return Rows(source, transform)


register(
    ReportDefinition(
        name="breaches",
        title=_("SLA breaches"),
        description=_("Cases opened in the period with a breached target."),
        columns=(
            Column("reference", _("Reference")),
            Column("opened_at", _("Opened at"), T.DATETIME),
            Column("client_name", _("Client")),
            Column("contract_code", _("Contract")),
            Column("category_name", _("Category")),
            Column("priority", _("Priority")),
            Column("status", _("Status")),
            Column("queue", _("Queue")),
            Column("first_response_state", _("First response SLA")),
            Column("first_response_due_at", _("First response due"), T.DATETIME),
            Column("first_response_at", _("First response at"), T.DATETIME),
            Column("resolution_state", _("Resolution SLA")),
            Column("resolution_due_at", _("Resolution due"), T.DATETIME),
            Column("resolved_at", _("Resolved at"), T.DATETIME),
            Column("queue_code", _("Queue code")),
        ),
        source=breach_rows,
        chart=Chart(label=("client_name",), count_by="client_name"),
    )
)


# --- backlog-ageing --------------------------------------------------------------------------

AGE_BUCKETS = (
    (timedelta(days=1), _("Less than 1 day")),
    (timedelta(days=3), _("1 to 3 days")),
    (timedelta(days=7), _("3 to 7 days")),
    (timedelta(days=30), _("7 to 30 days")),
    (None, _("More than 30 days")),
)


def backlog_ageing_rows(filters: ReportFilters, user, now: datetime) -> Rows:
    bucket = CaseWhen(
        *[
            When(opened_at__gt=now - age, then=Value(index))
            for index, (age, _label) in enumerate(AGE_BUCKETS)
            if age is not None
        ],
        default=Value(len(AGE_BUCKETS) - 1),
    )
    counts = {
        row["bucket"]: row
        for row in cases_in_scope(filters, period=False)
        .filter(status__in=OPEN_STATUSES)
        .annotate(bucket=bucket)
        .values("bucket")
        .annotate(
            total=Count("id"),
            **{p.lower(): Count("id", filter=Q(priority=p)) for p in Priority.values},
        )
        .order_by("bucket")
    }
    empty = {"total": 0, **{p.lower(): 0 for p in Priority.values}}
    source = [
        {"age": str(label), **{k: counts.get(i, empty)[k] for k in empty}}
        for i, (_age, label) in enumerate(AGE_BUCKETS)
    ]
    return Rows(source)


register(
    ReportDefinition(
        name="backlog-ageing",
        title=_("Backlog ageing"),
        description=_("Open cases now, by age and priority (the period does not apply)."),
        columns=(
            Column("age", _("Age")),
            *[Column(p.lower(), p, T.INT) for p in Priority.values],
            Column("total", _("Total"), T.INT),
        ),
        source=backlog_ageing_rows,
        chart=Chart(
            label=("age",), series=tuple(p.lower() for p in Priority.values), kind="stacked"
        ),
        uses_period=False,
    )
)


# --- workload --------------------------------------------------------------------------------


def workload_rows(filters: ReportFilters, user, now: datetime) -> Rows:
    """By site and queue for everyone; per operator only the user's own row and, for a
    supervisor, the operators of their site (employee data under Italian law)."""
    resolved_in_period = _period_between("resolved_at", filters)
    cases = cases_in_scope(filters, period=False).filter(
        Q(status__in=OPEN_STATUSES) | resolved_in_period
    )
    counts = {"open": Count("id", filter=Q(status__in=OPEN_STATUSES))}
    counts["resolved"] = Count("id", filter=resolved_in_period)
    assignments = Assignment.objects.filter(_period_between("at", filters))
    if filters.client:
        assignments = assignments.filter(case__client=filters.client)
    if filters.contract:
        assignments = assignments.filter(case__contract=filters.contract)
    if filters.site:
        assignments = assignments.filter(operator__operator_profile__site=filters.site)
    if filters.queue:
        assignments = assignments.filter(queue_code=filters.queue.code)
    if filters.priority:
        assignments = assignments.filter(case__priority=filters.priority)

    groups: dict[tuple, dict] = {}

    def group(site, queue, operator="") -> dict:
        key = (site or "", queue or "", operator)
        return groups.setdefault(
            key,
            {"site": key[0], "queue": key[1], "operator": operator, "open": 0, "assigned": 0}
            | {"resolved": 0},
        )

    # Open now from the live cases; resolved and assigned in the period from the rollups.
    open_now = cases_in_scope(filters, period=False).filter(status__in=OPEN_STATUSES)
    site_names: dict = {None: ""}
    for row in open_now.values(
        site_id=F("assignee__operator_profile__site"),
        site=F("assignee__operator_profile__site__name"),
        queue=F("queue_code"),
    ).annotate(n=Count("id")):
        site_names[row["site_id"]] = row["site"]
        group(row["site"], row["queue"])["open"] += row["n"]
    by, facts, _whole_months = WORKLOAD_SET
    period = fact_totals(filters, by=by, facts=facts)
    if unnamed := {row["site_id"] for row in period} - set(site_names):  # no open case there
        site_names |= dict(Site.objects.filter(id__in=unnamed).values_list("id", "name"))
    for row in period:
        if row["resolved_on_day"] or row["assigned"]:
            totals = group(site_names.get(row["site_id"]), row["queue_code"])
            totals["resolved"] += row["resolved_on_day"]
            totals["assigned"] += row["assigned"]
    by_site = sorted(groups.values(), key=lambda g: (g["site"] == "", g["site"], g["queue"]))

    visible = operators_visible_to(user).values("id")
    personal: dict[tuple, dict] = {}
    for row in (
        cases.filter(assignee__in=visible)
        .values(
            "assignee__username",
            site=F("assignee__operator_profile__site__name"),
            first=F("assignee__first_name"),
            last=F("assignee__last_name"),
        )
        .annotate(**counts)
    ):
        name = f"{row['first']} {row['last']}".strip() or row["assignee__username"]
        personal[(row["site"] or "", name)] = {
            "site": row["site"] or "",
            "queue": "",
            "operator": name,
            "open": row["open"],
            "assigned": 0,
            "resolved": row["resolved"],
        }
    for row in (
        assignments.filter(operator__in=visible)
        .values(
            "operator__username",
            site=F("operator__operator_profile__site__name"),
            first=F("operator__first_name"),
            last=F("operator__last_name"),
        )
        .annotate(n=Count("id"))
    ):
        name = f"{row['first']} {row['last']}".strip() or row["operator__username"]
        key = (row["site"] or "", name)
        entry = personal.setdefault(
            key,
            {"site": key[0], "queue": "", "operator": name, "open": 0, "resolved": 0},
        )
        entry["assigned"] = row["n"]
    operators = sorted(personal.values(), key=lambda g: (g["site"], g["operator"]))
    queues = queue_names()
    for entry in by_site + operators:
        entry["queue_code"] = entry["queue"]
        entry["queue"] = queues.get(entry["queue"], entry["queue"])
    return Rows(by_site + operators)


register(
    ReportDefinition(
        name="workload",
        title=_("Workload"),
        description=_(
            "Open cases now, cases assigned and resolved in the period, by site (of the "
            "assignee) and queue. Figures per operator appear only to the operator and to the "
            "supervisors of their site."
        ),
        columns=(
            Column("site", _("Site")),
            Column("queue", _("Queue")),
            Column("operator", _("Operator")),
            Column("open", _("Open now"), T.INT),
            Column("assigned", _("Assigned in the period"), T.INT),
            Column("resolved", _("Resolved in the period"), T.INT),
            Column("queue_code", _("Queue code")),
        ),
        source=workload_rows,
        chart=Chart(label=("site", "queue", "operator"), series=("open", "assigned", "resolved")),
    )
)


# --- first-contact-resolution ----------------------------------------------------------------


def fcr_rows(filters: ReportFilters, user, now: datetime) -> Rows:
    """With the calls the cases took (contacts per case: calls on which a case was opened or
    updated); the rollups count them per case, so the calls do not multiply the cases."""
    source = []
    for row in by_contract(filters, ("opened", "resolved", "fcr", "calls", "cases_on_calls")):
        handled = row["cases_on_calls"]
        source.append(
            {
                "client_name": row["client_name"],
                "contract_code": row["contract_code"],
                "cases": row["opened"],
                "resolved": row["resolved"],
                "fcr": row["fcr"],
                "fcr_rate": percent(row["fcr"], row["resolved"]),
                "calls": row["calls"],
                "calls_per_case": round(row["calls"] / handled, 2) if handled else None,
            }
        )
    return Rows(source)


register(
    ReportDefinition(
        name="first-contact-resolution",
        title=_("First-contact resolution"),
        description=_(
            "Cases opened in the period and resolved at the first contact, out of those "
            "resolved; the calls on which they were opened or updated, and how many calls a "
            "case handled on calls took."
        ),
        columns=(
            Column("client_name", _("Client")),
            Column("contract_code", _("Contract")),
            Column("cases", _("Cases"), T.INT),
            Column("resolved", _("Resolved"), T.INT),
            Column("fcr", _("Resolved at first contact"), T.INT),
            Column("fcr_rate", _("First-contact resolution %"), T.DECIMAL),
            Column("calls", _("Calls on these cases"), T.INT),
            Column("calls_per_case", _("Calls per case (handled on calls)"), T.DECIMAL),
        ),
        source=fcr_rows,
        chart=Chart(label=("client_name", "contract_code"), series=("fcr_rate",), percent=True),
    )
)


# --- contact-reasons --------------------------------------------------------------------------


def _resolved_in_period(filters: ReportFilters) -> QuerySet:
    """Cases resolved in the period (closed ones included), matching the filters."""
    return cases_in_scope(filters, period=False).filter(
        resolved_at__gte=filters.start, resolved_at__lt=filters.end
    )


def closing_code_names(codes: Iterable[str]) -> dict[str, str]:
    """Code -> name in the active language: a contract's own name wins over the national
    list's. A legacy code that no list knows has no name (shown as stored)."""
    language = get_language() or "it"
    names: dict[str, str] = {}
    rows = ClosingCode.objects.filter(code__in=set(codes)).order_by(
        F("version_id").desc(nulls_first=True)
    )
    for item in rows:
        names.setdefault(item.code, item.name_in(language))
    return names


def contact_reason_rows(filters: ReportFilters, user, now: datetime) -> Rows:
    """The cases are counted by ids first (a million cases over two years: grouping them by
    the names of their client, contract and category took 1.5 s), then the few groups are
    named and grouped by the names, in their order, as the report shows them."""
    ids = (
        _resolved_in_period(filters)
        .values("client_id", "contract_id", "category_id", "resolution_code")
        .annotate(
            resolved=Count("id"),
            fcr=Count("id", filter=Q(first_contact_resolution=True)),
        )
        .order_by()
    )
    inner, params = ids.query.sql_with_params()
    client, contract, category = (model._meta.db_table for model in (Client, Contract, Category))
    # The inner select is the ORM's (the filters travel as parameters); the outer one names
    # its groups by joins on primary keys.
    query = (
        "SELECT cl.name, co.code, ca.code, ca.name, g.resolution_code, "  # noqa: S608
        "CAST(SUM(g.resolved) AS BIGINT), CAST(SUM(g.fcr) AS BIGINT) "
        f"FROM ({inner}) AS g "
        f'JOIN "{client}" AS cl ON cl.id = g.client_id '
        f'JOIN "{contract}" AS co ON co.id = g.contract_id '
        f'JOIN "{category}" AS ca ON ca.id = g.category_id '
        "GROUP BY cl.name, co.code, ca.code, ca.name, g.resolution_code "
        "ORDER BY cl.name, co.code, ca.code, g.resolution_code"
    )
    keys = ("client_name", "contract_code", "category_code", "category_name", "closing_code")
    with connection.cursor() as cursor:
        cursor.execute(query, params)
        source = [
            dict(zip(keys, row[:5], strict=True)) | {"resolved": row[5], "fcr": row[6]}
            for row in cursor.fetchall()
        ]
    names = closing_code_names(row["closing_code"] for row in source)

    def transform(row: dict) -> dict:
        row["closing_name"] = names.get(row["closing_code"], "")
        row["fcr_rate"] = percent(row["fcr"], row["resolved"])
        return row

    return Rows(source, transform)


register(
    ReportDefinition(
        name="contact-reasons",
        title=_("Contact reasons"),
        description=_(
            "Why people called: the cases resolved in the period by client, contract, "
            "category and closing code, with the share resolved at the first contact."
        ),
        columns=(
            Column("client_name", _("Client")),
            Column("contract_code", _("Contract")),
            Column("category_code", _("Category")),
            Column("category_name", _("Category name")),
            Column("closing_code", _("Closing code")),
            Column("closing_name", _("Closing code name")),
            Column("resolved", _("Resolved"), T.INT),
            Column("fcr", _("Resolved at first contact"), T.INT),
            Column("fcr_rate", _("First-contact resolution %"), T.DECIMAL),
        ),
        source=contact_reason_rows,
        chart=Chart(
            label=("closing_name", "closing_code"), series=("resolved",), sum_by_label=True, top=12
        ),
    )
)


# --- integrity -------------------------------------------------------------------------------


def integrity_rows(filters: ReportFilters, user, now: datetime) -> Rows:
    """The counts from the rollups; the distinct callers (not a sum of days) counted live
    per contract (`selectors.distinct_callers`)."""
    facts = ("opened", "duplicates", "reopened", "reopenings", "merged")
    callers = distinct_callers(filters)
    source = [
        {
            "client_name": row["client_name"],
            "contract_code": row["contract_code"],
            "cases": row["opened"],
            "duplicates": row["duplicates"],
            "reopened": row["reopened"],
            "reopenings": row["reopenings"],
            "merged": row["merged"],
            "callers": callers.get(row["contract_id"], 0),
        }
        for row in by_contract(filters, facts)
    ]

    def transform(row: dict) -> dict:
        callers = row["callers"]
        row["duplicate_rate"] = percent(row["duplicates"], row["cases"])
        row["reopen_rate"] = percent(row["reopened"], row["cases"])
        row["cases_per_caller"] = round(row["cases"] / callers, 2) if callers else None
        return row

    return Rows(source, transform)


register(
    ReportDefinition(
        name="integrity",
        title=_("Case integrity"),
        description=_(
            "The ticket-inflation watch: cases opened despite a similar one (duplicate "
            "override), re-openings, merges and cases per distinct caller."
        ),
        columns=(
            Column("client_name", _("Client")),
            Column("contract_code", _("Contract")),
            Column("cases", _("Cases"), T.INT),
            Column("duplicates", _("Opened despite a similar case"), T.INT),
            Column("duplicate_rate", _("Duplicate rate %"), T.DECIMAL),
            Column("reopened", _("Reopened cases"), T.INT),
            Column("reopenings", _("Re-openings"), T.INT),
            Column("reopen_rate", _("Reopen rate %"), T.DECIMAL),
            Column("merged", _("Merged"), T.INT),
            Column("callers", _("Distinct callers"), T.INT),
            Column("cases_per_caller", _("Cases per caller"), T.DECIMAL),
        ),
        source=integrity_rows,
        chart=Chart(
            label=("client_name", "contract_code"),
            series=("duplicate_rate", "reopen_rate"),
            percent=True,
        ),
    )
)


# --- handoffs --------------------------------------------------------------------------------


def handoff_rows(filters: ReportFilters, user, now: datetime) -> Rows:
    turnaround = ExpressionWrapper(F("answered_at") - F("requested_at"), DurationField())
    source = list(
        handoffs_in_scope(filters)
        .values("unit_code")
        .annotate(
            unit_name=Max("unit_name"),
            sent=Count("id"),
            cases=Count("case", distinct=True),
            pending=Count("id", filter=Q(outcome="pending")),
            resolved=Count("id", filter=Q(outcome="resolved")),
            bounced=Count("id", filter=Q(outcome="bounced")),
            turnaround=Avg(turnaround, filter=Q(answered_at__isnull=False)),
        )
        .order_by("unit_code")
    )
    total_cases = cases_in_scope(filters).count() if source else 0

    def transform(row: dict) -> dict:
        duration = row.pop("turnaround")
        if duration is not None and not isinstance(duration, timedelta):
            duration = timedelta(microseconds=float(duration))
        row["turnaround_hours"] = (
            round(duration.total_seconds() / 3600, 2) if duration is not None else None
        )
        row["handoff_rate"] = percent(row["cases"], total_cases)
        return row

    return Rows(source, transform)


register(
    ReportDefinition(
        name="handoffs",
        title=_("Hand-offs"),
        description=_(
            "Hand-offs of the cases opened in the period, per unit: how many, their outcome, "
            "the share of cases forwarded and the average time to an answer."
        ),
        columns=(
            Column("unit_code", _("Unit")),
            Column("unit_name", _("Unit name")),
            Column("sent", _("Hand-offs"), T.INT),
            Column("cases", _("Cases forwarded"), T.INT),
            Column("handoff_rate", _("Hand-off rate %"), T.DECIMAL),
            Column("pending", _("Waiting"), T.INT),
            Column("resolved", _("Resolved by the unit"), T.INT),
            Column("bounced", _("Sent back"), T.INT),
            Column("turnaround_hours", _("Average turnaround (hours)"), T.DECIMAL),
        ),
        source=handoff_rows,
        chart=Chart(label=("unit_name",), series=("sent", "pending", "resolved", "bounced")),
    )
)


# --- orders ----------------------------------------------------------------------------------


def order_rows(filters: ReportFilters, user, now: datetime) -> Rows:
    orders = ContractOrder.objects.filter(_period_between("created_at", filters))
    if filters.client:
        orders = orders.filter(client=filters.client)
    if filters.contract:
        orders = orders.filter(contract=filters.contract)
    cycle = ExpressionWrapper(F("closed_at") - F("created_at"), DurationField())
    completed = Q(state=OrderState.COMPLETED)
    source = list(
        orders.values("kind")
        .annotate(
            orders=Count("id"),
            open=Count("id", filter=~Q(state__in=CLOSED_ORDER_STATES)),
            completed=Count("id", filter=completed),
            stopped=Count("id", filter=Q(state__in=[OrderState.REJECTED, OrderState.CANCELLED])),
            late=Count("id", filter=Q(is_late=True)),
            cycle=Avg(cycle, filter=completed & Q(closed_at__isnull=False)),
        )
        .order_by("kind")
    )

    kind_labels = translated(OrderKind.choices)

    def transform(row: dict) -> dict:
        duration = row.pop("cycle")
        if duration is not None and not isinstance(duration, timedelta):
            duration = timedelta(microseconds=float(duration))
        row["cycle_days"] = round(duration.total_seconds() / 86400, 2) if duration else None
        row["late_rate"] = percent(row["late"], row["orders"])
        row["kind"] = kind_labels.get(row["kind"], row["kind"])
        return row

    return Rows(source, transform)


register(
    ReportDefinition(
        name="orders",
        title=_("Contract orders"),
        description=_(
            "Contract orders created in the period by kind: open, completed, rejected or "
            "cancelled, late, and the average cycle time of the completed ones."
        ),
        columns=(
            Column("kind", _("Kind")),
            Column("orders", _("Orders"), T.INT),
            Column("open", _("Open"), T.INT),
            Column("completed", _("Completed"), T.INT),
            Column("stopped", _("Rejected or cancelled"), T.INT),
            Column("late", _("Late"), T.INT),
            Column("late_rate", _("Late %"), T.DECIMAL),
            Column("cycle_days", _("Average cycle time (days)"), T.DECIMAL),
        ),
        source=order_rows,
        chart=Chart(label=("kind",), series=("open", "completed", "stopped", "late")),
    )
)


# --- loyalty ---------------------------------------------------------------------------------


def loyalty_rows(filters: ReportFilters, user, now: datetime) -> Rows:
    items = LoyaltyItem.objects.filter(
        valid_to__gte=filters.date_from, valid_to__lte=filters.date_to
    )
    if filters.client:
        items = items.filter(client=filters.client)
    if filters.contract:
        items = items.filter(contract=filters.contract)
    source = list(
        items.values(client_name=F("client__name"))
        .annotate(
            items=Count("id"),
            **{o: Count("id", filter=Q(outcome=o)) for o in LoyaltyOutcome.values},
        )
        .order_by("client_name")
    )

    def transform(row: dict) -> dict:
        kept = row[LoyaltyOutcome.RENEWED] + row[LoyaltyOutcome.RENEGOTIATED]
        decided = kept + row[LoyaltyOutcome.LOST]
        row["retention"] = percent(kept, decided)
        return row

    return Rows(source, transform)


register(
    ReportDefinition(
        name="loyalty",
        title=_("Loyalty outcomes"),
        description=_(
            "Contracts expiring in the period on the loyalty worklist, by client and outcome. "
            "Retention = (renewed + renegotiated) / decided."
        ),
        columns=(
            Column("client_name", _("Client")),
            Column("items", _("Expiring contracts"), T.INT),
            *[Column(o.value, o.label, T.INT) for o in LoyaltyOutcome],
            Column("retention", _("Retention %"), T.DECIMAL),
        ),
        source=loyalty_rows,
        chart=Chart(label=("client_name",), series=tuple(LoyaltyOutcome.values), kind="stacked"),
    )
)


# --- calls and callbacks ---------------------------------------------------------------------

UNIT_ZONE = ZoneInfo(UNIT_TIME_ZONE)


def _calls_in_scope(filters: ReportFilters):
    calls = Call.objects.filter(_period_between("offered_at", filters))
    if filters.queue:
        calls = calls.filter(queue_code=filters.queue.code)
    if filters.site:
        calls = calls.filter(operator__operator_profile__site=filters.site)
    if filters.client:
        # Once per call, however many of its end users are the client's (no join to count).
        calls = calls.filter(call_rollups.of_client(filters.client))
    return calls


def live_call_rows(filters: ReportFilters, user, now: datetime) -> Rows:
    """The calls report counted from the calls alone (its definition: the rollup-based
    `call_rows` gives the same rows)."""
    measures = call_rollups.current_measures()
    source = list(
        _calls_in_scope(filters)
        .annotate(**call_rollups.half_hour())
        .values("hour", "late", queue=F("queue_code"))
        .annotate(
            offered=Count("id"),
            wait=Avg("wait_seconds", filter=ANSWERED),
            **measures.aggregates(),
        )
        .order_by("hour", "late", "queue")
    )

    queues = queue_names()

    def transform(row: dict) -> dict:
        return {
            "half_hour": call_rollups.half_hour_start(row.pop("hour"), row.pop("late")),
            "queue": queues.get(row["queue"], row["queue"]),
            "queue_code": row["queue"],
            "offered": row["offered"],
            "answered": row["answered"],
            "abandoned": row["abandoned"],
            "short_abandoned": row["short_abandoned"],
            "missed": row["missed"],
            "service_level": measures.service_level(row, row["queue"]),
            "average_wait": None if row["wait"] is None else round(row["wait"]),
            "average_handle": measures.average_handle(row),
        }

    return Rows(source, transform)


def call_rows(filters: ReportFilters, user, now: datetime) -> Rows:
    """Per half hour (Rome) and queue, with the wallboard's measures (`routing.call_measures`)
    and the average wait of the answered calls: the final days from the calls rollup, the
    others live (`reports.call_rollups`); averages from sums."""
    queues = queue_names()

    def average(total: int, count: int) -> int | None:
        return round(total / count) if count else None

    def transform(row: dict) -> dict:
        counted = row["answered"] + row["abandoned"] + row["missed"]
        return {
            "half_hour": row["half_hour"].astimezone(UNIT_ZONE),
            "queue": queues.get(row["queue_code"], row["queue_code"]),
            "queue_code": row["queue_code"],
            "offered": row["offered"],
            "answered": row["answered"],
            "abandoned": row["abandoned"],
            "short_abandoned": row["short_abandoned"],
            "missed": row["missed"],
            "service_level": percent(row["in_time"], counted),
            "average_wait": average(row["wait_sum"], row["wait_count"]),
            "average_handle": average(row["handle_sum"], row["handle_count"]),
        }

    return Rows(call_rollups.call_groups(filters, rollups.final_through()), transform)


register(
    ReportDefinition(
        name="calls",
        title=_("Calls"),
        description=_(
            "Calls offered per half hour and queue: answered, abandoned (after 5 s or more; "
            "shorter ones apart), missed, the service level (answered within the queue's "
            "threshold among answered, abandoned and missed) and the average wait and handle "
            "time (talk plus after-call work), as the wallboard counts them."
        ),
        columns=(
            Column("half_hour", _("Half hour"), T.DATETIME),
            Column("queue", _("Queue")),
            Column("offered", _("Offered"), T.INT),
            Column("answered", _("Answered"), T.INT),
            Column("abandoned", _("Abandoned"), T.INT),
            Column("short_abandoned", _("Abandoned within 5 s"), T.INT),
            Column("missed", _("Missed"), T.INT),
            Column("service_level", _("Service level %"), T.DECIMAL),
            Column("average_wait", _("Average wait (s)"), T.INT),
            Column("average_handle", _("Average handle time (s)"), T.INT),
            Column("queue_code", _("Queue code")),
        ),
        source=call_rows,
        chart=Chart(
            label=("half_hour", "queue"), series=("answered", "abandoned", "missed"), kind="stacked"
        ),
    )
)


def callback_rows(filters: ReportFilters, user, now: datetime) -> Rows:
    """Per day and queue: callbacks made, reached in time (by their due instant), reached
    late, not reached, still open; and how many calls the callers had tried."""
    callbacks = Callback.objects.filter(day__gte=filters.date_from, day__lte=filters.date_to)
    if filters.queue:
        callbacks = callbacks.filter(queue_code=filters.queue.code)
    if filters.client:
        callbacks = callbacks.filter(client=filters.client)
    if filters.contract:
        callbacks = callbacks.filter(contract=filters.contract)
    reached = Q(status=Callback.Status.REACHED)
    source = list(
        callbacks.values("day", queue=F("queue_code"))
        .annotate(
            callbacks=Count("id"),
            reached_in_time=Count("id", filter=reached & Q(done_at__lte=F("due_at"))),
            reached_late=Count("id", filter=reached & Q(done_at__gt=F("due_at"))),
            unreached=Count("id", filter=Q(status=Callback.Status.UNREACHED)),
            open=Count("id", filter=Q(status__in=[Callback.Status.WAITING, Callback.Status.TAKEN])),
            caller_attempts=Sum("attempts_by_caller"),
        )
        .order_by("day", "queue")
    )

    queues = queue_names()

    def transform(row: dict) -> dict:
        row["queue_code"] = row["queue"]
        row["queue"] = queues.get(row["queue"], row["queue"])
        row["met_rate"] = percent(row["reached_in_time"], row["callbacks"] - row["open"])
        return row

    return Rows(source, transform)


register(
    ReportDefinition(
        name="callbacks",
        title=_("Callbacks"),
        description=_(
            "Known callers whose call was abandoned or missed, one callback per caller and day: "
            "reached by the due time, late, not reached, still open. Met % = reached in time "
            "out of those done."
        ),
        columns=(
            Column("day", _("Day"), T.DATE),
            Column("queue", _("Queue")),
            Column("callbacks", _("Callbacks"), T.INT),
            Column("caller_attempts", _("Calls from the callers"), T.INT),
            Column("reached_in_time", _("Reached in time"), T.INT),
            Column("reached_late", _("Reached late"), T.INT),
            Column("unreached", _("Not reached"), T.INT),
            Column("open", _("Still open"), T.INT),
            Column("met_rate", _("Met %"), T.DECIMAL),
            Column("queue_code", _("Queue code")),
        ),
        source=callback_rows,
        chart=Chart(
            label=("day", "queue"),
            series=("reached_in_time", "reached_late", "unreached", "open"),
            kind="stacked",
        ),
    )
)


# --- incidents -------------------------------------------------------------------------------


def incident_rows(filters: ReportFilters, user, now: datetime) -> Rows:
    """Incident-linked cases apart from ordinary ones, so a surge is not read as ticket
    inflation: one row per incident active in the period (its duration, the cases linked to
    it, those it resolved, the information-only contacts and the calls it caused), then one
    row of the period's cases linked to no incident. Grouped counts: a fixed number of
    queries whatever the number of incidents or cases."""
    incidents = list(
        Incident.objects.filter(started_at__lt=filters.end)
        .filter(Q(resolved_at__isnull=True) | Q(resolved_at__gte=filters.start))
        .values("id", "title", "status", "started_at", "resolved_at")
        .order_by("started_at", "id")
    )
    ids = [incident["id"] for incident in incidents]
    scoped = cases_in_scope(filters, period=False).values("id")
    in_period = _period_between("case__opened_at", filters)
    links = {
        row["incident_id"]: row
        for row in IncidentCase.objects.filter(
            incident_id__in=ids, unlinked_at__isnull=True, case__in=scoped
        )
        .values("incident_id")
        .annotate(
            cases=Count("id"),
            cases_in_period=Count("id", filter=in_period),
            resolved=Count(
                "id", filter=Q(case__status__in=[CaseStatus.RESOLVED, CaseStatus.CLOSED])
            ),
        )
        .order_by()
    }
    contacts_in_scope = IncidentContact.objects.filter(incident_id__in=ids)
    if filters.client:
        contacts_in_scope = contacts_in_scope.filter(client=filters.client)
    contacts = {
        row["incident_id"]: row
        for row in contacts_in_scope.values("incident_id")
        .annotate(
            contacts=Count("id"),
            calls=Count("call_id", distinct=True, filter=~Q(call_id="")),
        )
        .order_by()
    }
    case_calls = dict(
        CaseCall.objects.filter(
            case__incident_links__incident_id__in=ids,
            case__incident_links__unlinked_at__isnull=True,
            case__in=scoped,
        )
        .values("case__incident_links__incident_id")
        .annotate(calls=Count("call_id", distinct=True))
        .values_list("case__incident_links__incident_id", "calls")
        .order_by()
    )
    # The period's cases from the rollups, less the few linked to an incident now.
    opened = sum(row["opened"] for row in fact_totals(filters, by=(), facts=("opened",)))
    linked_now = IncidentCase.objects.filter(unlinked_at__isnull=True).values("case_id")
    ordinary = opened - cases_in_scope(filters).filter(id__in=linked_now).count()
    statuses = translated(IncidentStatus.choices)
    source = []
    for incident in incidents:
        linked = links.get(incident["id"], {})
        contact = contacts.get(incident["id"], {})
        end = incident["resolved_at"] or now
        source.append(
            {
                "incident": f"INC-{incident['id']} {incident['title']}",
                "status": statuses.get(incident["status"], incident["status"]),
                "started_at": incident["started_at"],
                "resolved_at": incident["resolved_at"],
                "duration_minutes": max(
                    0, round((end - incident["started_at"]).total_seconds() / 60)
                ),
                "cases": linked.get("cases", 0),
                "cases_in_period": linked.get("cases_in_period", 0),
                "resolved": linked.get("resolved", 0),
                "contacts": contact.get("contacts", 0),
                "calls": case_calls.get(incident["id"], 0) + contact.get("calls", 0),
            }
        )
    source.append(
        {
            "incident": str(_("Cases not linked to an incident")),
            "status": "",
            "started_at": None,
            "resolved_at": None,
            "duration_minutes": None,
            "cases": None,
            "cases_in_period": ordinary,
            "resolved": None,
            "contacts": None,
            "calls": None,
        }
    )
    return Rows(source)


register(
    ReportDefinition(
        name="incidents",
        title=_("Major incidents"),
        description=_(
            "Each major incident active in the period: its duration, the cases linked to it "
            "(opened in the period or before), those resolved, the contacts logged as "
            "information only and the calls it caused; the last row counts the period's "
            "cases linked to no incident, so that a surge is not read as ticket inflation."
        ),
        columns=(
            Column("incident", _("Incident")),
            Column("status", _("Status")),
            Column("started_at", _("Started at"), T.DATETIME),
            Column("resolved_at", _("Resolved at"), T.DATETIME),
            Column("duration_minutes", _("Duration (minutes)"), T.INT),
            Column("cases", _("Linked cases"), T.INT),
            Column("cases_in_period", _("Cases opened in the period"), T.INT),
            Column("resolved", _("Resolved or closed"), T.INT),
            Column("contacts", _("Information only"), T.INT),
            Column("calls", _("Calls"), T.INT),
        ),
        source=incident_rows,
        chart=Chart(label=("incident",), series=("cases_in_period", "contacts", "calls")),
    )
)


# --- articles (knowledge base) ---------------------------------------------------------------


def article_rows(filters: ReportFilters, user, now: datetime) -> Rows:
    """Which articles solve cases: per article used from the suggestions in the period
    (opened or inserted into a note, at intake or on a case), the uses, the cases they were
    used on, and those of the cases resolved after a use. One grouped query."""
    uses = CaseArticleUse.objects.filter(_period_between("at", filters))
    if filters.client:
        uses = uses.filter(contract__client=filters.client)
    if filters.contract:
        uses = uses.filter(contract=filters.contract)
    source = (
        uses.values("article_id", "article__title", "article__scope")
        .annotate(
            opened=Count("id", filter=Q(kind=CaseArticleUse.Kind.OPENED)),
            inserted=Count("id", filter=Q(kind=CaseArticleUse.Kind.INSERTED)),
            cases=Count("case", distinct=True),
            resolved_after=Count("case", distinct=True, filter=Q(case__resolved_at__gte=F("at"))),
        )
        .order_by("-resolved_after", "-cases", "article__title", "article_id")
    )
    scopes = translated(ArticleScope.choices)

    def transform(row: dict) -> dict:
        return {
            "article": row["article__title"],
            "scope": scopes.get(row["article__scope"], row["article__scope"]),
            "used": row["opened"] + row["inserted"],
            "opened": row["opened"],
            "inserted": row["inserted"],
            "cases": row["cases"],
            "resolved_after": row["resolved_after"],
            "solve_rate": percent(row["resolved_after"], row["cases"]),
        }

    return Rows(source, transform)


register(
    ReportDefinition(
        name="articles",
        title=_("Knowledge-base articles"),
        description=_(
            "Each article used from the suggestions in the period: how often it was opened or "
            "inserted into a note, on how many cases, and how many of those cases were "
            "resolved after it was used (the articles that solve cases first)."
        ),
        columns=(
            Column("article", _("Article")),
            Column("scope", _("Scope")),
            Column("used", _("Times used"), T.INT),
            Column("opened", _("Opened"), T.INT),
            Column("inserted", _("Inserted into a note"), T.INT),
            Column("cases", _("Cases"), T.INT),
            Column("resolved_after", _("Cases resolved after use"), T.INT),
            Column("solve_rate", _("Resolved after use (%)"), T.DECIMAL),
        ),
        source=article_rows,
        chart=Chart(label=("article",), series=("cases", "resolved_after")),
    )
)


# --- presence --------------------------------------------------------------------------------


def presence_rows(filters: ReportFilters, user, now: datetime) -> Rows:
    """Time available, busy, away and offline in the period (routing.presence), summed per
    site (the operator's site now), per queue (the operators who took at least one of the
    queue's cases in the period, each counted whole in every such queue) and, for the
    operator's supervisors and administrators only, per operator. The site and queue filters
    narrow the operators counted; the client, contract and priority filters do not apply."""
    profiles = OperatorProfile.objects.all()
    if filters.site:
        profiles = profiles.filter(site=filters.site)
    takers = Assignment.objects.filter(_period_between("at", filters)).exclude(operator=None)
    if filters.queue:
        takers = takers.filter(queue_code=filters.queue.code)
        profiles = profiles.filter(user__in=takers.values("operator_id"))
    period = presence_totals(
        profiles, date_from=filters.date_from, date_to=filters.date_to, now=now
    )
    people = {
        row[0]: row[1:]
        for row in profiles.values_list(
            "id",
            "user_id",
            "site__name",
            "user__first_name",
            "user__last_name",
            "user__username",
        )
    }
    totals = {profile_id: period.get(profile_id, Totals()) for profile_id in people}
    profile_of_user = {values[0]: profile_id for profile_id, values in people.items()}

    def row(site: str, queue_code: str, operator: str, members: list[int]) -> dict:
        whole = Totals()
        for profile_id in members:
            whole.add(totals[profile_id])
        return {
            "site": site,
            "queue": queue_code,
            "queue_code": queue_code,
            "operator": operator,
            "operators": len(members),
            **{f"{bucket}_h": whole.hours(bucket) for bucket in PRESENCE_BUCKETS},
            "logged_in_h": round(whole.logged_in / 3600, 2),
            "occupancy": whole.occupancy,
        }

    sites: dict[str, list[int]] = defaultdict(list)
    for profile_id, values in people.items():
        sites[values[1] or ""].append(profile_id)
    queues: dict[str, list[int]] = defaultdict(list)
    for queue_code, user_id in takers.values_list("queue_code", "operator_id").distinct():
        if user_id in profile_of_user:
            queues[queue_code].append(profile_of_user[user_id])
    rows = [row(site, "", "", members) for site, members in sorted(sites.items())]
    rows += [row("", code, "", members) for code, members in sorted(queues.items())]
    visible = set(presence_operators_visible_to(user).values_list("id", flat=True))
    for profile_id, (user_id, site, first, last, username) in sorted(
        people.items(), key=lambda item: (item[1][1] or "", item[1][3] or "", item[1][2] or "")
    ):
        if user_id in visible:
            rows.append(row(site or "", "", person_name(first, last, username), [profile_id]))
    names = queue_names()
    for entry in rows:
        entry["queue"] = names.get(entry["queue"], entry["queue"])
    return Rows(rows)


register(
    ReportDefinition(
        name="presence",
        title=_("Presence and adherence"),
        description=_(
            "Hours available, busy (on a case, on a call or in after-call work), away and "
            "offline in the period, per site (the operators' site now) and per queue (the "
            "operators who took at least one of its cases in the period; one operator counts "
            "in each queue they took cases from). Occupancy = busy / (available + busy). Rows "
            "per operator appear only to the operators' supervisors and to administrators."
        ),
        columns=(
            Column("site", _("Site")),
            Column("queue", _("Queue")),
            Column("operator", _("Operator")),
            Column("operators", _("Operators"), T.INT),
            Column("available_h", _("Available (h)"), T.DECIMAL),
            Column("busy_h", _("Busy (h)"), T.DECIMAL),
            Column("away_h", _("Away (h)"), T.DECIMAL),
            Column("offline_h", _("Offline (h)"), T.DECIMAL),
            Column("logged_in_h", _("Signed in (h)"), T.DECIMAL),
            Column("occupancy", _("Occupancy %"), T.DECIMAL),
            Column("queue_code", _("Queue code")),
        ),
        source=presence_rows,
        chart=Chart(
            label=("site", "queue", "operator"),
            series=("available_h", "busy_h", "away_h"),
            kind="stacked",
        ),
    )
)
