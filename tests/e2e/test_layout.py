"""Every key page of every role fits a 1280 px screen and stays usable on a 390 px phone: the
document never scrolls sideways (wide tables scroll inside their card), and the page's main
action is on screen, not cut off at the right edge.

Set PRESIDIO_SCREENSHOTS to a folder to keep a full-page screenshot of each page at each width
(for a look by eye)."""

import os
from email.message import EmailMessage
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from care import mail
from tests.e2e.conftest import sign_in
from tests.reports import known_data

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

known = known_data.known
contract_with_handoff_units = known_data.contract_with_handoff_units
other_client_contract = known_data.other_client_contract
open_case_for = known_data.open_case_for

SCREENSHOTS = os.environ.get("PRESIDIO_SCREENSHOTS")
WIDTHS = {"desktop": (1280, 800), "phone": (390, 844)}
PERIOD = "date_from=2026-11-01&date_to=2026-12-31"

# What sticks out past the right edge, to name it when the test fails.
OVERFLOW = """() => {
    const root = document.documentElement;
    const width = root.clientWidth;
    const out = [];
    for (const element of document.querySelectorAll("body *")) {
        const box = element.getBoundingClientRect();
        if (box.width && box.right > width + 1 && !element.closest(".table-scroll, .chart-box")) {
            out.push(element.tagName.toLowerCase() + "." + (element.className || "") + " " +
                     Math.round(box.right));
        }
    }
    return {scroll: root.scrollWidth, client: width, culprits: out.slice(0, 8)};
}"""


@pytest.fixture(autouse=True)
def _no_csp_violations(page):
    """The menu's script and the charts run under the portal's Content-Security-Policy."""
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


def screenshot(page, name: str) -> None:
    if SCREENSHOTS:
        Path(SCREENSHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SCREENSHOTS) / f"{name}.png"), full_page=True)


def check_page(page, url: str, main_action: str, name: str, width_name: str) -> None:
    page.goto(url)
    action = page.locator(main_action).first
    expect(action).to_be_visible()
    layout = page.evaluate(OVERFLOW)
    assert layout["scroll"] <= layout["client"], (url, width_name, layout)
    action.scroll_into_view_if_needed()
    box = action.bounding_box()
    assert box is not None
    assert box["x"] >= 0, (url, width_name, box)
    assert box["x"] + box["width"] <= layout["client"] + 1, (url, width_name, box)
    screenshot(page, f"{name}-{width_name}")


def check_navigation(page, width_name: str) -> None:
    """Wide, the menu is a row of links; on a phone it folds behind one button."""
    toggle = page.get_by_test_id("nav-toggle")
    links = page.locator(".mainnav ul")
    if width_name == "desktop":
        expect(toggle).to_be_hidden()
        expect(links).to_be_visible()
    else:
        expect(toggle).to_be_visible()
        expect(links).to_be_hidden()
        toggle.click()
        expect(links).to_be_visible()
        expect(toggle).to_have_attribute("aria-expanded", "true")
        layout = page.evaluate(OVERFLOW)
        assert layout["scroll"] <= layout["client"], ("open menu", layout)
        toggle.click()
        expect(links).to_be_hidden()


@pytest.fixture
def inbound_mail(known):
    msg = EmailMessage()
    msg["From"], msg["To"] = "Rosalia <rosalia.amato@example.it>", "assistenza@presidio.test"
    msg["Subject"], msg["Message-ID"] = "SIM rubata ieri sera in stazione", "<layout@x>"
    msg.set_content("Mi hanno rubato la SIM, vi prego di bloccarla.")
    mail.receive_mail(msg.as_bytes(), mailbox="assistenza", now=timezone.now())


@pytest.mark.parametrize("width_name", list(WIDTHS))
def test_operator_pages_fit_the_screen(page, known, inbound_mail, width_name):
    page.set_viewport_size(dict(zip(("width", "height"), WIDTHS[width_name], strict=True)))
    sign_in(page, known.operator.username)
    check_navigation(page, width_name)
    case = known.cases["c2"]  # given to this operator by the supervisor
    check_page(page, "/routing/", "[data-testid=next-case]", "workspace", width_name)
    check_page(
        page,
        "/care/intake/?phone=348%20987%206543",  # the caller of c5 (known_data)
        "[data-intake-submit], #intake-lookup button[type=submit]",
        "intake",
        width_name,
    )
    check_page(
        page,
        f"/care/cases/{case.reference}/",
        "[data-testid=note-form] button[type=submit]",
        "case",
        width_name,
    )
    check_page(
        page, "/care/cases/", "[data-testid=case-filters] button[type=submit]", "queue", width_name
    )
    check_page(page, "/care/mail/", "[data-testid=triage-table] a", "mail-triage", width_name)
    # A header cell's visually hidden label once stretched this page past 390 px.
    check_page(page, "/accounts/sessions/", "main .table-scroll", "sessions", width_name)


@pytest.mark.parametrize("width_name", list(WIDTHS))
def test_supervisor_pages_fit_the_screen(page, known, width_name):
    page.set_viewport_size(dict(zip(("width", "height"), WIDTHS[width_name], strict=True)))
    sign_in(page, known.supervisor.username)
    check_page(
        page,
        "/routing/console/",
        "[data-testid=reassign-form] button[type=submit]",
        "console",
        width_name,
    )
    check_page(page, "/routing/wallboard/", "[data-testid=wallboard-live]", "wallboard", width_name)


@pytest.mark.parametrize("width_name", list(WIDTHS))
def test_backoffice_workspace_fits_the_screen(page, known, backoffice_user, width_name):
    page.set_viewport_size(dict(zip(("width", "height"), WIDTHS[width_name], strict=True)))
    sign_in(page, backoffice_user.username)
    check_page(page, "/backoffice/", "[data-testid=next-order]", "backoffice", width_name)


@pytest.mark.parametrize("width_name", list(WIDTHS))
def test_manager_report_pages_fit_the_screen(page, known, manager, width_name):
    page.set_viewport_size(dict(zip(("width", "height"), WIDTHS[width_name], strict=True)))
    sign_in(page, manager.username)
    check_page(
        page,
        f"/reports/?{PERIOD}",
        "[data-testid=report-filters] button[type=submit]",
        "reports-dashboard",
        width_name,
    )
    check_page(
        page,
        f"/reports/sla-compliance/?{PERIOD}",
        "[data-testid=export-csv]",
        "report-sla-compliance",
        width_name,
    )
    expect(page.locator("canvas[data-report-chart]")).to_have_attribute("data-drawn", "true")


def test_the_wide_sla_table_scrolls_inside_its_card_at_1440(page, known, manager):
    """The issue's page: "Conformità SLA per cliente" overflowed its card at 1440 px."""
    page.set_viewport_size({"width": 1440, "height": 900})
    sign_in(page, manager.username)
    page.goto(f"/reports/?{PERIOD}")
    card = page.get_by_test_id("sla-by-client")
    frames = card.evaluate(
        """card => [...card.querySelectorAll("table")].map(table => {
            const frame = table.closest(".table-scroll");
            return {
                inCard: Boolean(frame && card.contains(frame)),
                right: (frame || table).getBoundingClientRect().right,
                cardRight: card.getBoundingClientRect().right,
            };
        })"""
    )
    assert frames
    for frame in frames:
        assert frame["inCard"]
        assert frame["right"] <= frame["cardRight"] + 1
    assert page.evaluate(OVERFLOW)["scroll"] <= 1440
