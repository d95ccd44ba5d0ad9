"""A contract with its terms in one query (issue #25): the calendar's rules, the versions'
categories and SLA targets come as JSON columns of the versions' rows and are kept where a
prefetch would keep them, with the same values, types and order as the prefetching read."""

from datetime import date

import pytest
from django.db.models import Prefetch

from contracts import selectors, services
from contracts.exceptions import ContractNotFound
from contracts.models import Category, Contract, ContractVersion, SlaTarget
from tests.contract_terms import terms

pytestmark = pytest.mark.django_db


@pytest.fixture
def contract_with_closures(manager, client_pa):
    calendar = services.create_calendar(
        actor=manager,
        name="Catania uffici",
        province="CT",
        hours={0: [(510, 780), (840, 1050)], 3: [(540, 720)], 1: [(480, 600)]},
        closures=[(date(2026, 12, 24), "Vigilia"), (date(2026, 2, 5), "Sant'Agata")],
    )
    return services.create_contract(
        actor=manager,
        code="RSIC-CT-2026",
        client=client_pa,
        calendar=calendar,
        services=["mobile"],
        valid_from=date(2026, 1, 1),
        valid_to=None,
        terms=terms(),
    )


def _prefetched(code: str) -> Contract:
    """The same contract read the usual way, a query per relation."""
    return (
        Contract.objects.select_related("client", "calendar")
        .prefetch_related(
            "calendar__intervals",
            "calendar__closures",
            Prefetch(
                "versions",
                queryset=ContractVersion.objects.order_by("-number").prefetch_related(
                    Prefetch("categories", queryset=Category.objects.order_by("name")),
                    Prefetch("sla_targets", queryset=SlaTarget.objects.order_by("priority")),
                ),
            ),
        )
        .get(code=code)
    )


def _terms(contract: Contract) -> dict:
    def rows(objects, *fields):
        return [tuple(getattr(o, f) for f in fields) for o in objects]

    calendar = contract.calendar
    return {
        "client": contract.client.name,
        "hours": rows(calendar.intervals.all(), "id", "weekday", "start_minute", "end_minute"),
        "closures": rows(calendar.closures.all(), "id", "day", "reason"),
        "versions": [
            (
                version.number,
                version.effective_from,
                rows(version.categories.all(), "id", "code", "name", "default_priority"),
                rows(version.sla_targets.all(), "priority", "first_response_minutes"),
            )
            for version in contract.versions.all()
        ],
    }


def test_a_contract_and_its_terms_are_one_query_and_read_as_a_prefetch_reads_them(
    contract_with_closures, django_assert_num_queries
):
    with django_assert_num_queries(1):
        contract = selectors.contract_by_code("rsic-ct-2026")
        read = _terms(contract)
        spec = selectors.calendar_spec(contract.calendar)
        selectors.with_terms(contract)
    assert read == _terms(_prefetched("RSIC-CT-2026"))
    assert spec.closures == frozenset({date(2026, 12, 24), date(2026, 2, 5)})
    assert [c.code for c in contract.versions.all()[0].categories.all()] == ["roaming", "sim-lost"]
    version = contract.versions.all()[0]
    assert version.categories.all()[0].version is version  # each knows its parent


def test_a_contract_without_versions_is_read_with_its_calendar(
    contract_with_closures, django_assert_num_queries
):
    ContractVersion.objects.filter(contract=contract_with_closures).delete()
    with django_assert_num_queries(2):
        contract = selectors.contract_by_code("RSIC-CT-2026")
        assert len(contract.calendar.closures.all()) == 2
    assert list(contract.versions.all()) == []


def test_an_unknown_contract_is_not_found():
    with pytest.raises(ContractNotFound):
        selectors.contract_by_code("NESSUNO")
