"""Writes are need-to-know (care.working): only those who work a case change it, or someone
who says why (the reason is on the case's timeline). One rule, in the services, for the case
page and the API alike."""

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from care import services, working
from care.exceptions import NotWorkingThisCase, TransitionNotAllowed
from care.models import Case, CaseEvent, CaseStatus, Note
from config import roles
from routing.models import DEFAULT_QUEUE, Certification, OperatorProfile, Queue
from tests.conftest import _api_client_for, look_up

pytestmark = pytest.mark.django_db


def fresh(user):
    """The user as a new request loads it (the grants are kept per request)."""
    return get_user_model().objects.get(pk=user.pk)


def certified(user, *, contract=None, client=None):
    profile = OperatorProfile.objects.create(user=user, capacity=5)
    Certification.objects.create(profile=profile, contract=contract, client=client)
    return fresh(user)


@pytest.fixture
def colleague(user_factory):
    """An operator with no relation to the case: handles cases, works none of these."""
    return user_factory("op.estraneo", roles.OPERATOR)


def overrides(case) -> list[tuple]:
    return list(
        CaseEvent.objects.filter(case=case, kind=CaseEvent.Kind.WORK_OVERRIDE).values_list(
            "actor__username", "detail__reason", "detail__action"
        )
    )


# --- Who works a case --------------------------------------------------------------------------


def test_the_opener_and_the_assignee_work_the_case(new_case, operator, user_factory, now):
    assignee = user_factory("op.assegnatario", roles.OPERATOR)
    assert working.may_work(operator, new_case)
    assert not working.may_work(assignee, new_case)
    services.assign_case(actor=None, case=new_case, assignee=assignee, now=now)
    case = Case.objects.get(id=new_case.id)
    services.add_note(actor=fresh(assignee), case=case, body="Richiamato il cliente", now=now)
    services.add_note(actor=operator, case=case, body="Aggiunta del primo operatore", now=now)
    assert Note.objects.filter(case=case).count() == 2
    assert overrides(case) == []


def test_the_supervisors_of_its_queue_work_the_case(new_case, supervisor, now):
    assert new_case.queue_code == DEFAULT_QUEUE
    assert not working.may_work(fresh(supervisor), new_case)
    Queue.objects.get(code=DEFAULT_QUEUE).supervisors.add(supervisor)
    services.change_priority(actor=fresh(supervisor), case=new_case, priority="P1", now=now)
    assert Case.objects.get(id=new_case.id).priority == "P1"
    assert overrides(new_case) == []


@pytest.mark.parametrize("on", ["contract", "client"])
def test_certified_operators_work_the_case_while_it_waits_unassigned(
    new_case, colleague, user_factory, on, now
):
    relation = {"contract": new_case.contract} if on == "contract" else {"client": new_case.client}
    colleague = certified(colleague, **relation)
    assert working.may_work(colleague, new_case)
    services.add_note(actor=colleague, case=new_case, body="Verificato il contratto", now=now)
    holder = user_factory("op.titolare", roles.OPERATOR)
    services.assign_case(actor=None, case=new_case, assignee=holder, now=now)
    held = Case.objects.get(id=new_case.id)
    assert not working.may_work(fresh(colleague), held)  # once someone holds it, theirs
    with pytest.raises(NotWorkingThisCase):
        services.add_note(actor=fresh(colleague), case=held, body="Ancora io", now=now)


def test_an_administrator_works_every_case(new_case, admin_user, now):
    services.transition_case(actor=admin_user, case=new_case, to=CaseStatus.IN_PROGRESS, now=now)
    assert Case.objects.get(id=new_case.id).status == CaseStatus.IN_PROGRESS
    assert overrides(new_case) == []


def test_certifications_on_another_contract_give_nothing(
    new_case, colleague, other_client_contract
):
    colleague = certified(colleague, contract=other_client_contract)
    assert not working.may_work(colleague, new_case)


# --- Anyone else: refused, or a reason on the timeline ---------------------------------------


@pytest.mark.parametrize(
    "write",
    [
        lambda c, u, **k: services.add_note(actor=u, case=c, body="Nota", **k),
        lambda c, u, **k: services.add_note(
            actor=u, case=c, body="Risposta", visibility=Note.Visibility.CUSTOMER, **k
        ),
        lambda c, u, **k: services.change_priority(actor=u, case=c, priority="P1", **k),
        lambda c, u, **k: services.transition_case(actor=u, case=c, to=CaseStatus.IN_PROGRESS, **k),
        lambda c, u, **k: services.send_handoff(
            actor=u, case=c, unit_code="assurance", request="Verifica", **k
        ),
        lambda c, u, **k: services.link_case(
            actor=u, case=c, other=Case.objects.exclude(id=c.id).get(), **k
        ),
        lambda c, u, **k: services.merge_case(
            actor=u, case=c, into=Case.objects.exclude(id=c.id).get(), **k
        ),
    ],
    ids=["note", "customer-note", "priority", "transition", "handoff", "link", "merge"],
)
def test_an_uninvolved_handler_is_refused_and_nothing_is_written(
    write, contract_with_handoff_units, open_case_for, end_user, colleague, care_tables, now
):
    case = open_case_for(end_user)
    open_case_for(end_user, category_code="roaming", description="Nessun dato a Parigi")
    before = care_tables()
    with pytest.raises(NotWorkingThisCase) as refused:
        write(case, colleague, now=now)
    assert refused.value.status == 403
    assert set(refused.value.fields) == {"override_reason"}
    assert care_tables() == before
    write(Case.objects.get(id=case.id), colleague, now=now, override_reason="  Collega malato ")
    assert [(who, why) for who, why, _action in overrides(case)] == [
        ("op.estraneo", "Collega malato")
    ]


def test_the_override_event_says_who_why_and_what(new_case, colleague, now):
    services.add_note(
        actor=colleague, case=new_case, body="Nota", override_reason="Turno di notte", now=now
    )
    [event] = CaseEvent.objects.filter(case=new_case, kind=CaseEvent.Kind.WORK_OVERRIDE)
    assert (event.actor, event.at, event.detail) == (
        colleague,
        now,
        {"reason": "Turno di notte", "action": "note"},
    )


def test_a_stale_or_invalid_write_with_a_reason_leaves_no_override_behind(
    new_case, colleague, care_tables, now
):
    """The reason is written in the same transaction as the change: a refused change takes
    it away too."""
    before = care_tables()
    with pytest.raises(TransitionNotAllowed):
        services.transition_case(
            actor=colleague, case=new_case, to=CaseStatus.CLOSED, override_reason="Urgente", now=now
        )
    assert care_tables() == before


def test_the_caller_on_the_line_adds_a_new_contact_to_their_case(
    new_case, end_user, colleague, now
):
    """Intake's "add to this case": the operator who found the caller by their own lookup
    answers them, so they work the case (as the operator who answers a call does)."""
    api = _api_client_for(colleague)
    response = api.post(
        f"/api/v1/cases/{new_case.reference}/contacts/",
        {"end_user": end_user.id, "subject": "Richiama", "description": "Ancora senza SIM"},
        format="json",
    )
    assert response.status_code == 403, response.json()
    assert response.json()["code"] == "not_working_this_case"
    look_up(api, end_user)
    response = api.post(
        f"/api/v1/cases/{new_case.reference}/contacts/",
        {"end_user": end_user.id, "subject": "Richiama", "description": "Ancora senza SIM"},
        format="json",
    )
    assert response.status_code == 200, response.json()
    assert overrides(new_case) == []


# --- The API ------------------------------------------------------------------------------------


def test_the_api_refuses_an_uninvolved_handler_with_403_json(new_case, colleague, care_tables):
    api = _api_client_for(colleague)
    before = care_tables()
    response = api.post(
        f"/api/v1/cases/{new_case.reference}/notes/",
        {"body": "Risposta al cliente", "visibility": "customer"},
        format="json",
    )
    assert response.status_code == 403
    body = response.json()
    assert body["code"] == "not_working_this_case"
    assert body["message"]
    assert "override_reason" in body["fields"]
    response = api.patch(f"/api/v1/cases/{new_case.reference}/", {"priority": "P1"}, format="json")
    assert (response.status_code, response.json()["code"]) == (403, "not_working_this_case")
    assert care_tables() == before


def test_the_api_takes_an_override_reason_and_records_it(new_case, colleague):
    api = _api_client_for(colleague)
    response = api.post(
        f"/api/v1/cases/{new_case.reference}/transition/",
        {"to": "in_progress", "override_reason": "Sostituisco il collega in ferie"},
        format="json",
    )
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "in_progress"
    assert overrides(new_case) == [("op.estraneo", "Sostituisco il collega in ferie", "transition")]


def test_the_api_lets_the_opener_write_without_a_reason(new_case, operator_api):
    response = operator_api.post(
        f"/api/v1/cases/{new_case.reference}/notes/", {"body": "Nota"}, format="json"
    )
    assert response.status_code == 201, response.json()
    assert overrides(new_case) == []


# --- The case page ------------------------------------------------------------------------------


def test_the_page_asks_an_uninvolved_handler_for_a_reason(client, new_case, colleague):
    client.force_login(colleague)
    page = client.get(reverse("care:case-detail", args=[new_case.reference])).content.decode()
    assert 'data-testid="not-working-notice"' in page
    assert 'name="override_reason"' in page


def test_the_page_shows_no_reason_field_to_who_works_the_case(client, new_case, operator):
    client.force_login(operator)
    page = client.get(reverse("care:case-detail", args=[new_case.reference])).content.decode()
    assert 'data-testid="not-working-notice"' not in page
    assert 'name="override_reason"' not in page


def test_the_page_refuses_a_write_without_a_reason_and_records_one_given(
    client, new_case, colleague, care_tables
):
    client.force_login(colleague)
    url = reverse("care:case-add-note", args=[new_case.reference])
    before = care_tables()
    response = client.post(url, {"row_version": 1, "body": "Nota", "visibility": "internal"})
    assert response.status_code == 200
    assert set(response.context["failed"].errors) == {"override_reason"}
    assert care_tables() == before
    response = client.post(
        url,
        {
            "row_version": 1,
            "body": "Nota",
            "visibility": "internal",
            "override_reason": "Il titolare è assente",
        },
    )
    assert response.status_code == 302
    assert overrides(new_case) == [("op.estraneo", "Il titolare è assente", "note")]
    page = client.get(reverse("care:case-detail", args=[new_case.reference])).content.decode()
    assert "Il titolare è assente" in page
