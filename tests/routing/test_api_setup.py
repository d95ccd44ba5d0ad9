"""The sites and queues API: /api/v1/routing/sites/… and /api/v1/routing/queues/… (POST, GET
one, PATCH, archive, DELETE), the same rules as the pages, errors as 4xx JSON."""

from datetime import timedelta

import pytest
from rest_framework.test import APIClient

from care.models import Case
from config import roles
from config.models import ConfigChange
from routing.models import DEFAULT_QUEUE, OperatorProfile, Queue, Site


@pytest.fixture
def supervisor(user_factory):
    """A supervisor who runs no site or queue yet (not the routing fixture, which runs the
    home site): these tests give them what they set up."""
    return user_factory("sup.neri", roles.SUPERVISOR)


pytestmark = pytest.mark.django_db

SITES = "/api/v1/routing/sites/"
QUEUES = "/api/v1/routing/queues/"


def _as(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_an_administrator_creates_reads_changes_and_deletes_a_site(
    admin_api, supervisor, office_calendar
):
    body = {"code": "pa", "name": "Palermo", "province": "PA", "calendar": office_calendar.id,
            "supervisors": [supervisor.id]}  # fmt: skip
    created = admin_api.post(SITES, body, format="json")
    assert created.status_code == 201, created.json()
    assert created.json() | {"operators": 0} == body | {"operators": 0}
    assert "pa" in [site["code"] for site in admin_api.get(SITES).json()]
    changed = admin_api.patch(f"{SITES}pa/", {"name": "Palermo centro"}, format="json")
    assert changed.json()["name"] == "Palermo centro"
    assert admin_api.delete(f"{SITES}pa/").status_code == 204
    assert not Site.objects.filter(code="pa").exists()
    actions = list(
        ConfigChange.objects.filter(target_type="site")
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions == ["created", "changed", "deleted"]


def test_a_bad_site_gets_field_errors_in_the_callers_language(admin_api):
    response = admin_api.post(
        SITES,
        {"code": "x", "name": "X", "province": "ZZ"},
        format="json",
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_routing_data"
    assert "province" in response.json()["fields"]
    assert not Site.objects.filter(code="pa").exists()


def test_a_supervisor_sees_only_their_sites_and_changes_only_name_and_calendar(
    admin_api, supervisor, supervisor_api, user_factory
):
    admin_api.post(SITES, {"code": "mi", "name": "Milano", "province": "MI",
                           "supervisors": [supervisor.id]}, format="json")  # fmt: skip
    admin_api.post(SITES, {"code": "pa", "name": "Palermo", "province": "PA"}, format="json")
    assert [s["code"] for s in supervisor_api.get(SITES).json()] == ["mi"]
    assert supervisor_api.get(f"{SITES}pa/").status_code == 404  # not theirs: not found
    assert supervisor_api.patch(f"{SITES}pa/", {"name": "X"}, format="json").status_code == 404
    ok = supervisor_api.patch(f"{SITES}mi/", {"name": "Milano Bicocca"}, format="json")
    assert ok.status_code == 200
    refused = supervisor_api.patch(f"{SITES}mi/", {"province": "TO"}, format="json")
    assert refused.status_code == 403
    assert refused.json()["code"] == "setup_not_allowed"
    assert supervisor_api.post(SITES, {"code": "to", "name": "T", "province": "TO"},
                               format="json").status_code == 403  # fmt: skip
    lonely = _as(user_factory("sup.solo", "supervisore"))
    assert lonely.get(SITES).json() == []


def test_a_site_with_operators_is_refused_with_409(admin_api, operator):
    admin_api.post(SITES, {"code": "mi", "name": "Milano", "province": "MI"}, format="json")
    OperatorProfile.objects.create(user=operator, site=Site.objects.get())
    response = admin_api.delete(f"{SITES}mi/")
    assert response.status_code == 409
    assert response.json()["code"] == "site_has_operators"


def test_a_manager_creates_changes_archives_a_queue_and_the_list_stays_the_overview(
    manager_api, default_queue, contract, routed_case, now
):
    created = manager_api.post(QUEUES, {"code": "pa", "name": "PA", "segment": "PA",
                                        "language": "en"}, format="json")  # fmt: skip
    assert created.status_code == 201, created.json()
    assert (created.json()["language"], created.json()["moved"]) == ("en", 0)
    case = routed_case()
    assert case.queue_code == "pa"
    detail = manager_api.get(f"{QUEUES}pa/").json()
    assert (detail["segment"], detail["archived_at"]) == ("PA", None)
    moved = manager_api.patch(f"{QUEUES}pa/", {"segment": "TOP"}, format="json")
    assert moved.status_code == 200, moved.json()
    assert moved.json()["moved"] == 1
    assert Case.objects.get(id=case.id).queue_code == DEFAULT_QUEUE
    archived = manager_api.post(f"{QUEUES}pa/archive/", {}, format="json")
    assert archived.status_code == 200
    assert archived.json()["archived_at"] is not None
    assert "pa" not in [q["code"] for q in manager_api.get(QUEUES).json()]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "criteria"),
        ({"category_codes": ["nope"]}, "category_codes"),
        ({"segment": "TOP", "client": "client"}, "client"),
        ({"segment": "PA", "overflow_client_minutes": 60}, "overflow_client_minutes"),
        ({"segment": "PA", "overflow_national_minutes": 1.5}, "overflow_national_minutes"),
    ],
)
def test_bad_queue_criteria_or_thresholds_get_field_errors(
    manager_api, default_queue, client_pa, body, field
):
    body = {k: (client_pa.id if v == "client" else v) for k, v in body.items()}
    response = manager_api.post(QUEUES, {"code": "nuova", "name": "Nuova", **body}, format="json")
    assert response.status_code == 400, response.json()
    assert field in response.json()["fields"]
    assert not Queue.objects.filter(code="nuova").exists()


def test_a_queue_with_waiting_cases_is_archived_only_with_refile_and_never_deleted(
    manager_api, default_queue, contract, routed_case
):
    manager_api.post(QUEUES, {"code": "pa", "name": "PA", "segment": "PA"}, format="json")
    case = routed_case()
    deleted = manager_api.delete(f"{QUEUES}pa/")
    assert (deleted.status_code, deleted.json()["code"]) == (409, "queue_has_cases")
    refused = manager_api.post(f"{QUEUES}pa/archive/", {}, format="json")
    assert (refused.status_code, refused.json()["code"]) == (409, "queue_has_waiting_cases")
    done = manager_api.post(f"{QUEUES}pa/archive/", {"refile": True}, format="json")
    assert (done.status_code, done.json()["moved"]) == (200, 1)
    assert Case.objects.get(id=case.id).queue_code == DEFAULT_QUEUE


def test_a_queues_supervisor_patches_its_thresholds_and_others_get_404(
    manager_api, supervisor, supervisor_api, default_queue, user_factory
):
    manager_api.post(QUEUES, {"code": "pa", "name": "PA", "segment": "PA",
                              "supervisors": [supervisor.id]}, format="json")  # fmt: skip
    ok = supervisor_api.patch(f"{QUEUES}pa/", {"overflow_client_minutes": 3}, format="json")
    assert (ok.status_code, ok.json()["overflow_client_minutes"]) == (200, 3)
    refused = supervisor_api.patch(f"{QUEUES}pa/", {"name": "Mia"}, format="json")
    assert refused.status_code == 403
    assert supervisor_api.delete(f"{QUEUES}pa/").status_code == 403
    other = _as(user_factory("sup.altro", "supervisore"))
    assert other.get(f"{QUEUES}pa/").status_code == 404
    assert supervisor_api.post(QUEUES, {"code": "x", "name": "X", "segment": "TOP"},
                               format="json").status_code == 403  # fmt: skip


def test_an_empty_queue_is_deleted(manager_api, default_queue):
    manager_api.post(QUEUES, {"code": "vuota", "name": "Vuota", "segment": "LARGE"}, format="json")
    assert manager_api.delete(f"{QUEUES}vuota/").status_code == 204
    assert not Queue.objects.filter(code="vuota").exists()


def test_the_emergency_api_writes_its_configuration_change(
    supervisor_api, supervisor, default_queue, now
):
    default_queue.supervisors.add(supervisor)
    response = supervisor_api.post(
        f"{QUEUES}{DEFAULT_QUEUE}/emergency/", {"minutes": 15, "reason": "Guasto"}, format="json"
    )
    assert response.status_code == 200
    change = ConfigChange.objects.get(target_type="emergency")
    assert (change.reason, change.after["emergency_reason"]) == ("Guasto", "Guasto")
    assert change.before["emergency_until"] is None
    assert change.after["emergency_until"] is not None
    assert change.at >= now - timedelta(seconds=1)


def test_the_site_list_costs_a_fixed_number_of_queries(
    admin_api, supervisor, django_assert_max_num_queries
):
    for n in range(5):
        admin_api.post(SITES, {"code": f"s{n}", "name": f"S{n}", "province": "MI",
                               "supervisors": [supervisor.id]}, format="json")  # fmt: skip
    with django_assert_max_num_queries(6):
        assert len(admin_api.get(SITES).json()) == 5
