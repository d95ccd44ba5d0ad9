"""The reports API: the list, JSON, CSV and XLSX exports, permissions per role, bad input,
the export log and the big-export path through a worker task."""

import csv
import io
from datetime import timedelta

import pytest
from django.utils import timezone
from openpyxl import load_workbook

from reports import definitions
from reports.exports import purge_expired_exports, run_export_job
from reports.formats import BOM
from reports.models import ExportJob, ExportLog
from reports.tasks import write_export_task
from tests.reports import known_data

pytestmark = pytest.mark.django_db

known = known_data.known
contract_with_handoff_units = known_data.contract_with_handoff_units
other_client_contract = known_data.other_client_contract

PERIOD = "from=2026-12-01&to=2026-12-31"


def column_index(report: str, key: str) -> int:
    return [c.key for c in definitions.get(report).columns].index(key)


def body_of(response) -> bytes:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content)
    return response.content


def csv_rows(response, delimiter=";"):  # Italian by default (Accept-Language: it)
    text = body_of(response).decode("utf-8")
    assert text.startswith(BOM)
    return list(csv.reader(io.StringIO(text[1:], newline=""), delimiter=delimiter))


def test_the_list_names_every_report(supervisor_api):
    response = supervisor_api.get("/api/v1/reports/")
    assert response.status_code == 200
    names = [r["name"] for r in response.json()]
    assert names == [d.name for d in definitions.all_definitions()]
    first_column = response.json()[0]["columns"][0]
    assert (first_column["key"], first_column["type"]) == ("reference", "text")


@pytest.mark.parametrize("role_api", ["operator_api", "anonymous_api"])
def test_people_without_view_reports_are_refused(role_api, request):
    response = request.getfixturevalue(role_api).get("/api/v1/reports/cases/")
    assert response.status_code in (401, 403)
    assert "code" in response.json()


def test_a_report_as_json_has_columns_rows_and_the_count(known, manager_api):
    response = manager_api.get(f"/api/v1/reports/sla-compliance/?{PERIOD}")
    assert response.status_code == 200
    data = response.json()
    assert data["count"] == 2
    assert data["filters"] == {"from": "2026-12-01", "to": "2026-12-31"}
    row = next(r for r in data["rows"] if r["contract_code"] == "RSIC-MOB-2026")
    assert (row["fr_met"], row["fr_breached"], row["fr_compliance"]) == (3, 1, 75.0)


def test_json_is_paginated(known, manager_api):
    response = manager_api.get(f"/api/v1/reports/cases/?{PERIOD}&page=2&page_size=2")
    data = response.json()
    assert (data["count"], data["page"], len(data["rows"])) == (5, 2, 2)
    assert data["rows"][0]["opened_at"].endswith("+01:00")


def test_a_supervisor_views_but_may_not_export(known, supervisor_api):
    assert supervisor_api.get(f"/api/v1/reports/cases/?{PERIOD}").status_code == 200
    for fmt in ("csv", "xlsx"):
        response = supervisor_api.get(f"/api/v1/reports/cases/?format={fmt}&{PERIOD}")
        assert response.status_code == 403
        assert response.json()["code"] == "permission_denied"
    assert not ExportLog.objects.filter(format__in=["csv", "xlsx"]).exists()


def test_a_manager_exports_csv_masked_with_bom_and_the_export_is_logged(
    known, manager_api, manager
):
    response = manager_api.get(f"/api/v1/reports/cases/?format=csv&{PERIOD}")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = csv_rows(response)
    assert rows[0][0] == "Riferimento"
    assert len(rows) == 6
    phones = {r[10] for r in rows[1:]}
    # A phone number in the national format: nothing a spreadsheet runs, no apostrophe shown.
    assert "348 *** **43" in phones
    assert not any(phone.startswith(("'", "+")) for phone in phones)
    assert not any("+39348" in cell for r in rows for cell in r)
    log = ExportLog.objects.get(format="csv")
    assert (log.user, log.report, log.row_count) == (manager, "cases", 5)
    assert log.filters == {"from": "2026-12-01", "to": "2026-12-31"}


def test_the_italian_separator_uses_semicolons_and_decimal_commas(known, manager_api):
    response = manager_api.get(f"/api/v1/reports/integrity/?format=csv&sep=semicolon&{PERIOD}")
    rows = csv_rows(response, delimiter=";")
    header = rows[0]
    row = next(r for r in rows[1:] if "RSIC-MOB-2026" in r)
    assert len(header) == len(definitions.get("integrity").columns)
    assert row[column_index("integrity", "cases_per_caller")] == "1,33"
    assert row[column_index("integrity", "duplicate_rate")] == "25"


def test_csv_is_italian_for_italian_readers_and_the_comma_dialect_is_the_option(known, manager_api):
    url = f"/api/v1/reports/integrity/?format=csv&{PERIOD}"
    index = column_index("integrity", "cases_per_caller")

    def rsic(rows):
        return next(r for r in rows[1:] if "RSIC-MOB-2026" in r)

    assert rsic(csv_rows(manager_api.get(url)))[index] == "1,33"
    assert rsic(csv_rows(manager_api.get(url, HTTP_ACCEPT_LANGUAGE="it")))[index] == "1,33"
    english = manager_api.get(url, HTTP_ACCEPT_LANGUAGE="en")
    assert rsic(csv_rows(english, delimiter=","))[index] == "1.33"
    comma = manager_api.get(url + "&sep=comma")
    assert rsic(csv_rows(comma, delimiter=","))[index] == "1.33"
    semicolon = manager_api.get(url + "&sep=semicolon", HTTP_ACCEPT_LANGUAGE="en")
    assert rsic(csv_rows(semicolon))[index] == "1,33"


def test_xlsx_export_keeps_numbers_and_dates_typed(known, manager_api):
    response = manager_api.get(f"/api/v1/reports/cases/?format=xlsx&{PERIOD}")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(body_of(response))).active
    header = [c.value for c in next(sheet.iter_rows(max_row=1))]
    first = next(sheet.iter_rows(min_row=2, max_row=2))
    assert len(header) == len(definitions.get("cases").columns)
    opened = first[column_index("cases", "opened_at")]
    assert opened.is_date
    reopenings = first[column_index("cases", "reopen_count")]
    assert reopenings.data_type == "n"
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)


def test_a_formula_in_a_case_is_neutralised_in_both_formats(known, manager_api, open_case_for, now):
    from tests.factories import EndUserFactory

    hostile = EndUserFactory(
        client=known.cases["c1"].client, first_name="=HYPERLINK(1)", last_name="-Rossi"
    )
    open_case_for(hostile, category_code="roaming", subject="=cmd|' /C calc'!A0")
    response = manager_api.get(f"/api/v1/reports/cases/?format=csv&{PERIOD}")
    callers = [r[9] for r in csv_rows(response)[1:]]
    assert "'=HYPERLINK(1) -." in callers
    response = manager_api.get(f"/api/v1/reports/cases/?format=xlsx&{PERIOD}")
    sheet = load_workbook(io.BytesIO(body_of(response))).active
    values = [c.value for row in sheet.iter_rows() for c in row]
    assert "'=HYPERLINK(1) -." in values
    assert all(c.data_type != "f" for row in sheet.iter_rows() for c in row)


def test_an_admin_exports_unmasked_personal_data(known, admin_api):
    rows = csv_rows(admin_api.get(f"/api/v1/reports/cases/?format=csv&{PERIOD}"))
    assert "3489876543" in {r[10] for r in rows[1:]}  # national format: no "+", no apostrophe


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("from=2026-12-31&to=2026-12-01", "date_to"),
        ("from=yesterday", "date_from"),
        ("contract=NOPE-2026", "contract"),
        ("client=999999", "client"),
        ("priority=P9", "priority"),
        ("format=pdf", "format"),
        ("page=0", "page"),
    ],
)
def test_bad_filters_answer_400_with_a_message(manager_api, query, field):
    response = manager_api.get(f"/api/v1/reports/cases/?{query}")
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert body["message"]
    assert field in body["fields"]
    assert not ExportLog.objects.exists()


def test_a_contract_of_another_client_is_a_bad_filter(known, manager_api):
    client_id = known.cases["c1"].client_id
    response = manager_api.get(f"/api/v1/reports/cases/?client={client_id}&contract=CT-MOB-2026")
    assert response.status_code == 400


def test_an_unknown_report_answers_404_json(manager_api):
    response = manager_api.get("/api/v1/reports/salaries/")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_a_big_export_runs_as_a_job_with_progress_and_a_download(
    known, manager_api, manager, settings, django_capture_on_commit_callbacks
):
    settings.REPORTS_ASYNC_EXPORT_ROWS = 3
    with django_capture_on_commit_callbacks() as enqueued:
        response = manager_api.get(f"/api/v1/reports/cases/?format=csv&sep=semicolon&{PERIOD}")
    assert response.status_code == 202
    assert len(enqueued) == 1  # the task is sent once the job row is committed
    job = ExportJob.objects.get(id=response.json()["job"])
    assert (job.status, job.rows_done) == ("pending", 0)
    assert not ExportLog.objects.exists()  # logged when the file is written
    write_export_task(job.id)  # what the worker runs
    job.refresh_from_db()
    assert (job.owner, job.status, job.rows_total, job.rows_done) == (manager, "ready", 5, 5)
    progress = manager_api.get(f"/api/v1/reports/jobs/{job.id}/").json()
    assert response.json()["progress_url"].endswith(f"/api/v1/reports/jobs/{job.id}/")
    assert (progress["status"], progress["percent"]) == ("ready", 100)
    assert progress["status_label"] == "Pronta"  # what the page shows, in Italian
    download = manager_api.get(f"/api/v1/reports/jobs/{job.id}/download/")
    assert download.status_code == 200
    rows = csv_rows(download, delimiter=";")
    assert len(rows) == 6
    log = ExportLog.objects.get(report="cases", format="csv")
    assert log.row_count == 5


def test_a_job_is_run_once_however_often_it_is_delivered(known, manager, settings):
    from reports.exports import create_export_job

    job = create_export_job(
        user=manager,
        report="breaches",
        filters={"from": "2026-12-01", "to": "2026-12-31"},
        fmt="xlsx",
        total=2,
    )
    assert run_export_job(job_id=job.id) == "ready"
    assert run_export_job(job_id=job.id) == "skipped"
    assert ExportLog.objects.filter(report="breaches").count() == 1


def test_only_the_owner_sees_and_downloads_a_job(known, manager, admin_api, manager_api):
    from reports.exports import create_export_job

    job = create_export_job(
        user=manager,
        report="breaches",
        filters={"from": "2026-12-01", "to": "2026-12-31"},
        fmt="csv",
        total=2,
    )
    run_export_job(job_id=job.id)
    assert manager_api.get(f"/api/v1/reports/jobs/{job.id}/download/").status_code == 200
    assert admin_api.get(f"/api/v1/reports/jobs/{job.id}/").status_code == 404
    assert admin_api.get(f"/api/v1/reports/jobs/{job.id}/download/").status_code == 404


def test_export_files_expire_after_a_day(known, manager, manager_api):
    from reports.exports import create_export_job, exports_dir

    job = create_export_job(
        user=manager,
        report="breaches",
        filters={"from": "2026-12-01", "to": "2026-12-31"},
        fmt="csv",
        total=2,
    )
    run_export_job(job_id=job.id)
    job.refresh_from_db()
    path = exports_dir() / job.file_name
    assert path.exists()
    assert purge_expired_exports(now=timezone.now()) == 0
    assert purge_expired_exports(now=timezone.now() + timedelta(hours=25)) == 1
    assert not path.exists()
    assert purge_expired_exports(now=timezone.now() + timedelta(hours=26)) == 0
    assert manager_api.get(f"/api/v1/reports/jobs/{job.id}/download/").status_code == 404


def test_the_report_api_reads_in_a_bounded_number_of_queries(
    known, manager_api, django_assert_max_num_queries
):
    with django_assert_max_num_queries(14):
        response = manager_api.get(f"/api/v1/reports/cases/?format=csv&{PERIOD}")
        body_of(response)


@pytest.mark.parametrize(
    "query",
    [
        {"date_from": "0001-01-01"},
        {"date_to": "0001-01-02"},
        {"date_to": "9999-12-31"},
        {"date_from": "9999-12-30", "date_to": "9999-12-31"},
    ],
)
def test_dates_near_year_1_or_9999_are_a_field_error_not_an_overflow(
    manager_api, client, manager, query
):
    response = manager_api.get("/api/v1/reports/cases/", {"format": "json", **query})
    assert response.status_code == 400
    assert set(response.json()["fields"]) & {"date_from", "date_to"}
    client.force_login(manager)
    page = client.get("/reports/cases/", query)
    assert page.status_code == 400  # the report page with the filter form and its error
    assert "2000" in page.content.decode() or "2099" in page.content.decode()
