"""People in a real browser (issue #20 point 1): an administrator creates an operator's
account, the supervisor of the site completes the profile and the certification, and the
new operator chooses a password from the e-mailed link, signs in and takes a case with
"Prossimo caso"."""

import re

import pytest
from django.core import mail
from django.utils import timezone
from playwright.sync_api import expect

from care import services as care_services
from config import roles
from routing.models import DEFAULT_QUEUE, OperatorProfile, Queue, Site
from tests.care.conftest import SIM_LOST_DESCRIPTION
from tests.e2e.conftest import sign_in
from tests.factories import EndUserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHOSEN = "Una-frase-lunga-2026!"


@pytest.fixture
def milano(user_factory):
    supervisor = user_factory("sup.galli", roles.SUPERVISOR, first_name="Anna", last_name="Galli")
    site = Site.objects.create(code="mi", name="Milano", province="MI")
    site.supervisors.add(supervisor)
    return site


@pytest.fixture
def waiting_case(settings, contract, admin_user):
    settings.ROUTING_AUTO_ASSIGN = False  # the case waits for "Prossimo caso"
    Queue.objects.get_or_create(code=DEFAULT_QUEUE, defaults={"name": "Generale"})
    return care_services.open_case(
        actor=admin_user,
        request=care_services.CaseRequest(
            contract_code=contract.code,
            category_code="sim-lost",
            channel="phone",
            subject="SIM rubata",
            description=SIM_LOST_DESCRIPTION,
            end_user_id=EndUserFactory(client=contract.client).id,
        ),
        now=timezone.now(),
    )


def test_an_onboarded_operator_takes_a_case(page, admin_user, milano, contract, waiting_case):
    # The administrator creates the account: no password typed by anyone.
    sign_in(page, admin_user.username)
    page.goto("/routing/people/")
    page.get_by_test_id("person-new").click()
    page.locator("#id_username").fill("op.nuova")
    page.locator("#id_first_name").fill("Nadia")
    page.locator("#id_last_name").fill("Nuova")
    page.locator("#id_email").fill("nadia.nuova@example.test")
    page.get_by_label("Operatore").check()
    with page.expect_navigation():
        page.get_by_role("button", name="Crea").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Nadia Nuova")
    expect(page.locator(".message.success")).to_contain_text("nadia.nuova@example.test")
    page.context.clear_cookies()

    # The supervisor of Milano completes the profile and the certification.
    sign_in(page, "sup.galli")
    page.goto("/routing/people/")
    page.get_by_role("link", name="Nadia Nuova").click()
    expect(page.get_by_test_id("no-profile")).to_be_visible()
    page.locator("#id_site").select_option(label="Milano")
    page.locator("#id_capacity").fill("3")
    page.locator("#id_backoffice_share").fill("0.2")
    page.get_by_label("Mobile").check()
    page.get_by_label("Italiano").check()
    with page.expect_navigation():
        page.get_by_role("button", name="Crea il profilo").click()
    expect(page.locator(".message.success")).to_be_visible()
    page.locator("#id_contract").select_option(value=contract.code)
    with page.expect_navigation():
        page.get_by_role("button", name="Aggiungi l'abilitazione").click()
    expect(page.get_by_test_id("certifications")).to_contain_text(contract.code)
    profile = OperatorProfile.objects.get(user__username="op.nuova")
    assert (profile.site_id, profile.capacity) == (milano.id, 3)
    page.context.clear_cookies()

    # The new operator chooses a password from the link, signs in and takes the case.
    [message] = [m for m in mail.outbox if m.to == ["nadia.nuova@example.test"]]
    link = re.search(r"https?://\S+(/accounts/password/set/\S+)", message.body).group(1)
    page.goto(link)
    page.locator("#id_new_password1").fill(CHOSEN)
    page.locator("#id_new_password2").fill(CHOSEN)
    with page.expect_navigation():
        page.get_by_role("button", name="Salva la password").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Password salvata")
    sign_in(page, "op.nuova", CHOSEN)
    page.goto("/routing/")
    page.get_by_test_id("presence-available").click()
    expect(page.get_by_test_id("presence-available")).to_have_attribute("aria-pressed", "true")
    with page.expect_navigation():
        page.get_by_test_id("next-case").click()
    expect(page).to_have_url(re.compile(rf"/care/cases/{waiting_case.reference}/$"))
