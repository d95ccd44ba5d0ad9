"""The reference data sets of the benchmark: `seed_demo --scale national` (DESIGN.md section 8)
and `--scale bench-small` (the QUICK size), built on PostgreSQL with COPY, never the ORM row
by row.

Deterministic: the rows depend only on the scale, the seed and `now` (the instant the data
set is "as of"; by default the start of the current UTC day). Everything is random.Random
draws in a fixed order, ids are given explicitly and sequences are reset afterwards.

How it stays fast:
- one transaction; rows are generated as COPY text in memory chunks (psycopg 3
  `cursor.copy`), the secondary indexes of the big tables are dropped first and rebuilt once
  at the end (inside the same transaction, so a failed build leaves nothing behind), and the
  foreign-key triggers are skipped (`session_replication_role = replica`) when the database
  user may do so; the rows are valid by construction (and the indexes, incl. the unique
  ones, are rebuilt and so re-checked);
- SLA due instants are computed with a per-calendar *timeline*: the calendar module
  (`contracts.calendars.opening_intervals`) lists every open span of the whole period once,
  with the business time accumulated before each; "n business minutes after t" is then two
  binary searches. A sample of cases is checked against `care.clock.deadlines` itself, so the
  stored instants are exactly what the service would have stored.

The marker table `bench_dataset` (plain SQL, not a model) records what was built, so the
benchmark reuses a data set built with the same scale, seed and builder version.
"""

import json
import random
import sys
import time
from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, timedelta

from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.db import connection, transaction
from django.db.models.fields import AutoFieldMixin

from care import clock
from care.models import Case
from config import roles
from contracts import calendars
from contracts.calendars import CalendarSpec, Interval
from contracts.cards import render_card
from contracts.demo import CARD, CATEGORIES, FIRST_NAMES, LAST_NAMES, _targets, _vat
from contracts.models import BusinessCalendar, Category, Client, Contract
from routing.services import queue_for

# 2: past calls; 3: search documents of cases and notes (care 0018): nothing more to load,
# COPY fills the generated columns and `prepare`/`finish` drop and rebuild their GIN indexes
# with the others, but a data set built before them has neither; 4: knowledge-base articles.
BUILDER_VERSION = 4
MARKER_TABLE = "bench_dataset"
BENCH_PASSWORD = "presidio-bench"  # noqa: S105 - benchmark logins on a throwaway database
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
US = 1_000_000
MINUTE_US = 60 * US
DAY_US = 86_400 * US


@dataclass(frozen=True)
class Scale:
    sites: int
    operators: int
    clients: int
    contracts: int
    end_users: int
    cases: int
    open_cases: int
    notes_per_case: int = 3
    days: int = 730  # cases opened over the last two years
    calls: int = 0  # past calls, over the last `call_days`
    call_days: int = 90
    articles: int = 0  # published knowledge-base articles, mixed scopes


SCALES = {
    "national": Scale(
        sites=10,
        operators=300,
        clients=60,
        contracts=100,
        end_users=200_000,
        cases=1_000_000,
        open_cases=50_000,
        calls=2_000_000,
        articles=10_000,
    ),
    # The QUICK size of `make bench QUICK=1` and the smoke test.
    "bench-small": Scale(
        sites=3,
        operators=40,
        clients=6,
        contracts=10,
        end_users=500,
        cases=2_000,
        open_cases=400,
        days=120,
        calls=20_000,
        call_days=14,
        articles=500,
    ),
}


class BuildError(Exception):
    pass


# --- Fixed vocabulary ------------------------------------------------------------------------

PROVINCES = ["PA", "MI", "RM", "NA", "TO", "BA", "FI", "BO", "GE", "VE", "CA"]
CITY = {
    "PA": "Palermo",
    "MI": "Milano",
    "RM": "Roma",
    "NA": "Napoli",
    "TO": "Torino",
    "BA": "Bari",
    "FI": "Firenze",
    "BO": "Bologna",
    "GE": "Genova",
    "VE": "Venezia",
    "CA": "Cagliari",
}
OFFICE = [(510, 780), (840, 1050)]
WEEKLY = [
    dict.fromkeys(range(5), OFFICE) | {5: [(540, 720)]},
    {d: [(510, 1080)] for d in range(5)},
    {d: [(480, 1200)] for d in range(6)},
    dict.fromkeys(range(5), OFFICE),
]
SEGMENTS = ["PA", "PA", "TOP", "LARGE", "PA", "TOP", "LARGE", "PA", "TOP", "LARGE"]
SERVICE_SETS = [["mobile"], ["mobile", "data"], ["mobile", "iot"], ["mobile", "fixed", "data"]]
OPEN_STATUSES = [
    # status, weight
    ("new", 40),
    ("assigned", 12),
    ("in_progress", 28),
    ("waiting_customer", 10),
    ("waiting_unit", 10),
]
PRIORITIES = ["P1", "P2", "P3", "P4"]
CHANNELS = ["phone"] * 7 + ["email", "email", "portal"]
NOTE_BODIES = [
    "Chiamata registrata, verificata l'identità del chiamante.",
    "Abbiamo preso in carico la richiesta, la aggiorneremo a breve.",
    "Verificato il profilo della linea: nessuna anomalia sul provisioning.",
    "Richiesto al cliente il numero di denuncia e il modello del terminale.",
    "Inoltrata la segnalazione ad Assurance rete con i dati raccolti.",
    "Il cliente conferma che il servizio è tornato regolare.",
]
NOTES_PATTERN = [1, 2, 3, 3, 4, 5]  # averages 3 notes a case
MOBILE_PREFIXES = [
    "320",
    "328",
    "329",
    "330",
    "333",
    "335",
    "338",
    "339",
    "340",
    "345",
    "347",
    "348",
    "349",
    "350",
    "366",
    "380",
    "388",
    "389",
    "392",
    "393",
]


def phone_of(n: int) -> str:
    """The E.164 number of end user number n (0-based): unique for n below 200 million."""
    prefix = MOBILE_PREFIXES[n % len(MOBILE_PREFIXES)]
    rest = (n // len(MOBILE_PREFIXES) * 7919 + 1_234_567) % 10_000_000
    return f"+39{prefix}{rest:07d}"


# --- COPY text ------------------------------------------------------------------------------


def _esc(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def _ts(us: int) -> str:
    return (EPOCH + timedelta(microseconds=us)).isoformat()


def _json(value) -> str:
    return _esc(json.dumps(value, ensure_ascii=False))


def _field_default(field) -> str:
    if field.has_default() or (field.empty_strings_allowed and not field.null and field.blank):
        value = field.get_default()
        if isinstance(value, bool):
            return "t" if value else "f"
        if isinstance(value, dict | list):
            return _json(value)
        return "\\N" if value is None else _esc(str(value))
    if field.null:
        return "\\N"
    raise BuildError(
        f"{field.model._meta.db_table}.{field.column} is required and the data-set builder does "
        "not know it: add it to config/bench/data.py."
    )


class Copier:
    """COPY rows into one model's table; columns the builder does not know get their
    model default (so a field added by another app later does not break the build)."""

    CHUNK = 4 * 1024 * 1024

    def __init__(self, progress: "Progress", model, columns: list[str]):
        self.progress = progress
        self.model = model
        self.table = model._meta.db_table
        known = set(columns)
        extra = [
            f
            for f in model._meta.concrete_fields
            if f.column not in known and not (f.primary_key and isinstance(f, AutoFieldMixin))
        ]
        self.columns = columns + [f.column for f in extra]
        self.suffix = "".join("\t" + _field_default(f) for f in extra)

    def copy(self, rows: Iterable[str], *, total: int, label: str) -> int:
        """`rows` yields tab-separated lines without the newline."""
        sql = f"COPY {self.table} ({', '.join(self.columns)}) FROM STDIN"
        count = 0
        buffer: list[str] = []
        size = 0
        suffix = self.suffix + "\n"
        self.progress.start(label, total)
        with connection.cursor() as wrapper, wrapper.cursor.copy(sql) as copy:
            for line in rows:
                buffer.append(line + suffix)
                size += len(line)
                count += 1
                if size >= self.CHUNK:
                    copy.write("".join(buffer))
                    buffer, size = [], 0
                    self.progress.update(count)
            if buffer:
                copy.write("".join(buffer))
        self.progress.done(count)
        return count


class Progress:
    """Plain progress lines on stderr: percentage, count, rate, elapsed time."""

    def __init__(self, stream=None, quiet: bool = False):
        self.stream = stream or sys.stderr
        self.quiet = quiet
        self.started = time.perf_counter()
        self.label, self.total, self.step_started, self.last = "", 0, 0.0, 0.0

    def say(self, text: str) -> None:
        if not self.quiet:
            elapsed = time.perf_counter() - self.started
            self.stream.write(f"[{elapsed:7.1f}s] {text}\n")
            self.stream.flush()

    def start(self, label: str, total: int) -> None:
        self.label, self.total = label, total
        self.step_started = self.last = time.perf_counter()

    def update(self, count: int, *, force: bool = False) -> None:
        now = time.perf_counter()
        if not force and now - self.last < 2:
            return
        self.last = now
        rate = count / max(now - self.step_started, 1e-9)
        share = 100 * count / self.total if self.total else 100
        self.say(f"{self.label}: {share:5.1f}% {count:,}/{self.total:,} ({rate:,.0f} rows/s)")

    def done(self, count: int) -> None:
        self.update(count, force=True)


# --- Business-time timeline (the calendar module, computed once per calendar) ---------------


class Timeline:
    """Every open span of one calendar over the data set's period, with the business time
    before each: `add(t, minutes)` and `next_opening(t)` by binary search, in integer
    microseconds since the epoch. Same semantics as `contracts.calendars`: counting starts
    at the next opening, and a budget that ends exactly at a closing returns that closing."""

    def __init__(self, spec, start_us: int, end_us: int):

        self.always_open = spec.always_open
        self.begins: list[int] = []
        self.ends: list[int] = []
        self.cum_end: list[int] = []
        if self.always_open:
            return
        total = 0
        low, high = EPOCH + timedelta(microseconds=start_us), EPOCH + timedelta(microseconds=end_us)
        for begin, end in calendars.opening_intervals(spec, low, high):
            b = (begin - EPOCH) // timedelta(microseconds=1)
            e = (end - EPOCH) // timedelta(microseconds=1)
            self.begins.append(b)
            self.ends.append(e)
            total += e - b
            self.cum_end.append(total)

    def position(self, t: int) -> int:
        i = bisect_right(self.begins, t) - 1
        if i < 0:
            return 0
        before = self.cum_end[i] - (self.ends[i] - self.begins[i])
        return before + min(t, self.ends[i]) - self.begins[i]

    def add(self, t: int, budget_us: int) -> int:
        if self.always_open:
            return t + budget_us
        target = self.position(t) + budget_us
        j = bisect_left(self.cum_end, target)
        if j >= len(self.cum_end):
            raise BuildError("the timeline is too short for a due instant")
        return self.ends[j] - (self.cum_end[j] - target)

    def next_opening(self, t: int) -> int:
        if self.always_open:
            return t
        i = bisect_right(self.begins, t) - 1
        if i >= 0 and t < self.ends[i]:
            return t
        return self.begins[i + 1]


def _budget_us(minutes: float) -> int:
    return timedelta(minutes=minutes) // timedelta(microseconds=1)


# --- The marker -----------------------------------------------------------------------------


def require_postgresql(scale: str) -> None:
    if connection.vendor != "postgresql":
        raise BuildError(
            f"--scale {scale} loads with PostgreSQL COPY: set DATABASE_URL to a PostgreSQL "
            "database (make bench starts a throwaway one). SQLite has --scale small."
        )


def read_marker() -> dict | None:
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s)", [MARKER_TABLE])
        if cursor.fetchone()[0] is None:
            return None
        cursor.execute(
            f"SELECT scale, seed, version, as_of, built_at, seconds, counts FROM {MARKER_TABLE} "  # noqa: S608
            "ORDER BY built_at DESC LIMIT 1"
        )
        row = cursor.fetchone()
    if row is None:
        return None
    counts = row[6] if isinstance(row[6], dict) else json.loads(row[6])
    return {
        "scale": row[0],
        "seed": row[1],
        "version": row[2],
        "as_of": row[3].isoformat(),
        "built_at": row[4].isoformat(),
        "seconds": row[5],
        "counts": counts,
    }


def _write_marker(*, scale: str, seed: int, as_of: datetime, seconds: float, counts: dict):
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TABLE IF NOT EXISTS {MARKER_TABLE} (scale text NOT NULL, seed integer "
            "NOT NULL, version integer NOT NULL, as_of timestamptz NOT NULL, built_at "
            "timestamptz NOT NULL, seconds double precision NOT NULL, counts jsonb NOT NULL)"
        )
        cursor.execute(
            f"INSERT INTO {MARKER_TABLE} VALUES (%s, %s, %s, %s, now(), %s, %s)",  # noqa: S608
            [scale, seed, BUILDER_VERSION, as_of, seconds, json.dumps(counts)],
        )


# --- The builder ----------------------------------------------------------------------------


def default_as_of() -> datetime:
    today = datetime.now(UTC).date()
    return datetime(today.year, today.month, today.day, tzinfo=UTC)


def build(
    *, scale: str, seed: int = 1, as_of: datetime | None = None, progress: Progress | None = None
) -> dict:
    """Build the data set of `scale` into an empty database (migrated; the demo logins may
    exist). Returns what the marker records. Refuses a database that already holds clients
    or cases, and any database but PostgreSQL."""
    require_postgresql(scale)
    if scale not in SCALES:
        raise BuildError(f"unknown scale {scale!r}")
    progress = progress or Progress()
    as_of = as_of or default_as_of()
    started = time.perf_counter()
    builder = _Builder(SCALES[scale], seed=seed, now=as_of, progress=progress)
    with transaction.atomic():
        builder.check_empty()
        builder.prepare()
        counts = builder.run()
        builder.finish()
        seconds = time.perf_counter() - started
        _write_marker(scale=scale, seed=seed, as_of=as_of, seconds=seconds, counts=counts)
    progress.say("VACUUM ANALYZE")
    builder.vacuum()
    seconds = time.perf_counter() - started
    progress.say(f"built {scale} (seed {seed}) in {seconds:.1f}s: {counts}")
    return {"scale": scale, "seed": seed, "seconds": seconds, "counts": counts}


BIG_MODELS = (
    "contracts.EndUser",
    "contracts.EndUserPhone",
    "care.Case",
    "care.Note",
    "care.CaseEvent",
    "care.SlaAlert",
    "routing.Assignment",
)


class _Builder:
    def __init__(self, scale: Scale, *, seed: int, now: datetime, progress: Progress):
        from django.apps import apps

        self.s = scale
        self.rng = random.Random(seed)  # noqa: S311 - test data, not security
        self.seed = seed
        self.now = now
        self.now_us = (now - EPOCH) // timedelta(microseconds=1)
        self.progress = progress
        self.m = apps.get_model
        self.dropped: list[tuple[str, str]] = []
        self.counts: dict[str, int] = {}
        self.now_text = _ts(self.now_us)

    # --- setup ---
    def check_empty(self) -> None:

        if Client.objects.exists() or Case.objects.exists() or BusinessCalendar.objects.exists():
            raise BuildError(
                "the database already holds clients, calendars or cases: the benchmark data "
                "set needs an empty (migrated) database."
            )

    def prepare(self) -> None:
        with connection.cursor() as cursor:
            cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
            if cursor.fetchone()[0]:
                # Rows are valid by construction; skip the per-row foreign-key triggers.
                cursor.execute("SET LOCAL session_replication_role = replica")
            cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
            for label in BIG_MODELS:
                table = self.m(label)._meta.db_table
                cursor.execute(
                    "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.tablename = %s "
                    "AND i.schemaname = current_schema() AND NOT EXISTS (SELECT 1 FROM "
                    "pg_constraint c WHERE c.conindid = (quote_ident(i.schemaname) || '.' || "
                    "quote_ident(i.indexname))::regclass)",
                    [table],
                )
                for name, definition in cursor.fetchall():
                    self.dropped.append((name, definition))
                    cursor.execute(f'DROP INDEX "{name}"')
        self.progress.say(f"dropped {len(self.dropped)} secondary indexes for the load")

    def finish(self) -> None:
        self.progress.say(f"rebuilding {len(self.dropped)} indexes")
        with connection.cursor() as cursor:
            for n, (_name, definition) in enumerate(self.dropped, 1):
                cursor.execute(definition)
                if n % 5 == 0:
                    self.progress.say(f"indexes: {n}/{len(self.dropped)}")
            cursor.execute(
                "SELECT c.relname, a.attname FROM pg_class c JOIN pg_attribute a ON "
                "a.attrelid = c.oid JOIN pg_namespace n ON n.oid = c.relnamespace WHERE "
                "n.nspname = current_schema() AND a.attidentity <> '' AND c.relkind = 'r'"
            )
            for table, column in cursor.fetchall():
                cursor.execute(
                    "SELECT setval(pg_get_serial_sequence(%s, %s), COALESCE((SELECT "  # noqa: S608
                    f'max("{column}") FROM "{table}"), 0) + 1, false)',
                    [table, column],
                )

    def vacuum(self) -> None:
        tables = [self.m(label)._meta.db_table for label in BIG_MODELS]
        with connection.cursor() as cursor:
            for table in tables:
                cursor.execute(f'VACUUM (ANALYZE) "{table}"')
            cursor.execute("ANALYZE")

    def next_id(self, label: str) -> int:
        model = self.m(label)
        with connection.cursor() as cursor:
            cursor.execute(f'SELECT COALESCE(max(id), 0) + 1 FROM "{model._meta.db_table}"')  # noqa: S608
            return cursor.fetchone()[0]

    def copy(self, label: str, columns: list[str], rows, *, total: int) -> int:
        count = Copier(self.progress, self.m(label), columns).copy(rows, total=total, label=label)
        self.counts[label] = self.counts.get(label, 0) + count
        return count

    # --- the steps ---
    def run(self) -> dict:
        self.calendars()
        self.sites_and_queues()
        self.clients_and_contracts()
        self.operators()
        self.end_users()
        self.cases()
        self.calls()
        self.articles()
        return self.counts

    def calendars(self) -> None:
        rng, now = self.rng, self.now_text
        n = max(4, min(len(PROVINCES), self.s.sites + 1))
        self.calendar_rows = []  # (id, province, always_open, weekly)
        for i in range(n):
            province = PROVINCES[i % len(PROVINCES)]
            always = i == n - 1
            weekly = {} if always else WEEKLY[i % len(WEEKLY)]
            self.calendar_rows.append((i + 1, province, always, weekly))
        self.copy(
            "contracts.BusinessCalendar",
            ["id", "name", "timezone", "province", "always_open", "created_at", "updated_at"],
            (
                f"{cid}\t{'Sala operativa 24x7' if always else CITY[prov] + ' uffici'}"
                f"\tEurope/Rome\t{'' if always else prov}\t{'t' if always else 'f'}\t{now}\t{now}"
                for cid, prov, always, _w in self.calendar_rows
            ),
            total=n,
        )
        intervals = [
            f"{cid}\t{day}\t{start}\t{end}"
            for cid, _p, _a, weekly in self.calendar_rows
            for day, spans in sorted(weekly.items())
            for start, end in spans
        ]
        self.copy(
            "contracts.OpeningInterval",
            ["calendar_id", "weekday", "start_minute", "end_minute"],
            intervals,
            total=len(intervals),
        )
        closures = []
        for cid, _p, always, _w in self.calendar_rows:
            if always:
                continue
            for year in range(self.now.year - 3, self.now.year + 2):
                if rng.random() < 0.5:
                    closures.append(f"{cid}\t{year}-12-24\tVigilia di Natale")
                closures.append(f"{cid}\t{year}-12-31\tSan Silvestro")
        self.copy(
            "contracts.ClosureDay",
            ["calendar_id", "day", "reason"],
            closures,
            total=len(closures),
        )

    def sites_and_queues(self) -> None:
        rows = []
        for i in range(self.s.sites):
            province = PROVINCES[i % len(PROVINCES)]
            calendar = self.calendar_rows[i % (len(self.calendar_rows) - 1)][0]
            rows.append(f"{i + 1}\tsede-{province.lower()}-{i + 1}\tSede di {CITY[province]}")
            rows[-1] += f"\t{province}\t{calendar}"
        self.copy(
            "routing.Site", ["id", "code", "name", "province", "calendar_id"], rows, total=len(rows)
        )
        existing = set(self.m("routing.Queue").objects.values_list("code", flat=True))
        queues = [
            # code, name, segment, categories ("generale" comes with routing's migration)
            ("generale", "Coda generale", "", []),
            ("pa", "Pubblica amministrazione", "PA", []),
            ("top", "Clienti TOP", "TOP", []),
            ("large", "Clienti Large", "LARGE", []),
            ("sim-urgenti", "SIM smarrite o rubate", "", ["sim-lost"]),
        ]
        self.copy(
            "routing.Queue",
            ["code", "name", "segment", "service", "category_codes"],
            (
                f"{code}\t{name}\t{segment}\t\t{_json(cats)}"
                for code, name, segment, cats in queues
                if code not in existing
            ),
            total=len(queues),
        )

    def clients_and_contracts(self) -> None:

        s, now = self.s, self.now_text
        clients = []
        for i in range(s.clients):
            province = PROVINCES[i % len(PROVINCES)]
            segment = SEGMENTS[i % len(SEGMENTS)]
            kind = {"PA": "Ente pubblico", "TOP": "Gruppo", "LARGE": "Azienda"}[segment]
            clients.append((i + 1, f"{kind} {CITY[province]} {i + 1:03d}", segment, province))
        self.clients = clients
        self.copy(
            "contracts.Client",
            [
                "id",
                "name",
                "segment",
                "vat_number",
                "province",
                "is_active",
                "created_at",
                "updated_at",
            ],
            (
                f"{cid}\t{name}\t{seg}\t{_vat(500 + cid)}\t{prov}\tt\t{now}\t{now}"
                for cid, name, seg, prov in clients
            ),
            total=len(clients),
        )
        referents = [
            f"{cid}\tReferente\t{n}\tResponsabile telefonia\t\t"
            f"referente{n}.{cid}@cliente.example.it\t{'t' if n == 1 else 'f'}"
            for cid, *_ in clients
            for n in (1, 2)
        ]
        self.copy(
            "contracts.Referent",
            ["client_id", "first_name", "last_name", "role", "phone", "email", "is_primary"],
            referents,
            total=len(referents),
        )
        # Contracts: the first clients hold two, the others one.
        doubles = s.contracts - s.clients
        contracts = []  # (id, client index, calendar id, services, fast)
        for ci in range(s.clients):
            for k in range(2 if ci < doubles else 1):
                cid = len(contracts) + 1
                calendar = self.calendar_rows[(ci + k) % len(self.calendar_rows)][0]
                contracts.append(
                    (cid, ci, calendar, SERVICE_SETS[(ci + k) % len(SERVICE_SETS)], cid % 3 == 0)
                )
        self.contracts = contracts
        self.copy(
            "contracts.Contract",
            [
                "id",
                "code",
                "client_id",
                "calendar_id",
                "services",
                "valid_from",
                "valid_to",
                "status",
                "created_at",
                "updated_at",
            ],
            (
                f"{cid}\tBENCH-{cid:03d}-{2024 + cid % 3}\t{clients[ci][0]}\t{cal}\t{_json(svc)}"
                f"\t2024-01-01\t2028-12-31\tactive\t{now}\t{now}"
                for cid, ci, cal, svc, _f in contracts
            ),
            total=len(contracts),
        )
        version_rows, target_rows, category_rows = [], [], []
        self.targets: dict[tuple[int, int], tuple[int, int]] = {}
        self.category_ids: dict[tuple[int, int], int] = {}
        units = [
            {"code": "assurance", "name": "Assurance rete", "email": "assurance@x.invalid"},
            {"code": "backoffice", "name": "Back-office", "email": "backoffice@x.invalid"},
        ]
        contacts = [{"name": "Sala controllo", "role": "H24", "phone": "", "email": ""}]
        for cid, ci, _cal, svc, fast in contracts:
            markdown = CARD.format(client=clients[ci][1], services=", ".join(svc))
            version_rows.append(
                f"{cid}\t{cid}\t1\t2024-01-01\t\\N\t0.20\t{_esc(markdown)}"
                f"\t{_esc(render_card(markdown))}\t{_json({'linee': 500 + cid})}\t{_json(units)}"
                f"\t{_json(contacts)}\tContratto iniziale\t\\N\t{now}"
            )
            for p, target in enumerate(_targets(fast)):
                target_rows.append(
                    f"{cid}\t{target.priority}\t{target.first_response_minutes}"
                    f"\t{target.resolution_minutes}"
                )
                self.targets[(cid, p)] = (target.first_response_minutes, target.resolution_minutes)
            for k, category in enumerate(CATEGORIES):
                category_id = len(category_rows) + 1
                self.category_ids[(cid, k)] = category_id
                category_rows.append(
                    f"{category_id}\t{cid}\t{category.code}\t{_esc(category.name)}"
                    f"\t{category.default_priority}\t{_esc(category.template)}"
                )
        self.copy(
            "contracts.ContractVersion",
            [
                "id",
                "contract_id",
                "number",
                "effective_from",
                "effective_to",
                "at_risk_share",
                "card_markdown",
                "card_html",
                "entitlements",
                "handoff_units",
                "escalation_contacts",
                "change_summary",
                "created_by_id",
                "created_at",
            ],
            version_rows,
            total=len(version_rows),
        )
        self.copy(
            "contracts.SlaTarget",
            ["version_id", "priority", "first_response_minutes", "resolution_minutes"],
            target_rows,
            total=len(target_rows),
        )
        self.copy(
            "contracts.Category",
            ["id", "version_id", "code", "name", "default_priority", "template"],
            category_rows,
            total=len(category_rows),
        )
        self.categories = CATEGORIES

    def operators(self) -> None:
        s, rng, now = self.s, self.rng, self.now_text
        first_id = self.next_id("auth.User")
        password = _esc(make_password(BENCH_PASSWORD))

        self.operator_ids = list(range(first_id, first_id + s.operators))
        users = []
        for n, uid in enumerate(self.operator_ids):
            first, last = FIRST_NAMES[n % len(FIRST_NAMES)], LAST_NAMES[n * 7 % len(LAST_NAMES)]
            users.append(
                f"{uid}\t{password}\t\\N\tf\tbench{n + 1:03d}\t{first}\t{_esc(last)}"
                f"\tbench{n + 1:03d}@presidio.invalid\tf\tt\t{now}"
            )
        self.copy(
            "auth.User",
            [
                "id",
                "password",
                "last_login",
                "is_superuser",
                "username",
                "first_name",
                "last_name",
                "email",
                "is_staff",
                "is_active",
                "date_joined",
            ],
            users,
            total=len(users),
        )
        groups = dict(Group.objects.values_list("name", "id"))
        memberships = []
        for n, uid in enumerate(self.operator_ids):
            role = roles.BACKOFFICE if n % 5 == 4 else roles.OPERATOR
            if n % 50 == 49:
                role = roles.SUPERVISOR
            memberships.append(f"{uid}\t{groups[role]}")
        user_groups = self.m("auth.User").groups.through
        Copier(self.progress, user_groups, ["user_id", "group_id"]).copy(
            memberships, total=len(memberships), label="auth.User_groups"
        )
        profiles, certifications = [], []
        first_profile = self.next_id("routing.OperatorProfile")
        presences = ["available"] * 5 + ["busy"] * 2 + ["away", "offline", "offline"]
        for n, uid in enumerate(self.operator_ids):
            skills = sorted({"mobile", *rng.sample(["data", "fixed", "iot", "cloud"], 2)})
            languages = ["it", "en"] if n % 3 == 0 else ["it"]
            profiles.append(
                f"{first_profile + n}\t{uid}\t{n % s.sites + 1}\t{'t' if n % 7 == 0 else 'f'}"
                f"\t5\t0.40"
                f"\t{_json(skills)}\t{_json(languages)}\t{rng.choice(presences)}\t{now}"
            )
            certifications.extend(
                f"{first_profile + n}\t\\N\t{self.contracts[contract][0]}"
                for contract in sorted(rng.sample(range(len(self.contracts)), min(4, s.contracts)))
            )
            if n % 2 == 0:
                client = rng.randrange(s.clients)
                certifications.append(f"{first_profile + n}\t{self.clients[client][0]}\t\\N")
        self.copy(
            "routing.OperatorProfile",
            [
                "id",
                "user_id",
                "site_id",
                "remote",
                "capacity",
                "backoffice_share",
                "skills",
                "languages",
                "presence",
                "presence_since",
            ],
            profiles,
            total=len(profiles),
        )
        self.copy(
            "routing.Certification",
            ["profile_id", "client_id", "contract_id"],
            certifications,
            total=len(certifications),
        )

    def end_users(self) -> None:

        s, rng, now = self.s, self.rng, self.now_text
        # Clients differ in size (a few large regions, many smaller companies).
        weights = [1 / (i + 2) ** 0.7 for i in range(s.clients)]
        total = sum(weights)
        sizes = [max(2, int(s.end_users * w / total)) for w in weights]
        sizes[0] += s.end_users - sum(sizes)
        self.blocks = []  # (first end-user id, size) per client index
        first = self.next_id("contracts.EndUser")
        for size in sizes:
            self.blocks.append((first, size))
            first += size
        self.end_user_first = self.blocks[0][0]

        def users():
            for ci, (start, size) in enumerate(self.blocks):
                cid, _name, _seg, province = self.clients[ci]
                domain = f"cliente{cid:03d}.example.it"
                for k in range(size):
                    f, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
                    email = f"{f}.{last}.{k}@{domain}".lower().replace(" ", "")
                    yield (
                        f"{start + k}\t{cid}\t{f}\t{last}\t{email}\t{province}{cid:03d}{k:06d}"
                        f"\t\tt\t{now}\t{now}"
                    )

        self.copy(
            "contracts.EndUser",
            [
                "id",
                "client_id",
                "first_name",
                "last_name",
                "email",
                "employee_code",
                "codice_fiscale",
                "is_active",
                "created_at",
                "updated_at",
            ],
            users(),
            total=s.end_users,
        )

        def phones():
            for ci, (start, size) in enumerate(self.blocks):
                cid = self.clients[ci][0]
                for k in range(size):
                    yield f"{start + k}\t{cid}\t{phone_of(start + k - self.end_user_first)}"

        self.copy(
            "contracts.EndUserPhone",
            ["end_user_id", "client_id", "number"],
            phones(),
            total=s.end_users,
        )

    # --- cases, notes, events ---
    def articles(self) -> None:
        """Published knowledge-base articles, one version each, written by one benchmark
        operator and published by another: a fifth for everyone, a fifth per service, the
        rest per client or per contract. Italian texts built from fragments."""
        if not self.s.articles:
            return
        from contracts.cards import render_card

        rng, now = self.rng, self.now_text
        first = self.next_id("care.Article")
        authors = self.operator_ids[:2] if len(self.operator_ids) > 1 else self.operator_ids * 2
        articles, versions = [], []
        for n in range(self.s.articles):
            aid = first + n
            topic, tag, fix = ARTICLE_TOPICS[n % len(ARTICLE_TOPICS)]
            title = f"{topic}: {ARTICLE_CASES[rng.randrange(len(ARTICLE_CASES))]} ({n + 1})"
            steps = rng.sample(ARTICLE_STEPS, 3)
            body = (
                f"## {topic}\n\n{fix}\n\n"
                + "\n".join(f"- {step}" for step in steps)
                + f"\n\n{ARTICLE_CLOSINGS[n % len(ARTICLE_CLOSINGS)]}"
            )
            kind = n % 10
            contract = self.contracts[rng.randrange(len(self.contracts))]
            cid, ci, _cal, services, _fast = contract
            client_id = self.clients[ci][0]
            if kind < 2:
                scope, service, client, contract_id = "all", "", "\\N", "\\N"
            elif kind < 4:
                scope, service, client, contract_id = "service", services[-1], "\\N", "\\N"
            elif kind < 7:
                scope, service, client, contract_id = "client", "", client_id, "\\N"
            else:
                scope, service, client, contract_id = "contract", "", client_id, cid
            tags = " ".join(sorted({tag, CATEGORIES[n % len(CATEGORIES)].code}))
            html = render_card(body)
            face = (
                f"{_esc(title)}\t{_esc(body)}\t{_esc(html)}\t{tags}\t{scope}\t{service}"
                f"\t{client}\t{contract_id}"
            )
            articles.append(f"{aid}\tpublished\t{face}\t{aid}\t{authors[0]}\t{now}\t{now}\t{now}")
            versions.append(
                f"{aid}\t{aid}\t1\tpublished\t{face}\t\t\\N\t{authors[0]}\t{now}\t{now}"
                f"\t{authors[1]}\t{now}"
            )
        face_columns = [
            "title",
            "body",
            "body_html",
            "tags",
            "scope",
            "service",
            "client_id",
            "contract_id",
        ]
        self.copy(
            "care.Article",
            [
                "id",
                "status",
                *face_columns,
                "published_version_id",
                "created_by_id",
                "created_at",
                "published_at",
                "updated_at",
            ],
            articles,
            total=len(articles),
        )
        self.copy(
            "care.ArticleVersion",
            [
                "id",
                "article_id",
                "number",
                "status",
                *face_columns,
                "change_note",
                "source_case_id",
                "author_id",
                "created_at",
                "submitted_at",
                "reviewer_id",
                "reviewed_at",
            ],
            versions,
            total=len(versions),
        )

    def _timelines(self) -> dict[int, Timeline]:

        start = self.now_us - (self.s.days + 10) * DAY_US
        end = self.now_us + 400 * DAY_US
        timelines = {}
        self.specs = {}
        closures: dict[int, set[date]] = {}
        for row in self.m("contracts.ClosureDay").objects.values_list("calendar_id", "day"):
            closures.setdefault(row[0], set()).add(row[1])
        for cid, province, always, weekly in self.calendar_rows:
            spec = CalendarSpec(
                weekly_hours=tuple(
                    tuple(Interval(a, b) for a, b in weekly.get(d, [])) for d in range(7)
                ),
                province=None if always else province,
                closures=frozenset(closures.get(cid, set())),
                always_open=always,
            )
            timelines[cid] = Timeline(spec, start, end)
            self.specs[cid] = spec
        return timelines

    def _opened_times(self) -> tuple[list[int], int]:
        """Sorted opening instants: mostly office hours, the last 45 days denser."""
        s, rng = self.s, self.rng
        recent_days = min(45, s.days // 2)
        recent = min(s.cases, int(s.open_cases * 1.6))
        old = s.cases - recent
        times = []
        day0 = self.now_us - s.days * DAY_US
        for n in range(s.cases):
            if n < old:
                day = rng.randrange(s.days - recent_days)
            else:
                day = s.days - recent_days + rng.randrange(recent_days)
            if rng.random() < 0.85:
                second = rng.randrange(7 * 3600, 17 * 3600)  # about 08-18 in Rome
            else:
                second = rng.randrange(86_400)
            t = day0 + day * DAY_US + second * US + rng.randrange(US)
            times.append(min(t, self.now_us - 10 * MINUTE_US))
        times.sort()
        return times, old

    def cases(self) -> None:
        s, rng = self.s, self.rng
        self.progress.say("computing calendars' timelines")
        timelines = self._timelines()
        contracts = self.contracts
        contract_weights = [
            self.blocks[ci][1] / (2 if ci < s.contracts - s.clients else 1)
            for _cid, ci, *_ in contracts
        ]
        times, old = self._opened_times()
        # Which cases are still open: among the recent ones, the newer the likelier.
        recent = s.cases - old
        scores = sorted(
            ((rng.random() * (0.3 + r / max(recent, 1)), old + r) for r in range(recent)),
            reverse=True,
        )
        open_set = {index for _score, index in scores[: s.open_cases]}
        open_kinds = rng.choices(
            [k for k, _w in OPEN_STATUSES], [w for _k, w in OPEN_STATUSES], k=s.cases
        )
        case_contract = rng.choices(range(len(contracts)), contract_weights, k=s.cases)
        queue_of = self._queue_codes()
        operators = self.operator_ids
        first_case = self.next_id("care.Case")
        sequences: dict[int, int] = {}
        # What the notes/events/alerts passes need, per case (compact arrays).
        n = s.cases
        self.case_opened = array("q", times)
        self.case_status = bytearray(n)  # index into STATUS_CODES
        self.case_assignee = array("q", bytes(8 * n))
        self.case_fr = array("q", bytes(8 * n))  # first response instant, 0 = none
        self.case_resolved = array("q", bytes(8 * n))
        self.case_closed = array("q", bytes(8 * n))
        self.case_paused = array("q", bytes(8 * n))
        # (case index, target, level, at, due, at risk from): the alert with its facts.
        self.alerts: list[tuple[int, str, str, int, int, int]] = []
        self.handoffs: list[tuple[int, int, int]] = []
        status_codes = STATUS_CODES
        checks = set(rng.sample(range(n), min(n, 300)))
        self.checked: list[tuple] = []
        now_us = self.now_us

        def state_at(ref: int, due: int, risk: int) -> str:
            if ref > due:
                return "breached"
            if ref >= risk:
                return "at_risk"
            return "ok"

        def rows():
            for i in range(n):
                opened = times[i]
                ci = case_contract[i]
                cid, client_index, calendar_id, _svc, _fast = contracts[ci]
                client_id = self.clients[client_index][0]
                start, size = self.blocks[client_index]
                end_user = start + rng.randrange(size)
                cat = rng.randrange(6)
                category = self.categories[cat]
                priority = (
                    category.default_priority
                    if rng.random() < 0.7
                    else PRIORITIES[rng.choices(range(4), (5, 25, 45, 25))[0]]
                )
                p = PRIORITIES.index(priority)
                fr_min, res_min = self.targets[(cid, p)]
                tl = timelines[calendar_id]
                clock = tl.next_opening(opened)
                fr_due = tl.add(opened, _budget_us(fr_min))
                fr_risk = tl.add(opened, _budget_us(fr_min * 0.8))
                res_due = tl.add(opened, _budget_us(res_min))
                res_risk = tl.add(opened, _budget_us(res_min * 0.8))
                if i in checks:
                    self.checked.append(
                        (
                            calendar_id,
                            opened,
                            fr_min,
                            res_min,
                            clock,
                            fr_due,
                            fr_risk,
                            res_due,
                            res_risk,
                        )
                    )
                assignee = operators[rng.randrange(len(operators))]
                opened_by = operators[rng.randrange(len(operators))]
                fr_at = tl.add(opened, _budget_us(fr_min * rng.uniform(0.1, 1.4)))
                resolved = closed = paused = 0
                fcr = "f"
                resolution_code = ""
                if i in open_set:
                    status = open_kinds[i]
                    if status in ("new", "assigned") or fr_at >= now_us or rng.random() < 0.3:
                        fr_at = 0
                    if status == "new":
                        assignee = 0
                    ref = now_us
                    if status == "waiting_customer":
                        low = max(opened, fr_at) + MINUTE_US
                        paused = (
                            low + int((now_us - low) * rng.random())
                            if low < now_us
                            else now_us - US
                        )
                        ref = paused
                    if fr_at:
                        fr_state = "met" if fr_at <= fr_due else "breached"
                    else:
                        fr_state = state_at(ref, fr_due, fr_risk)
                    res_state = state_at(ref, res_due, res_risk)
                    for target, state, due, risk in (
                        ("first_response", fr_state, fr_due, fr_risk),
                        ("resolution", res_state, res_due, res_risk),
                    ):
                        if state == "breached":
                            self.alerts.append((i, target, "breached", due + 1, due, risk))
                        elif state == "at_risk":
                            self.alerts.append((i, target, "at_risk", risk, due, risk))
                    if status == "waiting_unit":
                        self.handoffs.append((i, assignee, max(opened, fr_at) + 5 * MINUTE_US))
                else:
                    resolved = tl.add(opened, _budget_us(res_min * rng.uniform(0.05, 1.3)))
                    if resolved >= now_us:
                        resolved = opened + (now_us - opened) // 2
                    fr_at = min(fr_at, resolved)
                    closed = resolved + 3 * DAY_US
                    status = "closed" if closed <= now_us else "resolved"
                    if status == "resolved":
                        closed = 0
                    fr_state = "met" if fr_at <= fr_due else "breached"
                    res_state = "met" if resolved <= res_due else "breached"
                    resolution_code = (
                        "risolto-configurazione" if rng.random() < 0.8 else "risolto-informazioni"
                    )
                    fcr = "t" if resolved - opened < 20 * MINUTE_US else "f"
                self.case_status[i] = status_codes.index(status)
                self.case_assignee[i] = assignee
                self.case_fr[i] = fr_at
                self.case_resolved[i] = resolved
                self.case_closed[i] = closed
                self.case_paused[i] = paused
                year = (EPOCH + timedelta(microseconds=opened + 3600 * US)).year
                number = sequences.get(year, 0) + 1
                sequences[year] = number
                subject = SUBJECTS[cat][i % 2]
                description = DESCRIPTIONS[cat]
                channel = CHANNELS[i % len(CHANNELS)]
                last_change = max(opened, fr_at, resolved, closed, paused)
                yield (
                    f"{first_case + i}\tCS-{year}-{number:06d}\t{client_id}\t{cid}"
                    f"\t{cid}\t{end_user}\t\\N\t{channel}"
                    f"\t{self.category_ids[(cid, cat)]}\t{priority}\t{subject}\t{description}"
                    f"\t{status}\t{queue_of[(cid, cat)]}\t{assignee or chr(92) + 'N'}"
                    f"\t{opened_by}\t{_ts(opened)}\t\t{_ts(clock)}\t{_ts(fr_due)}\t{_ts(fr_risk)}"
                    f"\t{_ts(res_due)}\t{_ts(res_risk)}\t{_ts(fr_at) if fr_at else chr(92) + 'N'}"
                    f"\t{fr_state}\t{res_state}\t{_ts(paused) if paused else chr(92) + 'N'}\t0"
                    f"\t{_ts(resolved) if resolved else chr(92) + 'N'}"
                    f"\t{_ts(closed) if closed else chr(92) + 'N'}\t{resolution_code}\t{fcr}\t0"
                    f"\t\\N\t\\N\t1\t{_ts(last_change)}"
                )

        self.first_case = first_case
        self.copy(
            "care.Case",
            [
                "id",
                "reference",
                "client_id",
                "contract_id",
                "contract_version_id",
                "end_user_id",
                "referent_id",
                "channel",
                "category_id",
                "priority",
                "subject",
                "description",
                "status",
                "queue_code",
                "assignee_id",
                "opened_by_id",
                "opened_at",
                "opening_reason",
                "clock_started_at",
                "first_response_due_at",
                "first_response_at_risk_at",
                "resolution_due_at",
                "resolution_at_risk_at",
                "first_response_at",
                "first_response_state",
                "resolution_state",
                "paused_at",
                "paused_minutes",
                "resolved_at",
                "closed_at",
                "resolution_code",
                "first_contact_resolution",
                "reopen_count",
                "merged_into_id",
                "linked_to_id",
                "row_version",
                "updated_at",
            ],
            rows(),
            total=n,
        )
        self._check_deadlines()
        with connection.cursor() as cursor:
            for year, last in sorted(sequences.items()):
                cursor.execute(
                    "INSERT INTO care_casesequence (year, last) VALUES (%s, %s)", [year, last]
                )
        self.counts["care.CaseSequence"] = len(sequences)
        self.notes()
        self.events()
        self.small_tables()

    def calls(self) -> None:
        """Past calls from the end users' numbers (some unknown), over the last `call_days`:
        ended (answered by an operator, abandoned or missed), as the wallboard and the calls
        report read them. The recent half hour is left to the benchmark's own events."""
        s, rng = self.s, self.rng
        if not s.calls:
            return
        queues = ["generale", "pa", "top", "large", "sim-urgenti"]
        operators = self.operator_ids
        span_us = s.call_days * 86_400_000_000
        end_us = self.now_us - 3_600_000_000

        def rows():
            for n in range(s.calls):
                offered = end_us - rng.randrange(span_us)
                roll = rng.random()
                wait = int(rng.expovariate(1 / 25))
                caller = phone_of(rng.randrange(s.end_users)) if roll > 0.15 else ""
                queue = queues[n % len(queues)]
                if roll < 0.08:  # abandoned while waiting
                    outcome, operator, answered, talk, after = "abandoned", "\\N", "\\N", 0, 0
                    ended = offered + wait * 1_000_000
                    cause = "abandoned"
                else:
                    outcome, cause = "answered", "normal"
                    operator = str(operators[n % len(operators)])
                    talk, after = int(rng.lognormvariate(5.0, 0.6)), rng.randrange(5, 60)
                    answered_us = offered + wait * 1_000_000
                    answered = _ts(answered_us)
                    ended = answered_us + talk * 1_000_000
                yield (
                    f"bench-call-{n}\tinbound\t{caller}\t800100200\t{queue}\t{operator}\t"
                    f"{_ts(offered)}\t{answered}\t{_ts(ended)}\t{wait}\t{talk}\t{after}\t"
                    f"{outcome}\t{cause}\t{_ts(ended)}"
                )

        self.copy(
            "routing.Call",
            [
                "call_id",
                "direction",
                "caller_number",
                "line",
                "queue_code",
                "operator_id",
                "offered_at",
                "answered_at",
                "ended_at",
                "wait_seconds",
                "talk_seconds",
                "after_call_seconds",
                "outcome",
                "hangup_cause",
                "updated_at",
            ],
            rows(),
            total=s.calls,
        )

    def _queue_codes(self) -> dict[tuple[int, int], str]:
        """The queue of each (contract, category), chosen by routing's own rule."""

        codes = {}
        contracts = {c.id: c for c in Contract.objects.select_related("client")}
        categories = {c.id: c for c in Category.objects.all()}
        for (cid, k), category_id in self.category_ids.items():
            contract = contracts[cid]
            case = Case(client=contract.client, contract=contract, category=categories[category_id])
            codes[(cid, k)] = queue_for(case)
        return codes

    def _check_deadlines(self) -> None:
        """The timeline must give exactly what the SLA clock itself computes."""

        for calendar_id, opened, fr_min, res_min, *stored in self.checked:
            expected = clock.deadlines(
                self.specs[calendar_id],
                opened_at=EPOCH + timedelta(microseconds=opened),
                first_response_minutes=fr_min,
                resolution_minutes=res_min,
                at_risk_share=0.2,
            )
            want = [
                expected.clock_started_at,
                expected.first_response_due_at,
                expected.first_response_at_risk_at,
                expected.resolution_due_at,
                expected.resolution_at_risk_at,
            ]
            got = [EPOCH + timedelta(microseconds=us) for us in stored]
            if want != got:
                raise BuildError(f"SLA instants differ from care.clock: {got} != {want}")
        self.progress.say(f"checked {len(self.checked)} cases' SLA instants against care.clock")

    def notes(self) -> None:
        s, rng = self.s, self.rng
        bodies = [_esc(b) for b in NOTE_BODIES]
        operators = self.operator_ids
        first = self.first_case
        total = s.cases * s.notes_per_case
        pattern = NOTES_PATTERN
        new_code = STATUS_CODES.index("new")

        def rows():
            written = 0
            for i in range(s.cases):
                k = pattern[i % len(pattern)] if i < s.cases - 1 else total - written
                if k <= 0:
                    continue
                written += k
                opened = self.case_opened[i]
                fr = self.case_fr[i]
                end = self.case_resolved[i] or self.now_us
                author = self.case_assignee[i] or operators[i % len(operators)]
                start = opened + MINUTE_US
                for j in range(k):
                    if j == 0 and fr:
                        at, visibility, body = fr, "customer", bodies[1]
                    else:
                        at = start + int((end - start) * rng.random()) if end > start else start
                        visibility = "customer" if fr and at > fr and j % 2 == 0 else "internal"
                        body = bodies[(i + j) % len(bodies)]
                        if self.case_status[i] == new_code:
                            visibility = "internal"
                    yield f"{first + i}\t{author}\t{_ts(at)}\t{visibility}\t{body}"

        self.copy(
            "care.Note",
            ["case_id", "author_id", "created_at", "visibility", "body"],
            rows(),
            total=total,
        )

    def events(self) -> None:
        s = self.s
        first = self.first_case
        operators = self.operator_ids

        def rows():
            for i in range(s.cases):
                opened = self.case_opened[i]
                status = STATUS_CODES[self.case_status[i]]
                actor = operators[(i * 31) % len(operators)]
                case_id = first + i
                yield f"{case_id}\topened\t{_ts(opened)}\t{actor}\t\tnew\t{{}}"
                if status == "new":
                    continue
                assignee = self.case_assignee[i] or actor
                if status in ("resolved", "closed"):
                    resolved = self.case_resolved[i]
                    yield (
                        f"{case_id}\tstatus_changed\t{_ts(resolved)}\t{assignee}\tnew"
                        "\tresolved\t{}"
                    )
                    if status == "closed":
                        closed = self.case_closed[i]
                        yield (
                            f"{case_id}\tstatus_changed\t{_ts(closed)}\t\\N\tresolved\tclosed\t{{}}"
                        )
                else:
                    at = opened + 2 * MINUTE_US
                    yield f"{case_id}\tassigned\t{_ts(at)}\t{assignee}\t\t{assignee}\t{{}}"
                    if status != "assigned":
                        yield (
                            f"{case_id}\tstatus_changed\t{_ts(at)}\t{assignee}\tnew\t{status}\t{{}}"
                        )

        self.copy(
            "care.CaseEvent",
            ["case_id", "kind", "at", "actor_id", "from_value", "to_value", "detail"],
            rows(),
            total=int(s.cases * 2.8),
        )

    def small_tables(self) -> None:
        first = self.first_case
        self.copy(
            "care.SlaAlert",
            ["case_id", "target", "level", "at", "from_state", "due_at", "at_risk_at"],
            # Only one alert per target is built: a breach went straight from "ok".
            (
                f"{first + i}\t{target}\t{level}\t{_ts(at)}\tok\t{_ts(due)}\t{_ts(risk)}"
                for i, target, level, at, due, risk in self.alerts
            ),
            total=len(self.alerts),
        )
        self.copy(
            "care.Handoff",
            [
                "case_id",
                "unit_code",
                "unit_name",
                "request",
                "requested_by_id",
                "requested_at",
                "answer",
                "answered_at",
                "answer_recorded_by_id",
                "outcome",
            ],
            (
                f"{first + i}\tassurance\tAssurance rete\tVerifica copertura cella\t{by}"
                f"\t{_ts(at)}\t\t\\N\t\\N\tpending"
                for i, by, at in self.handoffs
            ),
            total=len(self.handoffs),
        )
        reason = "take_next"  # how: the timeline says it in the reader's language
        assignments = [
            f"{first + i}\t{self.case_assignee[i]}\t\t{_ts(self.case_opened[i] + 2 * MINUTE_US)}"
            f"\tcontract\tpull\t{reason}\t[]\t\\N\t"
            for i in range(self.s.cases)
            if self.case_assignee[i] and STATUS_CODES[self.case_status[i]] not in CLOSED_CODES
        ]
        self.copy(
            "routing.Assignment",
            [
                "case_id",
                "operator_id",
                "queue_code",
                "at",
                "level",
                "kind",
                "reason",
                "passed_over",
                "assigned_by_id",
                "override_reason",
            ],
            assignments,
            total=len(assignments),
        )


STATUS_CODES = [
    "new",
    "assigned",
    "in_progress",
    "waiting_customer",
    "waiting_unit",
    "resolved",
    "closed",
]
CLOSED_CODES = ("resolved", "closed")
SUBJECTS = [
    ["SIM rubata in treno", "Smarrimento SIM durante trasferta"],
    ["Nessun segnale in ufficio", "Linea assente da stamattina"],
    ["Roaming dati non attivo in Francia", "Nessuna rete in Svizzera"],
    ["Smartphone non si accende", "Schermo rotto"],
    ["Nuova linea per neoassunto", "Attivazione SIM dati per tablet"],
    ["Addebito roaming contestato", "Fattura doppia"],
]
DESCRIPTIONS = [
    _esc(text)
    for text in [
        "Numero coinvolto: vedi anagrafica\nData e luogo: ieri, stazione\nDenuncia: sì",
        "Numero coinvolto: vedi anagrafica\nZona: sede centrale\nDa quando: stamattina",
        "Numero: vedi anagrafica\nPaese e operatore: Francia, Orange\nRoaming attivo: sì",
        "Modello e IMEI: in allegato\nDescrizione del guasto: non si accende",
        "Richiedente: referente autorizzato\nProfilo tariffario: standard aziendale",
        "Numero fattura: 2026/0012\nVoce contestata: roaming dati",
    ]
]


# Knowledge-base articles: topic (title, tag, what to do), then fragments drawn at random.
ARTICLE_TOPICS = [
    ("Sbloccare la SIM con il PUK", "sim-lost", "La SIM si blocca dopo tre PIN errati."),
    ("Roaming non funzionante all'estero", "roaming", "Il roaming va abilitato sul profilo."),
    ("Linea sospesa per morosità", "no-service", "La linea sospesa torna attiva col saldo."),
    ("Assenza di servizio in zona", "no-service", "Verificare i guasti di rete aperti."),
    ("Sostituzione della SIM smarrita", "sim-lost", "Bloccare la SIM e spedire la nuova."),
    ("Portabilità del numero", "roaming", "La portabilità richiede il codice di migrazione."),
    ("Traffico dati esaurito", "no-service", "Controllare le soglie del piano dati."),
    ("Chiamate internazionali bloccate", "roaming", "Le chiamate estere sono disabilitate."),
]
ARTICLE_CASES = [
    "dipendenti in trasferta",
    "referenti del cliente",
    "linee di servizio",
    "SIM dati dei tablet",
    "telefoni dei reperibili",
    "uffici periferici",
]
ARTICLE_STEPS = [
    "Verificare l'identità del chiamante con la matricola.",
    "Controllare lo stato della linea nel portale del fornitore.",
    "Chiedere il codice PUK al referente del cliente.",
    "Aprire un inoltro all'assurance se il problema persiste.",
    "Riavviare il telefono dopo la riattivazione.",
    "Annotare paese e operatore di rete visitato.",
    "Confermare l'indirizzo di spedizione della nuova SIM.",
    "Segnalare il caso al supervisore se riguarda più linee.",
]
ARTICLE_CLOSINGS = [
    "Chiudere la pratica solo dopo la conferma del chiamante.",
    "Se il cliente è in emergenza, priorità P1.",
    "Il referente riceve l'esito per e-mail.",
]


def describe(summary: dict) -> str:
    return ", ".join(f"{label.split('.')[-1]} {count:,}" for label, count in summary.items())


def scale_of(name: str) -> Scale:
    return SCALES[name]


def as_dict(name: str) -> dict:
    return asdict(SCALES[name])


ProgressFactory = Callable[[], Progress]
