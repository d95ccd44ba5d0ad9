"""The contracts API with the payload shapes of DESIGN.md §7."""

import io
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from config import roles
from contracts.lookup import lookup_allowed
from contracts.models import Client, Contract, EndUser, EndUserPhone
from tests.factories import EndUserFactory

pytestmark = pytest.mark.django_db

CALENDAR = {
    "name": "Palermo uffici",
    "timezone": "Europe/Rome",
    "province": "PA",
    "always_open": False,
    "hours": {
        day: [["08:30", "13:00"], ["14:00", "17:30"]] for day in ("mon", "tue", "wed", "thu", "fri")
    }
    | {"sat": [["09:00", "12:00"]]},
    "closures": ["2026-12-24"],
}


def contract_payload(client_id, calendar_id, **changes):
    payload = {
        "code": "RSIC-MOB-2026",
        "client": client_id,
        "calendar": calendar_id,
        "services": ["mobile"],
        "valid_from": "2026-01-01",
        "valid_to": "2028-12-31",
        "at_risk_share": 0.2,
        "sla_targets": [
            {"priority": "P1", "first_response_minutes": 30, "resolution_minutes": 240},
            {"priority": "P2", "first_response_minutes": 60, "resolution_minutes": 960},
        ],
        "categories": [
            {
                "code": "sim-lost",
                "name": "SIM smarrita o rubata",
                "default_priority": "P2",
                "template": "Numero coinvolto: …\nDenuncia presentata: sì/no\n",
            }
        ],
    }
    payload.update(changes)
    return payload


@pytest.fixture
def onboarded(manager_api):
    """A client, a calendar and a contract created through the API, as an integration would."""
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
    assert client.status_code == 201, client.json()
    calendar = manager_api.post("/api/v1/calendars/", CALENDAR, format="json")
    assert calendar.status_code == 201, calendar.json()
    contract = manager_api.post(
        "/api/v1/contracts/",
        contract_payload(client.json()["id"], calendar.json()["id"]),
        format="json",
    )
    assert contract.status_code == 201, contract.json()
    return {"client": client.json(), "calendar": calendar.json(), "contract": contract.json()}


def test_integration_onboards_client_calendar_and_contract(onboarded):
    calendar = onboarded["calendar"]
    assert calendar["hours"]["sat"] == [["09:00", "12:00"]]
    assert calendar["closures"] == [{"day": "2026-12-24", "reason": ""}]
    contract = onboarded["contract"]
    assert contract["code"] == "RSIC-MOB-2026"
    assert contract["current_version"]["number"] == 1
    assert contract["current_version"]["categories"][0]["code"] == "sim-lost"


def test_sla_preview_answers_due_instants_with_offset(onboarded, operator_api):
    response = operator_api.get(
        "/api/v1/contracts/RSIC-MOB-2026/sla-preview/",
        {"priority": "P2", "opened_at": "2026-12-04T17:30:00+01:00"},
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    # Friday 17:30 is closing time; Saturday opens 09:00-12:00 in this calendar.
    assert body["first_response_due"] == "2026-12-05T10:00:00+01:00"
    assert body["clock_starts_at"] == "2026-12-05T09:00:00+01:00"


def test_sla_preview_accepts_an_offset_whose_plus_was_sent_unencoded(onboarded, operator_api):
    """In a query string an unencoded `+` arrives as a space: the offset is still read."""
    url = "/api/v1/contracts/RSIC-MOB-2026/sla-preview/"
    response = operator_api.get(f"{url}?priority=P2&opened_at=2026-12-04T17:30:00+01:00")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["opened_at"] == "2026-12-04T17:30:00+01:00"
    assert body["first_response_due"] == "2026-12-05T10:00:00+01:00"


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"priority": "P2", "opened_at": "2026-12-04T17:30:00"}, "opened_at"),
        ({"priority": "P2", "opened_at": "yesterday"}, "opened_at"),
        ({"priority": "P4", "opened_at": "2026-12-04T17:30:00+01:00"}, "priority"),
    ],
)
def test_sla_preview_bad_input_is_a_400_naming_the_field(onboarded, operator_api, query, field):
    response = operator_api.get("/api/v1/contracts/RSIC-MOB-2026/sla-preview/", query)
    assert response.status_code == 400
    assert field in response.json()["fields"]


def test_unknown_contract_is_a_json_404(operator_api):
    response = operator_api.get("/api/v1/contracts/NOPE/")
    assert response.status_code == 404
    assert response.json()["code"] == "contract_not_found"


def test_contract_with_bad_terms_answers_400_with_fields_and_saves_nothing(manager_api, onboarded):
    payload = contract_payload(
        onboarded["client"]["id"],
        onboarded["calendar"]["id"],
        code="RSIC-2",
        sla_targets=[{"priority": "P1", "first_response_minutes": 0, "resolution_minutes": -1}],
    )
    response = manager_api.post("/api/v1/contracts/", payload, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_contract_data"
    assert "sla_targets" in response.json()["fields"]
    assert Contract.objects.count() == 1


def test_overlapping_calendar_intervals_are_a_400(manager_api):
    response = manager_api.post(
        "/api/v1/calendars/",
        {**CALENDAR, "hours": {"mon": [["08:30", "13:00"], ["12:00", "17:00"]]}},
        format="json",
    )
    assert response.status_code == 400
    assert "sovrappone" in response.json()["fields"]["hours"][0]


def test_malformed_clock_times_are_a_400(manager_api):
    response = manager_api.post(
        "/api/v1/calendars/", {**CALENDAR, "hours": {"mon": [["8.30", "25:00"]]}}, format="json"
    )
    assert response.status_code == 400
    assert "hours" in response.json()["fields"]


def test_amendment_through_the_api_and_overlap_refused(manager_api, onboarded):
    body = {
        "effective_from": "2027-01-01",
        "change_summary": "Nuovi tempi",
        "sla_targets": [
            {"priority": "P2", "first_response_minutes": 30, "resolution_minutes": 480}
        ],
    }
    created = manager_api.post("/api/v1/contracts/RSIC-MOB-2026/versions/", body, format="json")
    assert created.status_code == 201, created.json()
    assert created.json()["number"] == 2
    again = manager_api.post("/api/v1/contracts/RSIC-MOB-2026/versions/", body, format="json")
    assert again.status_code == 400
    assert "effective_from" in again.json()["fields"]


def test_operators_read_contracts_but_cannot_change_them(operator_api, onboarded):
    assert operator_api.get("/api/v1/contracts/").status_code == 200
    assert operator_api.get("/api/v1/contracts/RSIC-MOB-2026/").status_code == 200
    refused = operator_api.post("/api/v1/clients/", {"name": "X"}, format="json")
    assert refused.status_code == 403
    assert refused.json()["code"] == "permission_denied"
    assert operator_api.get("/api/v1/end-users/").status_code == 403


def test_contract_list_needs_a_fixed_number_of_queries(
    operator_api, onboarded, manager_api, django_assert_max_num_queries
):
    for n in range(5):
        manager_api.post(
            "/api/v1/contracts/",
            contract_payload(onboarded["client"]["id"], onboarded["calendar"]["id"], code=f"C-{n}"),
            format="json",
        )
    with django_assert_max_num_queries(6):
        response = operator_api.get("/api/v1/contracts/")
    assert response.json()["count"] == 6


def test_end_user_created_with_the_design_payload(manager_api, onboarded):
    response = manager_api.post(
        "/api/v1/end-users/",
        {
            "client": onboarded["client"]["id"],
            "first_name": "Giuseppe",
            "last_name": "Lo Bue",
            "phone": "347 123 4567",
            "email": "g.lobue@regione.sicilia.it",
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    # Stored in full, shown masked to a manager (aggregates; DESIGN.md section 2).
    assert response.json()["phones"] == ["+39 347 *** **67"]
    assert EndUserPhone.objects.get().number == "+393471234567"


def test_end_user_with_invalid_phone_is_a_400(manager_api, onboarded):
    response = manager_api.post(
        "/api/v1/end-users/",
        {
            "client": onboarded["client"]["id"],
            "first_name": "G",
            "last_name": "L",
            "phone": "12345",
        },
        format="json",
    )
    assert response.status_code == 400
    assert "phone" in response.json()["fields"]
    assert not EndUser.objects.exists()


def test_import_api_dry_run_then_import(manager_api, onboarded):
    csv = b"nome;cognome;telefono\nAnna;Bruno;347 111 2222\nLuca;;347 111 3333\n"

    def upload(**fields):
        return manager_api.post(
            "/api/v1/end-users/import/",
            {
                "client": onboarded["client"]["id"],
                "file": SimpleUploadedFile("utenti.csv", csv, content_type="text/csv"),
                **fields,
            },
            format="multipart",
        )

    dry = upload(dry_run=True)
    assert dry.status_code == 200
    assert dry.json()["errors"] == [
        {
            "line": 3,
            "field": "last_name",
            "field_label": "cognome",
            "message": "Inserisci il cognome.",
        }
    ]
    assert upload(dry_run=False, all_or_nothing=True).json()["created"] == 0
    done = upload(dry_run=False, all_or_nothing=False)
    assert done.status_code == 201
    assert done.json()["created"] == 1


def test_import_api_refuses_an_unreadable_file(manager_api, onboarded):
    response = manager_api.post(
        "/api/v1/end-users/import/",
        {
            "client": onboarded["client"]["id"],
            "file": SimpleUploadedFile("utenti.pdf", io.BytesIO(b"%PDF").read()),
        },
        format="multipart",
    )
    assert response.status_code == 400
    assert "file" in response.json()["fields"]


# --- Lookup ---------------------------------------------------------------------------------


def test_lookup_by_phone_finds_caller_client_contract_card_and_targets(operator_api, onboarded):
    EndUserFactory(
        client=Client.objects.get(),
        first_name="Giuseppe",
        last_name="Lo Bue",
        phone="+393471234567",
    )
    response = operator_api.post("/api/v1/lookup/", {"phone": "347 123 4567"}, format="json")
    assert response.status_code == 200
    [match] = response.json()["results"]
    assert match["end_user"]["last_name"] == "Lo Bue"
    assert match["client"]["name"] == "Regione Siciliana"
    assert match["contract"]["code"] == "RSIC-MOB-2026"
    assert [t["priority"] for t in match["contract"]["sla_targets"]] == ["P1", "P2"]
    assert match["open_cases"] == []


def test_a_manager_may_not_look_up_a_caller(manager_api, onboarded):
    """Managers see aggregates (DESIGN.md section 2): the lookup shows a person in full."""
    EndUserFactory(client=Client.objects.get(), last_name="Lo Bue", phone="+393471234567")
    response = manager_api.post("/api/v1/lookup/", {"phone": "347 123 4567"}, format="json")
    assert response.status_code == 403
    body = response.json()
    assert body["code"] == "permission_denied"
    assert body["message"]
    assert "Lo Bue" not in response.content.decode()


@pytest.mark.parametrize("role", [roles.OPERATOR, roles.BACKOFFICE, roles.SUPERVISOR, roles.ADMIN])
def test_the_roles_that_answer_callers_may_look_up(user_factory, onboarded, role):
    EndUserFactory(client=Client.objects.get(), phone="+393471234567")
    api = APIClient()
    api.force_authenticate(user_factory(f"user.{role}", role))
    response = api.post("/api/v1/lookup/", {"phone": "347 123 4567"}, format="json")
    assert response.status_code == 200
    assert len(response.json()["results"]) == 1


def test_lookup_without_match_is_an_empty_200(operator_api, onboarded):
    response = operator_api.post("/api/v1/lookup/", {"phone": "+39 333 000 0000"}, format="json")
    assert response.status_code == 200
    assert response.json() == {"results": []}


def test_same_number_in_two_clients_lists_both_for_the_operator_to_choose(operator_api, onboarded):
    EndUserFactory(client=Client.objects.get(), phone="+393471234567")
    EndUserFactory(phone="+393471234567")
    results = operator_api.post("/api/v1/lookup/", {"phone": "3471234567"}, format="json")
    assert len(results.json()["results"]) == 2


@pytest.mark.parametrize("body", [{}, {"phone": "abc"}, {"phone": "347", "email": "a@b.it"}])
def test_lookup_bad_input_is_a_400(operator_api, body):
    assert operator_api.post("/api/v1/lookup/", body, format="json").status_code == 400


def test_lookup_by_email_or_employee_code(operator_api, onboarded):
    EndUserFactory(client=Client.objects.get(), email="a.b@x.it", employee_code="E77")
    by_email = operator_api.post("/api/v1/lookup/", {"email": "A.B@x.it"}, format="json")
    by_code = operator_api.post("/api/v1/lookup/", {"employee_code": "E77"}, format="json")
    assert len(by_email.json()["results"]) == len(by_code.json()["results"]) == 1


def test_lookup_is_never_a_get_with_personal_data_in_the_url(operator_api):
    assert operator_api.get("/api/v1/lookup/", {"phone": "3471234567"}).status_code == 405


def test_lookup_is_throttled_per_user(operator_api, settings, time_machine):
    cache.clear()
    time_machine.move_to(datetime.fromtimestamp(1_800_000_030, UTC), tick=False)
    statuses = [
        operator_api.post(
            "/api/v1/lookup/", {"phone": "+39 333 000 0000"}, format="json"
        ).status_code
        for _ in range(61)
    ]
    assert statuses[:60] == [200] * 60
    assert statuses[60] == 429


def test_the_lookup_limit_allows_no_double_burst_across_a_minute_boundary(time_machine):
    cache.clear()
    user = SimpleNamespace(pk=42)
    # one second before a minute boundary
    time_machine.move_to(datetime.fromtimestamp(1_800_000_059, UTC), tick=False)
    assert all(lookup_allowed(user) for _ in range(60))
    time_machine.shift(1)  # the next minute has begun: the 60 searches still count in full
    assert not lookup_allowed(user)
    time_machine.shift(60)  # a whole minute later the earlier ones no longer weigh
    assert lookup_allowed(user)


def test_lookup_query_count_does_not_grow_with_matches(
    operator_api, onboarded, django_assert_max_num_queries
):
    client = Client.objects.get()
    for n in range(8):
        EndUserFactory(client=client, email="shared@x.it", employee_code=f"S{n}")
    operator_api.post("/api/v1/lookup/", {"email": "nobody@x.it"}, format="json")  # warm-up
    # + the open cases (one query for all) + the access-log row (savepoint, chain-head lock,
    # insert, head update, release)
    with django_assert_max_num_queries(15):
        response = operator_api.post("/api/v1/lookup/", {"email": "shared@x.it"}, format="json")
    assert len(response.json()["results"]) == 8


def test_client_referents_and_account_team_through_the_api(manager_api, onboarded, manager):
    client_id = onboarded["client"]["id"]
    response = manager_api.put(
        f"/api/v1/clients/{client_id}/",
        {
            "name": "Regione Siciliana",
            "segment": "PA",
            "vat_number": "02711070827",
            "province": "PA",
            "account_team": [manager.username],
            "referents": [
                {
                    "first_name": "Carmela",
                    "last_name": "Puglisi",
                    "role": "Dirigente ICT",
                    "phone": "091 707 1111",
                    "is_primary": True,
                }
            ],
        },
        format="json",
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["account_team"] == [manager.username]
    assert body["referents"][0]["phone"] == "+390917071111"


def test_referent_with_a_bad_phone_is_a_400_and_nothing_changes(manager_api, onboarded):
    client_id = onboarded["client"]["id"]
    response = manager_api.put(
        f"/api/v1/clients/{client_id}/",
        {
            "name": "Nuovo nome",
            "segment": "PA",
            "vat_number": "02711070827",
            "province": "PA",
            "referents": [{"first_name": "A", "last_name": "B", "phone": "12"}],
        },
        format="json",
    )
    assert response.status_code == 400
    assert "referents" in response.json()["fields"]
    assert Client.objects.get().name == "Regione Siciliana"


def test_only_back_office_staff_and_managers_join_an_account_team(
    manager_api, operator, backoffice_user
):
    body = {"name": "Comune di Enna", "segment": "PA", "vat_number": "00100190867"}
    body |= {"province": "EN"}
    refused = manager_api.post(
        "/api/v1/clients/", {**body, "account_team": [operator.username]}, format="json"
    )
    assert refused.status_code == 400
    assert "account_team" in refused.json()["fields"]
    assert not Client.objects.filter(name="Comune di Enna").exists()
    created = manager_api.post(
        "/api/v1/clients/", {**body, "account_team": [backoffice_user.username]}, format="json"
    )
    assert created.status_code == 201, created.json()
    assert created.json()["account_team"] == [backoffice_user.username]
