"""`articles/` API (DESIGN.md §7, issue #24): search within scope, drafts, new versions,
publication by a second person, bad input as 4xx JSON."""

import pytest
from django.urls import reverse

from care import articles
from care.models import Article, ArticleStatus, ArticleVersion
from routing.models import Certification, OperatorProfile

pytestmark = pytest.mark.django_db

LIST = reverse("api:article-list")


def detail(article_id: int) -> str:
    return reverse("api:article-detail", args=[article_id])


def publish(article_id: int) -> str:
    return reverse("api:article-publish", args=[article_id])


def draft(api, **changes) -> dict:
    body = {
        "title": "Roaming non funzionante all'estero",
        "body": "Verificare che il **roaming** sia abilitato sulla linea.",
        "scope": "all",
        "tags": ["roaming"],
    }
    body.update(changes)
    response = api.post(LIST, body, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def test_post_creates_a_draft_that_a_second_person_publishes(operator_api, supervisor_api):
    created = draft(operator_api, submit=True)
    assert created["status"] == ArticleStatus.IN_REVIEW
    assert created["versions"][0]["number"] == 1
    assert operator_api.post(publish(created["id"]), {}, format="json").status_code == 403
    response = supervisor_api.post(publish(created["id"]), {"version": 1}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["status"] == ArticleStatus.PUBLISHED
    assert response.json()["version"] == 1


def test_the_author_publishing_gets_a_clear_refusal(supervisor_api):
    created = draft(supervisor_api)
    response = supervisor_api.post(publish(created["id"]), {}, format="json")
    assert response.status_code == 403
    assert response.json()["code"] == "own_article_review"
    assert Article.objects.get().status == ArticleStatus.DRAFT


def test_a_second_reviewer_gets_409(operator_api, supervisor_api, manager_api):
    created = draft(operator_api, submit=True)
    first = supervisor_api.post(publish(created["id"]), {"version": 1}, format="json")
    assert first.status_code == 200
    response = manager_api.post(publish(created["id"]), {"version": 1}, format="json")
    assert response.status_code == 409
    assert response.json()["code"] == "article_already_reviewed"
    assert ArticleVersion.objects.get().status == ArticleStatus.PUBLISHED


def test_patch_writes_a_new_version_and_the_article_in_force_stays(
    operator_api, supervisor_api, manager_api
):
    created = draft(operator_api, submit=True)
    supervisor_api.post(publish(created["id"]), {}, format="json")
    response = manager_api.patch(
        detail(created["id"]), {"title": "Roaming: nuova procedura", "submit": True}, format="json"
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["title"] == "Roaming non funzionante all'estero"
    assert [v["number"] for v in body["versions"]] == [2, 1]
    assert body["versions"][0]["status"] == ArticleStatus.IN_REVIEW
    supervisor_api.post(publish(created["id"]), {"version": 2}, format="json")
    assert operator_api.get(detail(created["id"])).json()["title"] == "Roaming: nuova procedura"


def test_search_ranks_within_the_callers_scope(
    operator, operator_api, supervisor_api, manager, contract, other_client_contract
):
    profile = OperatorProfile.objects.create(user=operator, skills=["mobile"])
    Certification.objects.create(profile=profile, contract=contract)
    mine = draft(supervisor_api, scope="contract", contract=contract.code, submit=True)
    theirs = draft(
        supervisor_api, scope="contract", contract=other_client_contract.code, submit=True
    )
    for created in (mine, theirs):
        articles.publish_article(actor=manager, article=Article.objects.get(id=created["id"]))
    response = operator_api.get(LIST, {"q": "roaming estero"})
    assert response.status_code == 200
    assert [r["article"]["id"] for r in response.json()["results"]] == [mine["id"]]
    assert "<mark>" in response.json()["results"][0]["snippet"]
    response = operator_api.get(LIST, {"q": "roaming", "contract": other_client_contract.code})
    assert response.json()["results"] == []


def test_bad_input_answers_4xx_json(operator_api, contract, other_client_contract, operator):
    profile = OperatorProfile.objects.create(user=operator)
    Certification.objects.create(profile=profile, contract=contract)
    response = operator_api.post(
        LIST,
        {"title": "x", "body": "y", "scope": "contract", "contract": other_client_contract.code},
        format="json",
    )
    assert response.status_code == 400
    assert "contract" in response.json()["fields"]
    assert operator_api.get(LIST, {"q": "a" * 10000}).status_code == 400
    assert operator_api.get(LIST, {"q": "%%%***"}).json()["results"] == []
    assert operator_api.get(LIST, {"contract": "NOPE"}).status_code == 400
    assert operator_api.post(LIST, ["not", "a", "dict"], format="json").status_code == 400
    assert operator_api.patch(detail(999999), {}, format="json").status_code == 404
    assert Article.objects.count() == 0
    created = draft(operator_api)
    assert operator_api.patch(detail(created["id"]), [1], format="json").status_code == 400
    assert ArticleVersion.objects.count() == 1


def test_script_tags_are_sanitised(operator_api):
    created = draft(operator_api, body="<script>alert(1)</script><b onclick='x()'>ok</b>")
    html = operator_api.get(detail(created["id"])).json()["body_html"]
    assert "<script" not in html
    assert "onclick" not in html


def test_list_query_count_does_not_grow(
    operator_api, supervisor_api, django_assert_max_num_queries
):
    for n in range(5):
        draft(operator_api, title=f"Articolo {n}", submit=True)
    with django_assert_max_num_queries(8):
        response = supervisor_api.get(LIST)
    assert response.json()["count"] == 5
