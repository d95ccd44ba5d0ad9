"""The console's API: GET routing/queues/ and routing/operators/, PUT an operator's presence,
POST a queue's emergency and POST routing/assign/. Wrong roles get 403, bad input 4xx JSON
with a code and a message, and nothing is written."""

from datetime import timedelta

import pytest

from care.models import Case
from routing import services
from routing.models import Assignment, PresenceChange, QueueEvent, Site

pytestmark = pytest.mark.django_db

QUEUES = "/api/v1/routing/queues/"
OPERATORS = "/api/v1/routing/operators/"
ASSIGN = "/api/v1/routing/assign/"


def presence_url(user_id) -> str:
    return f"/api/v1/routing/operators/{user_id}/presence/"


def emergency_url(code) -> str:
    return f"/api/v1/routing/queues/{code}/emergency/"


def assert_error(response, status: int, code: str | None = None):
    assert response.status_code == status, response.content
    body = response.json()
    assert body["message"]
    if code:
        assert body["code"] == code
    return body


@pytest.fixture
def colleague(user_factory):
    return user_factory("op.bianchi", first_name="Anna", last_name="Bianchi")


# --- GET routing/queues/ --------------------------------------------------------------------


def test_the_queue_list_shows_waiting_cases_and_emergencies(
    operator_api, supervisor, default_queue, routed_case, now, django_assert_max_num_queries
):
    from routing import services

    for minutes in range(5):
        routed_case(opened_at=now - timedelta(minutes=minutes))
    services.set_emergency(
        actor=supervisor, queue=default_queue, minutes=60, reason="Guasto rete", now=now
    )
    with django_assert_max_num_queries(6):  # session and permissions included
        response = operator_api.get(QUEUES)
    assert response.status_code == 200
    (row,) = response.json()
    assert (row["code"], row["waiting"], row["at_risk"]) == (default_queue.code, 5, 0)
    assert row["oldest_waiting_since"]
    # The emergency was switched on at `now` for an hour; the API's clock starts at `now`.
    assert row["in_emergency"] is True
    assert row["emergency_reason"] == "Guasto rete"


def test_the_queue_list_needs_a_role_that_works_or_watches_cases(anonymous_api, default_queue):
    assert anonymous_api.get(QUEUES).status_code in (401, 403)


# --- GET routing/operators/ -----------------------------------------------------------------


def test_supervisors_list_operators_with_presence_and_load_by_site(
    supervisor_api, supervisor, operator, colleague, profile_factory, django_assert_max_num_queries
):
    milan = Site.objects.create(code="mi", name="Milano", province="MI")
    milan.supervisors.add(supervisor)
    profile = profile_factory(operator)
    profile.site = milan
    profile.save(update_fields=["site"])
    profile_factory(colleague, available=False)
    with django_assert_max_num_queries(6):
        response = supervisor_api.get(OPERATORS)
    assert response.status_code == 200
    rows = {row["username"]: row for row in response.json()}
    assert rows["op.rossi"]["site"] == "mi"
    assert rows["op.rossi"]["presence"] == "available"
    assert rows["op.bianchi"]["presence"] == "offline"
    assert {"held", "capacity", "front_office_limit", "backoffice_share"} <= rows["op.rossi"].keys()
    only_milan = supervisor_api.get(OPERATORS, {"site": "mi"}).json()
    assert [row["username"] for row in only_milan] == ["op.rossi"]


def test_an_unknown_site_is_a_bad_request(supervisor_api):
    body = assert_error(supervisor_api.get(OPERATORS, {"site": "atlantide"}), 400)
    assert "site" in body["fields"]


def test_only_supervisors_list_operators(operator_api, manager_api):
    assert_error(operator_api.get(OPERATORS), 403)
    assert_error(manager_api.get(OPERATORS), 403)


# --- PUT routing/operators/{user_id}/presence/ ----------------------------------------------


def test_a_supervisor_changes_an_operators_presence(
    supervisor_api, supervisor, operator, profile_factory
):
    profile = profile_factory(operator)
    response = supervisor_api.put(presence_url(operator.id), {"state": "away"}, format="json")
    assert response.status_code == 200
    assert response.json()["state"] == "away"
    change = PresenceChange.objects.filter(profile=profile).latest("id")
    assert (change.to_state, change.actor) == ("away", supervisor)


def test_presence_of_someone_without_a_profile_or_a_bad_state_is_refused(
    supervisor_api, operator, colleague, profile_factory
):
    assert_error(
        supervisor_api.put(presence_url(colleague.id), {"state": "away"}, format="json"),
        404,
        "operator_not_found",
    )
    profile_factory(operator)
    body = assert_error(
        supervisor_api.put(presence_url(operator.id), {"state": "sleeping"}, format="json"), 400
    )
    assert "state" in body["fields"]


def test_an_operator_cannot_change_a_colleagues_presence_through_the_console_api(
    operator_api, colleague, profile_factory
):
    profile_factory(colleague)
    assert_error(
        operator_api.put(presence_url(colleague.id), {"state": "offline"}, format="json"), 403
    )
    assert not PresenceChange.objects.filter(to_state="offline").exists()


# --- POST routing/queues/{code}/emergency/ --------------------------------------------------


def test_a_supervisor_switches_an_emergency_on_and_off(supervisor_api, default_queue):
    response = supervisor_api.post(
        emergency_url(default_queue.code), {"minutes": 30, "reason": "Guasto"}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["emergency_until"]
    off = supervisor_api.post(emergency_url(default_queue.code), {"minutes": 0}, format="json")
    assert off.json()["emergency_until"] is None
    assert list(QueueEvent.objects.values_list("kind", flat=True)) == [
        "emergency_on",
        "emergency_off",
    ]


def test_switching_off_a_queue_not_in_emergency_is_refused_and_writes_nothing(
    supervisor_api, default_queue
):
    response = supervisor_api.post(emergency_url(default_queue.code), {"minutes": 0}, format="json")
    body = assert_error(response, 409)
    assert body["code"] == "queue_not_in_emergency"
    assert "non è in emergenza" in body["message"]
    assert list(body["fields"]) == ["queue"]
    assert not QueueEvent.objects.exists()


def test_switching_off_an_emergency_that_just_ran_out_records_its_end_once(
    supervisor, default_queue, now
):
    services.set_emergency(actor=supervisor, queue=default_queue, minutes=10, reason="a", now=now)
    services.set_emergency(
        actor=supervisor, queue=default_queue, minutes=0, reason="", now=now + timedelta(hours=1)
    )
    assert list(QueueEvent.objects.values_list("kind", "reason")) == [
        ("emergency_on", "a"),
        ("emergency_off", "expired"),
    ]


@pytest.mark.parametrize(
    "payload",
    [{"minutes": 30}, {"minutes": -1, "reason": "x"}, {"minutes": 100000, "reason": "x"}, {}],
    ids=["no-reason", "negative", "too-long", "empty"],
)
def test_a_bad_emergency_is_refused_with_the_field(supervisor_api, default_queue, payload):
    body = assert_error(
        supervisor_api.post(emergency_url(default_queue.code), payload, format="json"), 400
    )
    assert body["fields"]
    assert not QueueEvent.objects.exists()


def test_an_emergency_on_an_unknown_queue_is_not_found(supervisor_api, db):
    assert_error(
        supervisor_api.post(emergency_url("nessuna"), {"minutes": 5, "reason": "x"}, format="json"),
        404,
        "queue_not_found",
    )


def test_only_supervisors_switch_emergencies(operator_api, manager_api, default_queue):
    for api in (operator_api, manager_api):
        response = api.post(
            emergency_url(default_queue.code), {"minutes": 5, "reason": "x"}, format="json"
        )
        assert_error(response, 403)
    assert not QueueEvent.objects.exists()


# --- POST routing/assign/ -------------------------------------------------------------------


@pytest.fixture
def waiting_case(routed_case):
    return routed_case()


def test_a_supervisor_assigns_a_case_with_its_decision_record(
    supervisor_api, supervisor, colleague, profile_factory, contract, waiting_case
):
    profile_factory(colleague, contracts=(contract,))
    response = supervisor_api.post(
        ASSIGN,
        {"case": waiting_case.reference, "operator": colleague.id, "row_version": 1},
        format="json",
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["reference"], body["status"], body["assignee"]) == (
        waiting_case.reference,
        "assigned",
        colleague.id,
    )
    assert body["decision"]["kind"] == "manual"
    assert body["decision"]["level"] == "contract"
    assert body["decision"]["assigned_by"] == supervisor.username


def test_an_ineligible_operator_needs_an_override_reason(
    supervisor_api, colleague, profile_factory, waiting_case
):
    profile_factory(colleague)
    payload = {"case": waiting_case.reference, "operator": colleague.id}
    body = assert_error(supervisor_api.post(ASSIGN, payload, format="json"), 409)
    assert body["code"] == "target_not_eligible"
    assert "override_reason" in body["fields"]
    assert not Assignment.objects.exists()
    payload["override_reason"] = "Unico operatore di lingua tedesca"
    response = supervisor_api.post(ASSIGN, payload, format="json")
    assert response.status_code == 200
    assert response.json()["decision"]["level"] == "override"
    assert response.json()["decision"]["override_reason"] == "Unico operatore di lingua tedesca"


def test_assigning_refuses_a_stale_row_version_with_a_conflict(
    supervisor_api, colleague, profile_factory, contract, waiting_case
):
    profile_factory(colleague, contracts=(contract,))
    payload = {"case": waiting_case.reference, "operator": colleague.id, "row_version": 99}
    assert_error(supervisor_api.post(ASSIGN, payload, format="json"), 409, "case_changed_meanwhile")
    assert Case.objects.get(id=waiting_case.id).assignee is None


@pytest.mark.parametrize(
    ("target", "status", "code"),
    [
        ("nobody", 404, "operator_not_found"),
        ("no-profile", 400, "target_has_no_profile"),
        ("offline", 409, "target_offline"),
    ],
)
def test_assigning_to_a_wrong_target_is_refused_with_a_clear_code(
    supervisor_api, colleague, profile_factory, contract, waiting_case, target, status, code
):
    if target == "offline":
        profile_factory(colleague, contracts=(contract,), available=False)
    operator_id = 999999 if target == "nobody" else colleague.id
    payload = {"case": waiting_case.reference, "operator": operator_id}
    assert_error(supervisor_api.post(ASSIGN, payload, format="json"), status, code)
    assert not Assignment.objects.exists()


def test_assigning_an_unknown_case_or_bad_input_is_refused(supervisor_api, colleague):
    assert_error(
        supervisor_api.post(
            ASSIGN, {"case": "CS-2026-999999", "operator": colleague.id}, format="json"
        ),
        404,
        "case_not_found",
    )
    bad = supervisor_api.post(ASSIGN, {"case": "", "operator": "x"}, format="json")
    body = assert_error(bad, 400)
    assert {"case", "operator"} <= body["fields"].keys()


def test_only_supervisors_assign(operator_api, manager_api, colleague, waiting_case):
    payload = {"case": waiting_case.reference, "operator": colleague.id}
    assert_error(operator_api.post(ASSIGN, payload, format="json"), 403)
    assert_error(manager_api.post(ASSIGN, payload, format="json"), 403)
    assert not Assignment.objects.exists()
