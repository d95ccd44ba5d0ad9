"""The suggestion panel in a real browser (#24): typing at intake brings the contract's
articles, Alt+1 opens the first, the use is recorded and joins the case opened."""

import re
from datetime import date

import pytest
from playwright.sync_api import expect

from care import articles
from care.models import ArticleScope, Case, CaseArticleUse
from config import roles
from contracts import services
from routing.models import Certification, OperatorProfile
from tests.contract_terms import terms
from tests.e2e.conftest import sign_in
from tests.factories import BusinessCalendarFactory, ClientFactory, EndUserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def publish(author, reviewer, **values):
    version = articles.create_article(
        actor=author, data=articles.ArticleData(**values), submit=True
    )
    articles.publish_article(actor=reviewer, article=version.article)
    return version.article


@pytest.fixture
def knowledge(user_factory, operator_login):
    manager = user_factory("man.verdi", roles.MANAGER)
    supervisor = user_factory("sup.neri", roles.SUPERVISOR)
    calendar = BusinessCalendarFactory(name="Sempre aperto", always_open=True, office_hours=False)
    contracts = {}
    for code, name in [
        ("RSIC-MOB-2026", "Regione Siciliana"),
        ("CT-MOB-2026", "Comune di Catania"),
    ]:
        contracts[code] = services.create_contract(
            actor=manager,
            code=code,
            client=ClientFactory(name=name),
            calendar=calendar,
            services=["mobile"],
            valid_from=date(2025, 1, 1),
            valid_to=None,
            terms=terms(),
        )
    profile = OperatorProfile.objects.create(user=operator_login, skills=["mobile"])
    Certification.objects.create(profile=profile, contract=contracts["RSIC-MOB-2026"])
    Certification.objects.create(profile=profile, contract=contracts["CT-MOB-2026"])
    sicily = publish(
        supervisor,
        manager,
        title="Roaming all'estero per la Regione",
        body="Il roaming è abilitato dal referente: chiedere il **modulo R1**.",
        scope=ArticleScope.CONTRACT,
        contract_code="RSIC-MOB-2026",
        tags=["roaming"],
    )
    catania = publish(
        supervisor,
        manager,
        title="Roaming all'estero per Catania",
        body="Il roaming per Catania passa dal centralino comunale.",
        scope=ArticleScope.CONTRACT,
        contract_code="CT-MOB-2026",
    )
    caller = EndUserFactory(
        client=contracts["RSIC-MOB-2026"].client,
        first_name="Rosalia",
        last_name="Amato",
        phone="+393471234567",
    )
    return sicily, catania, caller


def test_typing_at_intake_suggests_articles_and_alt_1_opens_one_recorded_on_the_case(
    page, knowledge
):
    sicily, _catania, _caller = knowledge
    sign_in(page, "op.ferri")
    page.goto("/care/intake/?phone=347%20123%204567")
    expect(page.get_by_role("heading", name=re.compile("Rosalia Amato"))).to_be_visible()
    page.get_by_label("Categoria").select_option("sim-lost")
    page.get_by_label("Oggetto").fill("Roaming")
    with page.expect_response(lambda r: "/care/articles/suggest/" in r.url):
        page.get_by_label("Descrizione").fill("In Francia il roaming non funziona all'estero")
    suggestions = page.get_by_test_id("article-suggestion")
    expect(suggestions.first).to_contain_text("Roaming all'estero per la Regione")
    expect(page.get_by_test_id("article-suggestion-list")).not_to_contain_text("Catania")

    with page.expect_response(lambda r: "/care/articles/use/" in r.url) as used:
        page.keyboard.press("Alt+1")
    assert used.value.status == 204
    expect(suggestions.first.locator("details")).to_have_attribute("open", "")
    expect(suggestions.first).to_contain_text("modulo R1")
    use = CaseArticleUse.objects.get()
    assert (use.article_id, use.kind, use.case_id) == (sicily.id, "opened", None)

    page.get_by_label("Oggetto").press("Enter")
    case = Case.objects.get()
    expect(page).to_have_url(re.compile(rf"/care/cases/{case.reference}/$"))
    use.refresh_from_db()
    assert use.case_id == case.id

    # On the case page the panel suggests again; Alt+Shift+1 inserts into the note box.
    with page.expect_response(lambda r: "/care/articles/suggest/" in r.url):
        page.get_by_role("textbox", name="Nota:").fill("Il cliente chiede del roaming")
    expect(page.get_by_test_id("article-suggestion").first).to_contain_text("Regione")
    with page.expect_response(lambda r: "/care/articles/use/" in r.url):
        page.keyboard.press("Alt+Shift+1")
    expect(page.get_by_role("textbox", name="Nota:")).to_have_value(
        re.compile(r"Roaming all'estero per la Regione – http")
    )
    assert CaseArticleUse.objects.filter(case=case, kind="inserted").count() == 1
