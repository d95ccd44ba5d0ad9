"""/api/v1/orders/ and /api/v1/loyalty/: permissions, filters, the error contract and query
bounds."""

from datetime import date, timedelta

import pytest
from django.utils import timezone

from contracts.models import ContractOrder, LoyaltyItem
from contracts.orders import services as order_services
from tests.backoffice.conftest import snapshot

pytestmark = pytest.mark.django_db


def future(days: int = 10) -> str:
    return (timezone.localdate() + timedelta(days=days)).isoformat()


def order_payload(**changes) -> dict:
    payload = {
        "kind": "activation",
        "contract": "RSIC-MOB-2026",
        "summary": "Attivazione 5 SIM dati",
        "lines": [{"service": "mobile", "quantity": 5, "target_date": future()}],
        "case_reference": "CS-2026-000042",
    }
    payload.update(changes)
    return payload


def test_back_office_creates_an_order_and_reads_it_back(backoffice_api, contract, referent):
    response = backoffice_api.post(
        "/api/v1/orders/",
        order_payload(requester=referent.id, owner="bo.verdi"),
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["reference"].startswith("OR-")
    assert (body["state"], body["owner"], body["contract"]) == (
        "draft",
        "bo.verdi",
        "RSIC-MOB-2026",
    )
    assert body["lines"][0]["quantity"] == 5
    assert body["events"][0]["kind"] == "created"
    detail = backoffice_api.get(f"/api/v1/orders/{body['reference']}/")
    assert detail.status_code == 200
    assert detail.json()["case_reference"] == "CS-2026-000042"
    assert detail.json()["state_due_at"].endswith(("+00:00", "Z", "+01:00"))


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"lines": [{"service": "mobile", "quantity": 0}]}, "lines"),
        ({"lines": [{"service": "mobile", "quantity": 1, "target_date": "2020-01-01"}]}, "lines"),
        ({"owner": "op.rossi"}, "owner"),
        ({"lines": []}, "lines"),
    ],
)
def test_bad_orders_answer_400_with_the_field_and_write_nothing(
    backoffice_api, contract, operator, changes, field
):
    before = snapshot()
    response = backoffice_api.post("/api/v1/orders/", order_payload(**changes), format="json")
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid_order_data"
    assert field in body["fields"]
    assert snapshot() == before


def test_an_order_on_an_expired_contract_answers_400(backoffice_api, contract, manager):
    from contracts import services

    services.update_contract(
        actor=manager,
        contract=contract,
        calendar=contract.calendar,
        services=contract.services,
        valid_to=contract.valid_to,
        status="terminated",
    )
    before = snapshot()
    response = backoffice_api.post("/api/v1/orders/", order_payload(), format="json")
    assert response.status_code == 400
    assert "contract" in response.json()["fields"]
    assert snapshot() == before


def test_the_transition_endpoint_moves_the_order_and_refuses_stale_and_illegal_moves(
    backoffice_api, order_factory
):
    order = order_factory()
    url = f"/api/v1/orders/{order.reference}/transition/"
    response = backoffice_api.post(url, {"to": "submitted", "row_version": 1}, format="json")
    assert response.status_code == 200, response.json()
    assert (response.json()["state"], response.json()["row_version"]) == ("submitted", 2)

    before = snapshot()
    stale = backoffice_api.post(url, {"to": "validated", "row_version": 1}, format="json")
    assert (stale.status_code, stale.json()["code"]) == (409, "order_changed_meanwhile")
    illegal = backoffice_api.post(url, {"to": "completed"}, format="json")
    assert (illegal.status_code, illegal.json()["code"]) == (409, "order_transition_not_allowed")
    no_reason = backoffice_api.post(url, {"to": "rejected"}, format="json")
    assert (no_reason.status_code, no_reason.json()["fields"].keys()) == (400, {"reason"})
    unknown = backoffice_api.post(url, {"to": "teleported"}, format="json")
    assert unknown.status_code == 400
    assert snapshot() == before


def test_a_missing_order_is_404(backoffice_api, db):
    assert backoffice_api.get("/api/v1/orders/OR-2026-999999/").status_code == 404
    response = backoffice_api.post(
        "/api/v1/orders/OR-2026-999999/transition/", {"to": "submitted"}, format="json"
    )
    assert (response.status_code, response.json()["code"]) == (404, "order_not_found")


def test_operators_without_back_office_get_403(operator_api, order_factory):
    order = order_factory()
    assert operator_api.get("/api/v1/orders/").status_code == 403
    assert operator_api.get(f"/api/v1/orders/{order.reference}/").status_code == 403
    assert operator_api.post("/api/v1/orders/", order_payload(), format="json").status_code == 403
    assert operator_api.get("/api/v1/loyalty/").status_code == 403


def test_managers_read_but_do_not_write(manager_api, order_factory):
    order = order_factory()
    assert manager_api.get("/api/v1/orders/").json()["count"] == 1
    assert manager_api.get(f"/api/v1/orders/{order.reference}/").status_code == 200
    response = manager_api.post(
        f"/api/v1/orders/{order.reference}/transition/", {"to": "submitted"}, format="json"
    )
    assert response.status_code == 403


def test_anonymous_calls_are_401(anonymous_api, db):
    assert anonymous_api.get("/api/v1/orders/").status_code == 401


def test_the_list_filters_by_state_kind_owner_late_contract_and_client(
    backoffice_api, order_factory, backoffice_user, contract
):
    mine = order_factory(owner=backoffice_user)
    pooled = order_factory(kind="termination")
    order_services.transition_order(actor=backoffice_user, order=pooled, to="submitted")
    ContractOrder.objects.filter(id=mine.id).update(is_late=True)

    def refs(query: str) -> list[str]:
        response = backoffice_api.get(f"/api/v1/orders/?{query}")
        assert response.status_code == 200, response.json()
        return [row["reference"] for row in response.json()["results"]]

    assert refs("state=submitted") == [pooled.reference]
    assert refs("kind=termination") == [pooled.reference]
    assert refs("owner=bo.verdi") == [mine.reference]
    assert refs("owner=none") == [pooled.reference]
    assert refs("late=true") == [mine.reference]
    assert sorted(refs(f"client={contract.client_id}&contract=rsic-mob-2026")) == sorted(
        [mine.reference, pooled.reference]
    )
    assert backoffice_api.get("/api/v1/orders/?state=bogus").status_code == 400


def test_the_list_runs_in_a_fixed_number_of_queries(
    backoffice_api, order_factory, django_assert_max_num_queries
):
    for _ in range(15):
        order_factory()
    # The list's queries, and its access-log row (it shows requesters): chain-head lock,
    # insert, head update, savepoints.
    with django_assert_max_num_queries(13):
        response = backoffice_api.get("/api/v1/orders/")
    assert response.json()["count"] == 15


# --- Loyalty --------------------------------------------------------------------------------


@pytest.fixture
def loyalty_item(contract, backoffice_user):
    order_services.feed_loyalty_worklist(today=contract.valid_to - timedelta(days=30))
    return LoyaltyItem.objects.get()


def test_the_loyalty_worklist_is_listed_filtered_worked_and_closed_with_a_renewal(
    backoffice_api, loyalty_item, django_assert_max_num_queries
):
    with django_assert_max_num_queries(8):
        listed = backoffice_api.get("/api/v1/loyalty/?outcome=pending")
    assert [row["id"] for row in listed.json()["results"]] == [loyalty_item.id]
    assert backoffice_api.get("/api/v1/loyalty/?outcome=lost").json()["count"] == 0

    action = backoffice_api.post(
        f"/api/v1/loyalty/{loyalty_item.id}/actions/",
        {"kind": "offer", "note": "Offerta inviata"},
        format="json",
    )
    assert action.status_code == 201
    # The contract expires in 30 days: still in force, so a renewal can be opened. The API's
    # "today" is the real one, so the renewal is opened only if the contract is in force now.
    closed = backoffice_api.post(
        f"/api/v1/loyalty/{loyalty_item.id}/close/",
        {"outcome": "renegotiated", "open_renewal": False},
        format="json",
    )
    assert closed.status_code == 200, closed.json()
    assert closed.json()["outcome"] == "renegotiated"
    assert [a["kind"] for a in closed.json()["actions"]] == ["offer"]
    again = backoffice_api.post(
        f"/api/v1/loyalty/{loyalty_item.id}/close/", {"outcome": "lost"}, format="json"
    )
    assert (again.status_code, again.json()["code"]) == (409, "loyalty_item_closed")


def test_closing_with_a_renewal_through_the_api_links_the_order(backoffice_api, loyalty_item):
    response = backoffice_api.post(
        f"/api/v1/loyalty/{loyalty_item.id}/close/",
        {"outcome": "renewed", "open_renewal": True},
        format="json",
    )
    assert response.status_code == 200, response.json()
    reference = response.json()["renewal_order"]
    order = backoffice_api.get(f"/api/v1/orders/{reference}/").json()
    assert (order["kind"], order["state"]) == ("renewal", "draft")


def test_a_missing_loyalty_item_is_404(backoffice_api, db):
    response = backoffice_api.get("/api/v1/loyalty/999999/")
    assert (response.status_code, response.json()["code"]) == (404, "loyalty_item_not_found")


def test_the_schema_documents_the_back_office_endpoints(admin_api):
    response = admin_api.get("/api/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    text = response.content.decode()
    for path in ("/api/v1/orders/", "/api/v1/orders/{reference}/transition/", "/api/v1/loyalty/"):
        assert path in text


def test_dates_are_plain_and_times_carry_an_offset(backoffice_api, order_factory):
    order_factory()
    row = backoffice_api.get("/api/v1/orders/").json()["results"][0]
    assert "T" in row["created_at"]
    assert date.fromisoformat(
        backoffice_api.get(f"/api/v1/orders/{row['reference']}/").json()["lines"][0]["target_date"]
    )


def test_ids_too_large_to_exist_are_not_found_not_server_errors(backoffice_api, contract):
    huge = 2**70
    assert backoffice_api.get(f"/api/v1/loyalty/{huge}/").status_code == 404
    assert backoffice_api.get(f"/api/v1/orders/?client={huge}").json()["count"] == 0
    assert backoffice_api.get(f"/api/v1/loyalty/?client={huge}").json()["count"] == 0
    response = backoffice_api.post("/api/v1/orders/", order_payload(requester=huge), format="json")
    assert (response.status_code, list(response.json()["fields"])) == (400, ["requester"])
    response = backoffice_api.post("/api/v1/orders/", order_payload(requester=999), format="json")
    assert (response.status_code, list(response.json()["fields"])) == (400, ["requester"])


# --- A double submission (issue #26 point 10) -----------------------------------------------


def test_the_same_order_posted_twice_is_created_once_and_the_second_answer_names_it(
    backoffice_api, contract
):
    first = backoffice_api.post("/api/v1/orders/", order_payload(), format="json")
    assert first.status_code == 201, first.json()
    before = snapshot()
    again = backoffice_api.post("/api/v1/orders/", order_payload(), format="json")
    assert again.status_code == 409
    body = again.json()
    assert body["code"] == "duplicate_suspected"
    assert [o["reference"] for o in body["similar_orders"]] == [first.json()["reference"]]
    assert snapshot() == before  # nothing written, not even a reference number used up
    assert ContractOrder.objects.count() == 1


def test_a_reason_opens_the_second_order_and_its_timeline_keeps_the_reason(
    backoffice_api, contract
):
    backoffice_api.post("/api/v1/orders/", order_payload(), format="json")
    response = backoffice_api.post(
        "/api/v1/orders/",
        order_payload(duplicate_override_reason="Seconda sede, stesso ordine"),
        format="json",
    )
    assert response.status_code == 201, response.json()
    [created] = [e for e in response.json()["events"] if e["kind"] == "created"]
    assert created["detail"]["duplicate_override_reason"] == "Seconda sede, stesso ordine"
    assert ContractOrder.objects.count() == 2


@pytest.mark.parametrize(
    "changes",
    [
        {"summary": "Attivazione 6 SIM dati"},
        {"kind": "change"},
        {"lines": [{"service": "mobile", "quantity": 6}]},
        {"lines": [{"service": "mobile", "quantity": 5}, {"service": "data", "quantity": 1}]},
    ],
)
def test_an_order_that_asks_something_else_is_not_a_duplicate(backoffice_api, contract, changes):
    assert backoffice_api.post("/api/v1/orders/", order_payload(), format="json").status_code == 201
    response = backoffice_api.post("/api/v1/orders/", order_payload(**changes), format="json")
    assert response.status_code == 201, response.json()


def test_a_closed_order_does_not_hold_back_the_same_request(
    backoffice_api, backoffice_user, contract
):
    first = backoffice_api.post("/api/v1/orders/", order_payload(), format="json").json()
    order_services.transition_order(
        actor=backoffice_user,
        order=ContractOrder.objects.get(reference=first["reference"]),
        to="cancelled",
        reason="Sbagliato",
    )
    again = backoffice_api.post("/api/v1/orders/", order_payload(), format="json")
    assert again.status_code == 201, again.json()


def test_the_order_page_sent_twice_offers_the_first_order_and_a_reason(
    client, backoffice_user, contract
):
    client.force_login(backoffice_user)
    form = {
        "kind": "activation",
        "contract": contract.code,
        "summary": "Attivazione 5 SIM",
        "line_1_service": "mobile",
        "line_1_quantity": "5",
    }
    url = "/backoffice/orders/new/"
    assert client.post(url, form).status_code == 302
    again = client.post(url, form)
    assert again.status_code == 200
    first = ContractOrder.objects.get()
    assert first.reference in again.content.decode()
    assert 'name="duplicate_override_reason"' in again.content.decode()
    assert client.post(url, {**form, "duplicate_override_reason": "Altra sede"}).status_code == 302
    assert ContractOrder.objects.count() == 2
