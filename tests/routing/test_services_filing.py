"""Intake files each case in the most specific queue whose criteria it meets."""

import pytest

from care.models import Case, CaseEvent
from routing import services
from routing.models import DEFAULT_QUEUE, Queue

pytestmark = pytest.mark.django_db


@pytest.fixture
def queues(default_queue, client_pa):
    """From broad to narrow, plus queues that never match the main contract's cases."""
    rows = [
        Queue(code="pa", name="PA", segment="PA"),
        Queue(code="pa-mobile", name="PA mobile", segment="PA", service="mobile"),
        Queue(
            code="pa-mobile-sim",
            name="PA SIM",
            segment="PA",
            service="mobile",
            category_codes=["sim-lost"],
        ),
        Queue(code="top", name="TOP", segment="TOP"),
        Queue(code="fixed", name="Fisso", service="fixed"),
        Queue(code="rsic", name="Regione Siciliana", client=client_pa),
    ]
    return Queue.objects.bulk_create(rows)


def test_the_queue_with_most_matching_criteria_wins(queues, routed_case):
    case = routed_case(category="sim-lost")
    assert case.queue_code == "pa-mobile-sim"


def test_a_case_outside_the_narrow_queue_falls_to_the_next_most_specific(queues, routed_case):
    case = routed_case(category="roaming")
    assert case.queue_code == "pa-mobile"


def test_between_queues_with_as_many_criteria_the_client_queue_wins(
    default_queue, client_pa, routed_case
):
    Queue.objects.bulk_create(
        [
            Queue(code="a-segment", name="PA", segment="PA"),
            Queue(code="z-client", name="Regione", client=client_pa),
        ]
    )
    assert routed_case().queue_code == "z-client"


def test_a_case_no_queue_matches_goes_to_the_default_queue(
    queues, routed_case, fixed_line_contract
):
    Queue.objects.filter(code__in=["top", "fixed"]).delete()
    case = routed_case(on=fixed_line_contract)
    assert case.queue_code == DEFAULT_QUEUE


def test_the_opening_event_names_the_queue_and_filing_again_changes_nothing(
    queues, routed_case, now
):
    case = routed_case()
    opened = CaseEvent.objects.get(case=case, kind=CaseEvent.Kind.OPENED)
    assert opened.detail["queue"] == "pa-mobile-sim"
    services.file_case(case.id, now=now)
    assert not CaseEvent.objects.filter(case=case, kind=CaseEvent.Kind.QUEUE_CHANGED).exists()
    assert Case.objects.get(id=case.id).row_version == 1


def test_a_case_is_filed_in_the_transaction_that_opens_it(queues, open_case_for, end_user):
    case = open_case_for(end_user)
    assert case.queue_code == "pa-mobile-sim"
    assert Case.objects.get(id=case.id).queue_code == "pa-mobile-sim"


def test_re_filing_after_the_queues_changed_moves_the_case_with_an_event(queues, routed_case, now):
    case = routed_case()
    Queue.objects.filter(code="pa-mobile-sim").delete()
    moved = services.file_case(case.id, now=now)
    assert moved.queue_code == "pa-mobile"
    event = CaseEvent.objects.get(case=case, kind=CaseEvent.Kind.QUEUE_CHANGED)
    assert (event.from_value, event.to_value) == ("pa-mobile-sim", "pa-mobile")
