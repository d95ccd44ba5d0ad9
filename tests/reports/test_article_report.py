"""The `articles` report: which knowledge-base articles solve cases (#24), against a
hand-computed set."""

from datetime import date, timedelta

import pytest

from care import articles, services
from care.models import ArticleScope, CaseArticleUse, CaseStatus
from reports import definitions
from reports.forms import ReportFilters
from tests.factories import CLOSING_CODE, EndUserFactory

pytestmark = pytest.mark.django_db


def publish(author, reviewer, title, now):
    version = articles.create_article(
        actor=author,
        data=articles.ArticleData(title=title, body="Testo.", scope=ArticleScope.ALL),
        submit=True,
        now=now,
    )
    articles.publish_article(actor=reviewer, article=version.article, now=now)
    version.article.refresh_from_db()
    return version.article


def test_articles_are_counted_by_uses_cases_and_cases_resolved_after_use(
    operator, supervisor, contract, open_case_for, now
):
    puk = publish(operator, supervisor, "PUK", now)
    roaming = publish(operator, supervisor, "Roaming", now)
    cases = [open_case_for(EndUserFactory(client=contract.client)) for _ in range(3)]

    def use(article, case, kind, minutes):
        articles.record_article_use(
            actor=operator,
            article=article,
            kind=kind,
            contract=contract,
            case=case,
            now=now + timedelta(minutes=minutes),
        )

    # PUK: opened and inserted on case 0 (resolved after), opened on case 1 (still open).
    use(puk, cases[0], CaseArticleUse.Kind.OPENED, 1)
    use(puk, cases[0], CaseArticleUse.Kind.INSERTED, 2)
    use(puk, cases[1], CaseArticleUse.Kind.OPENED, 3)
    # Roaming: opened on case 2, which is resolved before it was opened.
    services.transition_case(
        actor=operator,
        case=cases[2],
        to=CaseStatus.RESOLVED,
        resolution_code=CLOSING_CODE,
        now=now + timedelta(minutes=5),
    )
    use(roaming, cases[2], CaseArticleUse.Kind.OPENED, 10)
    services.transition_case(
        actor=operator,
        case=cases[0],
        to=CaseStatus.RESOLVED,
        resolution_code=CLOSING_CODE,
        now=now + timedelta(minutes=20),
    )
    rows = list(
        definitions.get("articles").rows(
            ReportFilters(date_from=date(2026, 12, 1), date_to=date(2026, 12, 31)),
            supervisor,
            now + timedelta(hours=1),
        )
    )
    assert rows == [
        {
            "article": "PUK",
            "scope": str(ArticleScope.ALL.label),
            "used": 3,
            "opened": 2,
            "inserted": 1,
            "cases": 2,
            "resolved_after": 1,
            "solve_rate": 50.0,
        },
        {
            "article": "Roaming",
            "scope": str(ArticleScope.ALL.label),
            "used": 1,
            "opened": 1,
            "inserted": 0,
            "cases": 1,
            "resolved_after": 0,
            "solve_rate": 0.0,
        },
    ]
