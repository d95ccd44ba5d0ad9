"""Major incidents (#23) through the intake banner, the pages and the API."""

from datetime import timedelta

import pytest
from django.urls import reverse

from care import incidents
from care.models import Case, IncidentCase, IncidentContact, IncidentStatus
from tests.factories import EndUserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def caller(contract):
    return EndUserFactory(
        client=contract.client, first_name="Rosalia", last_name="Amato", phone="+393471234567"
    )


@pytest.fixture
def incident(supervisor, now):
    return incidents.open_incident(
        actor=supervisor,
        data=incidents.IncidentData(
            title="Rete mobile giù a Palermo",
            services=["mobile"],
            provinces=["PA"],
            started_at=now,
            public_message="Guasto in corso, rientro previsto entro le 14.",
            category_code="roaming",
            priority="P2",
        ),
        now=now,
    )


def _intake_with(client, operator):
    client.force_login(operator)
    return client.get(reverse("care:intake"), {"phone": "347 123 4567"}, follow=True)


# --- Intake banner ---------------------------------------------------------------------------


def test_a_caller_in_scope_sees_the_public_message_and_the_one_key_actions(
    client, operator, caller, incident, django_assert_max_num_queries
):
    page = _intake_with(client, operator).content.decode()
    assert "Guasto in corso, rientro previsto entro le 14." in page
    assert 'data-testid="incident-link-case"' in page
    assert 'data-testid="incident-info-only"' in page


def test_a_caller_outside_the_scope_sees_no_banner(client, operator, caller, supervisor, now):
    incidents.open_incident(
        actor=supervisor,
        data=incidents.IncidentData(
            title="Rete fissa giù a Roma",
            services=["fixed"],
            provinces=["RM"],
            started_at=now,
            public_message="Guasto rete fissa a Roma.",
        ),
        now=now,
    )
    page = _intake_with(client, operator).content.decode()
    assert "Guasto rete fissa a Roma." not in page
    assert 'data-testid="incident-banner"' not in page


def test_the_banner_adds_one_query_to_the_intake_page(
    client, operator, caller, incident, django_assert_num_queries
):
    _intake_with(client, operator)
    url = reverse("care:intake")
    client.get(url)  # warm: the session holds the chosen caller
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as page:
        client.get(url)
    incident_queries = [q for q in page.captured_queries if "care_incident" in q["sql"]]
    assert len(incident_queries) == 1


def test_link_to_the_incident_opens_the_case_linked_with_its_category_and_priority(
    client, operator, caller, incident
):
    _intake_with(client, operator)
    response = client.post(
        reverse("care:intake"), {"action": "incident_link", "incident": incident.id}
    )
    case = Case.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("care:case-detail", args=[case.reference])
    assert (case.category.code, case.priority) == ("roaming", "P2")
    assert IncidentCase.objects.get(case=case).incident_id == incident.id


def test_information_only_counts_the_contact_without_a_case(client, operator, caller, incident):
    _intake_with(client, operator)
    client.post(reverse("care:intake"), {"action": "incident_info", "incident": incident.id})
    assert not Case.objects.exists()
    contact = IncidentContact.objects.get()
    assert (contact.incident_id, contact.client_id) == (incident.id, caller.client_id)


def test_the_incident_page_counts_one_case_in_the_singular(
    client, operator, supervisor, caller, incident
):
    """#19 point 10: "1 pratica collegata, 1 ancora aperta", never "1 collegate"."""
    _intake_with(client, operator)
    client.post(reverse("care:intake"), {"action": "incident_link", "incident": incident.id})
    client.force_login(supervisor)
    page = client.get(reverse("care:incident-detail", args=[incident.id])).content.decode()
    counts = page.split('data-testid="incident-counts">')[1].split("</dd>")[0]
    assert counts == "1 pratica collegata, 1 ancora aperta, 0 contatti solo informativi"


def test_an_incident_of_another_scope_cannot_be_posted_from_the_banner(
    client, operator, caller, supervisor, now
):
    other = incidents.open_incident(
        actor=supervisor,
        data=incidents.IncidentData(
            title="Roma", services=["mobile"], provinces=["RM"], started_at=now
        ),
        now=now,
    )
    _intake_with(client, operator)
    client.post(reverse("care:intake"), {"action": "incident_info", "incident": other.id})
    assert not IncidentContact.objects.exists()


# --- Pages -----------------------------------------------------------------------------------


def test_a_supervisor_opens_an_incident_from_the_form(client, supervisor):
    client.force_login(supervisor)
    response = client.post(
        reverse("care:incident-create"),
        {
            "title": "Rete dati giù",
            "services": ["data"],
            "provinces": "PA CT",
            "started_at": "02/12/2026 09:00",
            "public_message": "Stiamo lavorando.",
        },
    )
    assert response.status_code == 302
    incident = incidents.Incident.objects.get()
    assert (incident.services, incident.provinces) == (["data"], ["CT", "PA"])
    page = client.get(response["Location"]).content.decode()
    assert "Stiamo lavorando." in page


def test_the_form_refuses_an_incident_without_a_service_or_ending_before_it_starts(
    client, supervisor
):
    client.force_login(supervisor)
    response = client.post(
        reverse("care:incident-create"),
        {
            "title": "Senza ambito",
            "started_at": "02/12/2026 09:00",
            "expected_end_at": "02/12/2026 08:00",
        },
    )
    assert response.status_code == 200
    assert set(response.context["form"].errors) == {"services", "expected_end_at"}
    assert not incidents.Incident.objects.exists()


def test_operators_cannot_open_the_incident_pages(client, operator, incident):
    client.force_login(operator)
    assert client.get(reverse("care:incident-list")).status_code == 403
    assert client.get(reverse("care:incident-detail", args=[incident.id])).status_code == 403


def test_bulk_link_from_the_filtered_list_then_resolve_from_the_page(
    client, supervisor, operator, caller, incident, open_case_for, now
):
    for _ in range(3):
        open_case_for(caller, duplicate_override_reason="guasto")
    client.force_login(supervisor)
    detail = reverse("care:incident-detail", args=[incident.id])
    page = client.get(detail, {"service": "mobile", "province": "PA", "category": "sim-lost"})
    assert page.context["matching"] == 3
    client.post(
        reverse("care:incident-link", args=[incident.id]),
        {"service": "mobile", "province": "PA", "category": "sim-lost"},
    )
    assert IncidentCase.objects.filter(incident=incident).count() == 3
    client.post(reverse("care:incident-resolve", args=[incident.id]))
    assert set(Case.objects.values_list("status", flat=True)) == {"resolved"}
    again = client.post(reverse("care:incident-resolve", args=[incident.id]), follow=True)
    assert "already resolved" in again.content.decode() or "già risolto" in again.content.decode()


def test_the_incident_list_queries_do_not_grow_with_incidents(
    client, supervisor, now, django_assert_max_num_queries
):
    client.force_login(supervisor)
    for n in range(5):
        incidents.open_incident(
            actor=supervisor,
            data=incidents.IncidentData(title=f"I{n}", services=["mobile"], started_at=now),
            now=now,
        )
    with django_assert_max_num_queries(12):
        assert client.get(reverse("care:incident-list")).status_code == 200


# --- API -------------------------------------------------------------------------------------


def test_the_api_creates_links_and_resolves_an_incident(
    supervisor_api, open_case_for, caller, operator, now
):
    created = supervisor_api.post(
        "/api/v1/incidents/",
        {
            "title": "Rete mobile giù",
            "services": ["mobile"],
            "clients": [],
            "provinces": ["PA"],
            "public_message": "Guasto.",
            "started_at": now.isoformat(),
        },
        format="json",
    )
    assert created.status_code == 201, created.json()
    incident_id = created.json()["id"]
    cases = [open_case_for(caller, duplicate_override_reason="x") for _ in range(2)]
    linked = supervisor_api.post(
        f"/api/v1/incidents/{incident_id}/link/",
        {"cases": [c.reference for c in cases]},
        format="json",
    )
    assert linked.json()["linked"] == 2
    resolved = supervisor_api.post(f"/api/v1/incidents/{incident_id}/resolve/")
    assert resolved.json()["resolved_cases"] == 2
    twice = supervisor_api.post(f"/api/v1/incidents/{incident_id}/resolve/")
    assert twice.status_code == 409
    assert twice.json()["code"] == "incident_already_resolved"
    detail = supervisor_api.get(f"/api/v1/incidents/{incident_id}/").json()
    assert [e["kind"] for e in detail["timeline"]] == ["opened", "cases_linked", "resolved"]


def test_the_api_refuses_bad_incidents_with_clear_errors(supervisor_api, now):
    no_scope = supervisor_api.post(
        "/api/v1/incidents/",
        {"title": "X", "services": [], "started_at": now.isoformat()},
        format="json",
    )
    assert no_scope.status_code == 400
    assert "services" in no_scope.json()["fields"]
    backwards = supervisor_api.post(
        "/api/v1/incidents/",
        {
            "title": "X",
            "services": ["mobile"],
            "started_at": now.isoformat(),
            "expected_end_at": (now - timedelta(hours=1)).isoformat(),
        },
        format="json",
    )
    assert backwards.status_code == 400
    assert "expected_end_at" in backwards.json()["fields"]
    assert not incidents.Incident.objects.exists()


def test_the_api_refuses_linking_a_closed_case(
    supervisor_api, incident, open_case_for, caller, operator, now
):
    from care import services

    case = open_case_for(caller)
    services.transition_case(
        actor=operator, case=case, to="resolved", resolution_code="risolto-informazioni"
    )
    response = supervisor_api.post(
        f"/api/v1/incidents/{incident.id}/link/", {"cases": [case.reference]}, format="json"
    )
    assert response.status_code == 409
    assert response.json()["code"] == "incident_cases_refused"
    assert case.reference in str(response.json()["fields"]["closed"])
    assert not IncidentCase.objects.exists()


def test_patch_confirms_a_suspected_incident(supervisor_api, supervisor, now):
    suspected = incidents.open_incident(
        actor=supervisor,
        data=incidents.IncidentData(title="Forse", services=["mobile"], started_at=now),
        now=now,
        status="suspected",
    )
    response = supervisor_api.patch(
        f"/api/v1/incidents/{suspected.id}/", {"status": "confirmed"}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["status"] == IncidentStatus.CONFIRMED


def test_operators_cannot_use_the_incident_api(operator_api):
    assert operator_api.get("/api/v1/incidents/").status_code == 403


def test_patch_does_not_resolve_it_points_to_resolve(supervisor_api, incident):
    response = supervisor_api.patch(
        f"/api/v1/incidents/{incident.id}/", {"status": "resolved"}, format="json"
    )
    assert response.status_code == 400
    assert "status" in response.json()["fields"]
    incident.refresh_from_db()
    assert incident.status == IncidentStatus.CONFIRMED


def test_a_manager_edits_the_message_and_owner_and_the_timeline_says_so(
    client, manager, supervisor, incident
):
    client.force_login(manager)
    url = reverse("care:incident-edit", args=[incident.id])
    form = client.get(url).context["form"]
    data = {
        name: value
        for name, value in form.initial.items()
        if value not in (None, "") and name not in ("services", "clients", "started_at")
    }
    data.update(
        services=["mobile"],
        started_at="02/12/2026 10:00",
        public_message="Rientro previsto entro le 16.",
        owner=supervisor.id,
    )
    response = client.post(url, data)
    assert response.status_code == 302, response.context["form"].errors
    incident.refresh_from_db()
    assert (incident.public_message, incident.owner_id) == (
        "Rientro previsto entro le 16.",
        supervisor.id,
    )
    changes = incident.events.get(kind="updated").detail["changes"]
    assert set(changes) == {"public_message", "owner_id"}


def test_the_api_unlinks_a_case_that_needs_more_work_before_the_resolution(
    supervisor_api, incident, open_case_for, caller
):
    kept, leaving = (open_case_for(caller, duplicate_override_reason="x") for _ in range(2))
    supervisor_api.post(
        f"/api/v1/incidents/{incident.id}/link/",
        {"cases": [kept.reference, leaving.reference]},
        format="json",
    )
    url = f"/api/v1/incidents/{incident.id}/unlink/"
    response = supervisor_api.post(url, {"case": leaving.reference.lower()}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json() == {"unlinked": True, "incident": incident.id}
    again = supervisor_api.post(url, {"case": leaving.reference}, format="json")
    assert again.json()["unlinked"] is False
    assert supervisor_api.post(url, {}, format="json").json()["code"] == "invalid"
    resolved = supervisor_api.post(f"/api/v1/incidents/{incident.id}/resolve/").json()
    assert resolved["resolved_cases"] == 1
    leaving.refresh_from_db()
    assert leaving.status != "resolved"
    assert leaving.events.filter(kind="incident_unlinked").exists()
    after = supervisor_api.post(url, {"case": kept.reference}, format="json")
    assert after.status_code == 409
