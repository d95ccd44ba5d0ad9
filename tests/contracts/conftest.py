from datetime import date

import pytest

from contracts import services
from tests.factories import BusinessCalendarFactory, ClientFactory

TARGETS = [
    services.TargetTerms("P1", 30, 240),
    services.TargetTerms("P2", 60, 960),
    services.TargetTerms("P3", 240, 2400),
    services.TargetTerms("P4", 480, 4800),
]
CATEGORIES = [
    services.CategoryTerms(
        "sim-lost", "SIM smarrita o rubata", "P2", "Numero coinvolto: …\nDenuncia presentata: sì/no"
    ),
    services.CategoryTerms("roaming", "Roaming non funzionante", "P3"),
]


def terms(**changes) -> services.ContractTerms:
    values = {
        "sla_targets": TARGETS,
        "categories": CATEGORIES,
        "card_markdown": "## Chi è abilitato\nTutti i dipendenti con matricola.",
    }
    values.update(changes)
    return services.ContractTerms(**values)


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
