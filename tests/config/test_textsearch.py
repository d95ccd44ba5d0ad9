"""config.textsearch: what people type → a safe query; snippets escaped; the SQLite fallback;
on PostgreSQL, the `presidio_it` configuration (Italian stemming with unaccent)."""

import pytest
from django.db import connection

from config import textsearch
from config.textsearch import QueryTooLong, highlighted, parse_query


@pytest.mark.parametrize("typed", ["", "   ", "!!!", "&|!():*'\"<>", "-- ;", "’", "\x00\x01"])
def test_nothing_to_look_for_is_none(typed):
    assert parse_query(typed) is None


def test_a_query_longer_than_the_limit_is_refused_clearly():
    with pytest.raises(QueryTooLong) as refused:
        parse_query("x" * 10_000)
    assert refused.value.code == "search_too_long"
    assert "200" in str(refused.value.message)
    assert "q" in refused.value.fields
    assert parse_query("x" * 200) is not None


def test_query_syntax_typed_by_a_user_is_never_query_syntax():
    query = parse_query("linea & !sospesa | (roaming):* <-> 'x'")
    assert query.raw() == "linea & sospesa & roaming & x"


def test_the_last_word_is_a_prefix_while_typed_and_not_after_a_space():
    assert parse_query("linea sosp").raw() == "linea & (sosp:* | sos:*)"
    assert parse_query("linea sosp ").raw() == "linea & sosp"
    assert parse_query("linea so").raw() == "linea & so"  # too short to be a prefix
    assert parse_query("rubat").raw() == "(rubat:* | ruba:* | rub:*)"


def test_accents_and_case_are_folded():
    assert parse_query("PERCHÉ è Città").words == ("perche", "e", "citta")
    assert parse_query("perche'").words == ("perche",)


def test_the_fallback_roots_drop_stop_words_and_a_final_vowel():
    assert parse_query("la linea è sospesa").roots() == ("line", "sospes")
    assert parse_query("e il la").roots() == ()


def test_a_snippet_is_escaped_and_only_marks_become_html():
    fragment = f'<script>alert("x")</script> {textsearch.START}linea{textsearch.STOP} & co'
    html = highlighted(fragment)
    assert html == "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; <mark>linea</mark> &amp; co"


def test_an_unpaired_mark_is_dropped():
    assert highlighted(f"a {textsearch.START}b c") == "a b c"


def test_a_snippet_the_mask_changes_is_shown_masked_without_marks():
    fragment = f"chiamare {textsearch.START}Mario{textsearch.STOP} al 347 123 4567"
    shown = highlighted(fragment, mask=lambda text: text.replace("347 123 4567", "347 *** **67"))
    assert shown == "chiamare Mario al 347 *** **67"


def test_the_fallback_snippet_marks_the_words_found_around_the_first():
    query = parse_query("linea sospesa ")
    text = "Il cliente dice che da ieri le linee risultano sospese senza preavviso."
    snippet = textsearch.fallback_snippet(["", "nulla di utile", text], query)
    assert highlighted(snippet) == (
        "Il cliente dice che da ieri le <mark>linee</mark> risultano <mark>sospese</mark> "
        "senza preavviso"
    )
    assert textsearch.fallback_snippet(["nulla"], query) == ""


@pytest.mark.django_db
def test_the_fallback_folds_the_column_like_the_query(django_user_model):
    from django.db.models import Q

    if connection.vendor != "sqlite":
        pytest.skip("the SQLite fallback")
    django_user_model.objects.create(username="Perché-Linee")
    django_user_model.objects.create(username="altro")
    query = parse_query("perche' line")

    def matches(root):
        return Q(textsearch.folded_contains("username", root))

    found = django_user_model.objects.filter(textsearch.every_word(query, matches))
    assert list(found.values_list("username", flat=True)) == ["Perché-Linee"]


@pytest.mark.postgres
@pytest.mark.django_db
@pytest.mark.parametrize(
    ("document", "typed"),
    [
        ("Le linee sospese da ieri", "linea sospesa"),
        ("Non so perché", "perche"),
        ("Non so perche'", "perché"),
        ("La linea è sospesa", "linea e' sospesa"),
        ("PIÙ linee", "piu"),
        ("SIM rubata in treno", "rubat"),
    ],
)
def test_the_italian_configuration_stems_and_ignores_accents(document, typed):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT to_tsvector(%s, %s) @@ to_tsquery(%s, %s)",
            [textsearch.CONFIG, document, textsearch.CONFIG, parse_query(typed).raw()],
        )
        assert cursor.fetchone()[0] is True
