from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from contracts import selectors, services
from contracts.exceptions import ContractNotInForce, InvalidContractData
from contracts.models import AuditEvent, Contract, ContractVersion
from tests.contracts.conftest import TARGETS, terms

pytestmark = pytest.mark.django_db
ROME = ZoneInfo("Europe/Rome")


def test_new_contract_has_version_one_with_its_targets_categories_and_safe_card(contract):
    version = contract.versions.get()
    assert (version.number, version.effective_from) == (1, date(2026, 1, 1))
    assert version.sla_targets.count() == 4
    assert version.categories.get(code="sim-lost").default_priority == "P2"
    assert "<h2>Chi è abilitato</h2>" in version.card_html
    assert version.at_risk_share == Decimal("0.20")


def test_card_markdown_cannot_inject_script(manager, contract):
    version = services.amend_contract(
        actor=manager,
        contract=contract,
        effective_from=date(2026, 6, 1),
        terms=terms(
            card_markdown="<script>alert(1)</script>[x](javascript:alert(2))"
            '<img src=x onerror="alert(3)">'
        ),
    )
    assert "script" not in version.card_html
    assert "javascript" not in version.card_html
    assert "onerror" not in version.card_html


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"sla_targets": [services.TargetTerms("P1", 0, 60)]}, "sla_targets", "positivi"),
        ({"sla_targets": [services.TargetTerms("P1", -5, 60)]}, "sla_targets", "positivi"),
        (
            {"sla_targets": [services.TargetTerms("P1", 120, 60)]},
            "sla_targets",
            "dopo la risoluzione",
        ),
        ({"sla_targets": [*TARGETS, services.TargetTerms("P1", 5, 6)]}, "sla_targets", "due volte"),
        ({"sla_targets": []}, "sla_targets", "almeno una priorità"),
        ({"at_risk_share": Decimal("1.5")}, "at_risk_share", "tra 0 e 1"),
        (
            {"sla_targets": [services.TargetTerms("P3", 60, 120)]},
            "categories",
            "non ha un obiettivo SLA",
        ),
    ],
)
def test_contract_with_bad_terms_is_refused_and_nothing_is_saved(
    manager, client_pa, office_calendar, changes, field, message
):
    with pytest.raises(InvalidContractData) as error:
        services.create_contract(
            actor=manager,
            code="bad-1",
            client=client_pa,
            calendar=office_calendar,
            services=["mobile"],
            valid_from=date(2026, 1, 1),
            valid_to=None,
            terms=terms(**changes),
        )
    assert message in " ".join(error.value.fields[field])
    assert not Contract.objects.exists()
    assert not ContractVersion.objects.exists()


def test_contract_code_services_and_dates_are_checked(manager, client_pa, office_calendar):
    with pytest.raises(InvalidContractData) as error:
        services.create_contract(
            actor=manager,
            code="has space",
            client=client_pa,
            calendar=office_calendar,
            services=["telepathy"],
            valid_from=date(2026, 1, 1),
            valid_to=date(2025, 1, 1),
            terms=terms(),
        )
    assert set(error.value.fields) == {"code", "services", "valid_to"}


def test_amendment_adds_a_version_and_closes_the_previous_the_day_before(manager, contract):
    version = services.amend_contract(
        actor=manager,
        contract=contract,
        effective_from=date(2027, 1, 1),
        terms=terms(
            sla_targets=[
                services.TargetTerms(
                    p.priority, p.first_response_minutes // 2, p.resolution_minutes
                )
                for p in TARGETS
            ],
            change_summary="Risposta dimezzata",
        ),
    )
    first = contract.versions.get(number=1)
    assert first.effective_to == date(2026, 12, 31)
    assert (version.number, version.effective_to) == (2, None)
    contract = selectors.contract_by_code(contract.code)
    assert selectors.version_in_force(contract, date(2026, 12, 31)).number == 1
    assert selectors.version_in_force(contract, date(2027, 1, 1)).number == 2
    assert AuditEvent.objects.filter(kind=AuditEvent.Kind.CONTRACT_AMENDED).count() == 1


@pytest.mark.parametrize("effective_from", [date(2026, 1, 1), date(2025, 12, 1), date(2029, 1, 1)])
def test_amendment_that_would_overlap_or_fall_outside_validity_is_refused(
    manager, contract, effective_from
):
    with pytest.raises(InvalidContractData) as error:
        services.amend_contract(
            actor=manager, contract=contract, effective_from=effective_from, terms=terms()
        )
    assert list(error.value.fields) == ["effective_from"]
    assert contract.versions.count() == 1
    assert contract.versions.get().effective_to is None


def test_sla_due_counts_business_minutes_of_the_version_in_force(contract):
    contract = selectors.contract_by_code(contract.code)
    # Friday 4 Dec 2026, 17:30 is the closing time: P2 = 60 / 960 business minutes.
    due = selectors.sla_due(
        contract, priority="P2", opened_at=datetime(2026, 12, 4, 17, 30, tzinfo=ROME)
    )
    assert due.clock_starts_at == datetime(2026, 12, 7, 8, 30, tzinfo=ROME)
    assert due.first_response_due == datetime(2026, 12, 7, 9, 30, tzinfo=ROME)
    # 960 minutes = two office days of 480; 8 Dec (Immacolata) is a holiday.
    assert due.resolution_due == datetime(2026, 12, 9, 17, 30, tzinfo=ROME)


def test_sla_due_refuses_a_date_outside_the_contract(contract):
    contract = selectors.contract_by_code(contract.code)
    with pytest.raises(ContractNotInForce):
        selectors.sla_due(
            contract, priority="P2", opened_at=datetime(2029, 3, 1, 10, 0, tzinfo=ROME)
        )


def test_suspended_contract_is_not_in_force(manager, contract, office_calendar):
    services.update_contract(
        actor=manager,
        contract=contract,
        calendar=office_calendar,
        services=["mobile"],
        valid_to=contract.valid_to,
        status="suspended",
    )
    assert not selectors.contract_in_force(Contract.objects.get(), date(2026, 6, 1))
