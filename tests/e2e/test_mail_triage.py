"""The e-mail triage in a real browser: an unknown sender's message waits in *E-mail*, the
operator finds the caller and opens the case from it; another is discarded as spam."""

import re
from datetime import date
from email.message import EmailMessage

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from care import mail
from care.models import Case, InboundMail
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
        client=client,
        first_name="Rosalia",
        last_name="Amato",
        phone="+393471234567",
        email="r.amato@regione.sicilia.it",
    )


def receive(sender: str, subject: str, body: str, message_id: str) -> None:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = sender, "assistenza@presidio.test", subject
    msg["Message-ID"] = message_id
    msg.set_content(body)
    mail.receive_mail(msg.as_bytes(), mailbox="assistenza", now=timezone.now())


def test_an_unknown_senders_message_becomes_a_case_and_spam_is_discarded(
    page, operator_login, caller
):
    # Rosalia writes from her personal address, which is not on file.
    receive("Rosalia <rosalia.amato@example.it>", "SIM rubata", "Mi hanno rubato la SIM.", "<a@x>")
    receive("Offerte <promo@offerte.example>", "Vinci subito!", "Clicca qui.", "<b@x>")

    sign_in(page, "op.ferri")
    page.get_by_role("navigation", name="Navigazione principale").get_by_role(
        "link", name="E-mail", exact=True
    ).click()
    expect(page.get_by_role("heading", name="E-mail da smistare", level=1)).to_be_visible()
    rows = page.get_by_test_id("triage-row")
    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text("rosalia.amato@example.it")

    # Keyboard: the subject link, Enter; the search box has the focus on arrival.
    page.get_by_role("link", name="SIM rubata").focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page.get_by_test_id("mail-reply")).to_have_text("Mi hanno rubato la SIM.")
    expect(page.get_by_label("Telefono, e-mail o matricola")).to_be_focused()
    page.keyboard.type("347 123 4567")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    match = page.get_by_test_id("triage-match")
    expect(match).to_have_count(1)
    expect(match).to_contain_text("Rosalia Amato")
    match.get_by_label("Categoria").select_option("sim-lost")
    match.get_by_role("button", name="Apri la pratica").press("Enter")

    case = Case.objects.get()
    expect(page).to_have_url(re.compile(rf"/care/cases/{case.reference}/$"))
    expect(page.get_by_text(f"Pratica {case.reference} aperta.")).to_be_visible()
    assert (case.end_user, case.channel) == (caller, "email")

    # The other one is spam: discarded, with the reason recorded.
    page.get_by_role("navigation", name="Navigazione principale").get_by_role(
        "link", name="E-mail", exact=True
    ).click()
    expect(rows).to_have_count(1)
    page.get_by_role("link", name="Vinci subito!").click()
    page.get_by_label("Perché").fill("pubblicità")
    with page.expect_navigation():
        page.get_by_label("Perché").press("Enter")
    expect(page.get_by_text("Il messaggio è stato scartato.")).to_be_visible()
    expect(page.get_by_text("Niente da smistare.")).to_be_visible()

    spam = InboundMail.objects.get(message_id="<b@x>")
    assert (spam.triage, spam.triaged_by.username, spam.triage_note) == (
        "discarded",
        "op.ferri",
        "pubblicità",
    )
    assert InboundMail.objects.get(message_id="<a@x>").case == case
