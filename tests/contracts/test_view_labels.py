"""Words, not codes: the caller lookup names a case's status, the contract pages name the
services, the import names the fields, each in the reader's language."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from care import services as care_services
from care.models import CaseStatus
from contracts import services
from tests.care import conftest as care_fixtures
from tests.factories import EndUserFactory

pytestmark = pytest.mark.django_db

open_case_for = care_fixtures.open_case_for


def in_english(client):
    client.cookies["django_language"] = "en"
    return client


@pytest.fixture
def caller_with_cases(contract, open_case_for, operator, now):
    caller = EndUserFactory(
        client=contract.client, first_name="Rosalia", last_name="Amato", phone="+393471234567"
    )
    first = open_case_for(caller, subject="SIM rubata")
    care_services.transition_case(actor=operator, case=first, to=CaseStatus.IN_PROGRESS, now=now)
    return caller


@pytest.mark.parametrize(
    ("language", "shown", "hidden"),
    [("it", "(In lavorazione)", "(in_progress)"), ("en", "(In progress)", "(in_progress)")],
)
def test_the_lookup_names_the_status_of_the_callers_open_cases(
    client, operator, caller_with_cases, language, shown, hidden
):
    client.force_login(operator)
    if language == "en":
        in_english(client)
    page = client.post(reverse("contracts:lookup"), {"query": "347 123 4567"}).content.decode()
    assert shown in page
    assert hidden not in page


@pytest.mark.parametrize(
    ("language", "shown"),
    [("it", "Dati e connettività, Rete fissa"), ("en", "Data and connectivity, Fixed line")],
)
def test_the_contract_pages_name_the_services(client, manager, contract, language, shown):
    services.update_contract(
        actor=manager,
        contract=contract,
        calendar=contract.calendar,
        services=["data", "fixed"],
        valid_to=contract.valid_to,
        status=contract.status,
    )
    client.force_login(manager)
    if language == "en":
        in_english(client)
    detail = client.get(reverse("contracts:contract-detail", args=[contract.code]))
    listing = client.get(reverse("contracts:contract-list"))
    for page in (detail.content.decode(), listing.content.decode()):
        assert shown in page
        assert "data, fixed" not in page


@pytest.mark.parametrize(
    ("language", "names"),
    [("it", ["numero di telefono", "nome"]), ("en", ["phone number", "first name"])],
)
def test_the_import_check_names_the_fields_in_the_readers_language(
    client, manager, client_pa, language, names
):
    client.force_login(manager)
    if language == "en":
        in_english(client)
    csv = b"nome;cognome;telefono\n;Bruno;boh\n"
    page = client.post(
        reverse("contracts:end-user-import"),
        {
            "client": client_pa.id,
            "mode": "valid",
            "file": SimpleUploadedFile("u.csv", csv),
            "check": "1",
        },
    ).content.decode()
    for name in names:
        assert f"<td>{name}</td>" in page
    assert "<td>phone</td>" not in page
    assert "<td>first_name</td>" not in page


def test_the_import_api_keeps_the_field_code_and_adds_its_label(manager_api, client_pa):
    csv = SimpleUploadedFile("u.csv", b"nome;cognome;telefono\n;Bruno;347 111 2222\n")
    answer = manager_api.post(
        "/api/v1/end-users/import/",
        {"client": client_pa.id, "file": csv, "dry_run": "true"},
        format="multipart",
        HTTP_ACCEPT_LANGUAGE="it",
    )
    error = answer.json()["errors"][0]
    assert error["field"] == "first_name"
    assert error["field_label"] == "nome"
