"""Backlog snapshots: open cases by queue, client, contract, priority, status and age, the
flow since the previous snapshot, set-based and once per 5-minute slot."""

from datetime import timedelta

import pytest
from django.core.management import call_command

from care import services
from care.models import CaseStatus
from reports.models import AgeBucket, BacklogRow, BacklogSnapshot
from reports.snapshots import slot_of, take_backlog_snapshot
from tests.factories import CLOSING_CODE, EndUserFactory


@pytest.fixture
def backlog(open_case_for, contract, operator, now):
    """Four cases: opened 10 days, 2 days, 2 hours and 10 minutes before `now`; the
    2-hour-old one waits for the customer, the 2-day-old one is resolved 1 minute before."""
    cases = [
        open_case_for(EndUserFactory(client=contract.client), now=now - age)
        for age in (
            timedelta(days=10),
            timedelta(days=2),
            timedelta(hours=2),
            timedelta(minutes=10),
        )
    ]
    services.transition_case(
        actor=operator,
        case=cases[2],
        to=CaseStatus.WAITING_CUSTOMER,
        now=now - timedelta(hours=1),
    )
    services.transition_case(
        actor=operator,
        case=cases[1],
        to=CaseStatus.RESOLVED,
        resolution_code=CLOSING_CODE,
        now=now - timedelta(minutes=1),
    )
    return cases


def rows() -> list[tuple[str, str, str, int]]:
    return sorted(BacklogRow.objects.values_list("status", "age_bucket", "priority", "count"))


def test_a_snapshot_counts_open_cases_by_status_and_age(backlog, contract, now):
    result = take_backlog_snapshot(now=now)
    assert result.created
    assert result.open_cases == 3
    assert rows() == sorted(
        [
            (CaseStatus.NEW, AgeBucket.UNDER_1H, "P2", 1),
            (CaseStatus.NEW, AgeBucket.OVER_7D, "P2", 1),
            (CaseStatus.WAITING_CUSTOMER, AgeBucket.H1_4, "P2", 1),
        ]
    )
    row = BacklogRow.objects.first()
    assert (row.client_id, row.contract_id, row.queue_code) == (
        contract.client_id,
        contract.id,
        backlog[0].queue_code,
    )


def test_the_flow_counts_cases_opened_and_resolved_since_the_previous_snapshot(
    backlog, open_case_for, operator, end_user, now
):
    first = take_backlog_snapshot(now=now - timedelta(minutes=5))
    assert (first.inflow, first.outflow) == (0, 0)  # only the 5 minutes before the first one
    case = open_case_for(end_user, now=now - timedelta(minutes=2))
    services.transition_case(
        actor=operator,
        case=case,
        to=CaseStatus.RESOLVED,
        resolution_code=CLOSING_CODE,
        now=now - timedelta(seconds=30),
    )
    second = take_backlog_snapshot(now=now)
    assert (second.inflow, second.outflow) == (1, 2)
    snapshot = BacklogSnapshot.objects.get(slot=slot_of(now))
    assert snapshot.since == BacklogSnapshot.objects.get(slot=slot_of(first.slot)).taken_at
    assert sum(v["inflow"] for v in snapshot.flow_by_queue.values()) == 1


def test_a_second_run_in_the_same_slot_writes_nothing(backlog, open_case_for, end_user, now):
    take_backlog_snapshot(now=now)
    before = (BacklogSnapshot.objects.count(), rows())
    open_case_for(end_user, now=now + timedelta(seconds=10))
    again = take_backlog_snapshot(now=now + timedelta(minutes=4))
    assert not again.created
    assert (BacklogSnapshot.objects.count(), rows()) == before
    assert take_backlog_snapshot(now=now + timedelta(minutes=5)).created


def test_a_snapshot_is_set_based(backlog, now, django_assert_max_num_queries):
    # Savepoints included; the same bound for 4 cases or 40,000.
    with django_assert_max_num_queries(10):
        take_backlog_snapshot(now=now)


def test_the_command_says_what_it_wrote(backlog, capsys):
    call_command("snapshot_backlog")
    out = capsys.readouterr().out
    assert "pratiche aperte" in out  # management commands speak the site's language
    assert " s." in out
    call_command("snapshot_backlog")
    assert BacklogSnapshot.objects.count() == 1
