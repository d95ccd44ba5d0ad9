"""POST routing/next/ and GET/PUT routing/presence/."""

import pytest

from care.models import Case
from routing.models import Assignment, PresenceChange

pytestmark = pytest.mark.django_db

NEXT = "/api/v1/routing/next/"
PRESENCE = "/api/v1/routing/presence/"


@pytest.fixture
def cases_waiting(routed_case, now):
    """A P3 and a P2 case. The API takes with the real clock: operators certified on the
    contract may take a case however long it waited, so the fixed `now` serves."""
    return [routed_case(opened_at=now, priority="P3"), routed_case(opened_at=now)]


def test_take_next_answers_the_case_with_its_level_and_reason(
    operator_api, operator, profile_factory, contract, cases_waiting
):
    profile_factory(operator, contracts=(contract,))
    response = operator_api.post(NEXT)
    assert response.status_code == 200
    body = response.json()
    p2 = cases_waiting[1]
    assert {"reference", "status", "priority", "subject", "level", "reason"} <= body.keys()
    assert (body["reference"], body["status"], body["priority"]) == (p2.reference, "assigned", "P2")
    assert body["level"] == "contract"
    assert body["how"] == Assignment.objects.get(case=p2).reason == "take_next"
    assert body["waited_minutes"] >= 0
    assert body["reason"].startswith("Presa dalla coda «")  # in the caller's language (it)
    assert Case.objects.get(id=p2.id).assignee == operator


def test_take_next_answers_204_when_there_is_nothing(
    operator_api, operator, profile_factory, contract, default_queue
):
    profile_factory(operator, contracts=(contract,))
    response = operator_api.post(NEXT)
    assert response.status_code == 204
    assert not response.content


def test_take_next_while_away_is_a_conflict_with_a_stable_code(
    operator_api, operator, profile_factory, contract, cases_waiting
):
    profile_factory(operator, contracts=(contract,), available=False)
    response = operator_api.post(NEXT)
    assert response.status_code == 409
    assert response.json()["code"] == "operator_not_available"
    assert not Assignment.objects.exists()


def test_take_next_without_an_operator_profile_is_not_found(operator_api, default_queue):
    response = operator_api.post(NEXT)
    assert response.status_code == 404
    assert response.json()["code"] == "operator_profile_not_found"


def test_take_next_needs_the_handle_cases_capability(manager_api, anonymous_api):
    assert manager_api.post(NEXT).status_code == 403
    assert anonymous_api.post(NEXT).status_code in (401, 403)


def test_presence_reads_and_changes_the_callers_own_state(operator_api, operator, profile_factory):
    profile = profile_factory(operator, available=False)
    response = operator_api.get(PRESENCE)
    assert response.status_code == 200
    assert response.json()["state"] == "offline"
    response = operator_api.put(PRESENCE, {"state": "available"}, format="json")
    assert response.status_code == 200
    assert response.json()["state"] == "available"
    assert response.json()["since"]
    assert PresenceChange.objects.filter(profile=profile, to_state="available").count() == 1


def test_an_unknown_presence_is_refused_with_the_field(operator_api, operator, profile_factory):
    profile_factory(operator, available=False)
    response = operator_api.put(PRESENCE, {"state": "sleeping"}, format="json")
    assert response.status_code == 400
    assert "state" in response.json()["fields"]
    assert not PresenceChange.objects.exists()


def test_presence_endpoints_need_the_handle_cases_capability(manager_api):
    assert manager_api.get(PRESENCE).status_code == 403
    assert manager_api.put(PRESENCE, {"state": "available"}, format="json").status_code == 403
