"""Bad input on report filters (issue #25, "Bad input"): a period that ends before it
starts, a period longer than the maximum (three years), a filter value that does not exist.
The page answers 400 with the error beside the field, the API 400 JSON
`{"code", "message", "fields"}`, and neither runs the report's queries."""

from contextlib import contextmanager
from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from reports.forms import MAX_PERIOD_DAYS, ReportFilterForm
from reports.models import ExportLog
from tests.reports import known_data

pytestmark = pytest.mark.django_db

other_client_contract = known_data.other_client_contract

# (query with the API's names, the field that carries the error)
BAD = [
    pytest.param({"from": "2026-12-31", "to": "2026-12-01"}, "date_to", id="reversed"),
    pytest.param({"from": "2030-01-01"}, "date_from", id="reversed-start-after-today"),
    pytest.param({"from": "2006-12-01", "to": "2026-12-01"}, "date_from", id="twenty-years"),
    pytest.param({"client": "999999"}, "client", id="unknown-client"),
    pytest.param({"client": "acme"}, "client", id="client-not-a-number"),
    pytest.param({"contract": "NOPE-2026"}, "contract", id="unknown-contract"),
    pytest.param({"site": "ATLANTIDE"}, "site", id="unknown-site"),
    pytest.param({"queue": "no-such-queue"}, "queue", id="unknown-queue"),
    pytest.param({"priority": "P9"}, "priority", id="unknown-priority"),
]
PAGE_NAMES = {"from": "date_from", "to": "date_to"}
# What a refusal may read: the session, the user and permissions, the filter's own look-up,
# the filters' menus on a page, the access log; never the report's tables.
REPORT_TABLES = (
    '"care_case"',
    '"care_caseevent"',
    '"care_slaalert"',
    '"routing_assignment"',
    '"contracts_contractorder"',
    '"contracts_loyaltyitem"',
)


@contextmanager
def no_report_query():
    with CaptureQueriesContext(connection) as captured:
        yield
    scans = [q["sql"] for q in captured if any(t in q["sql"] for t in REPORT_TABLES)]
    assert not scans, scans
    assert len(captured) <= 20


@pytest.fixture
def web(client, manager):
    client.force_login(manager)
    return client


@pytest.mark.parametrize(("query", "field"), BAD)
def test_the_api_refuses_bad_filters_with_a_field_error_and_no_report_query(
    manager_api, query, field
):
    with no_report_query():
        response = manager_api.get("/api/v1/reports/sla-compliance/", query)
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert body["message"]
    assert list(body["fields"]) == [field]
    assert body["fields"][field][0]["message"] in body["message"]
    assert not ExportLog.objects.exists()


@pytest.mark.parametrize(("query", "field"), BAD)
@pytest.mark.parametrize("path", ["/reports/", "/reports/workload/"])
def test_the_pages_refuse_bad_filters_beside_the_field(web, path, query, field):
    page_query = {PAGE_NAMES.get(key, key): value for key, value in query.items()}
    with no_report_query():
        response = web.get(path, page_query)
    assert response.status_code == 400
    form = response.context["form"]
    assert list(form.errors) == [field]
    html = response.content.decode()
    assert 'data-testid="report-table"' not in html
    assert "<canvas" not in html
    message = form.errors[field][0]
    assert message.replace("'", "&#x27;") in html


def test_the_errors_are_in_the_callers_language(manager_api):
    response = manager_api.get(
        "/api/v1/reports/cases/",
        {"from": "2026-12-31", "to": "2026-12-01"},
        HTTP_ACCEPT_LANGUAGE="it",
    )
    assert response.json()["fields"]["date_to"] == [
        {"message": "La fine del periodo precede il suo inizio.", "code": "period_reversed"}
    ]


@pytest.mark.parametrize(
    ("start", "valid"),
    [(date(2023, 12, 3), True), (date(2023, 12, 2), False), (date(2006, 12, 1), False)],
)
def test_the_longest_period_is_three_years(start, valid):
    form = ReportFilterForm({"from": start.isoformat(), "to": "2026-12-05"})
    assert (date(2026, 12, 5) - date(2023, 12, 3)).days == MAX_PERIOD_DAYS
    assert form.is_valid() is valid
    if not valid:
        assert form.errors.as_data()["date_from"][0].code == "period_too_long"


def test_a_contract_of_another_client_is_an_error_on_the_contract(
    manager_api, contract, other_client_contract
):
    response = manager_api.get(
        "/api/v1/reports/cases/",
        {"client": other_client_contract.client_id, "contract": contract.code},
    )
    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["contract"]
