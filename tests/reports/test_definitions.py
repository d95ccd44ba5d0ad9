"""Report figures against the hand-computed data set of known_data.py, masking, per-operator
privacy and query counts that do not grow with the number of cases."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from care.models import SlaState
from contracts.privacy import mask_phone
from contracts.privacy import short_name as mask_name
from reports import definitions
from routing.models import Site
from tests.factories import EndUserFactory
from tests.reports import known_data

pytestmark = pytest.mark.django_db

# Fixtures: the known data set and what it needs from the care fixtures.
known = known_data.known
contract_with_handoff_units = known_data.contract_with_handoff_units
other_client_contract = known_data.other_client_contract


def rows_of(name, known, user=None):
    definition = definitions.get(name)
    return list(definition.rows(known.filters, user or known.supervisor, known.report_now))


def test_the_known_data_set_is_what_the_figures_assume(known):
    c = known.cases
    assert c["c2"].first_response_state == SlaState.BREACHED
    assert c["c2"].resolution_state == SlaState.BREACHED
    assert c["c5"].resolution_state == SlaState.BREACHED
    assert {c[n].first_response_state for n in ("c1", "c3", "c4")} == {SlaState.MET}
    assert {c[n].resolution_state for n in ("c1", "c3", "c4")} == {SlaState.MET}
    assert c["c4"].reopen_count == 1


def test_every_report_of_the_api_is_registered():
    assert [d.name for d in definitions.all_definitions()] == [
        "cases",
        "sla-compliance",
        "breaches",
        "backlog-ageing",
        "workload",
        "first-contact-resolution",
        "contact-reasons",
        "integrity",
        "handoffs",
        "orders",
        "loyalty",
        "calls",
        "callbacks",
        "incidents",
        "articles",
        "presence",
    ]


def test_sla_compliance_counts_met_and_breached_targets_per_contract(known):
    rows = rows_of("sla-compliance", known)
    assert sorted(rows, key=lambda r: r["contract_code"]) == [
        {
            "client_name": known.other_client_name,
            "contract_code": "CT-MOB-2026",
            "cases": 1,
            "fr_met": 0,
            "fr_breached": 1,
            "fr_open": 0,
            "res_met": 0,
            "res_breached": 1,
            "res_open": 0,
            "fr_compliance": 0.0,
            "res_compliance": 0.0,
        },
        {
            "client_name": known.client_name,
            "contract_code": "RSIC-MOB-2026",
            "cases": 4,
            "fr_met": 3,
            "fr_breached": 1,
            "fr_open": 0,
            "res_met": 3,
            "res_breached": 1,
            "res_open": 0,
            "fr_compliance": 75.0,
            "res_compliance": 75.0,
        },
    ]


def test_breaches_list_the_cases_with_a_breached_target(known):
    rows = rows_of("breaches", known)
    assert sorted(r["reference"] for r in rows) == sorted(
        [known.cases["c2"].reference, known.cases["c5"].reference]
    )


def test_backlog_ageing_puts_open_cases_in_their_age_bucket(known):
    rows = rows_of("backlog-ageing", known)
    assert [r["total"] for r in rows] == [0, 0, 0, 3, 0]  # c2, c4, c5: 10 days old
    assert rows[3]["p2"] == 3
    assert rows[3]["age"] == str(definitions.AGE_BUCKETS[3][1])


def test_first_contact_resolution_is_out_of_the_resolved_cases(known):
    rows = {r["contract_code"]: r for r in rows_of("first-contact-resolution", known)}
    assert rows["RSIC-MOB-2026"] == {
        "client_name": known.client_name,
        "contract_code": "RSIC-MOB-2026",
        "cases": 4,
        "resolved": 2,  # c1 and c3 (c4 was reopened)
        "fcr": 1,
        "fcr_rate": 50.0,
        "calls": 0,
        "calls_per_case": None,
    }
    assert rows["CT-MOB-2026"]["fcr_rate"] is None


def test_integrity_shows_duplicates_reopenings_and_cases_per_caller(known):
    row = next(r for r in rows_of("integrity", known) if r["contract_code"] == "RSIC-MOB-2026")
    assert row["cases"] == 4
    assert row["duplicates"] == 1
    assert row["duplicate_rate"] == 25.0
    assert (row["reopened"], row["reopenings"], row["reopen_rate"]) == (1, 1, 25.0)
    assert row["merged"] == 0
    assert row["callers"] == 3
    assert row["cases_per_caller"] == 1.33


def test_handoffs_show_rate_outcome_and_turnaround_by_unit(known):
    (row,) = rows_of("handoffs", known)
    assert row["unit_code"] == "assurance"
    assert (row["sent"], row["cases"], row["pending"], row["resolved"], row["bounced"]) == (
        1,
        1,
        0,
        1,
        0,
    )
    assert row["handoff_rate"] == 20.0  # one case of the five opened
    assert row["turnaround_hours"] == 2.0


def test_workload_for_a_manager_is_aggregated_by_site_and_queue(known, manager):
    rows = rows_of("workload", known, user=manager)
    assert all(r["operator"] == "" for r in rows)
    by_site = {}
    for r in rows:
        total = by_site.setdefault(r["site"], {"open": 0, "assigned": 0, "resolved": 0})
        for key in total:
            total[key] += r[key]
    assert by_site["Milano"] == {"open": 1, "assigned": 1, "resolved": 0}
    assert by_site["Palermo"] == {"open": 1, "assigned": 1, "resolved": 0}
    assert by_site[""] == {"open": 1, "assigned": 0, "resolved": 2}  # c4 open; c1, c3


def test_workload_per_operator_rows_reach_only_the_supervisor_of_their_site(known):
    rows = rows_of("workload", known, user=known.supervisor)
    operators = [r for r in rows if r["operator"]]
    assert [(r["site"], r["operator"], r["open"], r["assigned"]) for r in operators] == [
        ("Milano", "Mario Rossi", 1, 1)
    ]


def test_working_at_a_site_is_not_running_it(known):
    """The per-operator rows follow `Site.supervisors`, not where the supervisor sits."""
    Site.objects.get(code="mi").supervisors.remove(known.supervisor)
    rows = rows_of("workload", known, user=known.supervisor)
    assert "Mario Rossi" not in [r["operator"] for r in rows]


def test_an_operator_sees_only_their_own_row(known):
    rows = rows_of("workload", known, user=known.other_operator)
    assert [r["operator"] for r in rows if r["operator"]] == ["Luca Bianchi"]


def test_case_list_masks_the_callers_personal_data(known, manager):
    rows = rows_of("cases", known, user=manager)
    assert len(rows) == 5
    c5 = next(r for r in rows if r["reference"] == known.cases["c5"].reference)
    end_user = known.cases["c5"].end_user
    assert c5["caller"] == f"{end_user.first_name} {end_user.last_name[0]}."
    assert c5["caller_phone"] == "+39 348 *** **43"
    assert c5["client_name"] == known.other_client_name
    assert c5["assignee_username"] == "op.bianchi"


def test_case_list_shows_personal_data_to_who_holds_the_permission(known, admin_user):
    rows = rows_of("cases", known, user=admin_user)
    c5 = next(r for r in rows if r["reference"] == known.cases["c5"].reference)
    end_user = known.cases["c5"].end_user
    assert c5["caller"] == f"{end_user.first_name} {end_user.last_name}"
    assert c5["caller_phone"] == "+393489876543"


@pytest.mark.parametrize(
    ("first", "last", "expected"),
    [("Mario", "Rossi", "Mario R."), ("", "Rossi", "R."), ("", "", "")],
)
def test_names_are_masked_to_an_initial(first, last, expected):
    assert mask_name(first, last) == expected


@pytest.mark.parametrize(
    ("number", "expected"),
    [("+393471234567", "+39 347 *** **67"), ("", ""), ("+3912", "+39 **")],
)
def test_phones_are_masked_but_the_prefix_and_last_two_digits(number, expected):
    assert mask_phone(number) == expected


@pytest.mark.parametrize("name", [d.name for d in definitions.all_definitions()])
def test_every_report_reads_in_a_bounded_number_of_queries(
    name, known, django_assert_max_num_queries
):
    definition = definitions.get(name)
    with django_assert_max_num_queries(8):
        rows = definition.rows(known.filters, known.supervisor, known.report_now)
        rows.count()
        list(rows)


@pytest.mark.parametrize("name", [d.name for d in definitions.all_definitions()])
def test_query_count_does_not_grow_with_the_cases(name, known, open_case_for, now):
    definition = definitions.get(name)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            rows = definition.rows(known.filters, known.supervisor, known.report_now)
            rows.count()
            list(rows)
        return len(captured)

    before = queries()
    client = known.cases["c1"].client
    for minutes in range(6):
        open_case_for(EndUserFactory(client=client), now=now + timedelta(minutes=minutes))
    assert queries() == before
