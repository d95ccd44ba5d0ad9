"""The reports in a real browser: the dashboard draws its charts (Chart.js served locally,
data passed with json_script under the CSP) and a manager downloads a CSV from a report page."""

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import sign_in
from tests.reports import known_data

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

known = known_data.known
contract_with_handoff_units = known_data.contract_with_handoff_units
other_client_contract = known_data.other_client_contract
open_case_for = known_data.open_case_for

PERIOD = "date_from=2026-12-01&date_to=2026-12-31"
PAINTED = """canvas => {
    const pixels = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
    return pixels.some(value => value !== 0);
}"""


def test_the_dashboard_draws_its_charts_with_the_numbers_beside_them(page, known, manager):
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    sign_in(page, manager.username)
    page.get_by_role("navigation").get_by_role("link", name="Report").click()
    page.goto(f"/reports/?{PERIOD}")
    for chart in ("trend", "flow", "sla", "sites", "queues", "handoffs"):
        canvas = page.locator(f"canvas[data-chart={chart}]")
        expect(canvas).to_have_attribute("data-drawn", "true")
    assert page.locator("canvas[data-chart=sla]").evaluate(PAINTED)
    assert page.locator("canvas[data-chart=flow]").evaluate(PAINTED)
    expect(page.get_by_test_id("sla-by-client")).to_contain_text("75")
    expect(page.get_by_test_id("breached-count")).to_have_text("2")
    assert not [e for e in errors if "Content Security Policy" in e]


def test_a_manager_downloads_a_report_as_csv(page, known, manager):
    sign_in(page, manager.username)
    page.goto(f"/reports/breaches/?{PERIOD}")
    expect(page.get_by_test_id("report-table").locator("tbody tr")).to_have_count(2)
    with page.expect_download() as download_info:
        page.get_by_test_id("export-csv").click()
    download = download_info.value
    assert download.suggested_filename.startswith("presidio-breaches-")
    assert download.suggested_filename.endswith(".csv")
    data = Path(download.path()).read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    lines = data.decode("utf-8-sig").strip().splitlines()
    assert len(lines) == 3
    assert known.cases["c2"].reference in data.decode("utf-8-sig")


def test_a_big_export_shows_its_progress_and_then_the_download_link(page, known, manager, settings):
    from reports.models import ExportJob
    from reports.tasks import write_export_task

    settings.REPORTS_ASYNC_EXPORT_ROWS = 1
    settings.CELERY_TASK_ALWAYS_EAGER = False  # a worker writes the file: here, the test
    sign_in(page, manager.username)
    polls = []
    progress = re.compile(r"/reports/jobs/\d+/$")
    page.on("request", lambda request: progress.search(request.url) and polls.append(request))
    page.goto(f"/reports/cases/?{PERIOD}")
    page.get_by_test_id("export-xlsx").click()
    panel = page.get_by_test_id("export-job")
    expect(panel).to_be_visible()
    download_link = panel.get_by_test_id("export-download")
    job = ExportJob.objects.get(owner=manager)
    if job.status == ExportJob.Status.PENDING:  # (a Celery app configured earlier stays eager)
        expect(download_link).to_be_hidden()
    write_export_task(job.id)  # what the worker runs; nothing more if it ran already
    expect(download_link).to_be_visible()
    expect(page.get_by_test_id("export-progress")).to_have_attribute("value", "100")
    expect(panel.locator("[data-role=status]")).to_contain_text("Pronta")
    # The page's polling says it is a poll: it must not keep an idle session alive.
    assert polls
    assert all(request.headers.get("x-presidio-poll") == "1" for request in polls)
    with page.expect_download() as download_info:
        download_link.click()
    assert download_info.value.suggested_filename.endswith(".xlsx")


def test_a_report_page_draws_its_chart_beside_the_table(page, known, manager):
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    sign_in(page, manager.username)
    page.goto(f"/reports/sla-compliance/?{PERIOD}")
    canvas = page.locator("canvas[data-report-chart]")
    expect(canvas).to_have_attribute("data-drawn", "true")
    assert canvas.evaluate(PAINTED)
    expect(canvas).to_have_attribute("role", "img")
    expect(canvas).to_have_attribute("aria-label", re.compile("Conformità SLA"))
    labels = canvas.evaluate("canvas => canvas.chart.data.labels")
    rows = page.get_by_test_id("report-table").locator("tbody tr")
    expect(rows).to_have_count(len(labels))
    assert not errors
