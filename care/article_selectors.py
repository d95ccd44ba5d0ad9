"""Reads of the knowledge base shared by its pages, the API, the suggestion panel and reports.

Need-to-know (DESIGN.md §2): reviewers (supervisors, managers, administrators) read every
article; anyone else who works cases reads the published articles of scope "everyone", of
their service skills, and of the clients and contracts they are certified on (routing's rule,
through care's `article_reach` port), plus the articles they wrote themselves. On a case or
at intake the suggestions are narrower still: only the articles that apply to that contract
(everyone, one of its services, its client, the contract itself), so an article about client
A is never offered on client B's case. Missing and not-yours answer the same (404).
"""

from dataclasses import dataclass

from django.db.models import Q, QuerySet

from care import article_search, ports
from care.exceptions import ArticleNotFound
from care.models import Article, ArticleScope, ArticleStatus, ArticleVersion
from contracts.models import Contract

# Who reviews and publishes articles (config.roles capabilities): supervisors run the floor's
# know-how, managers own the contracts; administrators hold both.
REVIEW_CAPABILITIES = ("supervise", "manage_contracts")
# Who reads and proposes articles: whoever works cases, and the reviewers.
READ_CAPABILITIES = ("handle_cases", *REVIEW_CAPABILITIES)
SUGGESTIONS = 5
SEARCH_RESULTS = 50
_REACH_CACHE = "_presidio_article_reach"


def may_review(user) -> bool:
    return bool(user and user.is_authenticated) and any(
        user.has_perm(f"config.{name}") for name in REVIEW_CAPABILITIES
    )


def may_read(user) -> bool:
    return bool(user and user.is_authenticated) and any(
        user.has_perm(f"config.{name}") for name in READ_CAPABILITIES
    )


@dataclass(frozen=True)
class Reach:
    """What a user's articles may be about; `everything` for reviewers."""

    everything: bool = False
    services: frozenset[str] = frozenset()
    contract_ids: frozenset[int] = frozenset()
    client_ids: frozenset[int] = frozenset()

    def covers(self, *, scope: str, service: str = "", client_id=None, contract_id=None) -> bool:
        if self.everything or scope == ArticleScope.ALL:
            return True
        if scope == ArticleScope.SERVICE:
            return service in self.services
        if scope == ArticleScope.CLIENT:
            return client_id in self.client_ids
        return contract_id in self.contract_ids or client_id in self.client_ids

    def q(self) -> Q:
        """The articles this reach covers, as a filter on Article."""
        if self.everything:
            return Q()
        return (
            Q(scope=ArticleScope.ALL)
            | Q(scope=ArticleScope.SERVICE, service__in=sorted(self.services))
            | Q(scope=ArticleScope.CLIENT, client_id__in=sorted(self.client_ids))
            | Q(scope=ArticleScope.CONTRACT, contract_id__in=sorted(self.contract_ids))
            | Q(scope=ArticleScope.CONTRACT, client_id__in=sorted(self.client_ids))
        )


def reach_of(user) -> Reach:
    """Asked once per request: the answer is kept on the user object."""
    cached = getattr(user, _REACH_CACHE, None)
    if cached is not None:
        return cached
    if not may_read(user):
        reach = Reach()
    elif may_review(user):
        reach = Reach(everything=True)
    else:
        given = ports.article_reach(user)  # routing decides: care/ports.py
        reach = Reach(False, given.services, given.contract_ids, given.client_ids)
    setattr(user, _REACH_CACHE, reach)
    return reach


def applies_to(contract: Contract) -> Q:
    """The articles that apply to a case of `contract`: everyone's, one of its services',
    its client's and its own."""
    return (
        Q(scope=ArticleScope.ALL)
        | Q(scope=ArticleScope.SERVICE, service__in=list(contract.services or []))
        | Q(scope=ArticleScope.CLIENT, client_id=contract.client_id)
        | Q(scope=ArticleScope.CONTRACT, contract_id=contract.id)
    )


def articles_visible_to(user) -> QuerySet[Article]:
    """Every article the user may open: reviewers all; others the published ones in their
    reach and those they created."""
    if not may_read(user):
        return Article.objects.none()
    articles = Article.objects.select_related("client", "contract")
    reach = reach_of(user)
    if reach.everything:
        return articles
    return articles.filter(
        (Q(status=ArticleStatus.PUBLISHED) & reach.q()) | Q(created_by_id=user.id)
    )


def published_articles_for(user, *, contract: Contract | None = None) -> QuerySet[Article]:
    """Published articles in the user's reach, narrowed to those applying to `contract`."""
    if not may_read(user):
        return Article.objects.none()
    articles = Article.objects.filter(status=ArticleStatus.PUBLISHED).filter(reach_of(user).q())
    if contract is not None:
        articles = articles.filter(applies_to(contract))
    return articles


def article_by_id(user, article_id) -> Article:
    article = (
        articles_visible_to(user)
        .select_related("published_version", "created_by")
        .filter(id=article_id)
        .first()
        if article_id
        else None
    )
    if article is None:
        raise ArticleNotFound
    return article


def article_versions(article: Article) -> QuerySet[ArticleVersion]:
    """The article's versions, newest first, with who wrote and reviewed each."""
    return (
        ArticleVersion.objects.filter(article=article)
        .select_related("author", "reviewer", "source_case", "client", "contract")
        .order_by("-number")
    )


def pending_version(article: Article) -> ArticleVersion | None:
    """The newest version waiting to be published (draft or in review), if any."""
    return (
        ArticleVersion.objects.filter(
            article=article, status__in=[ArticleStatus.DRAFT, ArticleStatus.IN_REVIEW]
        )
        .select_related("author")
        .order_by("-number")
        .first()
    )


def review_queue() -> QuerySet[ArticleVersion]:
    """Versions sent for review, the oldest first, with their article and author."""
    return (
        ArticleVersion.objects.filter(status=ArticleStatus.IN_REVIEW)
        .select_related("article", "author", "client", "contract")
        .order_by("submitted_at", "id")
    )


def search_articles(user, *, text: str, contract: Contract | None = None, limit=SEARCH_RESULTS):
    """The list page and `articles/?q=`: ranked matches among the articles the user may open
    (published ones only for operators; reviewers also see drafts and archived ones by
    status filter on the page). An empty or symbols-only query lists by title."""
    if contract is not None:
        articles = published_articles_for(user, contract=contract)
    else:
        articles = articles_visible_to(user)
    return article_search.search(articles, text, limit=limit)


def suggested_articles(
    user, *, contract: Contract, category_code: str = "", text: str = "", limit=SUGGESTIONS
):
    """The suggestion panel (intake and case page): the best published articles for the
    contract, the category and the text typed so far. An article tagged with the category
    comes first when the text does not decide; with no text, the category's articles."""
    articles = published_articles_for(user, contract=contract)
    return article_search.suggest(articles, text, limit=limit, boost_tag=category_code)
