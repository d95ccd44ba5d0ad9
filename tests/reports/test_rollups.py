"""Daily rollups (#25): kept incrementally they hold the same rows as rebuilt from scratch,
and the reports that read them give the numbers of the live definitions.

The history is random but seeded: cases opened over six days on two clients' contracts,
resolved (some at first contact), reopened days later, handed off and answered, reassigned
between operators of two sites, with SLA recomputes and rollup refreshes in between, all
through the real services on a clock that moves with them."""

import contextlib
import random
from datetime import date, timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db.models import Count, Exists, F, OuterRef, Q, Sum
from django.db.models.functions import Coalesce, TruncDate
from django.urls import reverse
from django.utils import timezone

from care import services
from care.models import (
    OPEN_STATUSES,
    Case,
    CaseStatus,
    Handoff,
    Incident,
    IncidentCase,
    SlaState,
)
from care.sla import recompute_sla_states
from config import roles
from config.bench import back_office
from config.bench import data as bench_data
from config.bench import rollups as rollups_step
from config.errors import PresidioError
from reports import definitions, rollups, selectors
from reports.forms import ReportFilters
from reports.models import DailyRollup, RollupRefresh
from routing import services as routing_services
from routing.models import Assignment, Queue, Site
from tests.care import conftest as care_fixtures
from tests.factories import CLOSING_CODE, EndUserFactory
from tests.routing.conftest import make_profile

pytestmark = pytest.mark.django_db

contract_with_handoff_units = care_fixtures.contract_with_handoff_units
other_client_contract = care_fixtures.other_client_contract
open_case_for = care_fixtures.open_case_for

DAYS = 6
STEP = timedelta(hours=3)
ACTIONS = ("open",) * 3 + ("resolve",) * 2 + ("reopen", "handoff", "answer", "reassign", "sla")


def rollup_rows() -> set[tuple]:
    return {
        (
            row.whole_month,
            *(getattr(row, name) for name in rollups.DIMS),
            *(round(getattr(row, fact), 3) for fact in rollups.FACTS),
        )
        for row in DailyRollup.objects.all()
    }


class History:
    """Random work on the services, on a clock that follows it."""

    def __init__(self, seed, *, contracts, operators, supervisor, open_case_for, clock):
        self.rng = random.Random(seed)
        self.contracts = contracts
        self.operators = operators
        self.supervisor = supervisor
        self.open_case_for = open_case_for
        self.clock = clock
        self.users = {c.pk: [EndUserFactory(client=c.client)] for c in contracts}

    def cases(self, **lookups) -> list[Case]:
        return list(Case.objects.filter(**lookups).order_by("id"))

    def act(self, at) -> None:
        self.clock.move_to(at)
        rng = self.rng
        action = rng.choice(ACTIONS)
        # A move the case's state does not allow writes nothing.
        with contextlib.suppress(PresidioError):
            getattr(self, action)(at)

    def open(self, at) -> None:
        contract = self.rng.choice(self.contracts)
        again = self.rng.random() < 0.2  # the same caller again: a duplicate, with its reason
        self.open_case_for(
            self.rng.choice(self.users[contract.pk]) if again else self.user(contract),
            contract_code=contract.code,
            priority=self.rng.choice(["P1", "P2", "P3", "P4"]),
            duplicate_override_reason="Altra SIM" if again else "",
            now=at,
        )

    def user(self, contract):
        user = EndUserFactory(client=contract.client)
        self.users[contract.pk].append(user)
        return user

    def resolve(self, at) -> None:
        open_cases = self.cases(status__in=OPEN_STATUSES, handoffs__outcome__isnull=True)
        if open_cases:
            services.transition_case(
                actor=self.rng.choice(self.operators),
                case=self.rng.choice(open_cases),
                to=CaseStatus.RESOLVED,
                resolution_code=CLOSING_CODE,
                first_contact_resolution=self.rng.random() < 0.5,
                override_reason="Storia di prova",
                now=at,
            )

    def reopen(self, at) -> None:
        resolved = self.cases(status=CaseStatus.RESOLVED)
        if resolved:
            services.reopen_case(
                actor=self.operators[0],
                case=self.rng.choice(resolved),
                reason="Non risolto",
                override_reason="Storia di prova",
                now=at,
            )

    def handoff(self, at) -> None:
        candidates = self.cases(
            status__in=OPEN_STATUSES, contract=self.contracts[0], handoffs__isnull=True
        )
        if candidates:
            services.send_handoff(
                actor=self.operators[0],
                case=self.rng.choice(candidates),
                unit_code="assurance",
                request="Verifica cella",
                override_reason="Storia di prova",
                now=at,
            )

    def answer(self, at) -> None:
        pending = list(Handoff.objects.filter(outcome=Handoff.Outcome.PENDING).order_by("id"))
        if pending:
            resolved = self.rng.random() < 0.5
            services.answer_handoff(
                actor=self.operators[0],
                handoff=self.rng.choice(pending),
                answer="Fatto",
                outcome=Handoff.Outcome.RESOLVED if resolved else Handoff.Outcome.BOUNCED,
                resolution_code=CLOSING_CODE if resolved else "",
                override_reason="Storia di prova",
                now=at,
            )

    def reassign(self, at) -> None:
        open_cases = self.cases(status__in=OPEN_STATUSES)
        if open_cases:
            routing_services.reassign_case(
                actor=self.supervisor,
                case=self.rng.choice(open_cases),
                operator=self.rng.choice(self.operators),
                override_reason="Storia di prova",
                now=at,
            )

    def sla(self, at) -> None:
        recompute_sla_states(now=at)


@pytest.fixture
def history(
    contract_with_handoff_units,
    other_client_contract,
    open_case_for,
    operator,
    supervisor,
    user_factory,
    time_machine,
    now,
):
    """`history(seed, refresh=True)`: six days of random work up to `now`, the rollups
    refreshed every few steps (or never)."""
    milano = Site.objects.create(code="mi", name="Milano", province="MI")
    palermo = Site.objects.create(code="pa", name="Palermo", province="PA")
    other = user_factory("op.bianchi", roles.OPERATOR, first_name="Luca", last_name="Bianchi")
    start = now - timedelta(days=DAYS)
    for user, site in ((operator, milano), (supervisor, milano), (other, palermo)):
        profile = make_profile(user, now=start - timedelta(hours=1))
        profile.site = site
        profile.save(update_fields=["site"])
    Queue.objects.get_or_create(code="generale", defaults={"name": "Generale"})

    def run(seed: int, *, refresh: bool = True) -> None:
        work = History(
            seed,
            contracts=[contract_with_handoff_units, other_client_contract],
            operators=[operator, other],
            supervisor=supervisor,
            open_case_for=open_case_for,
            clock=time_machine,
        )
        at = start
        step = 0
        while at < now:
            for _ in range(work.rng.randint(1, 3)):
                work.act(at + timedelta(minutes=work.rng.randint(0, 170)))
            step += 1
            at = start + step * STEP
            if refresh and step % 3 == 1:
                time_machine.move_to(at)
                rollups.refresh_rollups(now=at)
        for minutes in (90, 60, 30):  # today's cases, counted live by the reports
            work.clock.move_to(now - timedelta(minutes=minutes))
            work.open(now - timedelta(minutes=minutes))
        work.act(now - timedelta(minutes=10))
        time_machine.move_to(now)
        recompute_sla_states(now=now)
        if refresh:
            rollups.refresh_rollups(now=now)

    return run


@pytest.mark.parametrize("seed", [1, 7, 42])
def test_the_rollups_kept_incrementally_equal_the_rollups_rebuilt(history, seed, now):
    history(seed)
    assert Case.objects.filter(reopen_count__gt=0).exists()
    assert Handoff.objects.exclude(outcome=Handoff.Outcome.PENDING).exists()
    assert RollupRefresh.objects.filter(kind="refresh").count() > 5
    incremental = rollup_rows()
    opened = len(rollups.DIMS) + 1  # whole_month, the dimensions, then the first fact
    assert sum(row[opened] for row in incremental if not row[0]) == Case.objects.count()
    assert sum(row[opened] for row in incremental if row[0]) == Case.objects.count()

    DailyRollup.objects.all().delete()
    result = rollups.rebuild_rollups(now=now)
    assert result.days >= DAYS
    assert rollup_rows() == incremental


def test_a_late_change_to_an_old_case_corrects_its_days(history, now, operator, time_machine):
    history(3)
    old = (
        Case.objects.filter(opened_at__lt=now - timedelta(days=3), status=CaseStatus.RESOLVED)
        .order_by("id")
        .first()
    )
    opened_day, resolved_day = (
        timezone.localdate(old.opened_at),
        timezone.localdate(old.resolved_at),
    )

    def counted() -> tuple:
        return (
            DailyRollup.objects.filter(day=opened_day).aggregate(n=Sum("resolved"))["n"],
            DailyRollup.objects.filter(day=resolved_day).aggregate(n=Sum("resolved_on_day"))["n"],
        )

    before = counted()
    later = now + timedelta(minutes=30)
    time_machine.move_to(later)
    services.reopen_case(
        actor=operator, case=old, reason="Non risolto", override_reason="Prova", now=later
    )
    rollups.refresh_rollups(now=later + timedelta(minutes=5))
    assert counted() == (before[0] - 1, before[1] - 1)
    incremental = rollup_rows()
    DailyRollup.objects.all().delete()
    rollups.rebuild_rollups(now=later + timedelta(minutes=5))
    assert rollup_rows() == incremental


# --- the reports read from the rollups give the live definitions' numbers ------------------


def live_by_contract(filters: ReportFilters) -> dict[tuple, dict]:
    """The aggregate reports' figures per client and contract as the live definitions
    counted them before the rollups (cases opened in the period, their state now)."""
    cases = selectors.cases_in_scope(filters)
    return {
        (row.pop("client_name"), row.pop("contract_code")): row
        for row in cases.values(client_name=F("client__name"), contract_code=F("contract__code"))
        .annotate(
            cases=Count("id"),
            fr_met=Count("id", filter=Q(first_response_state=SlaState.MET)),
            fr_breached=Count("id", filter=Q(first_response_state=SlaState.BREACHED)),
            fr_open=Count("id", filter=Q(first_response_state__in=["ok", "at_risk"])),
            res_met=Count("id", filter=Q(resolution_state=SlaState.MET)),
            res_breached=Count("id", filter=Q(resolution_state=SlaState.BREACHED)),
            res_open=Count("id", filter=Q(resolution_state__in=["ok", "at_risk"])),
            resolved=Count("id", filter=Q(resolved_at__isnull=False)),
            fcr=Count("id", filter=Q(first_contact_resolution=True)),
            duplicates=Count("id", filter=~Q(opening_reason="")),
            reopened=Count("id", filter=Q(reopen_count__gt=0)),
            reopenings=Coalesce(Sum("reopen_count"), 0),
            merged=Count("id", filter=Q(merged_into__isnull=False)),
            end_users=Count("end_user", distinct=True),
            referents=Count("referent", distinct=True),
        )
        .annotate(callers=F("end_users") + F("referents"))
        .order_by()
    }


def live_flow(filters: ReportFilters) -> list[dict]:
    base = selectors.cases_in_scope(filters, period=False)
    zone = timezone.get_default_timezone()
    counts = {}
    for name, field in (("opened", "opened_at"), ("resolved", "resolved_at")):
        counts[name] = dict(
            base.filter(**{f"{field}__gte": filters.start, f"{field}__lt": filters.end})
            .annotate(day=TruncDate(field, tzinfo=zone))
            .values("day")
            .annotate(n=Count("id"))
            .values_list("day", "n")
        )
    days = (filters.date_to - filters.date_from).days + 1
    return [
        {"day": d, "opened": counts["opened"].get(d, 0), "resolved": counts["resolved"].get(d, 0)}
        for d in (filters.date_from + timedelta(days=i) for i in range(days))
    ]


def live_monthly_flow(filters: ReportFilters) -> list[dict]:
    """`live_flow` summed by calendar month, each month on its first day in the period."""
    months: dict[date, dict] = {}
    for row in live_flow(filters):
        entry = months.setdefault(
            row["day"].replace(day=1), {"day": row["day"], "opened": 0, "resolved": 0}
        )
        entry["opened"] += row["opened"]
        entry["resolved"] += row["resolved"]
    return list(months.values())


def live_workload(filters: ReportFilters) -> dict[tuple, dict]:
    in_period = Q(resolved_at__gte=filters.start, resolved_at__lt=filters.end)
    groups: dict[tuple, dict] = {}
    for row in (
        selectors.cases_in_scope(filters, period=False)
        .filter(Q(status__in=OPEN_STATUSES) | in_period)
        .values(site=F("assignee__operator_profile__site__name"), queue=F("queue_code"))
        .annotate(
            open=Count("id", filter=Q(status__in=OPEN_STATUSES)),
            resolved=Count("id", filter=in_period),
        )
    ):
        groups[(row["site"] or "", row["queue"])] = {
            "open": row["open"],
            "resolved": row["resolved"],
            "assigned": 0,
        }
    assignments = Assignment.objects.filter(at__gte=filters.start, at__lt=filters.end)
    if filters.client:
        assignments = assignments.filter(case__client=filters.client)
    if filters.site:
        assignments = assignments.filter(operator__operator_profile__site=filters.site)
    if filters.priority:
        assignments = assignments.filter(case__priority=filters.priority)
    for row in assignments.values(
        site=F("operator__operator_profile__site__name"), queue=F("queue_code")
    ).annotate(n=Count("id")):
        entry = groups.setdefault(
            (row["site"] or "", row["queue"]), {"open": 0, "resolved": 0, "assigned": 0}
        )
        entry["assigned"] = row["n"]
    return groups


def filter_sets(now, contract) -> list[ReportFilters]:
    today = timezone.localdate(now)
    milano = Site.objects.get(code="mi")
    whole = {"date_from": today - timedelta(days=DAYS + 1), "date_to": today}
    return [
        ReportFilters(**whole),
        ReportFilters(date_from=today - timedelta(days=3), date_to=today - timedelta(days=1)),
        ReportFilters(**whole, client=contract.client),
        ReportFilters(**whole, site=milano),
        ReportFilters(**whole, priority="P2"),
        ReportFilters(date_from=today - timedelta(days=2), date_to=today, site=milano),
        # The month before, whole: read from its `whole_month` rows.
        ReportFilters(
            date_from=(today.replace(day=1) - timedelta(days=1)).replace(day=1), date_to=today
        ),
    ]


@pytest.mark.parametrize("seed", [5, 11])
def test_the_reports_on_rollups_give_the_live_numbers(
    history, seed, now, manager, contract_with_handoff_units
):
    history(seed)
    assert rollups.final_through() == timezone.localdate(now) - timedelta(days=1)
    assert DailyRollup.objects.filter(day__lt=timezone.localdate(now)).exists()
    assert Case.objects.filter(opened_at__gte=now.replace(hour=0)).exists()  # today: live
    # A few cases of past days and of today linked to an incident, one of them since unlinked.
    start = now - timedelta(days=DAYS)
    incident = Incident.objects.create(title="Guasto", started_at=start, opened_at=start)
    for index, case in enumerate(Case.objects.order_by("opened_at")[:: max(1, DAYS)][:6]):
        IncidentCase.objects.create(
            incident=incident, case=case, linked_at=now, unlinked_at=now if index == 0 else None
        )
    linked_now = IncidentCase.objects.filter(case=OuterRef("pk"), unlinked_at__isnull=True)
    for filters in filter_sets(now, contract_with_handoff_units):
        ordinary = list(definitions.get("incidents").rows(filters, manager, now))[-1]
        live_ordinary = selectors.cases_in_scope(filters).exclude(Exists(linked_now)).count()
        assert ordinary["cases_in_period"] == live_ordinary, filters
        live = live_by_contract(filters)
        sla, fcr, integrity = (
            {
                (row["client_name"], row["contract_code"]): row
                for row in definitions.get(name).rows(filters, manager, now)
            }
            for name in ("sla-compliance", "first-contact-resolution", "integrity")
        )
        assert set(sla) == set(fcr) == set(integrity) == set(live), filters
        for key, expected in live.items():
            for fact in ("cases", "fr_met", "fr_breached", "fr_open", "res_met", "res_breached"):
                assert sla[key][fact] == expected[fact], (filters, key, fact)
            assert sla[key]["res_open"] == expected["res_open"]
            for fact in ("cases", "resolved", "fcr"):
                assert fcr[key][fact] == expected[fact], (filters, key, fact)
            for fact in ("cases", "duplicates", "reopened", "reopenings", "merged", "callers"):
                assert integrity[key][fact] == expected[fact], (filters, key, fact)
        assert selectors.daily_flow(filters) == live_flow(filters), filters
        assert selectors.monthly_flow(filters) == live_monthly_flow(filters), filters
        workload = {
            (row["site"], row["queue_code"]): {k: row[k] for k in ("open", "resolved", "assigned")}
            for row in definitions.get("workload").rows(filters, manager, now)
            if not row["operator"]
        }
        assert workload == live_workload(filters), filters
        assert_read_together_gives_the_same(filters, manager, now)
    today = timezone.localdate(now)
    two_years = ReportFilters(date_from=today - timedelta(days=729), date_to=today)
    assert selectors.series_unit(two_years) == "month"
    assert selectors.monthly_flow(two_years) == live_monthly_flow(two_years)
    assert_read_together_gives_the_same(two_years, manager, now)


def assert_read_together_gives_the_same(filters, manager, now):
    """The dashboard's shared read (one scan, GROUPING SETS on PostgreSQL) answers as the
    separate reads do."""

    def reads():
        return (
            selectors.period_flow(filters),
            list(definitions.get("sla-compliance").rows(filters, manager, now)),
            list(definitions.get("workload").rows(filters, manager, now)),
        )

    alone = reads()
    wanted = [selectors.flow_set(filters), definitions.SLA_SET, definitions.WORKLOAD_SET]
    with selectors.read_together(filters, wanted):
        assert reads() == alone, filters


def test_reports_before_any_rollup_count_live(history, now, manager, contract_with_handoff_units):
    history(2, refresh=False)
    assert rollups.final_through() is None
    filters = filter_sets(now, contract_with_handoff_units)[0]
    sla = {
        (row["client_name"], row["contract_code"]): row["cases"]
        for row in definitions.get("sla-compliance").rows(filters, manager, now)
    }
    assert sla == {key: row["cases"] for key, row in live_by_contract(filters).items()}


def test_the_dashboard_reads_in_a_bounded_number_of_queries(
    history, now, client, manager, django_assert_max_num_queries
):
    history(9)
    client.force_login(manager)
    today = timezone.localdate(now)
    for days in (30, 730):
        url = reverse("reports:dashboard") + (
            f"?date_from={today - timedelta(days=days - 1)}&date_to={today}"
        )
        with django_assert_max_num_queries(30):
            response = client.get(url)
        assert response.status_code == 200
        assert sum(response.context["chart_data"]["flow"]["opened"]) == Case.objects.count()
        assert response.context["series_unit"] == ("day" if days == 30 else "month")
        assert len(response.context["flow"]) == len(response.context["trend"])
        assert len(response.context["flow"]) <= (30 if days == 30 else 25)


def test_rebuild_rollups_command_reports_progress_and_refuses_a_reversed_range(
    history, now, capsys
):
    history(4, refresh=False)
    call_command("rebuild_rollups")
    out = capsys.readouterr().out
    assert str(DailyRollup.objects.count()) in out
    whole = rollup_rows()
    today = timezone.localdate(now)
    call_command("rebuild_rollups", "--since", str(today - timedelta(days=2)))
    assert rollup_rows() == whole
    with pytest.raises(CommandError):
        call_command("rebuild_rollups", "--since", str(today), "--until", str(date(2020, 1, 1)))


@pytest.mark.postgres
def test_the_bench_rollups_step_writes_the_rebuilt_rows_once(history, now):
    """`config.bench.rollups`: the data set's rollups written once, recorded in the marker,
    the same rows as `rebuild_rollups`."""
    history(3, refresh=False)
    bench_data._write_marker(scale="bench-small", seed=1, as_of=now, seconds=1.0, counts={})
    quiet = bench_data.Progress(quiet=True)

    counts = rollups_step.build_rollups(progress=quiet)

    assert counts == {"reports.DailyRollup": DailyRollup.objects.count(), "reports.CallRollup": 0}
    assert counts["reports.DailyRollup"] > 0
    assert (
        bench_data.read_marker()["counts"]["reports.DailyRollup"] == counts["reports.DailyRollup"]
    )
    assert back_office.read_step(rollups_step.STEP)["version"] == rollups_step.STEP_VERSION
    written = rollup_rows()
    DailyRollup.objects.all().delete()
    rollups.rebuild_rollups(now=now)
    assert rollup_rows() == written
    assert rollups_step.build_rollups(progress=quiet) == {}  # once per version
