"""The case timeline and "why me?" say stored facts in the reader's language, with people's and
queues' names (issue #19, points 1 and 14): the case page in Italian (default) and English,
the API in the language of its Accept-Language, one sentence per kind of event."""

import html
import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from care import services as care_services
from care import sla
from care.models import CaseEvent, SlaAlert
from routing import services
from routing.models import Queue
from tests.routing.test_pages import HTMX, decisions_url

pytestmark = pytest.mark.django_db

WAITED = timedelta(days=3, hours=8, minutes=13)  # 4813 min: "3 g 8 h"


def text_of(response) -> str:
    page = re.sub(r"<[^>]+>", " ", response.content.decode())
    return re.sub(r"\s+", " ", html.unescape(page))


def timeline_of(response) -> list[str]:
    """The timeline's events, newest first, as text."""
    items = re.findall(
        r'<li class="tl-event" data-testid="timeline-event".*?</li>',
        response.content.decode(),
        re.DOTALL,
    )
    texts = [re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", i))) for i in items]
    return [text.replace(" : ", ": ").strip() for text in texts]


def page(client, case, language: str):
    client.cookies["django_language"] = language
    return client.get(reverse("care:case-detail", args=[case.reference]))


@pytest.fixture
def people(user_factory, operator, profile_factory, contract, home_site, default_queue):
    """Mario Rossi (op.rossi) and Anna Bianchi (op.bianchi), certified on the contract; Laura
    Gialli (sup.gialli) supervises their site and the queue."""
    colleague = user_factory("op.bianchi", first_name="Anna", last_name="Bianchi")
    boss = user_factory("sup.gialli", "supervisore", first_name="Laura", last_name="Gialli")
    home_site.supervisors.add(boss)
    default_queue.supervisors.add(boss)
    profile_factory(operator, contracts=(contract,))
    profile_factory(colleague)  # certified on nothing: only an override gives her a case
    return operator, colleague, boss


@pytest.fixture
def worked_case(people, routed_case, default_queue, now):
    """A case that waited 3 d 8 h in the queue "Generale" («mobile-utenti»'s kind), taken by
    Mario Rossi, then given by Laura Gialli to Anna Bianchi with an override."""
    Queue.objects.filter(id=default_queue.id).update(name="Mobile utenti")
    operator, colleague, boss = people
    case = routed_case(opened_at=now - WAITED)
    case = services.take_next_case(operator=operator, now=now)
    services.reassign_case(
        actor=boss,
        case=case,
        operator=colleague,
        override_reason="Parla tedesco",
        now=now + timedelta(minutes=45),
    )
    return case


def test_the_case_page_says_each_assignment_in_italian_with_names(client, worked_case, people):
    client.force_login(people[2])
    text = " | ".join(timeline_of(page(client, worked_case, "it")))
    assert "Mario Rossi → Anna Bianchi" in text
    assert (
        "Assegnata: Mario Rossi (presa dalla coda «Mobile utenti» (certificato sul contratto)"
        " dopo 3 g 8 h di attesa)"
    ) in text
    assert (
        "(riassegnata da un supervisore dalla coda «Mobile utenti» (deroga del supervisore)"
        " dopo 3 g 8 h di attesa: Parla tedesco)"
    ) in text
    for english in ("take-next", "from queue", "waited", "op.rossi", "op.bianchi", "4813"):
        assert english not in text


def test_the_case_facts_name_the_queue_not_its_code(client, worked_case, people, default_queue):
    client.force_login(people[2])
    response = page(client, worked_case, "it")
    facts = text_of(response).split("Storia")[0]
    assert "coda Mobile utenti" in facts
    assert f"coda {default_queue.code}" not in facts


def test_the_case_page_says_each_assignment_in_english(client, worked_case, people):
    client.force_login(people[2])
    text = " | ".join(timeline_of(page(client, worked_case, "en")))
    assert (
        "Assigned: Mario Rossi (taken from the queue “Mobile utenti” (certified on the contract)"
        " after 3 d 8 h)"
    ) in text
    assert "Mario Rossi → Anna Bianchi (reassigned by a supervisor" in text
    assert "(supervisor override) after 3 d 8 h: Parla tedesco)" in text


def test_an_automatic_offer_is_said_in_both_languages(
    client, people, routed_case, default_queue, now, supervisor
):
    operator = people[0]
    case = routed_case(opened_at=now - timedelta(minutes=45))
    services.offer_case(case_id=case.id, now=now)
    client.force_login(supervisor)
    italian = " | ".join(timeline_of(page(client, case, "it")))
    assert "(assegnata automaticamente dalla coda «Generale» (certificato sul contratto)" in (
        italian
    )
    assert "dopo 45 min di attesa" in italian
    english = " | ".join(timeline_of(page(client, case, "en")))
    assert "(offered automatically from the queue “Generale” (certified on the contract)" in (
        english
    )
    assert operator.get_full_name() in english


def test_sla_moves_say_the_target_and_the_states(client, routed_case, now, supervisor):
    case = routed_case(opened_at=now - WAITED)
    sla.recompute_sla_states(now=now)
    assert SlaAlert.objects.filter(case=case, level="breached").exists()
    client.force_login(supervisor)
    italian = " | ".join(timeline_of(page(client, case, "it")))
    assert "SLA violato: Prima risposta: In tempo → Violato" in italian
    assert "ok → breached" not in italian
    english = " | ".join(timeline_of(page(client, case, "en")))
    assert "→ Breached" in english
    assert "ok → breached" not in english


def test_a_queue_change_names_the_queues(client, routed_case, supervisor):
    new_case = routed_case()
    Queue.objects.create(code="mobile-utenti", name="Mobile utenti")
    care_services.set_queue(actor=supervisor, case=new_case, queue_code="mobile-utenti")
    client.force_login(supervisor)
    text = " | ".join(timeline_of(page(client, new_case, "it")))
    assert "Generale → Mobile utenti" in text
    assert "mobile-utenti" not in text


def test_a_contact_on_a_resolved_case_says_why_it_reopened_in_the_readers_language(
    client, routed_case, operator
):
    new_case = routed_case()
    care_services.transition_case(
        actor=operator, case=new_case, to="resolved", resolution_code="risolto-informazioni"
    )
    care_services.add_contact(
        actor=operator,
        case=new_case,
        end_user_id=new_case.end_user_id,
        subject="Richiama per la SIM",
        description="Ancora senza linea.",
    )
    event = CaseEvent.objects.filter(case=new_case, kind="reopened").get()
    assert event.detail == {"reason_code": "new_contact", "subject": "Richiama per la SIM"}
    client.force_login(operator)
    assert "(Nuovo contatto: Richiama per la SIM)" in text_of(page(client, new_case, "it"))
    assert "(New contact: Richiama per la SIM)" in text_of(page(client, new_case, "en"))


def test_why_me_names_the_queue_and_says_the_wait_as_people_say_it(client, worked_case, people):
    client.force_login(people[2])
    client.cookies["django_language"] = "it"
    text = text_of(client.get(decisions_url(worked_case), **HTMX))
    assert "coda Mobile utenti" in text
    assert "Presa dalla coda «Mobile utenti» (certificato sul contratto) dopo 3 g 8 h" in text
    assert "Mario Rossi" in text  # passed over by the reassignment: his name
    assert "op.rossi" not in text
    assert "4813" not in text


@pytest.mark.parametrize(
    ("language", "taken", "override"),
    [
        (
            "it",
            "Assegnata: Mario Rossi (presa dalla coda «Mobile utenti» (certificato sul contratto)"
            " dopo 3 g 8 h di attesa)",
            "riassegnata da un supervisore dalla coda «Mobile utenti» (deroga del supervisore)",
        ),
        (
            "en",
            "Assigned: Mario Rossi (taken from the queue “Mobile utenti” (certified on the"
            " contract) after 3 d 8 h)",
            "reassigned by a supervisor from the queue “Mobile utenti” (supervisor override)",
        ),
    ],
)
def test_the_api_keeps_the_facts_and_says_them_in_the_callers_language(
    supervisor_api, worked_case, people, language, taken, override
):
    operator, _colleague, _boss = people
    response = supervisor_api.get(
        f"/api/v1/cases/{worked_case.reference}/", HTTP_ACCEPT_LANGUAGE=language
    )
    assert response.status_code == 200
    assigned = [e for e in response.json()["events"] if e["kind"] == "assigned"]
    assert [e["detail"]["how"] for e in assigned] == ["take_next", "override"]
    assert assigned[0]["detail"] == {
        "assignee": operator.id,
        "how": "take_next",
        "level": "contract",
        "queue": worked_case.queue_code,
        "waited": 4813,
    }
    assert (assigned[1]["from_value"], assigned[1]["to_value"]) == ("op.rossi", "op.bianchi")
    assert assigned[0]["text"] == taken
    assert override in assigned[1]["text"]
    assert all(event["text"] for event in response.json()["events"])


def test_the_case_page_names_people_and_queues_in_a_fixed_number_of_queries(
    client, worked_case, people, user_factory, contract, profile_factory, now
):
    """More assignments (more people, more events) cost no more queries: the names are
    loaded once for the whole timeline."""
    boss = people[2]
    client.force_login(boss)
    page(client, worked_case, "it")  # warm the session, caches
    with CaptureQueriesContext(connection) as before:
        page(client, worked_case, "it")
    for n in range(4):
        other = user_factory(f"op.altro{n}", first_name="Altro", last_name=f"Operatore {n}")
        profile_factory(other, contracts=(contract,))
        services.reassign_case(
            actor=boss, case=worked_case, operator=other, now=now + timedelta(hours=n + 1)
        )
    with CaptureQueriesContext(connection) as after:
        response = page(client, worked_case, "it")
    assert "Altro Operatore 3" in text_of(response)
    assert len(after) <= len(before)
