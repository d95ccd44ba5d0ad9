"""Supervisor scope (DESIGN §2, issue #20 point 3): a supervisor sees and acts on the
operators of their sites and on their queues, on the console, the wallboard and the API.
Reassigning outside them needs an override reason, kept on the decision and the timeline.
A supervisor of nothing sees a message and no data; managers and administrators see all."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from care import services as care_services
from care.models import Case, CaseEvent
from config import roles
from routing import services
from routing.exceptions import OutsideSupervisorScope
from routing.models import Assignment, OperatorProfile, PresenceChange, Queue, QueueEvent, Site
from tests.routing.test_pages import CONSOLE_MAX_QUERIES, post_failing, text_of

pytestmark = pytest.mark.django_db

CONSOLE = reverse("routing:console")
CONSOLE_LIVE = reverse("routing:console-live")
REASSIGN = reverse("routing:console-reassign")
OPERATOR_PRESENCE = reverse("routing:console-presence")
EMERGENCY = reverse("routing:console-emergency")
WALLBOARD = reverse("routing:wallboard")
WALLBOARD_LIVE = reverse("routing:wallboard-live")
OPERATORS = "/api/v1/routing/operators/"
ASSIGN = "/api/v1/routing/assign/"
HTMX = {"HTTP_HX_REQUEST": "true"}
NO_SCOPE = "You do not supervise any site or queue yet: ask an administrator to assign them"


def presence_url(user_id) -> str:
    return f"/api/v1/routing/operators/{user_id}/presence/"


def emergency_url(code) -> str:
    return f"/api/v1/routing/queues/{code}/emergency/"


@pytest.fixture(autouse=True)
def _in_english(client):
    client.cookies["django_language"] = "en"


@pytest.fixture
def milano(db):
    return Site.objects.create(code="mi", name="Milano", province="MI")


@pytest.fixture
def palermo(db):
    return Site.objects.create(code="pa", name="Palermo", province="PA")


@pytest.fixture
def palermo_queue(db):
    return Queue.objects.create(code="sicilia", name="Sicilia", segment="PA")


@pytest.fixture
def sup_milano(user_factory, milano, default_queue):
    """Runs the Milano site and the default queue."""
    user = user_factory("sup.milano", roles.SUPERVISOR)
    milano.supervisors.add(user)
    default_queue.supervisors.add(user)
    return user


@pytest.fixture
def sup_palermo(user_factory, palermo, palermo_queue):
    """Runs the Palermo site and the Sicilia queue."""
    user = user_factory("sup.palermo", roles.SUPERVISOR)
    palermo.supervisors.add(user)
    palermo_queue.supervisors.add(user)
    return user


@pytest.fixture
def op_milano(user_factory, profile_factory, contract, milano):
    user = user_factory("op.milano", first_name="Marta", last_name="Meneghini")
    profile_factory(user, contracts=(contract,), site=milano)
    return user


@pytest.fixture
def op_palermo(user_factory, profile_factory, contract, palermo):
    user = user_factory("op.palermo", first_name="Pietro", last_name="Lo Bue")
    profile_factory(user, contracts=(contract,), site=palermo)
    return user


@pytest.fixture
def nobody(user_factory):
    """A supervisor who runs no site and no queue yet."""
    return user_factory("sup.nuovo", roles.SUPERVISOR)


def api_for(user):
    from rest_framework.test import APIClient

    api = APIClient()
    api.force_authenticate(user)
    return api


# --- The console ----------------------------------------------------------------------------


def test_the_milano_supervisor_sees_only_milano_operators_and_their_queues(
    client, sup_milano, op_milano, op_palermo, palermo_queue, routed_case
):
    routed_case()
    client.force_login(sup_milano)
    page = client.get(CONSOLE).content.decode()
    assert 'data-testid="operator-row" data-username="op.milano"' in page
    assert 'data-username="op.palermo"' not in page
    assert 'data-testid="queue-row" data-queue="generale"' in page
    assert 'data-queue="sicilia"' not in page
    # Presence and emergencies offer only theirs; reassignment names other sites apart.
    presence_form = page[page.index('data-testid="operator-presence-form"') :]
    presence_form = presence_form[: presence_form.index("</form>")]
    assert "op.milano" in presence_form
    assert "op.palermo" not in presence_form
    emergency_form = page[page.index('data-testid="emergency-form"') :]
    assert 'value="sicilia"' not in emergency_form[: emergency_form.index("</form>")]
    reassign_form = page[page.index('data-testid="reassign-form"') :]
    reassign_form = reassign_form[: reassign_form.index("</form>")]
    assert re.search(
        r'<optgroup label="Other sites \(override reason needed\)">.*op\.palermo',
        reassign_form,
        re.S,
    )
    live = client.get(CONSOLE_LIVE, **HTMX).content.decode()
    assert 'data-username="op.milano"' in live
    assert "op.palermo" not in live


def test_administrators_and_managers_see_the_whole_unit(
    client, admin_user, op_milano, op_palermo, palermo_queue, default_queue
):
    client.force_login(admin_user)
    page = client.get(CONSOLE).content.decode()
    assert 'data-username="op.milano"' in page
    assert 'data-username="op.palermo"' in page
    assert 'data-queue="sicilia"' in page
    assert "<optgroup" not in page  # nobody is outside their reach


def test_the_milano_supervisor_cannot_change_a_palermo_operators_presence(
    client, sup_milano, op_milano, op_palermo
):
    changes = PresenceChange.objects.count()
    client.force_login(sup_milano)
    page = post_failing(
        client, OPERATOR_PRESENCE, {"operator": op_palermo.id, "state": "away"}, "presence_form"
    )
    assert 'class="errorlist' in page.content.decode()
    assert PresenceChange.objects.count() == changes
    with pytest.raises(OutsideSupervisorScope):
        services.set_presence(actor=sup_milano, profile=op_palermo.operator_profile, state="away")
    assert PresenceChange.objects.count() == changes
    response = client.post(OPERATOR_PRESENCE, {"operator": op_milano.id, "state": "away"})
    assert response.status_code == 302
    assert PresenceChange.objects.filter(profile__user=op_milano, actor=sup_milano).exists()


def test_the_milano_supervisor_cannot_switch_a_queue_they_do_not_run_to_emergency(
    client, sup_milano, palermo_queue, default_queue
):
    client.force_login(sup_milano)
    data = {"minutes": 30, "reason": "Guasto rete"}
    post_failing(client, EMERGENCY, {"queue": palermo_queue.code, **data}, "emergency_form")
    with pytest.raises(OutsideSupervisorScope):
        services.set_emergency(actor=sup_milano, queue=palermo_queue, **data)
    assert not QueueEvent.objects.exists()
    assert (
        api_for(sup_milano).post(emergency_url("sicilia"), data, format="json").status_code == 404
    )
    assert (
        api_for(sup_milano).post(emergency_url("generale"), data, format="json").status_code == 200
    )
    assert QueueEvent.objects.get().queue == default_queue


def test_the_console_costs_the_same_queries_with_other_sites_around(
    client,
    sup_milano,
    op_milano,
    user_factory,
    profile_factory,
    contract,
    palermo,
    routed_case,
    django_assert_max_num_queries,
):
    routed_case()
    client.force_login(sup_milano)
    with CaptureQueriesContext(connection) as few:
        client.get(CONSOLE)
    for n in range(8):
        profile_factory(user_factory(f"op.pa{n}"), contracts=(contract,), site=palermo)
        routed_case()
    with django_assert_max_num_queries(CONSOLE_MAX_QUERIES) as many:
        assert client.get(CONSOLE).status_code == 200
    assert len(many) == len(few)


# --- Reassignment ---------------------------------------------------------------------------


def test_reassigning_to_another_sites_operator_without_a_reason_is_refused(
    client, sup_milano, op_milano, op_palermo, routed_case
):
    case = routed_case()
    body = api_for(sup_milano).post(
        ASSIGN, {"case": case.reference, "operator": op_palermo.id}, format="json"
    )
    assert body.status_code == 403
    assert body.json()["code"] == "outside_scope_needs_reason"
    assert {"operator", "override_reason"} <= body.json()["fields"].keys()
    client.force_login(sup_milano)
    page = post_failing(
        client, REASSIGN, {"case": case.reference, "operator": op_palermo.id}, "reassign_form"
    )
    assert "This operator works at a site you do not supervise." in text_of(page)
    assert Case.objects.get(id=case.id).assignee is None
    assert not Assignment.objects.exists()


def test_reassigning_to_another_sites_operator_with_a_reason_is_recorded(
    client, sup_milano, op_palermo, routed_case
):
    case = routed_case()
    client.force_login(sup_milano)
    response = client.post(
        REASSIGN,
        {"case": case.reference, "operator": op_palermo.id, "override_reason": "Parla siciliano"},
    )
    assert response.status_code == 302
    assert Case.objects.get(id=case.id).assignee == op_palermo
    decision = Assignment.objects.get(case=case)
    # Eligible (certified on the contract): the level stays, the reason is kept.
    assert (decision.level, decision.override_reason) == ("contract", "Parla siciliano")
    event = CaseEvent.objects.get(case=case, kind=CaseEvent.Kind.ASSIGNED)
    assert event.detail["override_reason"] == "Parla siciliano"
    why_me = client.get(reverse("routing:case-decisions", args=[case.reference]))
    assert "Override: Parla siciliano" in text_of(why_me)


def test_the_palermo_supervisor_assigns_to_their_operator_without_a_reason(
    sup_palermo, op_palermo, routed_case, palermo_queue, now
):
    case = routed_case()
    care_services.set_queue(actor=None, case=case, queue_code=palermo_queue.code, now=now)
    response = api_for(sup_palermo).post(
        ASSIGN, {"case": case.reference, "operator": op_palermo.id}, format="json"
    )
    assert response.status_code == 200, response.json()
    assert Assignment.objects.get(case=case).override_reason == ""


def test_a_case_of_a_queue_they_do_not_run_needs_a_reason_too(
    sup_milano, op_milano, routed_case, palermo_queue, now
):
    case = routed_case()
    care_services.set_queue(actor=None, case=case, queue_code=palermo_queue.code, now=now)
    api = api_for(sup_milano)
    refused = api.post(ASSIGN, {"case": case.reference, "operator": op_milano.id}, format="json")
    assert refused.status_code == 403
    assert "case" in refused.json()["fields"]
    assert Case.objects.get(id=case.id).assignee is None
    done = api.post(
        ASSIGN,
        {"case": case.reference, "operator": op_milano.id, "override_reason": "Coda scoperta"},
        format="json",
    )
    assert done.status_code == 200
    assert Assignment.objects.get(case=case).override_reason == "Coda scoperta"


def test_a_case_held_by_their_operator_is_theirs_whatever_the_queue(
    sup_milano,
    op_milano,
    user_factory,
    profile_factory,
    contract,
    milano,
    routed_case,
    palermo_queue,
    now,
):
    colleague = user_factory("op.milano2")
    profile_factory(colleague, contracts=(contract,), site=milano)
    case = routed_case()
    care_services.set_queue(actor=None, case=case, queue_code=palermo_queue.code, now=now)
    services.reassign_case(actor=sup_milano, case=case, operator=op_milano, override_reason="x")
    case = services.reassign_case(actor=sup_milano, case=case, operator=colleague)
    assert case.assignee == colleague


# --- The API --------------------------------------------------------------------------------


def test_the_operator_list_and_presence_api_keep_to_the_supervisors_sites(
    sup_milano, op_milano, op_palermo, django_assert_max_num_queries
):
    api = api_for(sup_milano)
    with django_assert_max_num_queries(6):
        rows = api.get(OPERATORS).json()
    assert [row["username"] for row in rows] == ["op.milano"]
    assert api.get(OPERATORS, {"site": "pa"}).json() == []
    assert api.put(presence_url(op_palermo.id), {"state": "away"}, format="json").status_code == 404
    assert OperatorProfile.objects.get(user=op_palermo).presence == "available"
    assert api.put(presence_url(op_milano.id), {"state": "away"}, format="json").status_code == 200


# --- The wallboard --------------------------------------------------------------------------


def test_the_wallboard_shows_the_supervisors_queues_and_operators(
    client, sup_milano, manager, op_milano, op_palermo, palermo_queue
):
    client.force_login(sup_milano)
    page = client.get(WALLBOARD).content.decode()
    assert 'data-testid="wallboard-queue" data-queue="generale"' in page
    assert 'data-queue="sicilia"' not in page
    assert re.search(r'data-testid="operators-available">1<', page)
    client.force_login(manager)
    page = client.get(WALLBOARD_LIVE, **HTMX).content.decode()
    assert 'data-queue="sicilia"' in page
    assert re.search(r'data-testid="operators-available">2<', page)


# --- A supervisor of nothing ----------------------------------------------------------------


def test_a_supervisor_of_nothing_sees_a_message_and_no_data(
    client, nobody, op_milano, routed_case, default_queue
):
    case = routed_case()
    client.force_login(nobody)
    for url, extra in [
        (CONSOLE, {}),
        (CONSOLE_LIVE, HTMX),
        (WALLBOARD, {}),
        (WALLBOARD_LIVE, HTMX),
    ]:
        response = client.get(url, **extra)
        assert response.status_code == 200
        page = response.content.decode()
        assert NO_SCOPE in text_of(response)
        assert "queue-row" not in page
        assert "operator-row" not in page
        assert "wallboard-queue" not in page
    api = api_for(nobody)
    assert api.get(OPERATORS).json() == []
    assert api.put(presence_url(op_milano.id), {"state": "away"}, format="json").status_code == 404
    assert (
        api.post(
            emergency_url("generale"), {"minutes": 5, "reason": "x"}, format="json"
        ).status_code
        == 404
    )
    refused = api.post(
        ASSIGN,
        {"case": case.reference, "operator": op_milano.id, "override_reason": "Perché sì"},
        format="json",
    )
    assert refused.status_code == 403
    assert refused.json()["code"] == "outside_supervisor_scope"
    assert not Assignment.objects.exists()


def test_the_message_is_in_italian_by_default(client, nobody):
    client.cookies.pop("django_language")
    client.force_login(nobody)
    assert (
        "Non supervisioni ancora nessuna sede o coda: chiedi a un amministratore di assegnartele"
        in text_of(client.get(CONSOLE))
    )
