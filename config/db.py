"""Database pieces the ORM lacks.

`AnyOf(F("contract_id"), ids)`: the column is one of `ids`. On PostgreSQL it is
`contract_id = ANY(%s)` with the ids as one array parameter: Django builds one lookup
instead of one bound parameter per id, and the driver converts one value. The hot routing
queries test columns against a hundred ids several times over; with `IN (…)` building and
converting them cost more than running them. Elsewhere it is the usual `IN (…)`. Use it as
a filter expression: `.filter(AnyOf(F("client_id"), clients))`.

`read_instants_in_c(connection)`: Django reads every PostgreSQL `timestamptz` through a
pure-Python subclass of psycopg's loader (it pins the result's tzinfo), about 4 µs a value,
so an export of a million cases spent 15 s parsing dates. On a connection whose time zone is
UTC, which Django sets when `USE_TZ` is on, psycopg's C loader gives the very same values
(aware, `datetime.timezone.utc`) about six times faster; it is put in place when a connection
opens. Anything else (no C extension, another time zone) keeps Django's loader.

`prepared_cursor()`: a cursor whose statements PostgreSQL parses and plans once per
connection (server-side binding, prepared at first use; generic plans, see the settings).
Django binds parameters on the client and sends every statement as new text, which
PostgreSQL plans again each time: fine for most code, not for take-next, where planning
was 45 % of PostgreSQL's time. Use it for statements whose shape is fixed and whose best
plan does not depend on the values (an ordered index walk with a limit, a key lookup).
Queries still go through Django's wrapper, so they are logged and counted like any other.

`insert_row(instance, unless=(…))`: one INSERT written once per model; with `unless` it gives
way to an existing row (`ON CONFLICT DO NOTHING`) instead of raising, so the caller needs no
savepoint around it. `update_row(instance, fields)`: the UPDATE of `save()`, written once per
model and fields.

`JSONRows(queryset, *fields)` and `as_prefetched(instance, name, model, rows)`: a few small
related rows (a calendar's hours, a version's SLA targets, a caller's phones) read as one
JSON column of their parent's row instead of one more query each (`prefetch_related`), and
put where a prefetch would have put them, so `parent.children.all()` reads no further.
"""

from contextlib import contextmanager
from datetime import UTC

import psycopg
from django.db import connection as default_connection
from django.db.backends.utils import CursorDebugWrapper, CursorWrapper
from django.db.models import BooleanField, JSONField, Lookup, Model, Subquery
from django.db.models.lookups import In
from psycopg.pq import Format


class AnyOf(Lookup):
    lookup_name = "any_of"
    prepare_rhs = False
    output_field = BooleanField()

    def __init__(self, lhs, rhs):
        super().__init__(lhs, sorted(set(rhs)))

    def as_sql(self, compiler, connection):
        return In(self.lhs, self.rhs).as_sql(compiler, connection)

    def as_postgresql(self, compiler, connection):
        if not self.rhs:
            return "FALSE", ()
        lhs, lhs_params = self.process_lhs(compiler, connection)
        return f"{lhs} = ANY(%s)", (*lhs_params, self.rhs)


class _UtcInstantLoader:
    """psycopg's C `timestamptz` loader behind the `timezone` attribute that Django checks
    before it would register its own loader on each cursor."""

    timezone = UTC
    format = Format.TEXT

    def __init__(self, oid, context=None):
        self.load = _c_loader(oid, context).load  # the C method itself: no Python frame


def _c_timestamptz_loader():
    oid = psycopg.adapters.types["timestamptz"].oid
    loader = psycopg.adapters.get_loader(oid, Format.TEXT)
    return loader if loader.__module__.startswith(("psycopg_binary", "psycopg_c")) else None


_c_loader = None


def read_instants_in_c(sender=None, connection=None, **kwargs) -> bool:
    """`connection_created` receiver: on PostgreSQL in UTC with psycopg's C extension,
    read `timestamptz` with the C loader. Returns whether it did."""
    global _c_loader
    if connection is None or connection.vendor != "postgresql" or connection.timezone != UTC:
        return False
    raw = connection.connection
    if raw.info.parameter_status("TimeZone") != "UTC":
        return False
    _c_loader = _c_loader or _c_timestamptz_loader()
    if _c_loader is None:
        return False
    raw.adapters.register_loader("timestamptz", _UtcInstantLoader)
    return True


@contextmanager
def prepared_cursor(connection=default_connection):
    """A Django cursor over a psycopg cursor with server-side binding (PostgreSQL only):
    `%s` and `%(name)s` parameters as usual, each statement prepared on first execution
    (the connection's `prepare_threshold` is 0, see the settings)."""
    connection.ensure_connection()
    raw = psycopg.Cursor(connection.connection)
    cursor = (
        _PreparedDebugCursor(raw, connection)
        if connection.queries_logged
        else connection.make_cursor(raw)
    )
    with cursor:
        yield cursor


class _PreparedDebugCursor(CursorDebugWrapper):
    """Logs each statement with its values (Django's own log reads them from the cursor's
    last client-side query, which a server-side binding cursor does not have)."""

    def execute(self, sql, params=None):
        try:
            shown = self.db.ops.compose_sql(sql, params)
        except psycopg.Error:
            shown = sql
        with self.debug_sql(shown, params):
            return CursorWrapper.execute(self, sql, params)


def instance_from_row(model, row, connection=default_connection):
    """A model instance from a row of all its concrete columns in field order (as
    `RETURNING` gives them), each value read as the ORM would read it."""
    values = list(row)
    for index, expression, converters in _converters(model, connection):
        for converter in converters:
            values[index] = converter(values[index], expression, connection)
    return model.from_db(connection.alias, None, values)


_converters_cache: dict = {}


def _converters(model, connection) -> list:
    key = (model, connection.vendor)
    if key not in _converters_cache:
        found = []
        for index, field in enumerate(model._meta.concrete_fields):
            expression = field.get_col(model._meta.db_table)
            converters = connection.ops.get_db_converters(expression)
            converters += field.get_db_converters(connection)
            if converters:
                found.append((index, expression, converters))
        _converters_cache[key] = found
    return _converters_cache[key]


def try_advisory_xact_lock(key: int, connection=default_connection) -> bool:
    """PostgreSQL's `pg_try_advisory_xact_lock(key)`: True if this transaction now holds the
    lock (released at its end), False if another holds it. Overlapping runs of one job skip;
    elsewhere (SQLite serialises writers) always True. Each job has its own key."""
    if connection.vendor != "postgresql":
        return True
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [key])
        return bool(cursor.fetchone()[0])


def next_in_yearly_sequence(sequence_model, *, year: int) -> int:
    """The next number of a per-year counter row (`year`, `last`), taken under its row lock
    inside the caller's transaction: gap-free and never given twice (case and order
    references)."""
    # One statement once the year's row exists: the UPDATE takes the row lock and says the
    # number (SQLite and PostgreSQL both answer RETURNING).
    table, last, year_column = map(
        default_connection.ops.quote_name, (sequence_model._meta.db_table, "last", "year")
    )
    with default_connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET {last} = {last} + 1 WHERE {year_column} = %s "  # noqa: S608
            f"RETURNING {last}",
            [year],
        )
        row = cursor.fetchone()
    if row is not None:
        return row[0]
    sequence, _created = sequence_model.objects.select_for_update().get_or_create(year=year)
    sequence.last += 1
    sequence.save(update_fields=["last"])
    return sequence.last


def insert_row(
    instance: Model, *, unless: tuple[str, ...] = (), connection=default_connection
) -> bool:
    """INSERT the instance's row in one statement written once per model (`Model.save`
    builds and compiles it each time), `RETURNING` its new id (SQLite and PostgreSQL both
    say it). With `unless` (the fields of a unique constraint) it gives way to an existing
    row, `ON CONFLICT (…) DO NOTHING`, so the transaction goes on either way, with no
    savepoint around an IntegrityError. True, with the instance's primary key set, when the
    row was inserted. The columns are the model's own; the values are bound parameters."""
    meta = instance._meta
    sql, fields = _insert_sql(type(instance), unless, connection)
    values = [f.get_db_prep_save(f.pre_save(instance, True), connection) for f in fields]
    with connection.cursor() as cursor:
        cursor.execute(sql, values)
        row = cursor.fetchone()
    if row is None:
        return False
    setattr(instance, meta.pk.attname, row[0])
    instance._state.adding, instance._state.db = False, connection.alias
    return True


_insert_cache: dict = {}


def _insert_sql(model, unless: tuple[str, ...], connection) -> tuple[str, list]:
    key = (model, unless, connection.vendor)
    if key not in _insert_cache:
        meta = model._meta
        fields = [f for f in meta.concrete_fields if not f.primary_key]
        quote = connection.ops.quote_name
        columns = ", ".join(quote(f.column) for f in fields)
        conflict = ", ".join(quote(meta.get_field(name).column) for name in unless)
        sql = (
            f"INSERT INTO {quote(meta.db_table)} ({columns}) "  # noqa: S608
            f"VALUES ({', '.join(['%s'] * len(fields))}) "
            + (f"ON CONFLICT ({conflict}) DO NOTHING " if unless else "")
            + f"RETURNING {quote(meta.pk.column)}"
        )
        _insert_cache[key] = (sql, fields)
    return _insert_cache[key]


def update_row(
    instance: Model, fields: tuple[str, ...] = (), *, connection=default_connection
) -> None:
    """UPDATE the instance's row by its primary key, every column or `fields`, in one
    statement written once per model and fields (what `save()` and `save(update_fields=…)`
    send, without building and compiling it each time)."""
    sql, targets = _update_sql(type(instance), fields, connection)
    values = [f.get_db_prep_save(f.pre_save(instance, False), connection) for f in targets]
    with connection.cursor() as cursor:
        cursor.execute(sql, [*values, instance.pk])


_update_cache: dict = {}


def _update_sql(model, fields: tuple[str, ...], connection) -> tuple[str, list]:
    key = (model, fields, connection.vendor)
    if key not in _update_cache:
        meta = model._meta
        targets = (
            [meta.get_field(name) for name in fields]
            if fields
            else [f for f in meta.concrete_fields if not f.primary_key]
        )
        quote = connection.ops.quote_name
        assignments = ", ".join(f"{quote(f.column)} = %s" for f in targets)
        sql = f"UPDATE {quote(meta.db_table)} SET {assignments} WHERE {quote(meta.pk.column)} = %s"  # noqa: S608
        _update_cache[key] = (sql, targets)
    return _update_cache[key]


class JSONRows(Subquery):
    """A correlated subquery's rows (`fields` of `queryset`, in its order) as one JSON array of
    objects: `json_agg` on PostgreSQL, `json_group_array` on SQLite. Annotate the parent with
    it, then hand the rows to `as_prefetched`. For a handful of rows of plain columns."""

    LIMIT = 10_000  # a limit keeps the queryset's ORDER BY, which a subquery would drop

    def __init__(self, queryset, *fields: str):
        self.fields = fields
        super().__init__(queryset.values(*fields)[: self.LIMIT], output_field=JSONField())

    def as_sql(self, compiler, connection, template=None, **extra_context):
        inner, params = super().as_sql(compiler, connection)
        pairs = ", ".join(
            f"'{name}', rows.{connection.ops.quote_name(name)}" for name in self.fields
        )
        if connection.vendor == "postgresql":
            aggregate = f"COALESCE(json_agg(json_build_object({pairs})), '[]')::text"
        else:
            aggregate = f"json_group_array(json_object({pairs}))"
        # the names are the model's own fields, quoted; the values are bound parameters
        return f"(SELECT {aggregate} FROM {inner} rows)", params  # noqa: S608


def as_prefetched(instance: Model, name: str, model: type[Model], rows) -> list:
    """Model instances of `rows` (from `JSONRows`) kept as `instance.<name>.all()`, as
    `prefetch_related(name)` would have kept them, each knowing its parent."""
    manager = getattr(instance, name)
    parent_field = manager.field.name
    objects = []
    for row in rows or ():
        values = {
            field.attname: field.to_python(row[field.attname])
            for field in model._meta.concrete_fields
            if field.attname in row
        }
        obj = model(**values)
        obj._state.adding, obj._state.db = False, instance._state.db
        obj._state.fields_cache[parent_field] = instance
        objects.append(obj)
    return keep_prefetched(instance, name, objects)


def keep_prefetched(instance: Model, name: str, objects: list) -> list:
    """`objects` kept as `instance.<name>.all()` (a reverse foreign key), as a prefetch would."""
    manager = getattr(instance, name)
    queryset = manager.get_queryset()
    queryset._result_cache, queryset._prefetch_done = objects, True
    cache = instance.__dict__.setdefault("_prefetched_objects_cache", {})
    cache[manager.field.remote_field.cache_name] = queryset
    return objects
