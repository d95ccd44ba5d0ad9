"""Saved replies in a real browser: Alt+R in the note box opens the search, typing narrows
it, Enter inserts the reply rendered for the case at the cursor."""

import re

import pytest
from playwright.sync_api import expect

from care import replies
from care import services as care_services
from tests.e2e.conftest import sign_in
from tests.e2e.test_intake import caller  # noqa: F401 -- a fixture

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_alt_r_inserts_a_saved_reply_rendered_for_the_case(page, operator_login, caller):  # noqa: F811
    case = care_services.open_case(
        actor=operator_login,
        request=care_services.CaseRequest(
            contract_code="RSIC-MOB-2026",
            category_code="roaming",
            channel="phone",
            subject="Roaming",
            description="Nessun servizio a Parigi.",
            end_user_id=caller.id,
        ),
    )
    for title, body in (
        ("Saluto", "Gentile {{ nome_chiamante }}, "),
        ("Chiusura", "la pratica {{ riferimento }} è risolta. {{ operatore }}"),
    ):
        replies.create_reply(actor=operator_login, data=replies.ReplyData(title=title, body=body))
    sign_in(page, "op.ferri")
    page.goto(f"/care/cases/{case.reference}/")
    page.wait_for_load_state("load")
    note = page.get_by_role("textbox", name="Nota:")
    note.click()
    page.keyboard.type("Inizio. ")
    page.keyboard.press("Alt+r")
    search = page.get_by_role("combobox", name="Cerca")
    choices = page.get_by_role("listbox", name="Risposte predefinite").get_by_role("option")
    expect(search).to_be_focused()
    page.keyboard.type("chiusura")
    expect(choices).to_have_count(1)
    page.keyboard.press("Enter")
    expect(note).to_be_focused()
    expect(note).to_have_value(f"Inizio. la pratica {case.reference} è risolta. Paola Ferri")
    # "/" at the start of an empty note opens it too; Esc closes and gives the focus back.
    note.fill("")
    page.keyboard.press("/")
    expect(search).to_be_focused()
    expect(choices).to_have_count(2)
    page.keyboard.press("Escape")
    expect(note).to_be_focused()
    expect(note).to_have_value(re.compile(r"^$"))
