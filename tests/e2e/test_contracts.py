"""Key contracts pages in a real browser: the caller lookup and a manager's calendar."""

import re
from datetime import date

import pytest
from playwright.sync_api import expect

from config import roles
from contracts import services
from contracts.models import BusinessCalendar
from tests.contracts.conftest import terms
from tests.e2e.conftest import sign_in
from tests.factories import BusinessCalendarFactory, ClientFactory, EndUserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def known_caller(user_factory):
    manager = user_factory("man.rossi", roles.MANAGER)
    client = ClientFactory(name="Regione Siciliana", vat_number="02711070827")
    services.create_contract(
        actor=manager,
        code="RSIC-MOB-2026",
        client=client,
        calendar=BusinessCalendarFactory(name="Palermo uffici"),
        services=["mobile"],
        valid_from=date(2025, 1, 1),
        valid_to=None,
        terms=terms(),
    )
    return EndUserFactory(
        client=client, first_name="Rosalia", last_name="Amato", phone="+393471234567"
    )


def test_operator_finds_the_caller_and_sees_the_contract_card(page, operator_login, known_caller):
    sign_in(page, "op.ferri")
    page.get_by_role("navigation").get_by_role("link", name="Ricerca chiamante").click()
    search = page.get_by_label("Telefono, e-mail o matricola")
    expect(search).to_be_focused()
    page.keyboard.type("347 123 4567")
    page.keyboard.press("Enter")
    caller = page.get_by_role("article", name="Rosalia Amato")
    expect(caller).to_be_visible()
    expect(caller).to_contain_text("RSIC-MOB-2026")
    expect(caller).to_contain_text("Chi è abilitato")
    expect(caller).to_contain_text("Nessuna pratica aperta.")


def test_unknown_number_gets_a_calm_message(page, operator_login, known_caller):
    sign_in(page, "op.ferri")
    page.goto("/contracts/lookup/")
    page.get_by_label("Telefono, e-mail o matricola").fill("333 000 0000")
    page.keyboard.press("Enter")
    expect(page.get_by_text("Nessun utente trovato.")).to_be_visible()


def test_manager_writes_a_calendar_and_is_told_about_an_overlap(page, user_factory):
    user_factory("man.bianchi", roles.MANAGER)
    sign_in(page, "man.bianchi")
    page.goto("/contracts/calendars/new/")
    page.get_by_label("Nome:", exact=True).fill("Catania uffici")
    page.get_by_label("Provincia (santo patrono)").fill("CT")
    page.get_by_label("Lunedì").fill("08:30-13:00, 12:30-17:00")
    page.get_by_role("button", name="Salva").click()
    expect(page.get_by_role("alert")).to_contain_text("Correggi gli errori")
    expect(page.get_by_text("12:30–17:00 si sovrappone")).to_be_visible()
    page.get_by_label("Lunedì").fill("08:30-13:00, 14:00-17:30")
    page.get_by_role("button", name="Salva").click()
    expect(page).to_have_url(re.compile(r"/contracts/calendars/$"))
    expect(page.get_by_role("link", name="Catania uffici")).to_be_visible()
    assert BusinessCalendar.objects.get(name="Catania uffici").intervals.count() == 2
