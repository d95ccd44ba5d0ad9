"""Text search over cases and their notes (#24): Italian stemming and accents, notes, the
reader's scope and masking, bad input, escaped snippets, on the page and in the API. Runs on
SQLite (the fallback of config.textsearch) and on PostgreSQL (the search documents and their
GIN indexes); what only PostgreSQL does (ranking, the plan) is marked."""

import re

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework.test import APIClient

from care import search, services
from care.models import Case
from config import roles, textsearch
from config.models import AccessLog

pytestmark = pytest.mark.django_db

SEARCH = "/api/v1/cases/search/"


@pytest.fixture
def colleague(user_factory):
    """An operator who neither opened the cases nor is certified on their contract."""
    return user_factory("op.colleague", roles.OPERATOR)


@pytest.fixture
def open_case_for(open_case_for):
    """Several cases of one caller and category: each a new request, not a duplicate."""

    def opened(end_user, **changes):
        return open_case_for(end_user, duplicate_override_reason="another request", **changes)

    return opened


@pytest.fixture
def suspended(open_case_for, end_user):
    return open_case_for(
        end_user,
        subject="Linee sospese dopo il cambio di piano",
        description="Tre linee sospese perché la fattura risulta non pagata.",
    )


@pytest.fixture
def roaming(open_case_for, end_user):
    return open_case_for(
        end_user, subject="Roaming in Svizzera", description="Nessuna rete dopo il confine."
    )


def found(api, text, **filters) -> list[str]:
    response = api.post(SEARCH, {"q": text, **filters}, format="json")
    assert response.status_code == 200, response.json()
    return [row["reference"] for row in response.json()["results"]]


def snippets(api, text) -> list[str]:
    return [
        row["snippet"] for row in api.post(SEARCH, {"q": text}, format="json").json()["results"]
    ]


def test_linea_sospesa_finds_linee_sospese(operator_api, suspended, roaming):
    assert found(operator_api, "linea sospesa") == [suspended.reference]
    assert found(operator_api, "LINEA SOSPESA") == [suspended.reference]
    assert found(operator_api, "svizzera") == [roaming.reference]


@pytest.mark.parametrize("typed", ["perché", "perche'", "perche", "PERCHÉ", "perchè"])
def test_accents_match_as_people_type_them(operator_api, suspended, roaming, typed):
    assert found(operator_api, f"sospese {typed}") == [suspended.reference]


@pytest.mark.parametrize(
    "typed", ["la linea è sospesa", "la linea e' sospesa", "la linea e sospesa"]
)
def test_e_with_or_without_its_accent_is_the_same_word(operator_api, suspended, roaming, typed):
    assert found(operator_api, typed) == [suspended.reference]


def test_the_last_word_matches_as_it_is_being_typed(operator_api, suspended, roaming):
    assert found(operator_api, "linee sosp") == [suspended.reference]
    assert found(operator_api, "svizz") == [roaming.reference]
    assert found(operator_api, "svizzer") == [roaming.reference]
    assert found(operator_api, "linee sospes") == [suspended.reference]


def test_every_word_must_be_found(operator_api, suspended, roaming):
    assert found(operator_api, "linee svizzera ") == []


def test_a_note_is_searched_and_kept_current_on_write(operator_api, operator, roaming, now):
    assert found(operator_api, "questura") == []
    services.add_note(
        actor=operator, case=roaming, body="Sentita la Questura di Como per la denuncia.", now=now
    )

    assert found(operator_api, "questura") == [roaming.reference]
    [snippet] = snippets(operator_api, "questura")
    assert "<mark>Questura</mark>" in snippet


def test_html_in_a_note_never_reaches_the_snippet_as_html(operator_api, operator, roaming, now):
    services.add_note(
        actor=operator,
        case=roaming,
        body='<script>alert("x")</script><img src=x onerror=alert(1)> questura avvisata',
        now=now,
    )

    [snippet] = snippets(operator_api, "questura")
    assert "<mark>questura</mark>" in snippet
    assert "<script" not in snippet
    assert "<img" not in snippet
    assert re.sub(r"</?mark>", "", snippet).count("<") == 0


@pytest.mark.parametrize("typed", ["!!!", "?*&|:()'\"", "<>", "-- ;", "'"])
def test_a_query_of_symbols_only_finds_nothing(operator_api, suspended, typed):
    assert found(operator_api, typed) == []


def test_stop_words_alone_find_nothing(operator_api, suspended):
    assert found(operator_api, "e il la") == []


def test_a_10000_character_search_is_a_clear_400(operator_api, suspended):
    response = operator_api.post(SEARCH, {"q": "linea " * 1667}, format="json")

    assert response.status_code == 400
    assert "q" in response.json()["fields"]


def test_a_10000_character_search_on_the_page_is_a_form_error_and_finds_nothing(
    client, operator, suspended
):
    client.force_login(operator)
    response = client.post(reverse("care:case-list"), {"q": "linea " * 1667}, follow=True)

    assert response.status_code == 200
    html = response.content.decode()
    assert suspended.reference not in html
    assert 'data-testid="no-cases"' in html
    assert "200" in html  # the limit, said in the error


def test_the_page_shows_highlighted_snippets_and_keeps_the_search_out_of_the_address(
    client, operator, suspended, roaming
):
    client.force_login(operator)
    response = client.post(reverse("care:case-list"), {"q": "fattura"})
    assert response.status_code == 302
    assert "fattura" not in response["Location"]

    html = client.get(response["Location"]).content.decode()
    assert suspended.reference in html
    assert roaming.reference not in html
    assert 'data-testid="case-snippet"' in html
    assert "<mark>fattura</mark>" in html
    assert 'data-testid="text-search-note"' in html
    [row] = AccessLog.objects.filter(route="care:case-list", status_code=200)
    assert row.detail["searched"] == {"q": "fattura"}


def test_the_page_of_a_text_search_costs_a_bounded_number_of_queries(
    client, operator, open_case_for, end_user, django_assert_max_num_queries
):
    for n in range(12):
        open_case_for(end_user, subject=f"Linea sospesa numero {n}")
    client.force_login(operator)
    address = client.post(reverse("care:case-list"), {"q": "linea sospesa"})["Location"]

    # Sign-in, permissions and the client list; the search: up to two windows of a query
    # and a filter each; the page, its count, two snippet queries and the access log.
    with django_assert_max_num_queries(36):
        html = client.get(address).content.decode()
    assert html.count('data-testid="case-snippet"') == 12


def test_contact_data_in_a_snippet_is_masked_for_who_sees_the_case_masked(
    operator_api, colleague, operator, roaming, now
):
    services.add_note(
        actor=operator, case=roaming, body="Richiamare la questura al 347 123 4567.", now=now
    )
    colleague_api = APIClient()
    colleague_api.force_authenticate(colleague)

    [own] = snippets(operator_api, "questura")
    [masked] = snippets(colleague_api, "questura")

    assert "347 123 4567" in own
    assert "123 4567" not in masked
    assert "questura" in masked


def test_a_manager_searches_no_case(manager_api, suspended):
    response = manager_api.post(SEARCH, {"q": "linea sospesa"}, format="json")

    assert response.status_code == 403


def test_filters_scope_the_search_and_its_count(
    operator_api, open_case_for, suspended, other_client_contract, other_client_end_user
):
    """Another client's case matching the words is neither listed nor counted when the
    search is narrowed to one client (operators otherwise see every case nationally:
    care.selectors.cases_visible_to)."""
    elsewhere = open_case_for(
        other_client_end_user,
        contract_code=other_client_contract.code,
        subject="Linea sospesa a Catania",
    )
    assert sorted(found(operator_api, "linea sospesa")) == sorted(
        [suspended.reference, elsewhere.reference]
    )

    response = operator_api.post(
        SEARCH, {"q": "linea sospesa", "client": suspended.client_id}, format="json"
    )
    assert response.json()["count"] == 1
    assert [row["reference"] for row in response.json()["results"]] == [suspended.reference]


def test_a_callers_last_name_still_finds_their_cases(operator_api, end_user, roaming):
    assert found(operator_api, end_user.last_name) == [roaming.reference]


def test_the_search_is_logged_without_its_text_in_any_address(operator_api, suspended):
    found(operator_api, "linea sospesa")

    [row] = AccessLog.objects.filter(route="api:case-search")
    assert row.detail["searched"] == {"q": "linea sospesa"}


# --- PostgreSQL only -------------------------------------------------------------------------


@pytest.mark.postgres
def test_a_match_in_the_subject_ranks_above_one_in_a_note(
    operator_api, operator, open_case_for, end_user, now
):
    in_note = open_case_for(end_user, subject="Cambio piano", description="Nessun dettaglio.")
    services.add_note(actor=operator, case=in_note, body="Il cliente parla di fibra.", now=now)
    in_subject = open_case_for(end_user, subject="Fibra assente", description="Nessun dettaglio.")

    assert found(operator_api, "fibra") == [in_subject.reference, in_note.reference]


@pytest.mark.postgres
def test_the_search_reads_the_gin_indexes_and_never_scans_the_case_table(
    operator_api, operator, suspended, now
):
    services.add_note(actor=operator, case=suspended, body="Linea verificata.", now=now)
    query = textsearch.parse_query("linea sospesa")
    with CaptureQueriesContext(connection) as captured:
        search.search_cases(Case.objects.all(), query)
    statements = [q["sql"] for q in captured.captured_queries if "@@" in q["sql"]]
    # Fewer than 50 found: every window was searched, the last one the whole tables.
    assert len(statements) == len(search.WINDOWS)

    plans = []
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # as care.search plans them
        for n, sql in enumerate(statements):
            if n > 0:
                cursor.execute("SET LOCAL enable_indexscan = off")
            cursor.execute(f"EXPLAIN {sql}")
            plans.append("\n".join(row[0] for row in cursor.fetchall()))
    assert all("Seq Scan" not in plan for plan in plans)
    # The first window may walk the newest ids (bounded); past it, only the GIN indexes.
    for plan in plans[1:]:
        assert "Bitmap Index Scan on care_case_search" in plan
        assert "Bitmap Index Scan on care_note_search" in plan
        assert "Index Scan Backward" not in plan


@pytest.mark.postgres
def test_the_search_leaves_the_planner_settings_as_they_were(operator_api, suspended):
    search.search_cases(Case.objects.all(), textsearch.parse_query("linea"))
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT current_setting('enable_seqscan'), current_setting('enable_indexscan')"
        )
        assert cursor.fetchone() == ("on", "on")
