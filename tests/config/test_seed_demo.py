"""`manage.py seed_demo` (the default `small` scale) can run any number of times."""

import io
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection
from django.db.models import Q

from care.models import OPEN_STATUSES, Case, CaseStatus, SlaState
from config.demo import DEMO_PASSWORD
from routing.services import take_next_case

pytestmark = pytest.mark.django_db


def row_counts() -> dict[str, int]:
    with connection.cursor() as cursor:
        counts = {}
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f"SELECT COUNT(*) FROM {connection.ops.quote_name(table)}")  # noqa: S608
            counts[table] = cursor.fetchone()[0]
    return counts


def test_seed_demo_twice_leaves_every_table_as_the_first_run_did(settings, role_groups):
    settings.DEBUG = True  # seed_demo refuses to create known logins otherwise
    output = io.StringIO()
    call_command("seed_demo", stdout=output)
    # `make run` prints the logins once, beside the address; seed_demo does not repeat them.
    assert DEMO_PASSWORD not in output.getvalue()
    first = row_counts()
    assert first[Case._meta.db_table] > 0
    call_command("seed_demo", stdout=io.StringIO())
    assert row_counts() == first


def _seed(settings, stdout=None):
    settings.DEBUG = True
    # As `make run` seeds the demo: pull-only (PRESIDIO_AUTO_ASSIGN=false), so the queued
    # cases wait for *Prossimo caso*.
    settings.ROUTING_AUTO_ASSIGN = False
    call_command("seed_demo", stdout=stdout or io.StringIO())


def test_the_demo_looks_like_a_working_unit_at_any_now(settings, role_groups, now, manager_api):
    _seed(settings)
    open_cases = Case.objects.filter(status__in=OPEN_STATUSES)
    breached = open_cases.filter(
        Q(resolution_state=SlaState.BREACHED) | Q(first_response_state=SlaState.BREACHED)
    )
    assert open_cases.count() >= 25
    assert breached.count() <= 0.15 * open_cases.count()
    assert breached.exists()  # a few, so the breach pages have something to show
    assert open_cases.filter(resolution_state=SlaState.AT_RISK).exists()
    # The demo operator works one case and finds more waiting in the queues.
    operatore = get_user_model().objects.get(username="operatore")
    mine = open_cases.filter(assignee=operatore)
    assert mine.count() == 1
    assert mine.get().resolution_state == SlaState.OK
    assert open_cases.filter(status=CaseStatus.NEW, assignee=None).count() >= 5
    taken = take_next_case(operator=operatore)
    assert taken is not None
    assert taken.assignee_id == operatore.id
    # Plausible Italian: no template left unfilled, no filler word, subjects and texts vary.
    texts = list(Case.objects.values_list("description", flat=True))
    assert not [t for t in texts if "vedi" in t or "…" in t or "sì/no" in t]
    assert len(set(texts)) == len(texts)
    assert Case.objects.values("subject").distinct().count() >= 20
    # Weeks of history for the reports: resolved on time mostly, some late, some closed.
    history = Case.objects.filter(resolved_at__isnull=False)
    assert history.count() >= 40
    assert history.filter(opened_at__lt=now - timedelta(days=14)).exists()
    assert history.filter(status=CaseStatus.CLOSED).exists()
    start = (now - timedelta(days=28)).date().isoformat()
    response = manager_api.get(
        f"/api/v1/reports/sla-compliance/?format=json&from={start}&to={now.date().isoformat()}"
    )
    assert response.status_code == 200
    assert response.json()["count"] > 0


def test_a_demo_seeded_long_ago_comes_back_to_life(settings, role_groups, now, time_machine):
    _seed(settings)
    first = Case.objects.count()
    left_open = set(Case.objects.filter(status__in=OPEN_STATUSES).values_list("id", flat=True))
    time_machine.move_to(now + timedelta(days=9))
    output = io.StringIO()
    _seed(settings, output)
    assert "refreshed" in output.getvalue()
    open_cases = Case.objects.filter(status__in=OPEN_STATUSES)
    assert Case.objects.count() > first
    assert not open_cases.filter(id__in=left_open).exists()  # resolved while "away"
    assert open_cases.filter(status=CaseStatus.NEW).count() >= 5
    breached = open_cases.filter(resolution_state=SlaState.BREACHED).count()
    assert breached <= 0.15 * open_cases.count()
    # A second run the same day finds the demo alive and leaves it alone.
    counts = row_counts()
    _seed(settings)
    assert row_counts() == counts


def test_the_demo_knowledge_base_answers_the_demo_operator(settings, role_groups):
    """Right after `make run` the suggestion panel, the search and Alt+R have something to
    offer: articles published by a second person, replies of every kind."""
    from care import article_selectors, reply_selectors
    from care.models import Article, ArticleStatus

    _seed(settings)
    articles = Article.objects.all()
    assert articles.count() >= 5
    assert not articles.exclude(status=ArticleStatus.PUBLISHED).exists()
    assert all(v.reviewer_id != v.author_id for a in articles for v in a.versions.all())
    operatore = get_user_model().objects.get(username="operatore")
    case = Case.objects.filter(status__in=OPEN_STATUSES, category__code="roaming").first()
    suggested = article_selectors.suggested_articles(
        operatore, contract=case.contract, category_code="roaming", text="roaming all'estero"
    )
    assert "Roaming non funzionante all'estero: i controlli in ordine" in [
        found.article.title for found in suggested
    ]
    assert reply_selectors.replies_for_case(operatore, case).exists()


def test_the_demo_supervisor_sees_the_whole_demo_in_the_console(settings, role_groups, client):
    """The demo supervisor runs every demo site and queue (DESIGN §2): `make run` shows a
    full console, not the message for a supervisor of nothing."""
    from routing.models import OperatorProfile, Queue

    _seed(settings)
    client.force_login(get_user_model().objects.get(username="supervisore"))
    page = client.get("/routing/console/").content.decode()
    assert 'data-testid="no-scope"' not in page
    assert page.count('data-testid="operator-row"') == OperatorProfile.objects.count()
    assert page.count('data-testid="queue-row"') == Queue.objects.count()
