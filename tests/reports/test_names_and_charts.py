"""Reports speak of queues and people by name (codes kept in a column of their own for the
integrations), subscriptions by the names of their filters, and each report page where
numbers are compared draws them in a chart whose data are the table's (#19 points 3, 14)."""

import json
import re

import pytest
from django.urls import reverse

from reports import charts, definitions, subscriptions
from routing.models import Queue
from tests.reports import known_data

pytestmark = pytest.mark.django_db

known = known_data.known
contract_with_handoff_units = known_data.contract_with_handoff_units
other_client_contract = known_data.other_client_contract
open_case_for = known_data.open_case_for

PERIOD = "date_from=2026-12-01&date_to=2026-12-31"
CHARTED = [d.name for d in definitions.all_definitions() if d.chart is not None]
EMPTY_IN_KNOWN_DATA = {"orders", "loyalty", "calls", "callbacks", "articles"}


@pytest.fixture
def named_queue(known):
    """The queue the known cases wait in, with a name people use."""
    code = known.cases["c2"].queue_code
    assert code
    Queue.objects.update_or_create(code=code, defaults={"name": "Utenti mobile"})
    return code


@pytest.fixture
def web(client, manager):
    client.force_login(manager)
    return client


def test_the_case_report_names_the_queue_and_the_assignee_and_keeps_their_codes(
    known, named_queue, manager
):
    rows = {
        r["reference"]: r
        for r in definitions.get("cases").rows(known.filters, manager, known.report_now)
    }
    c2 = rows[known.cases["c2"].reference]
    assert (c2["queue"], c2["queue_code"]) == ("Utenti mobile", named_queue)
    assert (c2["assignee"], c2["assignee_username"]) == ("Mario Rossi", "op.rossi")


@pytest.mark.parametrize("name", ["breaches", "workload"])
def test_other_reports_name_the_queue_and_keep_the_code(known, named_queue, manager, name):
    rows = list(definitions.get(name).rows(known.filters, manager, known.report_now))
    with_queue = [r for r in rows if r["queue_code"]]
    assert with_queue
    assert {r["queue"] for r in with_queue} == {"Utenti mobile"}
    assert {r["queue_code"] for r in with_queue} == {named_queue}


def test_the_csv_export_has_the_queue_name_and_a_code_column(known, named_queue, web):
    response = web.get(f"/reports/breaches/?{PERIOD}&export=csv&sep=semicolon")
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    header, *lines = text.strip().splitlines()
    columns = header.split(";")
    assert "Coda" in columns
    assert "Codice coda" in columns
    first = lines[0].split(";")
    assert first[columns.index("Coda")] == "Utenti mobile"
    assert first[columns.index("Codice coda")] == named_queue


def test_the_dashboard_charts_show_queue_and_unit_names(known, named_queue, web):
    response = web.get(f"/reports/?{PERIOD}")
    charts = response.context["chart_data"]
    assert "Utenti mobile" in charts["queues"]["labels"]
    assert named_queue not in charts["queues"]["labels"]
    page = response.content.decode()
    assert f"<td>{named_queue}</td>" not in page


@pytest.mark.parametrize("name", CHARTED)
def test_a_report_page_draws_the_tables_numbers(known, web, name):
    response = web.get(f"/reports/{name}/?{PERIOD}")
    assert response.status_code == 200
    page = response.content.decode()
    chart = response.context["chart"]
    if name in EMPTY_IN_KNOWN_DATA:  # no orders, loyalty items or calls there: see below
        assert chart is None
        return
    assert 'id="report-chart"' in page
    assert "data-report-chart" in page
    assert 'role="img"' in page
    assert "vendor/chartjs/chart.umd.min.js" in page
    passed = json.loads(re.search(r'id="report-chart"[^>]*>(.*?)</script>', page, re.S)[1])
    assert passed == json.loads(json.dumps(chart))
    definition = definitions.get(name)
    rows = list(response.context["page"].object_list)
    if definition.chart.count_by:
        assert sum(passed["datasets"][0]["values"]) == len(rows)
    elif definition.chart.sum_by_label:  # the same numbers, added up per label
        for dataset, key in zip(passed["datasets"], definition.chart.series, strict=True):
            assert sum(dataset["values"]) == sum(row.get(key) or 0 for row in rows)
    else:
        assert len(passed["labels"]) == len(rows)
        for dataset, key in zip(passed["datasets"], definition.chart.series, strict=True):
            assert dataset["values"] == [row.get(key) for row in rows]


@pytest.mark.parametrize("name", sorted(EMPTY_IN_KNOWN_DATA))
def test_the_chart_of_a_report_takes_its_numbers_from_the_rows(name):
    definition = definitions.get(name)
    numbers = {column.key: 10 * index for index, column in enumerate(definition.columns)}
    rows = [{**numbers, **{key: f"{key} {n}" for key in definition.chart.label}} for n in (1, 2)]
    chart = charts.chart_data(definition, rows)
    assert chart["labels"] == [
        " · ".join(f"{key} {n}" for key in definition.chart.label) for n in (1, 2)
    ]
    for dataset, key in zip(chart["datasets"], definition.chart.series, strict=True):
        assert dataset["values"] == [numbers[key], numbers[key]]
        assert dataset["label"] == str(next(c.label for c in definition.columns if c.key == key))


def test_dates_in_chart_labels_read_as_in_the_table(known):
    from datetime import date, datetime
    from zoneinfo import ZoneInfo

    from django.utils import translation

    rows = [
        {
            "half_hour": datetime(2026, 12, 2, 9, 30, tzinfo=ZoneInfo("UTC")),
            "queue": "Utenti mobile",
            "answered": 3,
            "abandoned": 1,
            "missed": 0,
        }
    ]
    with translation.override("it"):
        chart = charts.chart_data(definitions.get("calls"), rows)
    assert chart["labels"] == ["02/12/2026 10:30 · Utenti mobile"]
    callbacks = [{"day": date(2026, 12, 2), "queue": "Utenti mobile", "open": 1}]
    with translation.override("it"):
        assert charts.chart_data(definitions.get("callbacks"), callbacks)["labels"] == [
            "02/12/2026 · Utenti mobile"
        ]


def test_the_sla_chart_has_one_bar_per_table_row_with_its_compliance(known, web):
    chart = web.get(f"/reports/sla-compliance/?{PERIOD}").context["chart"]
    assert chart["labels"] == [
        f"{known.other_client_name} · {known.cases['c5'].contract.code}",
        f"{known.client_name} · {known.cases['c1'].contract.code}",
    ]
    assert chart["datasets"][0]["label"] == "Conformità prima risposta %"
    assert chart["percent"] is True  # drawn on a 0-100 scale
    assert 75.0 in chart["datasets"][0]["values"]


def test_the_chart_series_are_named_in_english_when_english_is_chosen(known, web):
    web.cookies["django_language"] = "en"
    chart = web.get(f"/reports/sla-compliance/?{PERIOD}").context["chart"]
    assert chart["datasets"][0]["label"] == "First response compliance %"


def test_a_list_of_cases_has_no_chart(known, web):
    response = web.get(f"/reports/cases/?{PERIOD}")
    assert response.context["chart"] is None
    assert "data-report-chart" not in response.content.decode()


def test_an_empty_table_draws_no_chart(web):
    response = web.get(f"/reports/orders/?{PERIOD}")
    assert response.context["chart"] is None


@pytest.mark.parametrize(
    ("language", "shown"),
    [
        ("it", "Cliente: {client}, Priorità: P2 – alta"),
        ("en", "Client: {client}, Priority: P2 – high"),
    ],
)
def test_a_subscription_is_listed_by_the_names_of_its_filters(
    known, contract_with_handoff_units, manager, web, language, shown
):
    manager.email = "man.gialli@presidio.test"
    manager.save(update_fields=["email"])
    client = contract_with_handoff_units.client
    subscriptions.subscribe(
        user=manager,
        report="breaches",
        frequency="weekly",
        filters={"client": client.pk, "priority": "P2"},
    )
    if language == "en":
        web.cookies["django_language"] = "en"
    page = web.get(reverse("reports:report", args=["breaches"])).content.decode()
    assert shown.format(client=client.name) in page
    assert "client=" not in page
    assert "priority=P2" not in page


def test_the_dashboard_dates_read_as_the_reader_writes_them(known, web):
    charts_of_dashboard = web.get(f"/reports/?{PERIOD}").context["chart_data"]
    assert charts_of_dashboard["flow"]["labels"][0] == "01/12/2026"
    assert charts_of_dashboard["sla"]["percent"] is True
