"""Fixtures of a client with a contract in force, shared by every app's tests."""

from datetime import date

import pytest

from contracts import services
from tests.contract_terms import terms
from tests.factories import BusinessCalendarFactory, ClientFactory


@pytest.fixture
def client_pa(db):
    return ClientFactory(
        name="Regione Siciliana", segment="PA", province="PA", vat_number="02711070827"
    )


@pytest.fixture
def office_calendar(db):
    return BusinessCalendarFactory(name="Palermo uffici", province="PA")


@pytest.fixture
def contract(manager, client_pa, office_calendar):
    return services.create_contract(
        actor=manager,
        code="RSIC-MOB-2026",
        client=client_pa,
        calendar=office_calendar,
        services=["mobile"],
        valid_from=date(2026, 1, 1),
        valid_to=date(2028, 12, 31),
        terms=terms(),
    )
