"""The input layer (config/inputs.py and the input guard of config/middleware.py): what the
database cannot store, or the calendar arithmetic cannot take, is a clear 4xx (a field error
on the API, a form error or a plain 400 on pages), never a 500, and nothing is written."""

from datetime import date

import pytest
from django.urls import reverse

from config.api import error_body
from config.inputs import INTEGER_MAX, InputForm, text_problem
from contracts.models import Client, Contract, ContractOrder, EndUser
from contracts.serializers import TermsInput
from reports.forms import ReportFilterForm

pytestmark = pytest.mark.django_db

TARGET = {"priority": "P2", "first_response_minutes": 60, "resolution_minutes": 960}


def contract_payload(client_id, calendar_id, **changes) -> dict:
    payload = {
        "code": "FUZZ-2027",
        "client": client_id,
        "calendar": calendar_id,
        "services": ["mobile"],
        "valid_from": "2027-01-01",
        "valid_to": "2028-12-31",
        "sla_targets": [TARGET],
    }
    payload.update(changes)
    return payload


# --- Whole numbers --------------------------------------------------------------------------


@pytest.mark.parametrize("client_id", [1.5, True, "1.5", [1]])
def test_a_primary_key_that_is_not_a_whole_number_is_refused_not_read_as_1(
    manager_api, contract, client_id
):
    """DRF's PrimaryKeyRelatedField hands 1.5 to the ORM, which reads it as 1: the end user
    landed on client 1."""
    response = manager_api.post(
        "/api/v1/end-users/",
        {"client": client_id, "first_name": "Ada", "last_name": "Neri"},
        format="json",
    )
    assert response.status_code == 400, response.json()
    assert list(response.json()["fields"]) == ["client"]
    assert not EndUser.objects.exists()


def test_a_whole_number_written_as_a_float_is_still_a_whole_number(manager_api, contract):
    response = manager_api.post(
        "/api/v1/end-users/",
        {"client": float(contract.client_id), "first_name": "Ada", "last_name": "Neri"},
        format="json",
    )
    assert response.status_code == 201, response.json()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("first_response_minutes", 2**31),
        ("resolution_minutes", 2**31),
        ("resolution_minutes", 2**63),
        ("first_response_minutes", -(2**31) - 1),
    ],
)
def test_sla_minutes_past_the_database_integer_are_a_field_error(
    manager_api, contract, field, value
):
    payload = contract_payload(
        contract.client_id, contract.calendar_id, sla_targets=[{**TARGET, field: value}]
    )
    response = manager_api.post("/api/v1/contracts/", payload, format="json")
    assert response.status_code == 400, response.json()
    assert response.json()["fields"]["sla_targets"]["0"][field]
    amended = manager_api.post(
        f"/api/v1/contracts/{contract.code}/versions/",
        {"effective_from": "2027-01-01", "sla_targets": [{**TARGET, field: value}]},
        format="json",
    )
    assert amended.status_code == 400
    assert Contract.objects.count() == 1
    assert contract.versions.count() == 1


def test_the_largest_database_integer_passes_the_input_layer(manager_api, contract):
    payload = contract_payload(
        contract.client_id,
        contract.calendar_id,
        sla_targets=[{**TARGET, "resolution_minutes": INTEGER_MAX}],
    )
    response = manager_api.post("/api/v1/contracts/", payload, format="json")
    assert "resolution_minutes" not in str(response.json().get("fields", {}))


@pytest.mark.parametrize("quantity", [2**31, 2**63, 10**30, 1.5])
def test_an_order_quantity_the_database_cannot_store_is_a_field_error(
    backoffice_api, contract, quantity
):
    response = backoffice_api.post(
        "/api/v1/orders/",
        {
            "kind": "activation",
            "contract": contract.code,
            "summary": "SIM",
            "lines": [{"service": "mobile", "quantity": quantity}],
        },
        format="json",
    )
    assert response.status_code == 400, response.json()
    assert response.json()["fields"]["lines"]["0"]["quantity"]
    assert not ContractOrder.objects.exists()


@pytest.fixture
def backoffice_api(backoffice_user, contract):
    from rest_framework.test import APIClient

    contract.client.account_team.add(backoffice_user)
    api = APIClient()
    api.force_authenticate(backoffice_user)
    return api


@pytest.fixture
def backoffice_user(user_factory):
    from config import roles

    return user_factory("bo.verdi", roles.BACKOFFICE)


# --- Dates and instants ---------------------------------------------------------------------


@pytest.mark.parametrize("day", ["0001-01-01", "1999-12-31", "2100-01-01", "9999-12-31"])
def test_contract_dates_outside_the_unit_years_are_a_field_error(manager_api, contract, day):
    payload = contract_payload(contract.client_id, contract.calendar_id, valid_to=day)
    response = manager_api.post("/api/v1/contracts/", payload, format="json")
    assert response.status_code == 400
    assert "2000" in response.json()["fields"]["valid_to"][0]
    assert Contract.objects.count() == 1


def test_a_calendar_closure_far_in_the_future_is_a_field_error(manager_api):
    response = manager_api.post(
        "/api/v1/calendars/",
        {"name": "Roma", "hours": {"mon": [["09:00", "17:00"]]}, "closures": ["9999-12-31"]},
        format="json",
    )
    assert response.status_code == 400
    assert "closures" in response.json()["fields"]


@pytest.mark.parametrize(
    "opened_at",
    [
        "0001-01-01T00:00:00+01:00",  # before year 1 in UTC: an OverflowError
        "9999-12-31T23:59:59-12:00",  # after 9999 in UTC
        "9999-12-31T23:59:59.999999+00:00",
        "2026-02-30T10:00:00+01:00",  # 30 February
        "2026-12-02T25:00:00+01:00",  # hour 25
        "2026-12-02T10:00:00+99:00",  # an offset of 99 hours
        "2026-12-02T10:00:00",  # no offset: no instant
        "1999-12-31T10:00:00+01:00",  # before the unit's years
        "nul\x00",
    ],
)
def test_sla_preview_refuses_impossible_or_extreme_instants_with_a_field_error(
    manager_api, contract, opened_at
):
    response = manager_api.get(
        f"/api/v1/contracts/{contract.code}/sla-preview/",
        {"priority": "P2", "opened_at": opened_at},
    )
    assert response.status_code == 400, response.content[:300]
    assert "opened_at" in response.json()["fields"]


def test_sla_preview_page_refuses_an_instant_outside_the_unit_years(client, manager, contract):
    client.force_login(manager)
    page = client.get(
        reverse("contracts:contract-detail", args=[contract.code]),
        {"priority": "P2", "opened_at": "9999-12-31T23:59"},
    )
    assert page.status_code == 200
    assert "2099" in page.content.decode()


# --- Text -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "terms",
    [
        {"entitlements": {"chi": "tutti\x00"}},
        {"entitlements": {"chi\x00": "tutti"}},
        {"handoff_units": [{"code": "net", "name": "Rete\udcff"}]},
        {"escalation_contacts": [{"name": "Sala", "phone": {"deep": ["\x00"]}}]},
    ],
)
def test_free_form_json_with_nul_or_a_surrogate_is_a_field_error_whatever_the_parser(terms):
    """The JSON parser refuses such bodies; a serializer fed by another parser (a form, a
    multipart body) refuses them too, by field."""
    serializer = TermsInput(data={"sla_targets": [TARGET], **terms})
    assert not serializer.is_valid()
    [field] = terms
    assert field in serializer.errors
    assert "NUL" in str(serializer.errors[field]) or "surrogat" in str(serializer.errors[field])


def test_a_choice_given_a_lone_surrogate_answers_a_message_that_can_be_encoded():
    from care.serializers import TransitionInput

    serializer = TransitionInput(data={"to": "\udcff"})
    assert not serializer.is_valid()
    body = error_body("invalid", "x", serializer.errors)
    assert "\udcff" not in str(body)
    assert str(body).encode("utf-8")


def test_an_error_echoing_a_surrogate_is_rendered_with_a_replacement():
    body = error_body("invalid", "bad \udcff", {"to": ["\ud800 is not a choice"]})
    assert body["message"] == "bad \ufffd"
    assert body["fields"] == {"to": ["\ufffd is not a choice"]}


def test_text_problems_name_nul_and_surrogates_and_pass_anything_else():
    assert "NUL" in text_problem("a\x00b")
    assert "surrogat" in text_problem("a\udcffb")
    assert text_problem("Ελληνικά 田中 \u202e 😀") == ""


# --- Forms ----------------------------------------------------------------------------------


def test_a_form_refuses_nul_before_a_lookup_by_code_reaches_the_database(contract):
    """A ModelChoiceField looked up by code sent NUL to PostgreSQL (a DataError, a 500)."""
    form = ReportFilterForm({"contract": "RSIC\x00", "date_from": "2026-11-01"})
    assert not form.is_valid()
    assert "NUL" in form.errors["contract"][0]


def test_a_form_integer_gets_the_database_range():
    from django import forms

    class Quantity(InputForm):
        quantity = forms.IntegerField()

    assert not Quantity({"quantity": str(2**31)}).is_valid()
    assert Quantity({"quantity": str(2**31 - 1)}).is_valid()


def test_a_page_form_with_sla_minutes_past_the_database_integer_shows_the_error(
    client, manager, contract
):
    client.force_login(manager)
    url = reverse("contracts:contract-create")
    page = client.get(url)
    form = page.context["form"]
    data = {
        name: (value if value is not None else "")
        for name, value in ((name, form[name].value()) for name in form.fields)
    }
    data.update(
        code="FUZZ-2027",
        client=contract.client_id,
        calendar=contract.calendar_id,
        services=["mobile"],
        valid_from="2027-01-01",
        P2_first_response="60",
        P2_resolution=str(2**31),
    )
    response = client.post(url, data)
    assert response.status_code == 200
    assert response.context["form"].errors["P2_resolution"]
    assert Contract.objects.count() == 1


# --- The address and page bodies (UnstorableInputMiddleware) -------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/contracts/%00/",
        "/api/v1/contracts/RSIC%00/sla-preview/?priority=P2",
        "/api/v1/cases/CS-2026%00/",
        "/api/v1/orders/%00/transition/",
    ],
)
def test_nul_in_an_api_path_is_a_json_404(admin_api, contract, path):
    response = admin_api.get(path)
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_nul_in_a_page_path_is_the_404_page(client, manager, contract):
    client.force_login(manager)
    assert client.get("/contracts/RSIC%00/").status_code == 404


@pytest.mark.parametrize(
    "query",
    [
        "segment=%00",
        "search=RSIC%00",
        "client=1&status=active%00",
        "na%00me=1",
    ],
)
def test_nul_in_an_api_query_string_is_a_400_naming_the_parameter(admin_api, contract, query):
    response = admin_api.get(f"/api/v1/contracts/?{query}")
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert "NUL" in str(body["fields"])


def test_nul_in_a_page_query_string_is_a_400_that_says_why(client, manager, contract):
    client.force_login(manager)
    response = client.get("/contracts/?segment=%00")
    assert response.status_code == 400
    assert "NUL" in response.content.decode()


def test_nul_in_a_page_form_body_is_refused_before_the_view_reads_it(
    client, backoffice_user, contract
):
    """The order page looks the contract up from the raw POST before its form validates."""
    contract.client.account_team.add(backoffice_user)
    client.force_login(backoffice_user)
    response = client.post(
        reverse("backoffice:order-create"), {"contract": "RSIC\x00", "kind": "activation"}
    )
    assert response.status_code == 400
    assert not ContractOrder.objects.exists()


def test_a_report_subscription_with_nul_in_its_filters_is_refused(client, manager):
    client.force_login(manager)
    response = client.post(
        reverse("reports:subscribe", args=["cases"]),
        {"frequency": "weekly", "format": "csv", "client": "1\x00"},
    )
    assert response.status_code == 400


def test_the_intake_checks_its_own_screen_pop(client, operator):
    client.force_login(operator)
    response = client.get(f"{reverse('care:intake')}?phone=%00", follow=True)
    assert response.status_code == 200


def test_dates_in_filters_keep_the_unit_years(operator_api):
    response = operator_api.get("/api/v1/cases/", {"opened_after": "0001-01-01"})
    assert response.status_code == 400
    assert "opened_after" in response.json()["fields"]


def test_ids_past_any_row_in_a_filter_find_nothing(operator_api):
    response = operator_api.get("/api/v1/cases/", {"client": str(2**40)})
    assert response.status_code == 200
    assert response.json()["count"] == 0


def test_nothing_of_a_refused_client_is_written(manager_api, user_factory):
    response = manager_api.post(
        "/api/v1/clients/",
        {
            "name": "Nuovo",
            "segment": "TOP",
            "vat_number": "00743110157",
            "province": "MI",
            "referents": [{"first_name": "Ada", "last_name": "N\x00eri"}],
        },
        format="json",
    )
    assert response.status_code == 400
    assert not Client.objects.filter(name="Nuovo").exists()


def test_a_date_in_the_unit_years_passes(manager_api, contract):
    payload = contract_payload(contract.client_id, contract.calendar_id)
    response = manager_api.post("/api/v1/contracts/", payload, format="json")
    assert response.status_code == 201, response.json()
    assert Contract.objects.get(code="FUZZ-2027").valid_from == date(2027, 1, 1)


@pytest.mark.parametrize("number", ["²", "٣", "1²"])
def test_digits_that_are_not_ascii_are_not_a_number_where_a_raw_parameter_is_read(
    admin_api, client, manager, contract, number
):
    """`"²".isdigit()` is True and `int("²")` raises: the contract list answered 500."""
    assert admin_api.get("/api/v1/contracts/", {"client": number}).status_code == 200
    client.force_login(manager)
    assert client.get("/reports/cases/", {"job": number}).status_code < 500
