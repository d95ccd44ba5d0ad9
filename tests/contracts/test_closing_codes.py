"""Closing codes on the contract version (issue 24, point 5): the national default list, a
version's own list through the API and the manager's pages, and bad input refused whole."""

from datetime import date

import pytest
from django.urls import reverse

from contracts import selectors, services
from contracts.models import ClosingCode, Contract, ContractVersion
from tests.contract_terms import terms
from tests.contracts.test_api_contracts import CALENDAR, contract_payload

pytestmark = pytest.mark.django_db

SIM = {"code": "sim-sbloccata", "name_it": "SIM sbloccata", "name_en": "SIM unlocked"}
ROAMING = {
    "code": "roaming-attivato",
    "name_it": "Roaming attivato",
    "name_en": "Roaming switched on",
    "category": "sim-lost",
}


@pytest.fixture
def client_and_calendar(manager_api):
    client = manager_api.post(
        "/api/v1/clients/",
        {
            "name": "Regione Siciliana",
            "segment": "PA",
            "vat_number": "02711070827",
            "province": "PA",
        },
        format="json",
    )
    calendar = manager_api.post("/api/v1/calendars/", CALENDAR, format="json")
    return client.json()["id"], calendar.json()["id"]


def test_the_national_default_list_is_seeded_with_italian_names():
    defaults = {c.code: c for c in selectors.default_closing_codes()}
    assert defaults["risolto-informazioni"].name_it == "Risolto con informazioni"
    assert defaults["guasto-rete"].name_en == "Network fault"
    assert {"sostituzione-sim", "inoltrato-backoffice", "duplicato", "non-competenza"} <= set(
        defaults
    )
    # The portal's own codes: first-contact resolution, a unit's answer, a major incident.
    assert {c for c, item in defaults.items() if item.system} == {
        "risolto-primo-contatto",
        "risolto-da-unita",
        "incidente-risolto",
    }


def test_a_contract_created_through_the_api_keeps_its_closing_codes(
    manager_api, operator_api, client_and_calendar
):
    payload = contract_payload(*client_and_calendar, closing_codes=[SIM, ROAMING])
    created = manager_api.post("/api/v1/contracts/", payload, format="json")
    assert created.status_code == 201, created.json()

    body = operator_api.get("/api/v1/contracts/RSIC-MOB-2026/").json()
    version = body["current_version"]
    assert version["closing_codes"] == [
        {**ROAMING},
        {**SIM, "category": ""},
    ]
    assert version["uses_default_closing_codes"] is False


def test_a_version_without_codes_says_it_uses_the_national_list(manager_api, client_and_calendar):
    manager_api.post("/api/v1/contracts/", contract_payload(*client_and_calendar), format="json")
    version = manager_api.get("/api/v1/contracts/RSIC-MOB-2026/").json()["current_version"]
    assert (version["closing_codes"], version["uses_default_closing_codes"]) == ([], True)


@pytest.mark.parametrize(
    ("codes", "message"),
    [
        ([SIM, {**SIM, "name_it": "Ancora"}], "sim-sbloccata"),  # the same code twice
        ([{**SIM, "name_it": ""}], "sim-sbloccata"),  # no Italian name
        ([{**SIM, "name_en": " "}], "sim-sbloccata"),  # no English name
        ([{**SIM, "code": "Non Valido!"}], "Non Valido!"),
        ([{**SIM, "category": "non-esiste"}], "non-esiste"),
    ],
)
def test_bad_closing_codes_refuse_the_whole_contract(
    manager_api, client_and_calendar, codes, message
):
    payload = contract_payload(*client_and_calendar, closing_codes=codes)
    refused = manager_api.post("/api/v1/contracts/", payload, format="json")
    assert refused.status_code == 400, refused.json()
    body = refused.json()
    assert body["code"] == "invalid_contract_data"
    assert message in " ".join(body["fields"]["closing_codes"])
    assert not Contract.objects.exists()
    assert not ContractVersion.objects.exists()
    assert not ClosingCode.objects.filter(version__isnull=False).exists()


def test_an_amendment_brings_its_own_list_and_the_old_version_keeps_its_own(manager, contract):
    version = services.amend_contract(
        actor=manager,
        contract=contract,
        effective_from=date(2027, 1, 1),
        terms=terms(closing_codes=[services.ClosingCodeTerms("sim-sbloccata", "SIM", "SIM")]),
    )
    assert [c.code for c in selectors.closing_codes_for(version.id) if not c.system] == [
        "sim-sbloccata"
    ]
    first = contract.versions.get(number=1)
    assert "guasto-rete" in {c.code for c in selectors.closing_codes_for(first.id)}


def test_a_code_restricted_to_a_category_is_offered_only_for_it(manager, contract):
    version = services.amend_contract(
        actor=manager,
        contract=contract,
        effective_from=date(2027, 1, 1),
        terms=terms(
            closing_codes=[
                services.ClosingCodeTerms("sim-sbloccata", "SIM sbloccata", "SIM unlocked"),
                services.ClosingCodeTerms("roaming-ok", "Roaming", "Roaming", "roaming"),
            ]
        ),
    )
    offered = selectors.offered_closing_codes
    assert [c.code for c in offered(selectors.closing_codes_for(version.id))] == ["sim-sbloccata"]
    assert [
        c.code for c in offered(selectors.closing_codes_for(version.id, category_code="roaming"))
    ] == ["roaming-ok", "sim-sbloccata"]


def test_the_manager_writes_closing_codes_on_the_amendment_page(client, manager, contract):
    client.force_login(manager)
    url = reverse("contracts:contract-amend", args=[contract.code])
    response = client.post(
        url,
        {
            "effective_from": "2027-01-01",
            "at_risk_share": "0.2",
            "P2_first_response": "45",
            "P2_resolution": "600",
            "categories": "sim-lost | SIM smarrita | P2",
            "closing_codes": "sim-sbloccata | SIM sbloccata | SIM unlocked\n"
            "denuncia | Denuncia acquisita | Report filed | sim-lost",
        },
    )
    assert response.status_code == 302, response.content.decode()
    version = contract.versions.get(number=2)
    assert [(c.code, c.category_code) for c in version.closing_codes.all()] == [
        ("denuncia", "sim-lost"),
        ("sim-sbloccata", ""),
    ]
    page = client.get(url).content.decode()
    assert "denuncia | Denuncia acquisita | Report filed | sim-lost" in page
    detail = client.get(reverse("contracts:contract-detail", args=[contract.code])).content
    assert b'data-testid="closing-codes-default"' in detail  # version 1 is in force today


def test_the_amendment_page_refuses_a_duplicate_code_and_writes_nothing(client, manager, contract):
    client.force_login(manager)
    page = client.post(
        reverse("contracts:contract-amend", args=[contract.code]),
        {
            "effective_from": "2027-01-01",
            "at_risk_share": "0.2",
            "P2_first_response": "45",
            "P2_resolution": "600",
            "closing_codes": "doppio | Uno | One\ndoppio | Due | Two",
        },
    ).content.decode()
    assert "doppio" in page
    assert contract.versions.count() == 1
