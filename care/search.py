"""Text search over cases and their notes (#24): the cases whose subject, description or
notes hold the words searched, the best first, with a highlighted snippet each.

On PostgreSQL (`config.textsearch`): each table keeps a stored search document with a GIN
index. Common words match hundreds of thousands of rows on the national data set: fetching
them all to rank them costs seconds, and even building the GIN index's bitmap of 500,000
matches costs 150 ms. So matches are taken newest first, window by window, at most
`CANDIDATES` per table and window:

1. the newest 1/64 of each table (about ten days of cases): the planner chooses between the
   GIN index and walking that range of the primary key newest first, which stops at the
   `CANDIDATES`-th match (a common word: about 1 ms); a word found nowhere reads the range,
   at most 1/64 of the table;
2. the whole tables, through the GIN indexes only (`enable_seqscan` and `enable_indexscan`
   off, and no condition on the id that another index could serve), so a wrong estimate can
   never turn a search into a walk of the case table. The matches are fetched to keep the
   newest `CANDIDATES`: cheap for a word found in few cases (the reason to get here), not for
   one found in many old cases and no recent one (about 0.4 s for 300,000 matches).

A sequential scan is never allowed. A case found through its own text and through its notes
keeps its best rank. The candidates then go through the caller's queryset, which holds the
reader's need-to-know (`cases_visible_to`) and the other filters, and the best `RESULTS`
remain (rank, then the newest). The next window is searched only if fewer remain. The
planner settings are local to the search and restored after it.

On SQLite: the fallback of `config.textsearch` (every word, accents folded, in the subject,
the description or a note), the newest first.
"""

from dataclasses import dataclass, field

from django.db import connection, models
from django.db.models import Exists, F, OuterRef, Q, QuerySet, TextField, Value, When
from django.db.models.functions import Concat
from psycopg.pq import TransactionStatus

from care import privacy
from care.models import Case, Note
from config import textsearch
from config.db import AnyOf
from config.textsearch import TextQuery

RESULTS = 50  # cases a text search shows: the best ones
CANDIDATES = 500  # matches taken per table and window, before the reader's filters
WINDOWS = (64, 1)  # the newest 1/64 of each table, then all of it


@dataclass
class TextHits:
    """What a text search found: the case ids, best first, and for each the note that
    matched best (for the snippet), if its own text did not match better."""

    query: TextQuery
    ranked: list[int] = field(default_factory=list)
    note_of: dict[int, int] = field(default_factory=dict)


def search_cases(
    cases: QuerySet[Case], query: TextQuery, *, first: QuerySet | None = None
) -> tuple[QuerySet[Case], TextHits]:
    """The cases of `cases` (already scoped to the reader and filtered) that match, best
    first, at most `RESULTS`; the ids of `first` (e.g. the cases of a caller whose name was
    typed) come before the matches."""
    if connection.vendor == "postgresql":
        hits = _ranked_on_postgresql(cases, query)
    else:
        hits = _newest_on_sqlite(cases, query)
    if first is not None:
        before = list(first[:RESULTS])
        hits.ranked = [*before, *(pk for pk in hits.ranked if pk not in before)][:RESULTS]
    if not hits.ranked:
        return cases.none(), hits
    order = models.Case(
        *[When(pk=case_id, then=Value(position)) for position, case_id in enumerate(hits.ranked)]
    )
    return cases.filter(pk__in=hits.ranked).order_by(order), hits


# The newest matches of a table (in a window: its rows from an id on; the last window, the
# whole table, has no bound, so that only the GIN index can find the rows).
_MATCHES = """
(SELECT {case}, {note}, ts_rank(search_document, query) FROM {table},
    to_tsquery(%(config)s, %(q)s) AS query WHERE search_document @@ query {window}
    ORDER BY id DESC LIMIT %(limit)s)
"""


def _matches(window: int) -> str:
    case = _MATCHES.format(
        case="id",
        note="NULL::bigint",
        table="care_case",
        window="AND id >= %(case_from)s" if window > 1 else "",
    )
    note = _MATCHES.format(
        case="case_id",
        note="id",
        table="care_note",
        window="AND id >= %(note_from)s" if window > 1 else "",
    )
    return f"{case} UNION ALL {note}"


def _ranked_on_postgresql(cases: QuerySet[Case], query: TextQuery) -> TextHits:
    hits = TextHits(query)
    with connection.cursor() as cursor:
        # Session settings, put back in `finally`: SET LOCAL would need a transaction of its
        # own (two more round trips) and would outlive the search in a caller's transaction.
        cursor.execute(
            "SELECT current_setting('enable_seqscan'), current_setting('enable_indexscan'), "
            "set_config('enable_seqscan', 'off', false), (SELECT COALESCE(max(id), 0) FROM "
            "care_case), (SELECT COALESCE(max(id), 0) FROM care_note)"
        )
        seqscan, indexscan, _off, last_case, last_note = cursor.fetchone()
        try:
            best: dict[int, tuple[float, int | None]] = {}
            for n, window in enumerate(WINDOWS):
                if n > 0:  # past the newest rows: the GIN indexes only
                    cursor.execute("SELECT set_config('enable_indexscan', 'off', false)")
                params = {
                    "config": textsearch.CONFIG,
                    "q": query.raw(),
                    "limit": CANDIDATES,
                    "case_from": last_case - last_case // window,
                    "note_from": last_note - last_note // window,
                }
                cursor.execute(_matches(window), params)
                for case_id, note_id, rank in cursor.fetchall():
                    _keep_best(best, case_id, rank, note_id)
                hits = _rank(cases, query, best)
                if len(hits.ranked) >= RESULTS:
                    break
        finally:
            # In a failed transaction the rollback to come undoes them (SET is transactional).
            if connection.connection.info.transaction_status != TransactionStatus.INERROR:
                cursor.execute(
                    "SELECT set_config('enable_seqscan', %s, false), "
                    "set_config('enable_indexscan', %s, false)",
                    [seqscan, indexscan],
                )
    return hits


def _keep_best(best, case_id, rank, note_id) -> None:
    if case_id not in best or rank > best[case_id][0]:
        best[case_id] = (rank, note_id)


def _rank(cases: QuerySet[Case], query: TextQuery, best: dict) -> TextHits:
    """The candidates the reader may see and that pass the filters, best first."""
    # Up to a thousand ids: one array parameter on PostgreSQL (config.db.AnyOf).
    kept = dict(cases.filter(AnyOf(F("pk"), best)).values_list("pk", "opened_at"))
    ranked = sorted(kept, key=lambda pk: (-best[pk][0], -kept[pk].timestamp(), -pk))[:RESULTS]
    return TextHits(
        query,
        ranked,
        {pk: best[pk][1] for pk in ranked if best[pk][1] is not None},
    )


def _newest_on_sqlite(cases: QuerySet[Case], query: TextQuery) -> TextHits:
    def found(root: str) -> Q:
        in_notes = Note.objects.filter(
            textsearch.folded_contains("body", root), case=OuterRef("pk")
        )
        return (
            Q(textsearch.folded_contains("subject", root))
            | Q(textsearch.folded_contains("description", root))
            | Q(Exists(in_notes))
        )

    condition = textsearch.every_word(query, found)
    if not condition:  # stop words only
        return TextHits(query)
    ranked = list(
        cases.filter(condition).order_by("-opened_at", "-pk").values_list("pk", flat=True)[:RESULTS]
    )
    return TextHits(query, ranked)


# --- Snippets -------------------------------------------------------------------------------


def snippets(user, cases: list[Case], hits: TextHits) -> dict[int, str]:
    """For each case shown, the passage that matched with the words highlighted (safe HTML),
    its contact data masked for a reader who sees the case masked."""
    if not cases:
        return {}
    by_id = {case.pk: case for case in cases}
    if connection.vendor == "postgresql":
        fragments = _fragments_on_postgresql(list(by_id), hits)
    else:
        fragments = _fragments_on_sqlite(cases, hits)
    shown = {}
    for pk, fragment in fragments.items():
        in_full = privacy.sees_in_full(user, by_id[pk])
        shown[pk] = textsearch.highlighted(
            fragment, mask=lambda text, in_full=in_full: privacy.shown_text(text, in_full=in_full)
        )
    return shown


def _fragments_on_postgresql(case_ids: list[int], hits: TextHits) -> dict[int, str]:
    """ts_headline over the case's own text, or over the note that matched best."""
    from_notes = {pk: note for pk, note in hits.note_of.items() if pk in case_ids}
    own = [pk for pk in case_ids if pk not in from_notes]
    fragments: dict[int, str] = {}
    if own:
        text = Concat("subject", Value(". "), "description", output_field=TextField())
        cases = Case.objects.filter(pk__in=own)
        fragments |= dict(
            cases.annotate(fragment=textsearch.headline(text, hits.query)).values_list(
                "pk", "fragment"
            )
        )
    if from_notes:
        notes = Note.objects.filter(pk__in=list(from_notes.values()))
        fragments |= dict(
            notes.annotate(fragment=textsearch.headline("body", hits.query)).values_list(
                "case_id", "fragment"
            )
        )
    return fragments


def _fragments_on_sqlite(cases: list[Case], hits: TextHits) -> dict[int, str]:
    notes: dict[int, list[str]] = {}
    for case_id, body in (
        Note.objects.filter(case__in=cases).order_by("-created_at").values_list("case_id", "body")
    ):
        notes.setdefault(case_id, []).append(body)
    fragments = {}
    for case in cases:
        texts = [case.subject, case.description, *notes.get(case.pk, [])]
        fragments[case.pk] = textsearch.fallback_snippet(texts, hits.query)
    return fragments
