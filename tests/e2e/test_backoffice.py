"""The back-office in a real browser: an order opened from a case, sent for validation by
one person and validated by a colleague (four eyes), and a loyalty item closed with a
renewal order.

Selectors use ids and test ids, not words: the Italian catalogue of these pages is refreshed
by `make messages` after the strings land."""

import re
from datetime import date, timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from care import services as care_services
from config import roles
from contracts import services
from contracts.models import ContractOrder, LoyaltyItem
from contracts.orders import services as order_services
from tests.contract_terms import terms
from tests.e2e.conftest import sign_in
from tests.factories import BusinessCalendarFactory, ClientFactory, EndUserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def world(user_factory):
    manager = user_factory("man.verdi", roles.MANAGER)
    operator = user_factory("op.ferri", roles.OPERATOR)
    backoffice = user_factory("bo.gallo", roles.BACKOFFICE, first_name="Rita", last_name="Gallo")
    client = ClientFactory(name="Regione Siciliana", vat_number="02711070827")
    colleague = user_factory("bo.neri", roles.BACKOFFICE, first_name="Ugo", last_name="Neri")
    client.account_team.add(backoffice, colleague)  # back-office works its clients' orders
    calendar = BusinessCalendarFactory(name="Sempre aperto", always_open=True, office_hours=False)
    contract = services.create_contract(
        actor=manager,
        code="RSIC-MOB-2026",
        client=client,
        calendar=calendar,
        services=["mobile"],
        valid_from=date(2025, 1, 1),
        valid_to=None,
        terms=terms(),
    )
    end_user = EndUserFactory(client=client, first_name="Rosalia", last_name="Amato")
    case = care_services.open_case(
        actor=operator,
        request=care_services.CaseRequest(
            contract_code=contract.code,
            category_code="sim-lost",
            channel="phone",
            subject="Servono 3 SIM nuove",
            description="Il referente chiede l'attivazione di 3 SIM.",
            end_user_id=end_user.id,
        ),
        now=timezone.now(),
    )
    return {"manager": manager, "backoffice": backoffice, "contract": contract, "case": case}


def expect_state(page, state: str) -> None:
    expect(page.get_by_test_id("order-state")).to_have_attribute("data-state", state)


def test_an_order_is_sent_for_validation_and_a_colleague_validates_it(page, world, live_server):
    case = world["case"]
    sign_in(page, "bo.gallo")
    page.goto(f"/care/cases/{case.reference}/")
    page.get_by_test_id("open-order").click()
    expect(page).to_have_url(re.compile(r"/backoffice/orders/new/\?case="))
    expect(page.get_by_test_id("from-case")).to_contain_text(case.reference)
    expect(page.locator("#id_contract")).to_have_value("RSIC-MOB-2026")

    page.locator("#id_kind").select_option("activation")
    page.locator("#id_summary").fill("Attivazione 3 SIM")
    page.locator("#id_line_1_service").select_option("mobile")
    page.locator("#id_line_1_quantity").fill("3")
    target = (timezone.localdate() + timedelta(days=10)).isoformat()
    page.locator("#id_line_1_target_date").fill(target)
    page.locator("#id_summary").press("Enter")  # the keyboard submits the form

    order = ContractOrder.objects.get()
    expect(page).to_have_url(re.compile(rf"/backoffice/orders/{order.reference}/$"))
    expect_state(page, "draft")
    expect(page.get_by_test_id("order-case")).to_have_text(case.reference)
    page.get_by_test_id("order-move-submitted").click()
    expect_state(page, "submitted")
    # Four eyes: the submitter is told a colleague validates, and cannot do it alone.
    expect(page.get_by_test_id("four-eyes-note")).to_be_visible()
    expect(page.get_by_test_id("order-move-validated")).to_have_count(0)

    # A colleague, in their own browser, validates and carries the order through.
    colleague = page.context.browser.new_context(locale="it-IT", base_url=live_server.url)
    second = colleague.new_page()
    try:
        sign_in(second, "bo.neri")
        second.goto(f"/backoffice/orders/{order.reference}/")
        expect(second.get_by_test_id("four-eyes-note")).to_have_count(0)
        expect(second.get_by_test_id("order-move-validated")).to_have_text("Valida")
        for state in ("validated", "provisioning", "completed"):
            second.get_by_test_id(f"order-move-{state}").click()
            expect_state(second, state)
    finally:
        colleague.close()
    order.refresh_from_db()
    assert order.state == "completed"
    validated = order.events.get(to_state="validated")
    assert validated.actor.username == "bo.neri"
    assert order.events.filter(kind="state_changed").count() == 4

    # The case lists the order opened from it, and links to it.
    page.goto(f"/care/cases/{case.reference}/")
    page.get_by_test_id("case-orders").get_by_role("link", name=order.reference).click()
    expect(page).to_have_url(re.compile(rf"/backoffice/orders/{order.reference}/$"))


def test_rejecting_an_order_asks_for_a_reason(page, world):
    order = order_services.create_order(
        actor=world["backoffice"],
        kind="change",
        contract=world["contract"],
        lines=[order_services.LineData(service="mobile", quantity=1)],
        summary="Cambio piano",
    )
    order_services.transition_order(actor=world["backoffice"], order=order, to="submitted")
    sign_in(page, "bo.gallo")
    page.goto(f"/backoffice/orders/{order.reference}/")
    reject = page.get_by_test_id("order-ask-rejected")
    reject.locator("summary").click()  # "Respingi…" opens the form that asks why
    page.get_by_test_id("order-move-rejected").click()
    expect_state(page, "submitted")
    # Back on the order's page, the form open again and the reason marked with its message.
    expect(page).to_have_url(re.compile(rf"/backoffice/orders/{order.reference}/#move:rejected$"))
    reason = page.locator("#id_rejected_reason")
    expect(reason).to_have_attribute("aria-invalid", "true")
    expect(reason).to_have_attribute("aria-describedby", "id_rejected_reason_error")
    expect(page.locator("#id_rejected_reason_error")).to_be_visible()
    reason.fill("Modulo non firmato")
    page.get_by_test_id("order-move-rejected").click()
    expect_state(page, "rejected")
    expect(page.get_by_test_id("order-reason")).to_have_text("Modulo non firmato")


def test_a_loyalty_item_is_closed_with_a_renewal_order(page, world):
    today = timezone.localdate()
    services.update_contract(
        actor=world["manager"],
        contract=world["contract"],
        calendar=world["contract"].calendar,
        services=world["contract"].services,
        valid_to=today + timedelta(days=40),
        status=world["contract"].status,
    )
    order_services.feed_loyalty_worklist(today=today)
    item = LoyaltyItem.objects.get()

    sign_in(page, "bo.gallo")
    page.goto("/backoffice/")
    page.get_by_test_id("loyalty-worklist").get_by_role("link", name="RSIC-MOB-2026").click()
    expect(page).to_have_url(re.compile(rf"/backoffice/loyalty/{item.id}/$"))
    page.locator("#id_action-kind").select_option("offer")
    page.locator("#id_action-note").fill("Offerta triennale inviata")
    page.locator("form[action$='/actions/'] button[type=submit]").click()
    expect(page.get_by_test_id("loyalty-actions")).to_contain_text("Offerta triennale inviata")

    page.locator("#id_close-open_renewal").check()
    page.get_by_test_id("loyalty-close-renewed").click()
    item.refresh_from_db()
    assert item.outcome == "renewed"
    renewal = item.renewal_order
    expect(page).to_have_url(re.compile(rf"/backoffice/orders/{renewal.reference}/$"))
    expect_state(page, "draft")
    assert renewal.kind == "renewal"
