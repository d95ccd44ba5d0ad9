"""The reads of the supervisor console and the operator workspace: right figures, and a
fixed number of queries whatever the data size."""

from datetime import timedelta

import pytest

from care import services as care_services
from care.models import Case, CaseStatus, SlaState
from routing import selectors, services
from routing.models import Queue, Site
from tests.factories import CLOSING_CODE

pytestmark = pytest.mark.django_db


@pytest.fixture
def sites(db):
    return {
        "mi": Site.objects.create(code="mi", name="Milano", province="MI"),
        "pa": Site.objects.create(code="pa", name="Palermo", province="PA"),
    }


def test_queue_overview_counts_waiting_cases_oldest_wait_and_cases_at_risk(
    default_queue, operator, routed_case, now
):
    Queue.objects.create(code="vuota", name="Vuota", segment="TOP")
    oldest = routed_case(opened_at=now - timedelta(minutes=40))
    routed_case(opened_at=now - timedelta(minutes=5))
    held = routed_case(opened_at=now - timedelta(hours=3))
    care_services.assign_case(actor=operator, case=held, assignee=operator, now=now)
    Case.objects.filter(id=held.id).update(resolution_state=SlaState.AT_RISK)
    Case.objects.filter(id=oldest.id).update(first_response_state=SlaState.BREACHED)

    rows = {row.code: row for row in selectors.queue_overview(now=now)}

    general = rows[default_queue.code]
    assert general.waiting == 2
    assert general.oldest_waiting_since == oldest.opened_at
    assert general.at_risk == 2  # one waiting, one held: every open case counts
    assert not general.in_emergency
    assert (rows["vuota"].waiting, rows["vuota"].oldest_waiting_since, rows["vuota"].at_risk) == (
        0,
        None,
        0,
    )


def test_queue_overview_ignores_resolved_cases(default_queue, operator, routed_case, now):
    case = routed_case()
    care_services.transition_case(
        actor=operator,
        case=case,
        to=CaseStatus.RESOLVED,
        resolution_code=CLOSING_CODE,
        now=now,
    )
    (row,) = selectors.queue_overview(now=now)
    assert (row.waiting, row.at_risk) == (0, 0)


def test_queue_overview_shows_an_emergency_only_while_it_is_on(default_queue, supervisor, now):
    services.set_emergency(
        actor=supervisor, queue=default_queue, minutes=30, reason="Guasto rete", now=now
    )
    (row,) = selectors.queue_overview(now=now + timedelta(minutes=29))
    assert row.in_emergency
    assert row.emergency_until == now + timedelta(minutes=30)
    assert row.emergency_reason == "Guasto rete"
    (row,) = selectors.queue_overview(now=now + timedelta(minutes=30))
    assert not row.in_emergency
    assert row.emergency_reason == ""


def test_queue_overview_costs_the_same_queries_whatever_the_backlog(
    default_queue, routed_case, now, django_assert_max_num_queries
):
    for code in ("a", "b", "c"):
        Queue.objects.create(code=code, name=code.upper(), segment="TOP")
    for minutes in range(12):
        routed_case(opened_at=now - timedelta(minutes=minutes))
    with django_assert_max_num_queries(2):
        rows = selectors.queue_overview(now=now)
    assert len(rows) == 4


def test_operator_overview_shows_site_presence_and_load(
    operator, user_factory, profile_factory, sites, contract, routed_case, now
):
    profile = profile_factory(operator, contracts=(contract,), capacity=5, backoffice_share="0.40")
    profile.site = sites["pa"]
    profile.remote = True
    profile.save(update_fields=["site", "remote"])
    other = profile_factory(user_factory("op.bianchi"), available=False)
    other.site = sites["mi"]
    other.save(update_fields=["site"])
    routed_case()
    routed_case()
    services.take_next_case(operator=operator, now=now)

    rows = {row.username: row for row in selectors.operator_overview(now=now)}

    mine = rows["op.rossi"]
    assert (mine.user_id, mine.name, mine.site_code, mine.site_name) == (
        operator.id,
        "Mario Rossi",
        "pa",
        "Palermo",
    )
    assert mine.remote
    assert (mine.presence, mine.presence_since) == ("available", now - timedelta(hours=2))
    assert (mine.held, mine.capacity, mine.backoffice_share, mine.front_office_limit) == (
        1,
        5,
        0.4,
        3,
    )
    assert (rows["op.bianchi"].presence, rows["op.bianchi"].held) == ("offline", 0)
    only_milan = selectors.operator_overview(site=sites["mi"], now=now)
    assert [row.username for row in only_milan] == ["op.bianchi"]


def test_operator_overview_is_one_query_whatever_the_number_of_operators(
    user_factory, profile_factory, contract, routed_case, now, django_assert_max_num_queries
):
    users = [user_factory(f"op.n{n}") for n in range(6)]
    for user in users:
        profile_factory(user, contracts=(contract,))
    for user in users[:3]:
        routed_case()
        services.take_next_case(operator=user, now=now)
    with django_assert_max_num_queries(1):
        rows = selectors.operator_overview(now=now)
    assert sorted(row.held for row in rows) == [0, 0, 0, 1, 1, 1]


def test_waiting_for_counts_what_take_next_would_offer_now(
    operator, profile_factory, contract, fixed_line_contract, routed_case, default_queue, now
):
    profile_factory(operator, clients=(contract.client,))
    routed_case(opened_at=now - timedelta(minutes=15))  # past the client threshold (10)
    routed_case(opened_at=now - timedelta(minutes=2))  # not yet
    routed_case(on=fixed_line_contract, opened_at=now - timedelta(hours=2))  # never
    assert selectors.waiting_for(operator, now=now) == 1
    assert selectors.waiting_for(operator, now=now + timedelta(minutes=8)) == 2


def test_waiting_for_is_zero_without_a_profile_and_bounded_in_queries(
    operator,
    user_factory,
    profile_factory,
    contract,
    routed_case,
    now,
    django_assert_max_num_queries,
):
    assert selectors.waiting_for(operator, now=now) == 0
    profile_factory(operator, contracts=(contract,), skills=("mobile",))
    for minutes in range(10):
        routed_case(opened_at=now - timedelta(minutes=minutes))
    with django_assert_max_num_queries(5):
        assert selectors.waiting_for(operator, now=now) == 10


def test_decisions_for_lists_the_records_newest_first_with_who(
    operator,
    supervisor,
    user_factory,
    profile_factory,
    contract,
    routed_case,
    now,
    django_assert_max_num_queries,
):
    colleague = user_factory("op.bianchi")
    profile_factory(operator, contracts=(contract,))
    profile_factory(colleague, contracts=(contract,))
    case = routed_case()
    services.take_next_case(operator=operator, now=now)
    services.reassign_case(
        actor=supervisor, case=case, operator=colleague, now=now + timedelta(minutes=5)
    )
    with django_assert_max_num_queries(1):
        decisions = selectors.decisions_for(case)
        people = [(d.kind, d.operator.username, d.assigned_by) for d in decisions]
    assert people == [("manual", "op.bianchi", supervisor), ("pull", "op.rossi", None)]
