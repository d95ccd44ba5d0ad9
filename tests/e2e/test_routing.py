"""The routing pages in a real browser: "Prossimo caso" from the workspace to the case page
and its "why me?", an emergency switched on from the console, and the console's live update.

Set ROUTING_SCREENSHOTS to a folder to keep a screenshot of each page (for a look by eye)."""

import os
import re
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from care import services as care_services
from care.models import Case
from config import roles
from routing import views
from routing.models import DEFAULT_QUEUE, Queue, Site
from tests.care.conftest import SIM_LOST_DESCRIPTION
from tests.e2e.conftest import sign_in
from tests.factories import EndUserFactory
from tests.routing.conftest import make_profile

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENSHOTS = os.environ.get("ROUTING_SCREENSHOTS")


def screenshot(page, name: str) -> None:
    if SCREENSHOTS:
        Path(SCREENSHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SCREENSHOTS) / f"{name}.png"), full_page=True)


def open_case(contract, actor, subject: str = "SIM rubata", priority: str = "") -> Case:
    """A case opened now through the real service (which files it in its queue)."""
    caller = EndUserFactory(client=contract.client)
    return care_services.open_case(
        actor=actor,
        request=care_services.CaseRequest(
            contract_code=contract.code,
            category_code="sim-lost",
            channel="phone",
            subject=subject,
            description=SIM_LOST_DESCRIPTION,
            priority=priority,
            end_user_id=caller.id,
        ),
        now=timezone.now(),
    )


@pytest.fixture(autouse=True)
def _no_csp_violations(page):
    """htmx runs under the portal's Content-Security-Policy: no eval, no inline style or
    script; the browser reports any violation on the console."""
    violations = []
    page.on(
        "console",
        lambda message: (
            violations.append(message.text)
            if "Content Security Policy" in message.text or "Refused to" in message.text
            else None
        ),
    )
    yield
    assert violations == []


@pytest.fixture
def queue(db):
    queue, _created = Queue.objects.get_or_create(code=DEFAULT_QUEUE, defaults={"name": "Generale"})
    return queue


@pytest.fixture
def pull_only(settings):
    """No automatic offers: cases wait until someone presses "Prossimo caso"."""
    settings.ROUTING_AUTO_ASSIGN = False


@pytest.fixture
def on_duty(pull_only, operator_login, contract, queue):
    """The operator Paola Ferri, at the Palermo site, certified on the contract, available."""
    profile = make_profile(operator_login, contracts=(contract,))
    site = Site.objects.create(code="pa", name="Palermo", province="PA")
    type(profile).objects.filter(id=profile.id).update(site=site)
    return operator_login


@pytest.fixture
def supervisor_login(user_factory, queue):
    """Anna Galli, who runs the default queue (routing.scope)."""
    user = user_factory("sup.galli", roles.SUPERVISOR, first_name="Anna", last_name="Galli")
    queue.supervisors.add(user)
    return user


def test_operator_takes_the_next_case_with_the_keyboard_and_sees_why(
    page, on_duty, contract, operator_login
):
    open_case(contract, operator_login, subject="Roaming assente", priority="P3")
    urgent = open_case(contract, operator_login, subject="SIM rubata", priority="P2")
    sign_in(page, "op.ferri")
    page.goto("/routing/")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    expect(page.get_by_test_id("waiting-count")).to_have_text("2")
    expect(page.locator("#workspace-shortcuts kbd")).to_have_text("N")
    expect(page.get_by_test_id("presence-available")).to_have_attribute("aria-pressed", "true")
    screenshot(page, "workspace")
    assert page.evaluate("[htmx.config.allowEval, htmx.config.includeIndicatorStyles]") == [
        False,
        False,
    ]

    page.wait_for_load_state("load")
    with page.expect_navigation():
        page.keyboard.press("n")
    expect(page).to_have_url(re.compile(rf"/care/cases/{urgent.reference}/$"))
    expect(page.locator(".message.success")).to_contain_text(urgent.reference)
    why = page.get_by_test_id("why-me")  # loaded by htmx into the case page
    expect(why.get_by_test_id("decision")).to_have_attribute("data-kind", "pull")
    expect(why.get_by_test_id("decision")).to_have_attribute("data-level", "contract")
    expect(why).to_contain_text("Paola Ferri")
    expect(why).to_contain_text("Presa dalla coda «")  # facts said in Italian, not stored
    assigned = page.locator('[data-testid="timeline-event"][data-kind="assigned"]')
    expect(assigned).to_contain_text("Paola Ferri (presa dalla coda «")
    expect(assigned).not_to_contain_text("take-next")
    screenshot(page, "case-why-me")
    assert Case.objects.get(id=urgent.id).assignee == operator_login

    # Back on the workspace the case is listed as mine, the count went down.
    page.goto("/routing/")
    expect(page.get_by_test_id("my-case-row")).to_have_attribute("data-reference", urgent.reference)
    expect(page.get_by_test_id("waiting-count")).to_have_text("1")
    screenshot(page, "workspace-with-case")


def test_operator_away_is_told_to_become_available(page, on_duty, contract, operator_login):
    open_case(contract, operator_login)
    sign_in(page, "op.ferri")
    page.goto("/routing/")
    page.get_by_test_id("presence-away").click()
    expect(page.get_by_test_id("my-presence")).to_have_attribute("data-presence", "away")
    page.get_by_test_id("next-case").click()
    expect(page.locator(".message.error")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/routing/$"))
    assert not Case.objects.filter(assignee=operator_login).exists()


def test_supervisor_switches_an_emergency_on_and_sees_the_banner(
    page, supervisor_login, on_duty, queue
):
    sign_in(page, "sup.galli")
    page.goto("/routing/console/")
    expect(page.get_by_test_id("emergency-banner")).to_have_count(0)
    form = page.get_by_test_id("emergency-form")
    form.get_by_label("Coda").select_option(queue.code)
    form.locator("#id_minutes").fill("30")
    form.locator("#id_reason").fill("Guasto rete in Sicilia")
    form.locator("button[type=submit]").click()
    banner = page.get_by_test_id("emergency-banner")
    expect(banner).to_be_visible()
    expect(banner).to_contain_text("Guasto rete in Sicilia")
    until = timezone.localtime(Queue.objects.get(id=queue.id).emergency_until)
    expect(banner).to_contain_text(until.strftime("%H:%M"))
    screenshot(page, "console-emergency")

    banner.get_by_test_id("end-emergency").click()  # right from the banner
    expect(page.get_by_test_id("emergency-banner")).to_have_count(0)
    assert Queue.objects.get(id=queue.id).emergency_until is None


def test_supervisor_sees_an_emergency_without_a_reason_refused(page, supervisor_login, queue):
    sign_in(page, "sup.galli")
    page.goto("/routing/console/")
    form = page.get_by_test_id("emergency-form")
    form.get_by_label("Coda").select_option(queue.code)
    form.locator("button[type=submit]").click()
    expect(page.locator("#id_reason")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_test_id("emergency-banner")).to_have_count(0)
    screenshot(page, "console-error")
    assert Queue.objects.get(id=queue.id).emergency_until is None


def test_console_counts_a_new_case_without_reloading(
    page, supervisor_login, pull_only, queue, contract, operator_login, monkeypatch
):
    monkeypatch.setattr(views, "CONSOLE_POLL_SECONDS", 1)
    sign_in(page, "sup.galli")
    page.goto("/routing/console/")
    waiting = page.locator(f'[data-queue="{DEFAULT_QUEUE}"] [data-testid="queue-waiting"]')
    expect(waiting).to_have_text("0")
    page.evaluate("window.presidioNotReloaded = true")

    open_case(contract, operator_login)  # in the background, by someone else

    expect(waiting).to_have_text("1", timeout=8_000)
    assert page.evaluate("window.presidioNotReloaded === true")
    screenshot(page, "console")
