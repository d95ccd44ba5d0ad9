"""The routing pages: the operator's workspace with "Prossimo caso", the supervisor console
and its actions, and the case page's "why me?" section."""

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from care.models import Case
from config.models import Heartbeat
from config.services import record_heartbeat
from routing import services
from routing.models import (
    Assignment,
    OperatorProfile,
    PresenceChange,
    PresenceState,
    Queue,
    QueueEvent,
    Site,
)

pytestmark = pytest.mark.django_db

WORKSPACE = reverse("routing:workspace")
WORKSPACE_LIVE = reverse("routing:workspace-live")
PRESENCE = reverse("routing:my-presence")
NEXT = reverse("routing:take-next")
CONSOLE = reverse("routing:console")
CONSOLE_LIVE = reverse("routing:console-live")
REASSIGN = reverse("routing:console-reassign")
OPERATOR_PRESENCE = reverse("routing:console-presence")
EMERGENCY = reverse("routing:console-emergency")
EMERGENCY_OFF = reverse("routing:console-emergency-off")
HTMX = {"HTTP_HX_REQUEST": "true"}
# Session and user (4), the supervisor's sites and queues, the overviews (3), the heartbeat,
# the operators of other sites (reassignment), the session's save (3), and one for the
# navigation's context: the same with 1 or 1,000 cases (a supervisor's console read 11 before
# the scope, 12 with it; an administrator's 12 before, 11 now).
CONSOLE_MAX_QUERIES = 14
# Session and user (4), my profile, my cases, what waits for me (at most 5), the session's
# save (3), and one for the navigation's context.
WORKSPACE_MAX_QUERIES = 15


@pytest.fixture(autouse=True)
def _in_english(client):
    """Text is checked against the English msgids, whatever the state of the Italian
    catalogue (its completeness has its own test)."""
    client.cookies["django_language"] = "en"


def decisions_url(case) -> str:
    return reverse("routing:case-decisions", args=[case.reference])


def text_of(response) -> str:
    """The page's text without tags and with spaces collapsed, for phrases split by markup."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode()))


def post_failing(client, url, data, form: str):
    """Posts a console form that fails: the answer sends the supervisor back to the console
    (the address never becomes the action's), where the form shows its errors."""
    response = client.post(url, data)
    assert response.status_code == 302
    assert response["Location"] == f"{CONSOLE}#{form}"
    page = client.get(CONSOLE)
    assert page.status_code == 200
    return page


@pytest.fixture
def waiting(routed_case, now):
    """A P3 and a P2 case waiting in the default queue (the operator certified on the
    contract may take them at once)."""
    return [routed_case(opened_at=now, priority="P3"), routed_case(opened_at=now)]


@pytest.fixture
def on_duty(operator, profile_factory, contract):
    """The operator, certified on the contract, available."""
    return profile_factory(operator, contracts=(contract,))


# --- Who may see what -----------------------------------------------------------------------


@pytest.mark.parametrize("url", [WORKSPACE, WORKSPACE_LIVE, CONSOLE, CONSOLE_LIVE])
def test_anonymous_visitors_are_sent_to_the_login_page(client, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize(
    ("role", "workspace", "console"),
    [
        ("operator", 200, 403),
        ("backoffice_user", 200, 403),
        ("supervisor", 200, 200),
        ("manager", 403, 403),
    ],
)
def test_workspace_is_for_case_handlers_and_console_for_supervisors(
    client, request, default_queue, role, workspace, console
):
    client.force_login(request.getfixturevalue(role))
    assert client.get(WORKSPACE).status_code == workspace
    assert client.get(WORKSPACE_LIVE).status_code == workspace
    assert client.get(CONSOLE).status_code == console
    assert client.get(CONSOLE_LIVE).status_code == console


@pytest.mark.parametrize(
    "url", [NEXT, PRESENCE, REASSIGN, OPERATOR_PRESENCE, EMERGENCY, EMERGENCY_OFF]
)
def test_a_manager_cannot_post_any_routing_action(client, manager, default_queue, url):
    client.force_login(manager)
    assert client.post(url, {"state": "available"}).status_code == 403


@pytest.mark.parametrize("url", [REASSIGN, OPERATOR_PRESENCE, EMERGENCY, EMERGENCY_OFF])
def test_an_operator_cannot_post_console_actions(client, operator, default_queue, url):
    client.force_login(operator)
    assert client.post(url, {}).status_code == 403
    assert not QueueEvent.objects.exists()


def test_navigation_shows_the_workspace_to_operators_and_the_console_to_supervisors(
    client, operator, supervisor, default_queue
):
    client.force_login(operator)
    page = client.get(reverse("home")).content.decode()
    assert f'href="{WORKSPACE}"' in page
    assert f'href="{CONSOLE}"' not in page
    client.force_login(supervisor)
    page = client.get(reverse("home")).content.decode()
    assert f'href="{CONSOLE}"' in page


# --- Operator workspace ---------------------------------------------------------------------


def test_workspace_shows_presence_my_cases_the_waiting_count_and_the_button(
    client, operator, on_duty, waiting, supervisor
):
    mine = waiting[0]
    services.take_next_case(operator=operator)  # takes the P2 case
    client.force_login(operator)
    response = client.get(WORKSPACE)
    page = response.content.decode()
    assert response.status_code == 200
    assert 'data-presence="available"' in page
    assert 'aria-pressed="true" data-testid="presence-available"' in page
    taken = Case.objects.get(assignee=operator)
    assert f'data-reference="{taken.reference}"' in page
    assert f'data-reference="{mine.reference}"' not in page  # still waiting, not mine
    assert 'data-testid="waiting-count" data-count="1"' in page
    assert f'action="{NEXT}"' in page
    assert 'aria-keyshortcuts="n"' in page
    assert f'hx-get="{WORKSPACE_LIVE}" hx-trigger="every 15s"' in page
    assert "htmx.min.js" in page
    assert '"allowEval": false' in page


def test_workspace_costs_a_fixed_number_of_queries(
    client, operator, on_duty, routed_case, now, django_assert_max_num_queries
):
    client.force_login(operator)
    with CaptureQueriesContext(connection) as few:
        client.get(WORKSPACE)
    for n in range(3):  # the front-office limit of the default capacity and share
        routed_case(opened_at=now - timedelta(minutes=n))
        services.take_next_case(operator=operator)
        routed_case(opened_at=now - timedelta(minutes=n))
    with django_assert_max_num_queries(WORKSPACE_MAX_QUERIES) as many:
        assert client.get(WORKSPACE).status_code == 200
    assert len(many) == len(few)
    with django_assert_max_num_queries(WORKSPACE_MAX_QUERIES - 1):
        assert client.get(WORKSPACE_LIVE, **HTMX).status_code == 200


def test_workspace_without_a_profile_says_so_calmly(client, operator, default_queue):
    client.force_login(operator)
    response = client.get(WORKSPACE)
    assert response.status_code == 200
    assert 'data-testid="no-profile"' in response.content.decode()


def test_workspace_live_partial_has_my_cases_and_the_waiting_count_out_of_band(
    client, operator, on_duty, waiting
):
    client.force_login(operator)
    response = client.get(WORKSPACE_LIVE, **HTMX)
    page = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in page
    assert 'data-testid="my-cases"' in page
    assert 'id="waiting-stat" aria-labelledby="waiting-title" hx-swap-oob="true"' in page
    assert 'data-count="2"' in page


def test_operator_changes_their_own_presence(client, operator, on_duty):
    client.force_login(operator)
    response = client.post(PRESENCE, {"state": PresenceState.AWAY})
    assert response.status_code == 302
    assert response["Location"] == WORKSPACE
    assert OperatorProfile.objects.get(user=operator).presence == PresenceState.AWAY
    assert PresenceChange.objects.filter(profile=on_duty, to_state=PresenceState.AWAY).exists()
    page = client.get(WORKSPACE).content.decode()
    assert 'data-presence="away"' in page


def test_a_presence_that_does_not_exist_is_refused_and_changes_nothing(client, operator, on_duty):
    changes = PresenceChange.objects.count()
    client.force_login(operator)
    response = client.post(PRESENCE, {"state": "asleep"})
    assert response.status_code == 400
    assert 'role="alert"' in response.content.decode()
    assert OperatorProfile.objects.get(user=operator).presence == PresenceState.AVAILABLE
    assert PresenceChange.objects.count() == changes


def test_presence_without_a_profile_is_a_clear_message_not_a_500(client, operator):
    client.force_login(operator)
    response = client.post(PRESENCE, {"state": PresenceState.AVAILABLE})
    assert response.status_code == 400
    assert "You have no operator profile" in response.content.decode()


# --- Prossimo caso --------------------------------------------------------------------------


def test_next_case_opens_the_case_page_and_says_why_it_came_to_me(
    client, operator, on_duty, waiting
):
    client.force_login(operator)
    response = client.post(NEXT, follow=True)
    p2 = waiting[1]
    assert response.redirect_chain == [(reverse("care:case-detail", args=[p2.reference]), 302)]
    page = text_of(response)
    assert f"Case {p2.reference} is yours" in page
    assert "Taken from the queue “Generale” (certified on the contract) at once" in page
    assert Case.objects.get(id=p2.id).assignee == operator
    assert Assignment.objects.get(case=p2).operator == operator


def test_next_case_with_nothing_waiting_gives_a_calm_message(client, operator, on_duty):
    client.force_login(operator)
    response = client.post(NEXT, follow=True)
    assert response.redirect_chain == [(WORKSPACE, 302)]
    assert "Nothing is waiting for you right now" in text_of(response)
    assert not Assignment.objects.exists()


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        ("no_profile", "You have no operator profile"),
        ("away", "Set your presence to available"),
        ("full", "You already hold as many cases as your capacity allows"),
    ],
)
def test_next_case_refused_shows_the_reason_and_assigns_nothing(
    client, operator, profile_factory, contract, waiting, setup, message
):
    if setup == "away":
        profile_factory(operator, contracts=(contract,), available=False)
    elif setup == "full":
        profile_factory(operator, contracts=(contract,), capacity=1, backoffice_share="0")
        services.take_next_case(operator=operator)
    assignments = Assignment.objects.count()
    client.force_login(operator)
    response = client.post(NEXT, follow=True)
    assert response.status_code == 200
    assert response.redirect_chain == [(WORKSPACE, 302)]
    assert message in text_of(response)
    assert 'class="message error"' in response.content.decode()
    assert Assignment.objects.count() == assignments


def test_next_case_answers_only_to_post(client, operator, on_duty):
    client.force_login(operator)
    assert client.get(NEXT).status_code == 405


# --- Supervisor console ---------------------------------------------------------------------


@pytest.fixture
def sites(supervisor):
    """Milano and Palermo, both run by the supervisor."""
    sites = [
        Site.objects.create(code="mi", name="Milano", province="MI"),
        Site.objects.create(code="pa", name="Palermo", province="PA"),
    ]
    for site in sites:
        site.supervisors.add(supervisor)
    return sites


@pytest.fixture
def staffed(user_factory, profile_factory, contract, sites):
    """Three operators on two sites, one away."""
    people = []
    for n, (site, available) in enumerate([(0, True), (0, False), (1, True)]):
        user = user_factory(f"op.{n}", first_name="Op", last_name=f"Numero {n}")
        profile = profile_factory(user, contracts=(contract,), available=available)
        OperatorProfile.objects.filter(id=profile.id).update(site=sites[site])
        people.append(user)
    return people


def test_console_shows_queues_sites_charts_and_the_last_recompute(
    client, supervisor, staffed, waiting, now
):
    record_heartbeat(name=Heartbeat.SLA_RECOMPUTE, now=timezone.now(), detail={"seconds": 0.123})
    client.force_login(supervisor)
    response = client.get(CONSOLE)
    page = response.content.decode()
    assert response.status_code == 200
    assert 'data-testid="queue-row" data-queue="generale"' in page
    assert re.search(r'data-testid="queue-waiting">2<', page)
    assert page.count('data-testid="site-panel"') == 2
    assert page.count('data-testid="operator-row"') == 3
    assert 'data-testid="waiting-chart"' in page
    assert 'data-testid="load-chart"' in page
    assert "0.123 s" in text_of(response)
    assert f'hx-get="{CONSOLE_LIVE}" hx-trigger="every 10s"' in page
    assert 'data-testid="emergency-banner"' not in page


def test_console_without_a_recompute_shows_a_dash(client, supervisor, default_queue):
    client.force_login(supervisor)
    response = client.get(CONSOLE_LIVE, **HTMX)
    assert "Last SLA recompute: —" in text_of(response)
    assert "<html" not in response.content.decode()


def test_console_costs_a_fixed_number_of_queries(
    client,
    supervisor,
    user_factory,
    profile_factory,
    contract,
    sites,
    routed_case,
    now,
    django_assert_max_num_queries,
):
    client.force_login(supervisor)
    Queue.objects.get_or_create(code="generale", defaults={"name": "Generale"})
    with CaptureQueriesContext(connection) as empty:
        client.get(CONSOLE)
    for n in range(12):
        user = user_factory(f"op.{n}")
        profile_factory(user, contracts=(contract,))
        routed_case(opened_at=now - timedelta(minutes=n))
    for n in range(6):
        Queue.objects.create(code=f"coda-{n}", name=f"Coda {n}")
    with django_assert_max_num_queries(CONSOLE_MAX_QUERIES) as busy:
        assert client.get(CONSOLE).status_code == 200
    assert len(busy) == len(empty)
    with django_assert_max_num_queries(CONSOLE_MAX_QUERIES - 1):
        assert client.get(CONSOLE_LIVE, **HTMX).status_code == 200


def test_supervisor_switches_an_emergency_on_and_sees_the_banner(client, supervisor, default_queue):
    client.force_login(supervisor)
    response = client.post(
        EMERGENCY,
        {"queue": default_queue.code, "minutes": 45, "reason": "Guasto rete Sicilia"},
        follow=True,
    )
    assert response.redirect_chain == [(CONSOLE, 302)]
    page = text_of(response)
    queue = Queue.objects.get(id=default_queue.id)
    until = timezone.localtime(queue.emergency_until).strftime("%H:%M")
    assert 'data-testid="emergency-banner"' in response.content.decode()
    assert f"Emergency on queue “Generale” until {until}" in page
    assert "Guasto rete Sicilia" in page
    event = QueueEvent.objects.get()
    assert (event.kind, event.actor, event.reason) == (
        "emergency_on",
        supervisor,
        "Guasto rete Sicilia",
    )


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"minutes": 45, "reason": ""}, "reason"),
        ({"minutes": 45, "reason": "   "}, "reason"),
        ({"minutes": 0, "reason": "Guasto"}, "minutes"),
        ({"minutes": 100000, "reason": "Guasto"}, "minutes"),
        ({"minutes": "tanti", "reason": "Guasto"}, "minutes"),
    ],
)
def test_an_emergency_without_reason_or_with_a_bad_duration_is_refused(
    client, supervisor, default_queue, data, field
):
    client.force_login(supervisor)
    response = post_failing(
        client, EMERGENCY, {"queue": default_queue.code, **data}, "emergency_form"
    )
    page = response.content.decode()
    assert 'class="errorlist' in page
    assert re.search(rf'<[^>]*aria-invalid="true"[^>]*id="id_{field}"', page)
    assert not QueueEvent.objects.exists()
    assert Queue.objects.get(id=default_queue.id).emergency_until is None


def test_supervisor_switches_an_emergency_off(client, supervisor, default_queue):
    services.set_emergency(actor=supervisor, queue=default_queue, minutes=30, reason="Picco")
    client.force_login(supervisor)
    response = client.post(EMERGENCY_OFF, {"queue": default_queue.code}, follow=True)
    assert response.redirect_chain == [(CONSOLE, 302)]
    assert 'data-testid="emergency-banner"' not in response.content.decode()
    assert Queue.objects.get(id=default_queue.id).emergency_until is None
    assert QueueEvent.objects.filter(kind="emergency_off").count() == 1


def test_ending_an_emergency_offers_only_the_queues_in_emergency(client, supervisor, default_queue):
    other = Queue.objects.create(code="backoffice-contratti", name="Back-office contratti")
    client.force_login(supervisor)
    page = client.get(CONSOLE).content.decode()
    assert 'data-testid="emergency-off-form"' not in page
    assert "No queue is in emergency." in text_of(client.get(CONSOLE))

    services.set_emergency(actor=supervisor, queue=default_queue, minutes=30, reason="Picco")
    page = client.get(CONSOLE).content.decode()
    off_form = page.split('data-testid="emergency-off-form"')[1].split("</form>")[0]
    assert f'value="{default_queue.code}"' in off_form
    assert f'value="{other.code}"' not in off_form


def test_ending_an_emergency_on_a_queue_not_in_emergency_is_refused_and_the_real_one_goes_on(
    client, supervisor, default_queue
):
    other = Queue.objects.create(code="backoffice-contratti", name="Back-office contratti")
    services.set_emergency(actor=supervisor, queue=default_queue, minutes=30, reason="Picco")
    client.force_login(supervisor)
    response = post_failing(client, EMERGENCY_OFF, {"queue": other.code}, "emergency_off_form")
    page = text_of(response)
    assert "This queue is not in emergency." in page
    assert "Emergency off" not in page
    assert Queue.objects.get(id=default_queue.id).emergency_until is not None
    assert QueueEvent.objects.filter(kind="emergency_off").count() == 0


def test_a_console_form_with_errors_is_shown_once(client, supervisor, staffed, waiting):
    client.force_login(supervisor)
    post_failing(
        client, REASSIGN, {"case": "CS-1999-000001", "operator": staffed[0].id}, "reassign_form"
    )
    assert "No case has this reference." not in text_of(client.get(CONSOLE))


def test_supervisor_changes_an_operators_presence(client, supervisor, staffed):
    away = staffed[1]
    client.force_login(supervisor)
    response = client.post(OPERATOR_PRESENCE, {"operator": away.id, "state": "available"})
    assert response.status_code == 302
    profile = OperatorProfile.objects.get(user=away)
    assert profile.presence == PresenceState.AVAILABLE
    assert PresenceChange.objects.filter(profile=profile, actor=supervisor).exists()


def test_a_presence_change_for_nobody_is_refused(client, supervisor, staffed, user_factory):
    stranger = user_factory("senza.profilo")
    changes = PresenceChange.objects.count()
    client.force_login(supervisor)
    response = post_failing(
        client, OPERATOR_PRESENCE, {"operator": stranger.id, "state": "available"}, "presence_form"
    )
    assert 'class="errorlist' in response.content.decode()
    assert PresenceChange.objects.count() == changes


def test_reassigning_an_unknown_reference_is_refused_and_writes_nothing(
    client, supervisor, staffed, waiting
):
    client.force_login(supervisor)
    response = post_failing(
        client, REASSIGN, {"case": "CS-1999-000001", "operator": staffed[0].id}, "reassign_form"
    )
    assert "No case has this reference." in text_of(response)
    assert not Assignment.objects.exists()


def test_supervisor_reassigns_a_case_to_an_eligible_operator(client, supervisor, staffed, waiting):
    case, target = waiting[0], staffed[0]
    client.force_login(supervisor)
    response = client.post(REASSIGN, {"case": case.reference.lower(), "operator": target.id})
    assert response.status_code == 302
    assert Case.objects.get(id=case.id).assignee == target
    decision = Assignment.objects.get(case=case)
    assert (decision.kind, decision.assigned_by) == ("manual", supervisor)


def test_reassigning_to_an_ineligible_operator_needs_an_override_reason(
    client, supervisor, user_factory, profile_factory, waiting
):
    case = waiting[0]
    outsider = user_factory("op.esterno")
    profile_factory(outsider)  # certified on nothing
    client.force_login(supervisor)
    response = post_failing(
        client, REASSIGN, {"case": case.reference, "operator": outsider.id}, "reassign_form"
    )
    assert f'value="{case.reference}"' in response.content.decode()  # what was typed stays
    assert "This operator is not certified for this case yet" in text_of(response)
    assert re.search(r'aria-invalid="true"[^>]*id="id_override_reason"', response.content.decode())
    assert Case.objects.get(id=case.id).assignee is None
    assert not Assignment.objects.exists()

    response = client.post(
        REASSIGN,
        {"case": case.reference, "operator": outsider.id, "override_reason": "Unico libero"},
    )
    assert response.status_code == 302
    decision = Assignment.objects.get(case=case)
    assert (decision.level, decision.override_reason) == ("override", "Unico libero")


# --- "Why me?" ------------------------------------------------------------------------------


def test_case_page_loads_why_me_with_htmx(client, operator, on_duty, waiting):
    case = services.take_next_case(operator=operator)
    client.force_login(operator)
    page = client.get(reverse("care:case-detail", args=[case.reference])).content.decode()
    assert f'hx-get="{decisions_url(case)}" hx-trigger="load"' in page
    assert "htmx.min.js" in page


def test_why_me_lists_the_decision_with_kind_level_reason_and_passed_over(
    client, operator, on_duty, waiting
):
    case = services.take_next_case(operator=operator)
    client.force_login(operator)
    response = client.get(decisions_url(case), **HTMX)
    page = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in page
    assert "HX-Request" in response.get("Vary", "")
    assert 'data-testid="decision" data-kind="pull" data-level="contract"' in page
    text = text_of(response)
    assert "Why me?" in text
    assert "Certified on the contract" in text
    assert (
        "Recorded reason: Taken from the queue “Generale” (certified on the contract) at once"
        in text
    )


def test_why_me_speaks_the_readers_language_from_the_recorded_facts(
    client, operator, profile_factory, client_pa, contract, fast_contract, routed_case, now
):
    """The record keeps the rule and facts (no sentence): an Italian reader reads Italian,
    with the queue's name, including the candidates passed over."""
    profile_factory(operator, contracts=(contract,), clients=(client_pa,))
    ahead = routed_case(opened_at=now - timedelta(minutes=4), on=fast_contract, priority="P1")
    routed_case(opened_at=now - timedelta(minutes=7), priority="P3")
    case = services.take_next_case(operator=operator, now=now)
    client.force_login(operator)
    client.cookies["django_language"] = "it"
    text = text_of(client.get(decisions_url(case), **HTMX))
    assert "Presa dalla coda «Generale» (certificato sul contratto) dopo 7 min di attesa" in text
    assert (
        f"{ahead.reference} : certificato solo sul cliente: overflow dopo 10 min"
        " (in attesa da 4 min)"
    ) in text
    assert "certified on the client only" not in text
    assert "take-next from queue" not in text


def test_why_me_shows_the_passed_over_candidates_folded(
    client, operator, profile_factory, client_pa, contract, fast_contract, routed_case, now
):
    """Certified on the contract and on the client: a more urgent case of the client's other
    contract, still inside the client's overflow threshold, is passed over and said why."""
    profile_factory(operator, contracts=(contract,), clients=(client_pa,))
    ahead = routed_case(opened_at=now, on=fast_contract, priority="P1")
    routed_case(opened_at=now, priority="P3")
    case = services.take_next_case(operator=operator, now=now)
    assert [p["who"] for p in Assignment.objects.get(case=case).passed_over] == [ahead.reference]
    client.force_login(operator)
    page = client.get(decisions_url(case), **HTMX).content.decode()
    assert '<details class="passed-over" data-testid="passed-over">' in page  # folded
    assert ahead.reference in page


def test_why_me_shows_who_assigned_the_case_and_the_override_reason(
    client, supervisor, operator, user_factory, profile_factory, waiting
):
    case = waiting[0]
    outsider = user_factory("op.esterno", first_name="Luca", last_name="Esterno")
    profile_factory(outsider)  # certified on nothing
    services.reassign_case(
        actor=supervisor, case=case, operator=outsider, override_reason="Unico libero"
    )
    client.force_login(operator)
    response = client.get(decisions_url(case), **HTMX)
    page = response.content.decode()
    assert 'data-kind="manual" data-level="override"' in page
    text = text_of(response)
    assert "Luca Esterno" in text
    assert f"Assigned by {supervisor.get_username()}" in text
    assert "Override: Unico libero" in text


def test_why_me_without_htmx_is_a_whole_page(client, operator, on_duty, waiting):
    case = services.take_next_case(operator=operator)
    client.force_login(operator)
    response = client.get(decisions_url(case))
    assert response.status_code == 200
    assert "<html" in response.content.decode()
    assert 'data-testid="why-me"' in response.content.decode()


def test_why_me_of_a_case_never_assigned_says_so(client, supervisor, waiting):
    client.force_login(supervisor)
    response = client.get(decisions_url(waiting[0]), **HTMX)
    assert 'data-testid="no-decisions"' in response.content.decode()


def test_why_me_is_for_those_who_may_see_the_case(client, manager, operator, waiting):
    client.force_login(manager)
    assert client.get(decisions_url(waiting[0]), **HTMX).status_code == 403
    client.force_login(operator)
    missing = reverse("routing:case-decisions", args=["CS-1999-000001"])
    assert client.get(missing, **HTMX).status_code == 404


def test_the_sla_at_risk_count_opens_those_cases(
    client, supervisor, default_queue, routed_case, now
):
    from care.models import SlaState

    at_risk = routed_case(opened_at=now - timedelta(hours=3))
    breached = routed_case(opened_at=now - timedelta(hours=2))
    on_time = routed_case(opened_at=now - timedelta(minutes=5))
    Case.objects.filter(id=at_risk.id).update(resolution_state=SlaState.AT_RISK)
    Case.objects.filter(id=breached.id).update(first_response_state=SlaState.BREACHED)
    client.force_login(supervisor)
    page = client.get(CONSOLE).content.decode()
    link = re.search(r'<a href="([^"]+)"[^>]*data-testid="queue-at-risk"[^>]*>\s*2\s*</a>', page)
    assert link, "the count of cases at risk links to them"
    cases = client.get(link.group(1).replace("&amp;", "&")).content.decode()
    assert at_risk.reference in cases
    assert breached.reference in cases
    assert on_time.reference not in cases
