"""The back-office pages: workspace, order from a case, order page actions, loyalty page."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from contracts.models import ContractOrder, LoyaltyItem
from contracts.orders import services as order_services

pytestmark = pytest.mark.django_db


@pytest.fixture
def browser(backoffice_user) -> Client:
    client = Client()
    client.force_login(backoffice_user)
    return client


def test_the_workspace_shows_my_team_waiting_and_loyalty_lists_in_bounded_queries(
    browser,
    order_factory,
    backoffice_user,
    other_backoffice,
    contract,
    django_assert_max_num_queries,
):
    mine = [order_factory(owner=backoffice_user) for _ in range(3)]
    theirs = [order_factory(owner=other_backoffice) for _ in range(3)]
    waiting = order_factory()
    order_services.transition_order(actor=backoffice_user, order=waiting, to="submitted")
    order_services.feed_loyalty_worklist(today=contract.valid_to - timedelta(days=10))
    with django_assert_max_num_queries(20):
        response = browser.get("/backoffice/")
    assert response.status_code == 200
    page = response.content.decode()
    for order in [*mine, *theirs, waiting]:
        assert order.reference in page
    context = response.context
    assert {o.reference for o in context["mine"]} == {o.reference for o in mine}
    assert [o.reference for o in context["waiting"]] == [waiting.reference]
    assert waiting.reference in {o.reference for o in context["team"]}
    assert [i.contract_id for i in context["loyalty"]] == [contract.id]
    assert context["pool_size"] == 1


def test_the_order_list_page_is_bounded(browser, order_factory, django_assert_max_num_queries):
    for _ in range(10):
        order_factory()
    with django_assert_max_num_queries(12):
        response = browser.get("/backoffice/orders/?state=draft")
    assert response.status_code == 200
    assert response.content.decode().count('data-testid="order-row"') == 10


def test_operators_and_managers_cannot_work_the_back_office(operator, manager, order_factory, db):
    order = order_factory()
    client = Client()
    client.force_login(operator)
    assert client.get("/backoffice/").status_code == 403
    assert client.get(f"/backoffice/orders/{order.reference}/").status_code == 403
    client.force_login(manager)
    assert client.get("/backoffice/").status_code == 403
    assert client.get(f"/backoffice/orders/{order.reference}/").status_code == 200  # reads
    assert client.post("/backoffice/orders/new/", {}).status_code == 403


def test_an_order_opened_from_a_case_is_prefilled_and_the_two_stay_linked(
    browser,
    open_case_for,
    end_user,
    operator,
    backoffice_user,
):
    case = open_case_for(end_user)
    url = f"/backoffice/orders/new/?case={case.reference}&contract={case.contract.code}"
    form_page = browser.get(url)
    assert form_page.status_code == 200
    form = form_page.context["form"]
    assert form["contract"].value() == case.contract.code
    assert form["case_reference"].value() == case.reference
    target = (timezone.localdate() + timedelta(days=7)).isoformat()
    response = browser.post(
        url,
        {
            "kind": "activation",
            "contract": case.contract.code,
            "summary": "Attivazione SIM sostitutiva",
            "line_1_service": "mobile",
            "line_1_quantity": "1",
            "line_1_target_date": target,
            "owner": "bo.verdi",
            "case_reference": case.reference,
        },
    )
    order = ContractOrder.objects.get()
    assert response.status_code == 302
    assert response.url == f"/backoffice/orders/{order.reference}/"
    assert order.case_reference == case.reference
    detail = browser.get(response.url).content.decode()
    assert f"/care/cases/{case.reference}/" in detail

    case_page = Client()
    case_page.force_login(operator)
    shown = case_page.get(f"/care/cases/{case.reference}/")
    assert shown.status_code == 200
    assert order.reference in shown.content.decode()
    assert [o.reference for o in shown.context["case_orders"]] == [order.reference]


def test_a_refused_order_form_shows_the_services_message_and_writes_nothing(browser, contract):
    response = browser.post(
        "/backoffice/orders/new/",
        {
            "kind": "activation",
            "contract": contract.code,
            "summary": "Qualcosa",
            "line_1_service": "mobile",
            "line_1_quantity": "0",
        },
    )
    assert response.status_code == 200
    assert response.context["form"].errors
    assert ContractOrder.objects.count() == 0


def test_the_order_page_moves_the_order_and_says_why_a_move_is_refused(
    browser, order_factory, backoffice_user
):
    order = order_factory()
    page = browser.get(f"/backoffice/orders/{order.reference}/")
    moves = [*page.context["moves"], *page.context["reasoned_moves"]]
    assert [move["to"] for move in moves] == ["submitted", "cancelled"]
    url = f"/backoffice/orders/{order.reference}/transition/"
    response = browser.post(url, {"to": "submitted", "row_version": 1}, follow=True)
    order.refresh_from_db()
    assert order.state == "submitted"
    stale = browser.post(url, {"to": "validated", "row_version": 1}, follow=True)
    messages = [str(m) for m in stale.context["messages"]]
    assert any("meantime" in m or "frattempo" in m for m in messages)
    no_reason = browser.post(url, {"to": "rejected", "row_version": 2}, follow=True)
    assert no_reason.status_code == 200
    order.refresh_from_db()
    assert order.state == "submitted"
    assert response.status_code == 200


def test_notes_documents_and_taking_the_order_from_its_page(browser, order_factory):
    from django.core.files.uploadedfile import SimpleUploadedFile

    order = order_factory()
    base = f"/backoffice/orders/{order.reference}/"
    browser.post(base + "notes/", {"body": "Modulo ricevuto", "visibility": "internal"})
    browser.post(
        base + "documents/", {"file": SimpleUploadedFile("modulo.pdf", b"%PDF-1.7 firmato")}
    )
    browser.post(base + "assign/", {"owner": "me", "row_version": "1"})
    order.refresh_from_db()
    assert order.notes.get().body == "Modulo ricevuto"
    document = order.documents.get()
    assert order.owner.username == "bo.verdi"
    download = browser.get(f"{base}documents/{document.id}/")
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == b"%PDF-1.7 firmato"


def test_the_loyalty_page_records_an_action_and_closes_with_a_renewal(browser, contract):
    order_services.feed_loyalty_worklist(today=contract.valid_to - timedelta(days=10))
    item = LoyaltyItem.objects.get()
    page = browser.get(f"/backoffice/loyalty/{item.id}/")
    assert page.status_code == 200
    browser.post(
        f"/backoffice/loyalty/{item.id}/actions/", {"action-kind": "call", "action-note": "Sentiti"}
    )
    response = browser.post(
        f"/backoffice/loyalty/{item.id}/close/",
        {"close-outcome": "renewed", "close-open_renewal": "on"},
    )
    item.refresh_from_db()
    assert item.outcome == "renewed"
    assert response.url == f"/backoffice/orders/{item.renewal_order.reference}/"
    assert item.actions.get().kind == "call"


def test_the_navigation_shows_back_office_to_back_office_users(browser, operator):
    labels = [str(i["label"]) for i in browser.get("/backoffice/").context["nav_items"]]
    assert any(label in ("Back-office", "Back office") for label in labels)
