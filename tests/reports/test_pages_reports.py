"""Report pages: who may see them, the dashboard's data for its charts, the report tables,
exports from the page (with the Italian separator) and the progress of a big export."""

import pytest
from django.urls import reverse

from reports import definitions
from reports.models import ExportJob, ExportLog
from reports.tasks import write_export_task
from tests.reports import known_data

pytestmark = pytest.mark.django_db

known = known_data.known
contract_with_handoff_units = known_data.contract_with_handoff_units
other_client_contract = known_data.other_client_contract

PERIOD = "date_from=2026-12-01&date_to=2026-12-31"


@pytest.fixture
def signed_in(client):
    def signed_in(user):
        client.force_login(user)
        return client

    return signed_in


@pytest.mark.parametrize(
    ("role", "status"),
    [("operator", 403), ("backoffice_user", 403), ("supervisor", 200), ("manager", 200)],
)
def test_the_dashboard_is_for_supervisors_and_managers(signed_in, request, role, status):
    web = signed_in(request.getfixturevalue(role))
    assert web.get(reverse("reports:dashboard")).status_code == status
    assert web.get(reverse("reports:report", args=["cases"])).status_code == status


def test_the_navigation_shows_reports_to_who_may_see_them(signed_in, supervisor, operator):
    assert reverse("reports:dashboard") in signed_in(supervisor).get("/").content.decode()
    assert reverse("reports:dashboard") not in signed_in(operator).get("/").content.decode()


def test_the_dashboard_passes_its_chart_data_as_json_and_shows_the_numbers(
    known, signed_in, manager, django_assert_max_num_queries
):
    web = signed_in(manager)
    with django_assert_max_num_queries(30):
        response = web.get(f"{reverse('reports:dashboard')}?{PERIOD}")
    assert response.status_code == 200
    html = response.content.decode()
    assert '<script id="report-charts" type="application/json">' in html
    assert "vendor/chartjs/chart.umd.min.js" in html
    assert html.count("<canvas") == 6
    data = response.context["chart_data"]
    assert set(data) == {"trend", "flow", "sla", "sites", "queues", "handoffs"}
    assert len(data["flow"]["labels"]) == 31
    assert sum(data["flow"]["opened"]) == 5
    assert dict(zip(data["sla"]["labels"], data["sla"]["values"], strict=True)) == {
        known.client_name: 75.0,
        known.other_client_name: 0.0,
    }
    assert response.context["risk"]["breached"] == 2
    assert dict(response.context["by_site"])["Milano"] == 1


def test_the_dashboard_query_count_does_not_grow_with_the_cases(
    known, signed_in, manager, open_case_for, now
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.factories import EndUserFactory

    web = signed_in(manager)
    url = f"{reverse('reports:dashboard')}?{PERIOD}"
    with CaptureQueriesContext(connection) as before:
        web.get(url)
    for _ in range(4):
        open_case_for(EndUserFactory(client=known.cases["c1"].client))
    with CaptureQueriesContext(connection) as after:
        web.get(url)
    assert len(after) == len(before)


@pytest.mark.parametrize("name", [d.name for d in definitions.all_definitions()])
def test_every_report_page_renders_its_table(known, signed_in, manager, name):
    response = signed_in(manager).get(f"{reverse('reports:report', args=[name])}?{PERIOD}")
    assert response.status_code == 200
    assert 'data-testid="report-table"' in response.content.decode()


def test_the_case_report_page_masks_the_caller(known, signed_in, manager):
    html = signed_in(manager).get(f"/reports/cases/?{PERIOD}").content.decode()
    assert "+39 348 *** **43" in html
    assert "+393489876543" not in html


def test_a_reversed_period_is_refused_on_the_page(signed_in, manager):
    response = signed_in(manager).get("/reports/cases/?date_from=2026-12-31&date_to=2026-12-01")
    assert response.status_code == 400
    assert "report-table" not in response.content.decode()


def test_a_supervisor_sees_no_export_buttons_and_cannot_export(known, signed_in, supervisor):
    web = signed_in(supervisor)
    assert 'data-testid="export-csv"' not in web.get(f"/reports/cases/?{PERIOD}").content.decode()
    assert web.get(f"/reports/cases/?{PERIOD}&export=csv").status_code == 403
    assert not ExportLog.objects.exists()


def test_a_manager_exports_from_the_page_with_the_italian_separator(known, signed_in, manager):
    web = signed_in(manager)
    assert 'data-testid="export-csv"' in web.get(f"/reports/cases/?{PERIOD}").content.decode()
    response = web.get(f"/reports/integrity/?{PERIOD}&export=csv&sep=semicolon")
    assert response.status_code == 200
    text = b"".join(response.streaming_content).decode("utf-8")
    assert text.startswith("\ufeff")
    assert ";1,33" in text
    assert ExportLog.objects.get().report == "integrity"


def test_the_page_exports_the_italian_csv_by_default_and_offers_the_comma_one(
    known, signed_in, manager
):
    web = signed_in(manager)
    page = web.get(f"/reports/integrity/?{PERIOD}").content.decode()
    assert 'name="sep" value="semicolon" checked' in page
    assert 'name="sep" value="comma">' in page
    default = b"".join(web.get(f"/reports/integrity/?{PERIOD}&export=csv").streaming_content)
    assert ";1,33" in default.decode("utf-8")
    comma = web.get(f"/reports/integrity/?{PERIOD}&export=csv&sep=comma").streaming_content
    assert ",1.33" in b"".join(comma).decode("utf-8")


def test_a_big_export_from_the_page_shows_its_progress_and_link(
    known, signed_in, manager, settings, django_capture_on_commit_callbacks
):
    settings.REPORTS_ASYNC_EXPORT_ROWS = 2
    web = signed_in(manager)
    with django_capture_on_commit_callbacks() as enqueued:
        response = web.get(f"/reports/cases/?{PERIOD}&export=xlsx")
    assert len(enqueued) == 1
    job = ExportJob.objects.get()
    assert 'data-testid="export-progress"' in web.get(response["Location"]).content.decode()
    write_export_task(job.id)  # what the worker runs
    assert response.status_code == 302
    assert response["Location"].endswith(f"job={job.id}")
    page = web.get(response["Location"]).content.decode()
    assert 'data-testid="export-job"' in page
    assert reverse("reports:job-download", args=[job.id]) in page
    download = web.get(reverse("reports:job-download", args=[job.id]))
    assert download.status_code == 200
    assert download["Content-Type"].startswith("application/vnd.openxmlformats")


def test_someone_else_cannot_download_a_job(known, signed_in, manager, admin_user, settings):
    from reports.exports import create_export_job, run_export_job

    job = create_export_job(
        user=manager,
        report="cases",
        filters={"from": "2026-12-01", "to": "2026-12-31"},
        fmt="csv",
        total=5,
    )
    run_export_job(job_id=job.id)
    assert signed_in(admin_user).get(f"/reports/jobs/{job.id}/download/").status_code == 404


def test_an_unknown_report_page_is_404(signed_in, manager):
    assert signed_in(manager).get("/reports/salaries/").status_code == 404
