"""The operator's core loop in a real browser: screen pop, a case in one request, the
duplicate proposal, a note to the customer, resolution."""

import re
from datetime import date

import pytest
from playwright.sync_api import expect

from care.models import Case, CaseStatus
from config import roles
from contracts import services
from tests.contract_terms import terms
from tests.e2e.conftest import sign_in
from tests.factories import BusinessCalendarFactory, ClientFactory, EndUserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def caller(user_factory):
    manager = user_factory("man.verdi", roles.MANAGER)
    client = ClientFactory(name="Regione Siciliana", vat_number="02711070827")
    services.create_contract(
        actor=manager,
        code="RSIC-MOB-2026",
        client=client,
        calendar=BusinessCalendarFactory(
            name="Sempre aperto", always_open=True, office_hours=False
        ),
        services=["mobile"],
        valid_from=date(2025, 1, 1),
        valid_to=None,
        terms=terms(),
    )
    return EndUserFactory(
        client=client, first_name="Rosalia", last_name="Amato", phone="+393471234567"
    )


def open_by_screen_pop(page, subject: str) -> None:
    page.goto("/care/intake/?phone=347%20123%204567")
    expect(page).to_have_url(re.compile(r"/care/intake/$"))  # the number left the URL
    expect(page.get_by_role("heading", name=re.compile("Rosalia Amato"))).to_be_visible()
    category = page.get_by_label("Categoria")
    expect(category).to_be_focused()
    category.select_option("sim-lost")
    expect(page.get_by_label("Priorità")).to_have_value("P2")  # the category's default
    expect(page.get_by_label("Descrizione")).to_have_value(re.compile("Numero coinvolto"))
    page.get_by_label("Oggetto").fill(subject)
    page.get_by_label("Descrizione").fill("SIM rubata a Palermo, denuncia presentata.")
    page.get_by_label("Oggetto").press("Enter")


def test_screen_pop_to_resolved_case_with_the_keyboard(page, operator_login, caller):
    sign_in(page, "op.ferri")
    open_by_screen_pop(page, "SIM rubata")
    case = Case.objects.get()
    expect(page).to_have_url(re.compile(rf"/care/cases/{case.reference}/$"))
    expect(page.get_by_text(f"Pratica {case.reference} aperta.")).to_be_visible()

    # A note to the customer: `n` jumps to the note box, Ctrl+Enter sends it.
    page.wait_for_load_state("load")
    page.keyboard.press("n")
    expect(page.get_by_role("textbox", name="Nota:")).to_be_focused()
    page.keyboard.type("Abbiamo bloccato la SIM e spedito la sostituzione.")
    page.get_by_label("Visibile al cliente").check()
    page.get_by_role("textbox", name="Nota:").press("Control+Enter")
    expect(page.get_by_text("Nota aggiunta.")).to_be_visible()
    case.refresh_from_db()
    assert case.first_response_at is not None

    # The closing code: typing in the search box narrows the select and picks the first.
    page.get_by_label("Cerca nei codici di chiusura").fill("informazioni")
    expect(page.get_by_label("Codice di chiusura")).to_have_value("risolto-informazioni")
    page.get_by_role("button", name="Risolvi").click()
    expect(page.get_by_text("Stato cambiato in «Risolta».")).to_be_visible()
    case.refresh_from_db()
    assert (case.status, case.resolution_code) == (CaseStatus.RESOLVED, "risolto-informazioni")


def test_a_second_call_about_the_same_thing_is_offered_the_existing_case(
    page, operator_login, caller
):
    sign_in(page, "op.ferri")
    open_by_screen_pop(page, "SIM rubata")
    # The first case's page, before the next call (else the two requests race on the session)
    expect(page).to_have_url(re.compile(r"/care/cases/CS-\d{4}-\d{6}/$"))
    first = Case.objects.get()
    open_by_screen_pop(page, "SIM rubata, richiama")
    proposal = page.get_by_test_id("similar-cases")
    expect(proposal).to_be_visible()
    expect(proposal).to_contain_text(first.reference)
    proposal.get_by_role("button", name="Aggiungi come nota").click()
    expect(page).to_have_url(re.compile(rf"/care/cases/{first.reference}/$"))
    expect(page.get_by_text(f"Il contatto è stato aggiunto a {first.reference}.")).to_be_visible()
    assert Case.objects.count() == 1
    assert first.notes.get().body.startswith("SIM rubata, richiama")


class CountedKeys:
    """The keys the operator presses beyond typing (`press`), counted; text is `type`d."""

    def __init__(self, page) -> None:
        self.page = page
        self.pressed: list[str] = []

    def press(self, key: str) -> None:
        self.pressed.append(key)
        self.page.keyboard.press(key)

    def type(self, text: str) -> None:
        self.page.keyboard.type(text)


def test_screen_pop_to_saved_case_takes_at_most_three_keys_beyond_the_description(
    page, operator_login, caller
):
    sign_in(page, "op.ferri")
    page.goto("/care/intake/?phone=347%20123%204567")  # the screen pop
    expect(page.get_by_label("Categoria")).to_be_focused()
    page.wait_for_load_state("load")
    keys = CountedKeys(page)
    keys.press("ArrowDown")  # the second category: SIM smarrita o rubata
    expect(page.get_by_label("Oggetto")).to_have_value("SIM smarrita o rubata")
    expect(page.get_by_label("Priorità")).to_have_value("P2")
    keys.press("Enter")  # to the first blank of the template, selected: typing fills it
    expect(page.get_by_label("Descrizione")).to_be_focused()
    keys.type("347 1234567")
    keys.type("\n")  # the end of a template line: the next blank
    keys.type("sì, ieri alla stazione di Palermo")
    keys.type("\nRubata in treno, l'utente è a casa.")
    with page.expect_navigation():
        keys.press("Control+Enter")
    assert len(keys.pressed) <= 3, keys.pressed
    case = Case.objects.get()
    expect(page).to_have_url(re.compile(rf"/care/cases/{case.reference}/$"))
    assert case.category.code == "sim-lost"
    assert case.subject == "SIM smarrita o rubata"
    assert case.channel == "phone"
    assert case.priority == "P2"
    assert case.description.splitlines() == [  # a browser sends CRLF
        "Numero coinvolto: 347 1234567",
        "Denuncia presentata: sì, ieri alla stazione di Palermo",
        "Rubata in treno, l'utente è a casa.",
    ]


def test_enter_in_the_subject_saves(page, operator_login, caller):
    sign_in(page, "op.ferri")
    page.goto("/care/intake/?phone=347%20123%204567")
    expect(page.get_by_label("Categoria")).to_be_focused()
    page.wait_for_load_state("load")
    page.keyboard.press("Enter")
    page.keyboard.type("Nessun dato a Parigi.")
    page.get_by_label("Priorità").focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")  # on a select: saves as well
    case = Case.objects.get()
    assert case.subject == "Roaming non funzionante"
    assert case.description == "Nessun dato a Parigi."
