"""Text search over knowledge-base articles: what the list, the API and the suggestion panel
share (care.article_selectors narrows the articles to the reader's scope first). Built on
`config.textsearch` (the `presidio_it` configuration, safe query parsing, escaped snippets).

- PostgreSQL: each article row keeps `search_document`, a generated column (title weight A,
  text B, category tags C) with a GIN index (migration care 0015, PostgreSQL only). A search
  is `search_document @@ query`, ranked by `ts_rank` (plus a bonus for the case's category
  tag), its snippet cut by `ts_headline`.
- SQLite (embedded default): `config.textsearch`'s fallback (folded text, crude Italian
  roots); ranked here in Python over at most 400 candidates: a root in the title counts 3,
  in the tags 2, in the text 1 (up to 3 times).
- A search (the list, `articles/?q=`) needs every word; suggestions, fed with whatever the
  operator typed so far, need any word and rank by how many and where: the articles tagged
  with the case's category first when the text does not decide.

A query longer than 200 characters is refused (`QueryTooLong`, 400); the suggestion panel
looks only at the last 200 characters typed. Symbols only: nothing to look for, no result.
"""

from dataclasses import dataclass
from functools import reduce
from operator import or_

from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVectorField
from django.db import connection
from django.db.models import Expression, FloatField, Q, QuerySet, Value
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce
from django.utils.html import escape
from django.utils.safestring import SafeString

from care.models import Article
from config import textsearch

CANDIDATES = 400
TAG_BONUS = 0.2  # ts_rank of a good title hit is about 0.6; the tag breaks near-ties
EXCERPT = 160


@dataclass(frozen=True)
class Found:
    article: Article
    rank: float
    snippet: SafeString


def tagged(tag: str) -> Q:
    """Articles whose space-separated tags include `tag` (not a longer tag it starts)."""
    return (
        Q(tags=tag)
        | Q(tags__startswith=f"{tag} ")
        | Q(tags__endswith=f" {tag}")
        | Q(tags__contains=f" {tag} ")
    )


def _excerpt(body: str) -> SafeString:
    plain = " ".join((body or "").split())
    return escape(plain[:EXCERPT] + (" …" if len(plain) > EXCERPT else ""))


def search(articles: QuerySet[Article], text: str, *, limit: int) -> list[Found]:
    """Every word must match. Nothing to look for: the articles by title."""
    query = textsearch.parse_query(text)  # QueryTooLong past 200 characters
    if query is None:
        if (text or "").strip():
            return []  # symbols only
        return [
            Found(article, 0.0, _excerpt(article.body))
            for article in articles.order_by("title", "id")[:limit]
        ]
    if connection.vendor == "postgresql":
        return _postgresql(articles, query.tsquery(), query, limit=limit, boost_tag="")
    if not query.roots():
        return []  # stop words only
    matching = articles.filter(textsearch.every_word(query, _anywhere))
    return _fallback(matching, query, limit=limit, boost_tag="")


def suggest(
    articles: QuerySet[Article], text: str, *, limit: int, boost_tag: str = ""
) -> list[Found]:
    """Any word may match; with no word, the articles tagged with the category."""
    tail = (text or "")[-textsearch.MAX_QUERY_LENGTH :]
    query = textsearch.parse_query(tail.split(" ", 1)[-1] if len(text or "") > len(tail) else tail)
    if query is None or (connection.vendor != "postgresql" and not query.roots()):
        if not boost_tag:
            return []
        return [
            Found(article, 0.0, _excerpt(article.body))
            for article in articles.filter(tagged(boost_tag)).order_by("title", "id")[:limit]
        ]
    if connection.vendor == "postgresql":
        any_word = SearchQuery(
            " | ".join(dict.fromkeys(query.words)), config=textsearch.CONFIG, search_type="raw"
        )
        return _postgresql(articles, any_word, query, limit=limit, boost_tag=boost_tag)
    matching = articles.filter(reduce(or_, (_anywhere(root) for root in query.roots())))
    return _fallback(matching, query, limit=limit, boost_tag=boost_tag)


# PostgreSQL -----------------------------------------------------------------------------------

DOCUMENT = RawSQL('"care_article"."search_document"', [], output_field=SearchVectorField())


def _postgresql(articles, tsquery, query, *, limit: int, boost_tag: str) -> list[Found]:
    score: Expression = SearchRank(DOCUMENT, tsquery)
    if boost_tag:
        bonus = Coalesce(
            RawSQL(
                """CASE WHEN %s = ANY(string_to_array("care_article"."tags", ' '))
                THEN %s::float END""",
                [boost_tag, TAG_BONUS],
            ),
            Value(0.0),
            output_field=FloatField(),
        )
        score = score + bonus
    # ts_headline is in the select list: PostgreSQL computes it for the rows kept only.
    ranked = list(
        articles.annotate(
            document=DOCUMENT, score=score, fragment=textsearch.headline("body", query)
        )
        .filter(document=tsquery)
        .order_by("-score", "title", "id")[:limit]
    )
    return [
        Found(article, float(article.score), textsearch.highlighted(article.fragment))
        for article in ranked
    ]


# SQLite fallback ------------------------------------------------------------------------------


def _anywhere(root: str) -> Q:
    return (
        Q(textsearch.folded_contains("title", root))
        | Q(textsearch.folded_contains("body", root))
        | Q(textsearch.folded_contains("tags", root))
    )


def _fallback(matching, query, *, limit: int, boost_tag: str) -> list[Found]:
    roots = query.roots()
    candidates = list(matching.order_by("-published_at", "-id")[:CANDIDATES])
    scored = sorted(
        ((_score(article, roots, boost_tag), article) for article in candidates),
        key=lambda pair: (-pair[0], pair[1].title, pair[1].id),
    )[:limit]
    return [
        Found(
            article,
            score,
            textsearch.highlighted(
                textsearch.fallback_snippet([article.body, article.title], query)
            )
            or _excerpt(article.body),
        )
        for score, article in scored
    ]


def _score(article: Article, roots: tuple[str, ...], boost_tag: str) -> float:
    title, tags, body = (textsearch.fold(t) for t in (article.title, article.tags, article.body))
    score = sum(3 * (r in title) + 2 * (r in tags) + min(body.count(r), 3) for r in roots)
    if boost_tag and boost_tag in article.tags.split():
        score += 2
    return float(score)
