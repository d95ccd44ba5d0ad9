"""config.db: `AnyOf` (one array parameter on PostgreSQL, IN elsewhere), the C reader of
instants, which must give exactly the values Django's own loader gives, and the prepared
cursor with `instance_from_row` that take-next uses on PostgreSQL; `insert_row` and
`update_row`, the statements written once that telephony events use."""

from datetime import UTC, datetime

import pytest
from django.db import connection
from django.db.models import F, Q
from django.test.utils import CaptureQueriesContext

from config.db import (
    AnyOf,
    insert_row,
    instance_from_row,
    prepared_cursor,
    read_instants_in_c,
    update_row,
)
from config.models import Heartbeat

pytestmark = pytest.mark.django_db


@pytest.fixture
def beats(db):
    return [
        Heartbeat.objects.create(
            name=f"beat-{n}", beat_at=datetime(2026, 3, 29, 0, 59, n, tzinfo=UTC)
        )
        for n in range(5)
    ]


def names(queryset) -> list[str]:
    return sorted(queryset.values_list("name", flat=True))


def test_any_of_keeps_the_rows_whose_column_is_in_the_list(beats):
    wanted = ["beat-1", "beat-3", "beat-3", "nobody"]
    assert names(Heartbeat.objects.filter(AnyOf(F("name"), wanted))) == ["beat-1", "beat-3"]
    left = ["beat-0", "beat-2", "beat-4"]
    assert names(Heartbeat.objects.exclude(AnyOf(F("name"), wanted))) == left


def test_any_of_an_empty_list_keeps_nothing_and_its_negation_everything(beats):
    assert names(Heartbeat.objects.filter(AnyOf(F("name"), []))) == []
    assert len(names(Heartbeat.objects.filter(~Q(AnyOf(F("name"), []))))) == 5
    either = Q(AnyOf(F("name"), [])) | Q(name="beat-2")
    assert names(Heartbeat.objects.filter(either)) == ["beat-2"]


@pytest.mark.postgres
def test_on_postgresql_the_ids_are_one_array_parameter(beats):
    with CaptureQueriesContext(connection) as few:
        list(Heartbeat.objects.filter(AnyOf(F("name"), ["beat-0"])))
    with CaptureQueriesContext(connection) as many:
        list(Heartbeat.objects.filter(AnyOf(F("name"), [f"beat-{n}" for n in range(200)])))
    assert "= ANY(" in few[0]["sql"]
    assert few[0]["sql"].count("ANY(") == many[0]["sql"].count("ANY(") == 1


@pytest.mark.postgres
def test_on_postgresql_instants_are_read_by_the_c_loader_with_django_values(beats):
    connection.ensure_connection()
    loader = connection.connection.adapters.get_loader(1184, 0)  # timestamptz, text
    assert loader.__name__ == "_UtcInstantLoader"
    read = Heartbeat.objects.get(name="beat-2").beat_at
    assert read == datetime(2026, 3, 29, 0, 59, 2, tzinfo=UTC)
    assert read.tzinfo is UTC  # what Django's loader gives: aware, in UTC
    with connection.cursor() as cursor:
        cursor.execute("SELECT '2026-07-01 12:00:00.000123+02'::timestamptz, NULL::timestamptz")
        assert cursor.fetchone() == (datetime(2026, 7, 1, 10, 0, 0, 123, tzinfo=UTC), None)


@pytest.mark.postgres
def test_on_postgresql_the_planner_settings_of_the_connection_are_in_force(db):
    """Cursors planned for the whole result; joins weighed in groups of 4 (settings.py)."""
    with connection.cursor() as cursor:
        cursor.execute("SHOW cursor_tuple_fraction")
        assert cursor.fetchone()[0] == "1"
        cursor.execute("SHOW join_collapse_limit")
        assert cursor.fetchone()[0] == "4"
        cursor.execute("SHOW plan_cache_mode")
        assert cursor.fetchone()[0] == "force_generic_plan"


@pytest.mark.postgres
def test_a_prepared_cursor_prepares_once_and_its_statements_are_logged(beats):
    statement = "SELECT name, beat_at FROM config_heartbeat WHERE name = %s"
    with CaptureQueriesContext(connection) as logged:
        for name in ("beat-1", "beat-3"):
            with prepared_cursor() as cursor:
                cursor.execute(statement, [name])
                assert cursor.fetchone() == (name, Heartbeat.objects.get(name=name).beat_at)
    shown = [q["sql"] for q in logged if q["sql"].startswith("SELECT name, beat_at")]
    # Logged and counted as usual, with their values.
    assert shown == [statement.replace("%s", f"'{name}'") for name in ("beat-1", "beat-3")]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE %s",
            ["%FROM config_heartbeat WHERE name = $1%"],
        )
        assert cursor.fetchone()[0] == 1  # parsed and planned once for both executions


@pytest.mark.postgres
def test_instance_from_row_reads_values_as_the_orm_does(beats):
    Heartbeat.objects.filter(name="beat-4").update(detail={"ok": [1, 2]})
    columns = ", ".join(f.column for f in Heartbeat._meta.concrete_fields)
    with prepared_cursor() as cursor:
        cursor.execute(f"SELECT {columns} FROM config_heartbeat WHERE name = %s", ["beat-4"])  # noqa: S608
        made = instance_from_row(Heartbeat, cursor.fetchone())
    read = Heartbeat.objects.get(name="beat-4")
    assert (made.name, made.beat_at, made.detail) == (read.name, read.beat_at, read.detail)
    assert made.detail == {"ok": [1, 2]}  # JSON decoded by the field, as the ORM does
    assert not made._state.adding


def test_elsewhere_the_loader_is_left_alone(db):
    if connection.vendor == "postgresql":
        pytest.skip("SQLite only")
    assert read_instants_in_c(connection=connection) is False


def test_insert_row_inserts_once_and_gives_way_to_an_existing_row(db):
    from routing.models import Site

    fresh = Site(code="sede", name="Sede", province="PA")
    assert insert_row(fresh, unless=("code",))
    assert Site.objects.get(pk=fresh.pk).name == "Sede"
    taken = Site(code="sede", name="Altra sede", province="RM")
    with CaptureQueriesContext(connection) as ctx:
        assert not insert_row(taken, unless=("code",))  # no error, no savepoint
    assert len(ctx.captured_queries) == 1
    assert taken.pk is None
    # The transaction goes on (PostgreSQL would refuse every statement after an error).
    assert list(Site.objects.values_list("name", flat=True)) == ["Sede"]
    assert insert_row(Site(code="altra", name="Altra", province="RM"))


def test_update_row_writes_the_fields_asked_as_save_would(db):
    from routing.models import Site

    site = Site.objects.create(code="sede", name="Sede", province="PA")
    site.name, site.province = "Sede nuova", "RM"
    update_row(site, ("name",))
    stored = Site.objects.get(pk=site.pk)
    assert (stored.name, stored.province) == ("Sede nuova", "PA")
    update_row(site)
    assert Site.objects.get(pk=site.pk).province == "RM"
