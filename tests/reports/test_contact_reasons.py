"""The contact-reasons report (issue 24, point 5) against a hand-computed set.

All cases are opened on Wednesday 2 December 2026 at 10:00 (Rome); the period is December:

| case | contract      | category | resolved                     | code                   | FCR |
|------|---------------|----------|------------------------------|------------------------|-----|
| a    | RSIC-MOB-2026 | sim-lost | +10 min                      | sostituzione-sim       | yes |
| b    | RSIC-MOB-2026 | sim-lost | +1 h                         | sostituzione-sim       | no  |
| c    | RSIC-MOB-2026 | roaming  | +5 min                       | roaming                | yes |
| d    | RSIC-MOB-2026 | sim-lost | +2 h                         | guasto-rete            | no  |
| e    | CT-MOB-2026   | sim-lost | during the call (intake)     | risolto-primo-contatto | yes |
| f    | RSIC-MOB-2026 | sim-lost | never (open)                 | —                      | —   |
| g    | RSIC-MOB-2026 | sim-lost | 10 January 2027 (not counted) | guasto-rete           | no  |
| h    | RSIC-MOB-2026 | sim-lost | +3 h, then a legacy code     | fixed (as stored)      | no  |
"""

from datetime import date, timedelta

import pytest
from django.urls import reverse

from care import services
from care.models import Case, CaseStatus
from reports import charts, definitions
from reports.forms import ReportFilters
from tests.care.conftest import other_client_contract  # noqa: F401 -- a fixture
from tests.factories import EndUserFactory

pytestmark = pytest.mark.django_db

DECEMBER = ReportFilters(date_from=date(2026, 12, 1), date_to=date(2026, 12, 31))


@pytest.fixture
def reasons(contract, other_client_contract, open_case_for, operator, now):  # noqa: F811
    def case(category="sim-lost", **changes):
        caller = EndUserFactory(client=changes.pop("client", contract.client))
        return open_case_for(caller, category_code=category, **changes)

    def resolve(target, code, after, fcr=False):
        services.transition_case(
            actor=operator,
            case=target,
            to=CaseStatus.RESOLVED,
            resolution_code=code,
            first_contact_resolution=fcr,
            now=now + after,
        )

    resolve(case(), "sostituzione-sim", timedelta(minutes=10), fcr=True)
    resolve(case(), "sostituzione-sim", timedelta(hours=1))
    resolve(case("roaming", subject="Roaming"), "roaming", timedelta(minutes=5), fcr=True)
    resolve(case(), "guasto-rete", timedelta(hours=2))
    case(
        client=other_client_contract.client,
        contract_code=other_client_contract.code,
        resolved_during_call=True,
    )
    case()  # f: left open
    resolve(case(), "guasto-rete", timedelta(days=39))  # g: 10 January 2027
    legacy = case()
    resolve(legacy, "risolto-informazioni", timedelta(hours=3))
    Case.objects.filter(id=legacy.id).update(resolution_code="fixed")  # before closing codes


def test_contact_reasons_counts_resolved_cases_by_client_contract_category_and_code(
    reasons, supervisor, now
):
    rows = list(definitions.get("contact-reasons").rows(DECEMBER, supervisor, now))
    shown = sorted(
        (
            r["contract_code"],
            r["category_code"],
            r["closing_code"],
            r["closing_name"],
            r["resolved"],
            r["fcr"],
            r["fcr_rate"],
        )
        for r in rows
    )
    assert shown == [
        (
            "CT-MOB-2026",
            "sim-lost",
            "risolto-primo-contatto",
            "Risolto al primo contatto",
            1,
            1,
            100.0,
        ),
        ("RSIC-MOB-2026", "roaming", "roaming", "Problema di roaming", 1, 1, 100.0),
        ("RSIC-MOB-2026", "sim-lost", "fixed", "", 1, 0, 0.0),
        ("RSIC-MOB-2026", "sim-lost", "guasto-rete", "Guasto di rete", 1, 0, 0.0),
        ("RSIC-MOB-2026", "sim-lost", "sostituzione-sim", "Sostituzione SIM", 2, 1, 50.0),
    ]
    assert {r["client_name"] for r in rows} == {"Regione Siciliana", "Comune di Catania"}
    assert {r["category_name"] for r in rows} >= {"Roaming non funzionante"}


def test_the_chart_draws_the_most_frequent_codes_first(reasons, supervisor, now):
    definition = definitions.get("contact-reasons")
    chart = charts.chart_data(definition, list(definition.rows(DECEMBER, supervisor, now)))
    assert chart["labels"][0] == "Sostituzione SIM · sostituzione-sim"
    assert chart["datasets"][0]["values"] == [2, 1, 1, 1, 1]
    assert "fixed" in chart["labels"]  # a legacy code, as stored


def test_the_report_page_shows_its_chart_and_exports_like_the_others(
    reasons, client, manager, django_assert_max_num_queries
):
    client.force_login(manager)
    url = reverse("reports:report", args=["contact-reasons"])
    with django_assert_max_num_queries(25):
        page = client.get(f"{url}?date_from=2026-12-01&date_to=2026-12-31").content.decode()
    assert 'data-testid="report-chart"' in page
    assert 'id="report-chart"' in page
    assert "chart.umd.min.js" in page
    exported = client.get(f"{url}?date_from=2026-12-01&date_to=2026-12-31&export=csv")
    assert exported.status_code == 200
    text = b"".join(exported.streaming_content).decode("utf-8-sig")
    assert "sostituzione-sim" in text
    assert text.count("\n") == 6  # the header and five rows


def test_the_api_answers_the_report_as_json(reasons, manager_api):
    response = manager_api.get("/api/v1/reports/contact-reasons/?from=2026-12-01&to=2026-12-31")
    assert response.status_code == 200, response.content
    body = response.json()
    assert len(body["rows"] if isinstance(body, dict) else body) == 5
