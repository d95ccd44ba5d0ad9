"""Knowledge-base pages (#24): list and search, the article with its versions, writing and
proposing from a resolved case, the review queue, the suggestion panel."""

import pytest
from django.urls import reverse

from care import articles, services
from care.models import Article, ArticleScope, ArticleStatus, CaseArticleUse, CaseStatus
from routing.models import Certification, OperatorProfile
from tests.factories import CLOSING_CODE

pytestmark = pytest.mark.django_db


def publish(author, reviewer, **values):
    values = {"title": "Sbloccare la SIM", "body": "Usare il **PUK**.", "scope": "all", **values}
    version = articles.create_article(
        actor=author, data=articles.ArticleData(**values), submit=True
    )
    articles.publish_article(actor=reviewer, article=version.article)
    return Article.objects.get(id=version.article_id)


def test_the_list_searches_by_post_and_highlights(client, operator, supervisor):
    publish(operator, supervisor)
    publish(operator, supervisor, title="Fatture", body="Chiedere all'amministrazione.")
    client.force_login(operator)
    page = client.get(reverse("care:article-list"))
    assert page.status_code == 200
    assert page.content.decode().count('data-testid="article-row"') == 2
    found = client.post(reverse("care:article-list"), {"q": "puk"}).content.decode()
    assert found.count('data-testid="article-result"') == 1
    assert "<mark>PUK</mark>" in found
    long = client.post(reverse("care:article-list"), {"q": "x" * 10000})
    assert long.status_code == 200  # a form error, not a 500


def test_the_list_query_count_does_not_grow(
    client, operator, supervisor, django_assert_max_num_queries
):
    for n in range(6):
        publish(operator, supervisor, title=f"Articolo {n}")
    client.force_login(supervisor)
    with django_assert_max_num_queries(11):
        assert client.get(reverse("care:article-list")).status_code == 200


def test_the_article_page_shows_versions_and_the_four_eyes_rule(
    client, operator, supervisor, manager
):
    article = publish(operator, supervisor)
    articles.revise_article(
        actor=supervisor,
        article=article,
        data=articles.ArticleData(title="SIM: PUK", body="<script>x()</script>Nuovo", scope="all"),
        submit=True,
    )
    client.force_login(supervisor)
    page = client.get(reverse("care:article-detail", args=[article.id])).content.decode()
    assert 'data-testid="article-version-2"' in page
    assert 'data-testid="article-four-eyes"' in page
    assert "<script>x()" not in page
    response = client.post(reverse("care:article-publish", args=[article.id]), {"version": "2"})
    assert response.status_code == 302
    article.refresh_from_db()
    assert article.published_version.number == 1  # refused: the author


def test_an_operator_proposes_an_article_from_a_resolved_case(
    client, operator, supervisor, new_case, contract, now
):
    profile = OperatorProfile.objects.create(user=operator)
    Certification.objects.create(profile=profile, contract=contract)
    services.transition_case(
        actor=operator, case=new_case, to=CaseStatus.RESOLVED, resolution_code=CLOSING_CODE
    )
    client.force_login(operator)
    url = reverse("care:article-create") + f"?case={new_case.reference}"
    form = client.get(url).content.decode()
    assert CLOSING_CODE in form
    assert contract.code in form
    response = client.post(
        url,
        {
            "title": "SIM rubata",
            "body": "Bloccare e sostituire.",
            "scope": ArticleScope.CONTRACT,
            "contract": contract.code,
            "tags": "sim-lost",
            "case": new_case.reference,
        },
    )
    assert response.status_code == 302
    version = Article.objects.get().versions.get()
    assert (version.source_case, version.status) == (new_case, ArticleStatus.IN_REVIEW)
    client.force_login(supervisor)
    queue = client.get(reverse("care:article-review")).content.decode()
    assert queue.count('data-testid="review-item"') == 1


def test_the_panel_suggests_on_the_case_and_records_a_use(
    client, operator, supervisor, new_case, contract, django_assert_max_num_queries
):
    article = publish(operator, supervisor, tags=["sim-lost"])
    client.force_login(operator)
    page = client.get(reverse("care:case-detail", args=[new_case.reference])).content.decode()
    assert 'data-testid="article-suggestions"' in page
    for n in range(6):
        publish(operator, supervisor, title=f"Altro {n}", tags=["sim-lost"])
    with django_assert_max_num_queries(9):
        panel = client.post(
            reverse("care:article-suggest"),
            {"contract": contract.code, "case": new_case.reference, "body": ""},
        ).content.decode()
    # The five best of the articles tagged with the case's category (no text typed yet).
    assert panel.count('data-testid="article-suggestion"') == 5
    response = client.post(
        reverse("care:article-use"),
        {
            "article": article.id,
            "kind": "opened",
            "contract": contract.code,
            "case": new_case.reference,
        },
    )
    assert response.status_code == 204
    assert CaseArticleUse.objects.get().case == new_case
    refused = client.post(
        reverse("care:article-use"), {"article": article.id, "kind": "x", "contract": "NO"}
    )
    assert refused.status_code == 400
    nothing = client.post(reverse("care:article-suggest"), {"contract": "NOPE", "subject": "&&&"})
    assert nothing.status_code == 200
