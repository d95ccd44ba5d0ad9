"""Knowledge base (issue #24): versions and four-eyes review, scope rules, search, uses."""

import pytest

from care import article_selectors, articles, services
from care.exceptions import (
    ArticleAlreadyReviewed,
    ArticleNotFound,
    ArticleReviewRefused,
    InvalidArticleData,
    NothingToReview,
    OwnArticleReview,
)
from care.models import ArticleScope, ArticleStatus, ArticleVersion, CaseArticleUse, CaseStatus
from config.textsearch import QueryTooLong
from routing.models import Certification, OperatorProfile
from tests.factories import CLOSING_CODE

pytestmark = pytest.mark.django_db


def certify(user, *, contract=None, client=None, skills=()):
    profile, _created = OperatorProfile.objects.get_or_create(
        user=user, defaults={"skills": list(skills)}
    )
    if contract or client:
        Certification.objects.create(profile=profile, contract=contract, client=client)
    return user


def data(**changes) -> articles.ArticleData:
    values = {
        "title": "Sbloccare la SIM",
        "body": "Chiedere il **PUK** al referente e verificare la linea sospesa.",
        "scope": ArticleScope.ALL,
        "tags": ["sim-lost"],
    }
    values.update(changes)
    return articles.ArticleData(**values)


@pytest.fixture
def published(operator, supervisor, now):
    version = articles.create_article(actor=operator, data=data(), submit=True, now=now)
    articles.publish_article(actor=supervisor, article=version.article, now=now)
    version.article.refresh_from_db()
    return version.article


def test_article_text_is_rendered_and_sanitised_like_the_contract_card(operator, now):
    version = articles.create_article(
        actor=operator,
        data=data(body="<script>alert(1)</script>**ok** [x](javascript:alert(2))"),
        now=now,
    )
    assert "<script" not in version.body_html
    assert "javascript:" not in version.body_html
    assert "<strong>ok</strong>" in version.body_html
    assert version.status == ArticleStatus.DRAFT
    assert version.article.status == ArticleStatus.DRAFT


def test_the_author_cannot_publish_their_own_version(supervisor, now):
    version = articles.create_article(actor=supervisor, data=data(), submit=True, now=now)
    with pytest.raises(OwnArticleReview):
        articles.publish_article(actor=supervisor, article=version.article, now=now)
    version.refresh_from_db()
    assert version.status == ArticleStatus.IN_REVIEW


def test_an_operator_cannot_publish(operator, user_factory, now):
    other = user_factory("op2", "operatore")
    version = articles.create_article(actor=other, data=data(), submit=True, now=now)
    with pytest.raises(ArticleReviewRefused):
        articles.publish_article(actor=operator, article=version.article, now=now)


def test_a_published_article_changes_only_when_a_second_person_publishes_the_new_version(
    published, operator, supervisor, manager, now
):
    version = articles.revise_article(
        actor=supervisor, article=published, data=data(title="Sbloccare la SIM (nuovo)"), now=now
    )
    published.refresh_from_db()
    assert version.number == 2
    assert published.title == "Sbloccare la SIM"
    assert published.published_version.number == 1
    with pytest.raises(OwnArticleReview):
        articles.publish_article(actor=supervisor, article=published, now=now)
    articles.publish_article(actor=manager, article=published, number=2, now=now)
    published.refresh_from_db()
    assert published.title == "Sbloccare la SIM (nuovo)"
    assert published.published_version.number == 2
    statuses = dict(
        ArticleVersion.objects.filter(article=published).values_list("number", "status")
    )
    assert statuses == {1: ArticleStatus.ARCHIVED, 2: ArticleStatus.PUBLISHED}


def test_the_second_of_two_reviewers_gets_a_conflict_and_nothing_changes(
    operator, supervisor, manager, now
):
    version = articles.create_article(actor=operator, data=data(), submit=True, now=now)
    articles.publish_article(actor=supervisor, article=version.article, number=1, now=now)
    with pytest.raises(ArticleAlreadyReviewed) as refused:
        articles.publish_article(actor=manager, article=version.article, number=1, now=now)
    assert refused.value.status == 409
    version.refresh_from_db()
    assert version.reviewer == supervisor
    with pytest.raises(NothingToReview):
        articles.publish_article(actor=manager, article=version.article, now=now)


def test_an_author_cannot_scope_an_article_to_a_contract_they_cannot_see(
    operator, contract, other_client_contract, now
):
    certify(operator, contract=contract)
    with pytest.raises(InvalidArticleData) as refused:
        articles.create_article(
            actor=operator,
            data=data(scope=ArticleScope.CONTRACT, contract_code=other_client_contract.code),
            now=now,
        )
    assert "contract" in refused.value.fields
    version = articles.create_article(
        actor=operator, data=data(scope=ArticleScope.CONTRACT, contract_code=contract.code), now=now
    )
    assert version.article.client_id == contract.client_id


def test_an_article_of_client_a_is_never_shown_to_whoever_works_client_b(
    operator, user_factory, supervisor, contract, other_client_contract, now
):
    certify(operator, client=contract.client)
    worker_b = certify(user_factory("op-b", "operatore"), contract=other_client_contract)
    version = articles.create_article(
        actor=operator,
        data=data(scope=ArticleScope.CLIENT, client_id=contract.client_id, title="Solo Sicilia"),
        submit=True,
        now=now,
    )
    articles.publish_article(actor=supervisor, article=version.article, now=now)
    article = version.article
    assert article_selectors.articles_visible_to(operator).filter(id=article.id).exists()
    assert not article_selectors.articles_visible_to(worker_b).filter(id=article.id).exists()
    assert article_selectors.search_articles(worker_b, text="Sicilia") == []
    assert article_selectors.suggested_articles(worker_b, contract=contract) == []
    with pytest.raises(ArticleNotFound):
        article_selectors.article_by_id(worker_b, article.id)
    # Even a reviewer, who reads every article, is not offered it on client B's cases.
    offered = article_selectors.suggested_articles(supervisor, contract=other_client_contract)
    assert article not in [found.article for found in offered]
    offered = article_selectors.suggested_articles(operator, contract=contract, text="sicilia")
    assert [found.article for found in offered] == [article]


def test_service_scope_follows_the_operators_skills(operator, user_factory, supervisor, now):
    certify(operator, skills=["mobile"])
    other = user_factory("op-fisso", "operatore")
    certify(other, skills=["fixed"])
    version = articles.create_article(
        actor=operator, data=data(scope=ArticleScope.SERVICE, service="mobile"), submit=True
    )
    articles.publish_article(actor=supervisor, article=version.article, now=now)
    assert article_selectors.articles_visible_to(operator).filter(id=version.article_id).exists()
    assert not article_selectors.articles_visible_to(other).filter(id=version.article_id).exists()
    with pytest.raises(InvalidArticleData):
        articles.create_article(
            actor=other, data=data(scope=ArticleScope.SERVICE, service="mobile")
        )


def test_search_stems_folds_accents_and_ranks_the_title_first(operator, supervisor, now):
    for title, body in [
        ("Linee sospese dopo il roaming", "Riattivare dal portale."),
        ("Fatture", "Se la linea è sospesa per morosità, chiamare l'amministrazione."),
        ("Portabilità", "Nulla a che vedere."),
    ]:
        version = articles.create_article(
            actor=operator, data=data(title=title, body=body), submit=True, now=now
        )
        articles.publish_article(actor=supervisor, article=version.article, now=now)
    found = article_selectors.search_articles(operator, text="linea sospesa")
    assert [item.article.title for item in found] == ["Linee sospese dopo il roaming", "Fatture"]
    assert "<mark>" in found[1].snippet
    for typed in ("e' sospesa", "è sospesa", "e sospesa", "portabilita"):
        assert article_selectors.search_articles(operator, text=typed), typed


def test_symbols_only_find_nothing_and_huge_queries_are_refused_clearly(
    published, operator, contract
):
    assert article_selectors.search_articles(operator, text="%_*'\"<>!!&|:") == []
    with pytest.raises(QueryTooLong) as refused:
        article_selectors.search_articles(operator, text="x" * 10000)
    assert refused.value.status == 400
    # The suggestion panel looks at the last words typed, however long the description.
    found = article_selectors.suggested_articles(
        operator, contract=contract, text="parola " * 3000 + "PUK"
    )
    assert [item.article for item in found] == [published]


def test_snippets_escape_what_the_article_says(operator, supervisor, now):
    version = articles.create_article(
        actor=operator, data=data(body="Usare <b>PUK</b> & attendere"), submit=True, now=now
    )
    articles.publish_article(actor=supervisor, article=version.article, now=now)
    (found,) = article_selectors.search_articles(operator, text="puk")
    assert "<mark>PUK</mark>" in found.snippet
    assert "<b>" not in found.snippet
    assert "&amp;" in found.snippet


def test_an_article_is_proposed_only_from_a_resolved_case(operator, case_in_status, now):
    open_case = case_in_status(CaseStatus.NEW)
    with pytest.raises(InvalidArticleData):
        articles.propose_from_case(actor=operator, case=open_case, data=data(), now=now)
    resolved = services.transition_case(
        actor=operator,
        case=open_case,
        to=CaseStatus.RESOLVED,
        resolution_code=CLOSING_CODE,
        now=now,
    )
    version = articles.propose_from_case(actor=operator, case=resolved, data=data(), now=now)
    assert version.source_case == resolved
    assert version.status == ArticleStatus.IN_REVIEW


def test_uses_are_recorded_with_the_version_in_force(published, operator, new_case, now):
    use = articles.record_article_use(
        actor=operator,
        article=published,
        kind=CaseArticleUse.Kind.OPENED,
        contract=new_case.contract,
        case=new_case,
        category_code="sim-lost",
        now=now,
    )
    assert use.article_version == published.published_version
    assert use.case == new_case


def test_an_unpublished_article_cannot_be_used(operator, contract, now):
    version = articles.create_article(actor=operator, data=data(), now=now)
    with pytest.raises(ArticleNotFound):
        articles.record_article_use(
            actor=operator,
            article=version.article,
            kind=CaseArticleUse.Kind.OPENED,
            contract=contract,
            now=now,
        )


def test_uses_at_intake_join_the_case_the_operator_opens(
    published, operator, contract, end_user, open_case_for, now
):
    articles.record_article_use(
        actor=operator,
        article=published,
        kind=CaseArticleUse.Kind.INSERTED,
        contract=contract,
        now=now,
    )
    case = open_case_for(end_user)  # in the same transaction as the case
    assert CaseArticleUse.objects.get().case == case
    assert articles.attach_intake_uses(case) == 0  # never twice


@pytest.mark.postgres
def test_italian_stemming_and_accents_on_postgresql(operator, supervisor, contract, now):
    for title, body in [
        ("Linee sospese", "Le SIM bloccate dopo tre PIN errati si sbloccano con il PUK."),
        ("Perché il roaming non va", "Verificare l'abilitazione."),
    ]:
        version = articles.create_article(
            actor=operator, data=data(title=title, body=body), submit=True, now=now
        )
        articles.publish_article(actor=supervisor, article=version.article, now=now)

    def titles(text):
        return [f.article.title for f in article_selectors.search_articles(operator, text=text)]

    assert titles("linea sospesa") == ["Linee sospese"]
    assert titles("sim bloccata") == ["Linee sospese"]
    assert titles("perche roaming") == ["Perché il roaming non va"]
    assert titles("perche' roaming") == ["Perché il roaming non va"]
    (found,) = article_selectors.suggested_articles(
        operator, contract=contract, text="il cliente ha la linea sospesa da ieri"
    )
    assert "<mark>" in found.snippet or found.article.title == "Linee sospese"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("with_number", [True, False], ids=["version-seen", "latest"])
def test_two_reviewers_publishing_at_once_publish_once(operator, supervisor, manager, with_number):
    """Real connections: the article's row lock makes the second wait, then find the version
    published (409, or nothing left to review) and change nothing."""
    from tests.care.test_concurrency import run_together

    version = articles.create_article(actor=operator, data=data(), submit=True)
    number = 1 if with_number else None

    def publish(actor):
        return lambda: articles.publish_article(actor=actor, article=version.article, number=number)

    results = run_together(publish(supervisor), publish(manager))
    winners = [r for r in results if isinstance(r, ArticleVersion)]
    losers = [r for r in results if not isinstance(r, ArticleVersion)]
    assert len(winners) == 1, results
    assert isinstance(losers[0], ArticleAlreadyReviewed | NothingToReview), losers
    assert losers[0].status == 409
    version.refresh_from_db()
    assert version.status == ArticleStatus.PUBLISHED
    assert version.reviewer_id == winners[0].reviewer_id
