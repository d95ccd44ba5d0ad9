import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import sign_in

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]


def test_operator_signs_in_with_the_keyboard_alone_and_signs_out(page, operator_login):
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/$"))
    expect(page.get_by_role("heading", name="Accedi a Presidio")).to_be_visible()
    expect(page.get_by_label("Nome utente")).to_be_focused()

    sign_in(page, "op.ferri")
    expect(page.get_by_role("heading", name="Buongiorno, Paola Ferri")).to_be_visible()
    expect(page.get_by_text("Operatore")).to_be_visible()

    page.get_by_role("button", name="Esci").click()
    expect(page.get_by_role("heading", name="Accedi a Presidio")).to_be_visible()
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/accounts/login/"))


def test_wrong_password_is_refused_in_italian(page, operator_login):
    sign_in(page, "op.ferri", "not-the-password")
    expect(page.get_by_role("alert")).to_contain_text("Inserisci nome utente e password corretti")
    expect(page.get_by_label("Nome utente")).to_have_value("op.ferri")


def test_language_switch_turns_the_portal_english_and_back(page, operator_login):
    sign_in(page, "op.ferri")
    expect(page.locator("html")).to_have_attribute("lang", "it")
    page.get_by_label("Lingua").select_option("en")
    page.get_by_role("button", name="Cambia lingua").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", name="Hello, Paola Ferri")).to_be_visible()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    page.get_by_label("Language").select_option("it")
    page.get_by_role("button", name="Change language").click()
    expect(page.get_by_role("button", name="Esci")).to_be_visible()


def test_skip_link_is_the_first_stop_and_visible_on_focus(page, operator_login):
    sign_in(page, "op.ferri")
    expect(page.get_by_role("heading", name="Buongiorno, Paola Ferri")).to_be_visible()
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Vai al contenuto")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()
    outline = skip.evaluate("el => getComputedStyle(el).outlineStyle")
    assert outline == "solid"


def test_api_docs_render_from_local_assets(page, operator_login):
    external = []
    page.on(
        "request",
        lambda request: (
            None if request.url.startswith(page_origin(page)) else external.append(request.url)
        ),
    )
    sign_in(page, "op.ferri")
    expect(page.get_by_role("heading", name="Buongiorno, Paola Ferri")).to_be_visible()
    page.goto("/api/docs/")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Presidio API")
    expect(page.get_by_text("/api/v1/me/").first).to_be_visible()
    assert [url for url in external if not url.startswith("data:")] == []


def page_origin(page) -> str:
    return re.match(r"^https?://[^/]+", page.url).group(0) if page.url.startswith("http") else ""
