"""Italian full-text search: what people type, turned into a safe query, matched, ranked and
shown with the matching words highlighted. Shared by every search over free text (cases and
their notes, knowledge-base articles).

PostgreSQL: the text search configuration `presidio_it` (migration `config.0008`) is a copy
of PostgreSQL's `italian` with `unaccent` before the Italian snowball stemmer, so "linee
sospese" and "linea sospesa" reduce to the same lexemes, and "perché", "perche'" and "perche"
too. Each searchable table keeps a stored `tsvector` (a generated column with a GIN index,
created by a PostgreSQL-only migration of its app); a search is `document @@ query`,
`ts_rank` orders, `ts_headline` cuts the snippet.

What a user typed never reaches the query parser as it is: `parse_query` keeps the words
(letters and digits, accents folded) and joins them with AND itself; the last word also
matches as a prefix while it is being typed (at least `PREFIX_MIN_LENGTH` characters and no
space after it), with or without its last letter or two, since the stemmer does not know a
half-typed word ("rubat" finds "rubata", stored as "rub"). Symbols only or nothing →
`None`, which callers turn into an empty result; stop words alone ("e", "il") give
PostgreSQL an empty query, which matches nothing. Longer than `MAX_QUERY_LENGTH` characters
→ `QueryTooLong` (a 400 with a clear message).

SQLite (the embedded default, small data): no stemming engine and no stored index. The
fallback is the former `icontains`, made accent-insensitive and a little Italian: the text
and the words are folded alike (lower case, accents dropped, by `presidio_fold`, a function
registered on the SQLite connection when a query uses it), a word of four letters or more
loses its final vowel ("linea" → "line", which "linee" contains), and every remaining word
must appear in one of the searched texts. FTS5 was not chosen: it would need triggers and a
shadow table per searched table to stay in sync, and its tokenizer does not stem Italian
either; the fallback ranks nothing (callers order by recency) and scans, which the embedded
data set affords.

Snippets are escaped: ts_headline marks the matches with control characters, the text is
HTML-escaped, then the marks become `<mark>`. A snippet of personal free text goes through
the reader's masking first; if masking changed it, it is shown masked without highlights.
"""

import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.contrib.postgres.search import SearchHeadline, SearchQuery, SearchRank
from django.db.models import Expression, F, Func, Q, TextField
from django.db.models.lookups import Contains
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext_lazy as _

from config.errors import InvalidInput

CONFIG = "presidio_it"
MAX_QUERY_LENGTH = 200
PREFIX_MIN_LENGTH = 3
SNIPPET_WORDS = 25

# ts_headline's marks around a match: characters that free text does not hold.
START, STOP = "\x01", "\x02"
_MARKED = re.compile(f"{START}([^{START}{STOP}]*){STOP}")
_WORD = re.compile(r"[^\W_]+")

# The SQLite fallback ignores these, as PostgreSQL's Italian stop words do.
_FALLBACK_STOP_WORDS_TEXT = (
    "a ad al alla allo ai agli alle c che chi ci con cui d da dal dalla dei del della delle di e "
    "ed gli ha ho i il in l la le lo ma mi ne nei nel nella negli non o per se si su sul sulla "
    "ti tra fra tu un una uno vi"
)
_FALLBACK_STOP_WORDS = frozenset(_FALLBACK_STOP_WORDS_TEXT.split())
_VOWELS = "aeiou"


class QueryTooLong(InvalidInput):
    code = "search_too_long"

    def __init__(self) -> None:
        message = _("The search is too long: use at most %(limit)d characters.") % {
            "limit": MAX_QUERY_LENGTH
        }
        super().__init__(message, fields={"q": [message]})


def fold(text: str) -> str:
    """Lower case, accents dropped: "Perché È" → "perche e"."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(char for char in decomposed if not unicodedata.combining(char))


@dataclass(frozen=True)
class TextQuery:
    words: tuple[str, ...]  # folded, in the order typed
    prefix: bool  # the last word is being typed: it matches as a prefix

    def raw(self) -> str:
        """The text of the PostgreSQL query, for `to_tsquery(CONFIG, raw)`: the words joined
        with AND, built here from letters and digits only, so nothing the user typed is read
        as query syntax."""
        terms = list(self.words)
        if self.prefix:
            # A word half typed is not stemmed as the whole word is ("rubat" stays "rubat",
            # "rubata" is stored as "rub"): it also matches without its last letter or two.
            word = terms[-1]
            shortest = max(PREFIX_MIN_LENGTH, len(word) - 2)
            prefixes = [f"{word[:n]}:*" for n in range(len(word), shortest - 1, -1)]
            terms[-1] = f"({' | '.join(prefixes)})" if len(prefixes) > 1 else prefixes[0]
        return " & ".join(terms)

    def tsquery(self) -> SearchQuery:
        """The query as an expression, for `rank`, `headline` or a `@@` filter."""
        return SearchQuery(self.raw(), config=CONFIG, search_type="raw")

    def roots(self) -> tuple[str, ...]:
        """For the SQLite fallback: the words that carry meaning, cut to a crude root."""
        roots = []
        for word in self.words:
            if word in _FALLBACK_STOP_WORDS:
                continue
            if len(word) >= 4 and word[-1] in _VOWELS:
                word = word[:-1]
            if word not in roots:
                roots.append(word)
        return tuple(roots)


def parse_query(text: str | None) -> TextQuery | None:
    """What a user typed → a `TextQuery`, or `None` when there is no word to look for."""
    text = text or ""
    if len(text) > MAX_QUERY_LENGTH:
        raise QueryTooLong
    words = tuple(_WORD.findall(fold(text)))
    if not words:
        return None
    typing = text[-1].isalnum() and len(words[-1]) >= PREFIX_MIN_LENGTH
    return TextQuery(words=words, prefix=typing)


# PostgreSQL -----------------------------------------------------------------------------------


def document(*weighted: tuple[str, str]) -> str:
    """The SQL of a stored search document over `(column, weight)` pairs, for the generated
    column of a PostgreSQL migration: `document(("subject", "A"), ("description", "B"))`."""
    parts = [
        f"setweight(to_tsvector('{CONFIG}'::regconfig, coalesce({column}, '')), '{weight}')"
        for column, weight in weighted
    ]
    return " || ".join(parts)


def rank(vector: str | Expression, query: TextQuery) -> SearchRank:
    """How well the stored document `vector` (a column name or expression) matches."""
    return SearchRank(F(vector) if isinstance(vector, str) else vector, query.tsquery())


def headline(text: str | Expression, query: TextQuery) -> SearchHeadline:
    """The best fragments of `text` with the matches marked; render with `highlighted`."""
    return SearchHeadline(
        F(text) if isinstance(text, str) else text,
        query.tsquery(),
        config=CONFIG,
        start_sel=START,
        stop_sel=STOP,
        max_words=SNIPPET_WORDS,
        min_words=10,  # one passage: ts_headline's fragments cut short texts after the match
    )


def highlighted(fragment: str, mask: Callable[[str], str] | None = None) -> SafeString:
    """A marked fragment (`headline`, `fallback_snippet`) as safe HTML: escaped, matches in
    `<mark>`. `mask` hides contact data for readers who must not see it; a fragment it
    changes is shown masked, without highlights."""
    plain = fragment.replace(START, "").replace(STOP, "")
    if mask is not None:
        masked = mask(plain)
        if masked != plain:
            return escape(masked)
    marked = _MARKED.sub(r"<mark>\1</mark>", str(escape(fragment)))
    return mark_safe(marked.replace(START, "").replace(STOP, ""))  # noqa: S308 (escaped above)


# SQLite fallback ------------------------------------------------------------------------------


class Folded(Func):
    """`presidio_fold(text)` on SQLite: the text folded as `fold` does (`define_fold`)."""

    function = "presidio_fold"
    output_field = TextField()


def define_fold(sender=None, connection=None, **kwargs) -> None:
    """`connection_created` receiver: on SQLite, `presidio_fold` is defined once, as the
    connection opens. Defined while a query was compiled, it failed ("Error creating
    function") whenever another thread ran a statement on the same connection (the browser
    tests' live server shares the test's)."""
    if connection is not None and connection.vendor == "sqlite":
        connection.connection.create_function(
            "presidio_fold", 1, lambda text: fold(text) if text else text, deterministic=True
        )


def folded_contains(field: str | Expression, root: str) -> Contains:
    """The field, folded, contains `root` (a word of `TextQuery.roots`)."""
    return Contains(Folded(F(field) if isinstance(field, str) else field), root)


def every_word(query: TextQuery, matches: Callable[[str], Q]) -> Q:
    """Each root of the query is found: `matches(root)` says where to look for one."""
    condition = Q()
    for root in query.roots():
        condition &= matches(root)
    return condition


def fallback_snippet(texts: Iterable[str], query: TextQuery) -> str:
    """The first of `texts` holding a word of the query, cut around it, the matching words
    marked as `headline` marks them (render with `highlighted`); "" when none holds one."""
    roots = query.roots()
    for text in texts:
        if not text:
            continue
        words = list(_WORD.finditer(text))
        hits = [i for i, word in enumerate(words) if any(r in fold(word.group()) for r in roots)]
        if not hits:
            continue
        first = max(0, hits[0] - SNIPPET_WORDS // 3)
        last = min(len(words), first + SNIPPET_WORDS) - 1
        start, end = words[first].start(), words[last].end()
        pieces, cursor = [], start
        for i in hits:
            if first <= i <= last:
                word = words[i]
                pieces += [text[cursor : word.start()], START, word.group(), STOP]
                cursor = word.end()
        pieces.append(text[cursor:end])
        return "".join(pieces)
    return ""
