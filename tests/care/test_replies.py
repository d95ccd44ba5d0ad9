"""Saved replies (issue 24, points 4 and 6): the variables rendered safely, who may write
which reply, the pages, the API and the case page's search box."""

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from care import privacy, replies, reply_selectors, reply_text
from care.exceptions import InvalidSavedReply, SavedReplyNotAllowed
from care.models import SavedReply
from routing.models import DEFAULT_QUEUE
from tests.factories import EndUserFactory
from tests.routing.conftest import make_profile

pytestmark = pytest.mark.django_db

GREETING = "Gentile {{ nome_chiamante }}, la pratica {{ riferimento }} è in carico a {{operatore}}."


def reply(actor, **values):
    return replies.create_reply(actor=actor, data=replies.ReplyData(**values))


# --- The variables (pure) ---------------------------------------------------------------------


def test_variables_are_filled_in_one_pass_with_italian_and_english_names():
    values = {"caller_name": "{{ operatore }}", "reference": "CS-1", "operator": "Anna"}
    text = reply_text.render("{{ nome_chiamante }} / {{reference}} / {{ operator }}", values)
    assert text == "{{ operatore }} / CS-1 / Anna"  # a value is never read as a variable


@pytest.mark.parametrize(
    ("body", "problems"),
    [
        (GREETING, []),
        ("{{ due }} {{ scadenza }} {{ caller_name }}", []),
        ("Gentile {{ nome }} {{ user.password }}", ["nome", "user.password"]),
        ("{{ riferimento }", ["{{"]),
        ("{% debug %} {{ nome_chiamante|upper }}", ["nome_chiamante|upper"]),
    ],
)
def test_unknown_variables_and_stray_braces_are_problems(body, problems):
    assert reply_text.problems(body) == problems


# --- Who writes what ------------------------------------------------------------------------


def test_a_reply_with_an_unknown_variable_is_refused_and_nothing_is_written(operator):
    with pytest.raises(InvalidSavedReply) as error:
        reply(operator, title="Saluto", body="Gentile {{ nome }}, {{ cliente }}")
    assert "nome, cliente" in error.value.fields["body"][0]
    assert not SavedReply.objects.exists()


def test_an_operator_writes_only_personal_replies(operator, contract):
    mine = reply(operator, title="Saluto", body=GREETING)
    assert (mine.scope, mine.owner) == ("personal", operator)
    with pytest.raises(SavedReplyNotAllowed):
        reply(operator, scope="team", queue=DEFAULT_QUEUE, title="T", body="x")
    with pytest.raises(InvalidSavedReply) as error:
        reply(operator, scope="contract", contract=contract.code, title="C", body="x")
    assert set(error.value.fields) == {"contract"}
    assert SavedReply.objects.count() == 1


def test_a_supervisor_writes_for_their_queue_and_the_contracts_they_work(
    queue_supervisor, contract, other_client_contract, now
):
    make_profile(queue_supervisor, contracts=(contract,), now=now)
    team = reply(queue_supervisor, scope="team", queue=DEFAULT_QUEUE, title="Coda", body="x")
    ours = reply(queue_supervisor, scope="contract", contract=contract.code, title="C", body="x")
    assert (team.queue_code, ours.contract) == (DEFAULT_QUEUE, contract)
    with pytest.raises(SavedReplyNotAllowed):
        reply(queue_supervisor, scope="team", queue="altra-coda", title="T", body="x")
    with pytest.raises(InvalidSavedReply) as error:  # a contract they do not work
        reply(
            queue_supervisor,
            scope="contract",
            contract=other_client_contract.code,
            title="C",
            body="x",
        )
    assert "contract" in error.value.fields
    assert SavedReply.objects.count() == 2


def test_only_the_owner_changes_a_personal_reply_and_a_refused_change_writes_nothing(
    operator, user_factory
):
    mine = reply(operator, title="Saluto", body=GREETING)
    other = user_factory("op.verdi", "operatore")
    with pytest.raises(SavedReplyNotAllowed):
        replies.update_reply(actor=other, reply=mine, data=replies.ReplyData(title="x"))
    with pytest.raises(InvalidSavedReply):
        replies.update_reply(
            actor=operator,
            reply=mine,
            data=replies.ReplyData(body="{{ sconosciuta }}", given=("body",)),
        )
    mine.refresh_from_db()
    assert (mine.title, mine.body) == ("Saluto", GREETING)
    replies.update_reply(
        actor=operator, reply=mine, data=replies.ReplyData(title="Ciao", given=("title",))
    )
    mine.refresh_from_db()
    assert (mine.title, mine.body) == ("Ciao", GREETING)


# --- On a case ---------------------------------------------------------------------------------


@pytest.fixture
def case_with_replies(new_case, operator, queue_supervisor, manager, user_factory, contract):
    reply(operator, title="Mio saluto", body=GREETING)
    reply(user_factory("op.verdi", "operatore"), title="Di un altro", body="x")
    reply(queue_supervisor, scope="team", queue=DEFAULT_QUEUE, title="Della coda", body="y")
    reply(
        manager,
        scope="contract",
        contract=contract.code,
        title="Del contratto",
        body="Buongiorno {{ nome_chiamante }}",
    )
    return new_case


def test_a_case_offers_my_replies_its_queues_and_its_contracts(case_with_replies, operator):
    assert case_with_replies.queue_code == DEFAULT_QUEUE
    titles = [r.reply.title for r in reply_selectors.rendered_for_case(operator, case_with_replies)]
    assert titles == ["Del contratto", "Della coda", "Mio saluto"]


def test_the_api_renders_the_replies_for_the_case_masking_the_caller_as_the_case_page(
    case_with_replies, operator, operator_api, user_factory, django_assert_max_num_queries
):
    case = case_with_replies
    with django_assert_max_num_queries(20):
        response = operator_api.get("/api/v1/replies/", {"case": case.reference})
    assert response.status_code == 200, response.json()
    by_title = {r["title"]: r for r in response.json()}
    assert set(by_title) == {"Del contratto", "Della coda", "Mio saluto"}
    caller = case.end_user
    # The operator opened the case: they see the caller in full, as on the case page.
    assert by_title["Mio saluto"]["text"] == (
        f"Gentile {caller.first_name} {caller.last_name}, la pratica {case.reference} "
        "è in carico a Mario Rossi."
    )
    assert by_title["Mio saluto"]["can_edit"] is True
    assert by_title["Del contratto"]["can_edit"] is False

    colleague = APIClient()
    colleague.force_authenticate(user_factory("op.bianchi", "operatore"))
    shown = privacy.shown_caller(case, colleague.handler._force_user, with_contacts=False)
    texts = [r["text"] for r in colleague.get("/api/v1/replies/", {"case": case.reference}).json()]
    assert shown.masked
    assert f"Buongiorno {shown.first_name} {shown.last_name}" in texts
    assert all(caller.last_name not in text for text in texts)


def test_the_api_creates_changes_and_deletes_with_the_pages_rules(operator_api, contract):
    created = operator_api.post(
        "/api/v1/replies/", {"scope": "personal", "title": "A", "body": GREETING}, format="json"
    )
    assert created.status_code == 201, created.json()
    url = f"/api/v1/replies/{created.json()['id']}/"
    bad = operator_api.patch(url, {"body": "{{ nome }}"}, format="json")
    assert bad.status_code == 400
    assert bad.json()["code"] == "invalid_saved_reply"
    assert "body" in bad.json()["fields"]
    scoped = operator_api.post(
        "/api/v1/replies/",
        {"scope": "contract", "contract": contract.code, "title": "C", "body": "x"},
        format="json",
    )
    assert scoped.status_code == 400
    assert set(scoped.json()["fields"]) == {"contract"}
    assert operator_api.patch(url, {"title": "B"}, format="json").json()["title"] == "B"
    assert operator_api.delete(url).status_code == 204
    assert not SavedReply.objects.exists()


def test_the_list_page_creates_a_reply_and_shows_the_errors_of_a_bad_one(client, operator):
    client.force_login(operator)
    url = reverse("care:reply-list")
    refused = client.post(url, {"scope": "personal", "title": "X", "body": "{{ cliente }}"})
    assert refused.status_code == 400
    assert "cliente" in refused.content.decode()
    assert not SavedReply.objects.exists()
    client.post(url, {"scope": "personal", "title": "<b>Saluto</b>", "body": GREETING})
    page = client.get(url).content.decode()
    assert "&lt;b&gt;Saluto&lt;/b&gt;" in page
    mine = SavedReply.objects.get()
    edited = client.post(
        reverse("care:reply-edit", args=[mine.id]),
        {"scope": "personal", "title": "Saluto", "body": "Ciao {{ nome_chiamante }}"},
    )
    assert edited.status_code == 302
    client.post(reverse("care:reply-delete", args=[mine.id]))
    assert not SavedReply.objects.exists()


def test_the_case_page_has_the_search_box_of_saved_replies(client, new_case, operator):
    client.force_login(operator)
    page = client.get(reverse("care:case-detail", args=[new_case.reference])).content.decode()
    assert 'data-testid="saved-replies"' in page
    assert f"/api/v1/replies/?case={new_case.reference}" in page
    assert "saved-replies.js" in page


def test_a_caller_name_is_shown_in_full_only_to_who_sees_it(new_case, operator, admin_user):
    caller = new_case.end_user
    full = reply_selectors.values_for(new_case, admin_user)["caller_name"]
    assert full == f"{caller.first_name} {caller.last_name}"
    other = EndUserFactory(client=new_case.client)
    assert other.last_name not in full
