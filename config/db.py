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
"""

from datetime import UTC

import psycopg
from django.db.models import BooleanField, Lookup
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
