"""Text search over knowledge-base articles: what the list, the API and the suggestion panel
share (care.article_selectors narrows the articles to the reader's scope first).

Portable search: each article keeps `search_text`, its title, tags and text folded (lower
case, accents off, apostrophes as spaces, so "è", "e'" and "e" match) and each word cut to a
rough Italian stem (its last vowel off: "linea" and "linee", "sospesa" and "sospese" meet).
Every word of the query must occur; the rank weighs a hit in the title 3, in the tags 2, in
the text 1, and an article tagged with the case's category 2 more. The snippet is the text
around the first hit, escaped, with the hits in `<mark>`.
"""

import re
import unicodedata
from dataclasses import dataclass

from django.db.models import Q, QuerySet
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from care.models import Article

MAX_QUERY = 200  # characters of a query that count; the rest is ignored (a pasted page)
MAX_TERMS = 8
CANDIDATES = 400
SNIPPET = 160
_WORD = re.compile(r"[a-z0-9]+")
_VOWELS = "aeiou"


@dataclass(frozen=True)
class Found:
    article: Article
    rank: float
    snippet: SafeString


def fold(text: str) -> str:
    """Lower case without accents, one character for one (so positions stay those of the
    original text); anything that is not a letter or digit becomes a space."""
    out = []
    for char in text or "":
        base = unicodedata.normalize("NFKD", char)[:1].lower() or " "
        out.append(base if base.isascii() and base.isalnum() else " ")
    return "".join(out)


def stem(word: str) -> str:
    return word[:-1] if len(word) > 4 and word[-1] in _VOWELS else word


def terms_of(text: str) -> list[str]:
    """The stems a query looks for: words of at least two characters, at most eight."""
    words = _WORD.findall(fold((text or "")[:MAX_QUERY]))
    seen: list[str] = []
    for word in words:
        term = stem(word)
        if len(term) >= 2 and term not in seen:
            seen.append(term)
    return seen[:MAX_TERMS]


def search_text_of(*, title: str, tags: str, body: str) -> str:
    return " ".join(
        " ".join(stem(word) for word in _WORD.findall(fold(part))) for part in (title, tags, body)
    )


def tagged(tag: str) -> Q:
    """Articles whose space-separated tags include `tag` (not a longer tag it starts)."""
    return (
        Q(tags=tag)
        | Q(tags__startswith=f"{tag} ")
        | Q(tags__endswith=f" {tag}")
        | Q(tags__contains=f" {tag} ")
    )


def ranked(
    articles: QuerySet[Article], text: str, *, limit: int, boost_tag: str = ""
) -> list[Found]:
    terms = terms_of(text)
    if not terms:
        if (text or "").strip() and not boost_tag:
            return []  # symbols only: nothing to look for
        listed = articles
        if boost_tag:
            listed = listed.filter(tagged(boost_tag))
        return [
            Found(article, 0.0, _snippet(article.body, []))
            for article in listed.order_by("title", "id")[:limit]
        ]
    matching = articles
    for term in terms:
        matching = matching.filter(search_text__contains=term)
    candidates = list(matching.order_by("-published_at", "-id")[:CANDIDATES])
    scored = sorted(
        ((_score(article, terms, boost_tag), article) for article in candidates),
        key=lambda pair: (-pair[0], pair[1].title, pair[1].id),
    )
    return [Found(article, score, _snippet(article.body, terms)) for score, article in scored][
        :limit
    ]


def _score(article: Article, terms: list[str], boost_tag: str) -> float:
    title, tags, body = fold(article.title), fold(article.tags), fold(article.body)
    score = 0.0
    for term in terms:
        score += 3 * (term in title) + 2 * (term in tags) + min(body.count(term), 3)
    if boost_tag and boost_tag in article.tags.split():
        score += 2
    return score


def _snippet(body: str, terms: list[str]) -> SafeString:
    """About 160 characters of the text around the first hit, escaped, hits marked."""
    plain = " ".join((body or "").split())
    folded = fold(plain)
    hits = sorted(
        (match.start(), match.start() + len(term))
        for term in terms
        for match in re.finditer(re.escape(term), folded)
    )
    start = max(0, hits[0][0] - SNIPPET // 3) if hits else 0
    end = min(len(plain), start + SNIPPET)
    pieces, at = [], start
    for hit_start, hit_end in hits:
        if hit_start < at or hit_end > end:
            continue
        pieces += [escape(plain[at:hit_start]), f"<mark>{escape(plain[hit_start:hit_end])}</mark>"]
        at = hit_end
    pieces.append(escape(plain[at:end]))
    prefix = "… " if start else ""
    suffix = " …" if end < len(plain) else ""
    return mark_safe(prefix + "".join(pieces) + suffix)  # noqa: S308 (every piece escaped)
