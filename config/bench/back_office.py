"""The back-office part of the benchmark data set: contract orders (with their lines and
events) and the loyalty worklist (items with their actions), added by COPY to a data set
built by `config.bench.data` (issue #25 point 4: without them the orders and loyalty reports
measured empty tables).

An incremental step with its own version marker (table `bench_dataset_step`): a data set
built before this step gains the rows the next time `make bench` (or `seed_demo --scale …`)
runs, without the long rebuild of the rest; a new build runs it as its last step.

Scale, derived from the data set's contracts and days of history (DESIGN.md section 8):
- orders: ORDERS_PER_CONTRACT_DAY (1.4) a contract a calendar day, i.e. about one order per
  contract per working day: national 100 contracts x 730 days = 102,200 orders; QUICK
  10 x 120 = 1,680; one to three lines each (about 2), an event for the creation and each
  state change and one when an order ran late (about 5 an order);
- states as the back-office works them: draft (hours), submitted (1-3 days), validated
  (about a day), provisioning (3-12 days), then 86% completed, 6% rejected at validation,
  8% cancelled before it; so old orders are closed and the recent ones spread over the open
  states; a state that lasts longer than its budget makes the order late in it (a late
  event; `is_late` stays on the open orders late in their current state);
- loyalty: every contract comes up for renewal once a year on its anniversary, put on the
  worklist 90 days before (LOYALTY_HORIZON_DAYS); items from the whole history up to 90 days
  ahead (national about 230), decided ones renewed 55%, renegotiated 25%, lost 12%, the rest
  still pending; one to five actions each (calls, offers, meetings).

Deterministic: the rows depend only on the seed and the data set's `as_of`.
"""

import json
import random
import time
from datetime import UTC, date, datetime, timedelta

from django.contrib.auth.models import Group
from django.db import connection, transaction

from config import roles
from config.bench.data import (
    EPOCH,
    MARKER_TABLE,
    BuildError,
    Copier,
    Progress,
    _esc,
    _ts,
    read_marker,
    scale_of,
)
from contracts.models import ContractOrder, LoyaltyItem

STEP = "back_office"
STEP_VERSION = 1
STEPS_TABLE = "bench_dataset_step"
ORDERS_PER_CONTRACT_DAY = 1.4
LOYALTY_LEAD_DAYS = 90
HOUR_US = 3_600 * 1_000_000
DAY_US = 24 * HOUR_US

KINDS = [("activation", 35), ("change", 40), ("termination", 10), ("renewal", 15)]
# state, (shortest, longest) hours in it, its budget in hours (beyond it the order is late)
PIPELINE = [
    ("draft", (1, 20), 48),
    ("submitted", (12, 72), 48),
    ("validated", (2, 30), 24),
    ("provisioning", (72, 290), 240),
]
ENDINGS = [("completed", 86), ("rejected", 6), ("cancelled", 8)]
OUTCOMES = [("renewed", 55), ("renegotiated", 25), ("lost", 12), ("pending", 8)]
SUMMARIES = {
    "activation": "Attivazione {n} linee {service}",
    "change": "Variazione profilo {service} su {n} linee",
    "termination": "Cessazione {n} linee {service}",
    "renewal": "Rinnovo contratto, {n} linee {service}",
}
REASONS = {
    "rejected": "Documentazione incompleta: manca il modulo firmato.",
    "cancelled": "Richiesta ritirata dal referente.",
}
ACTION_NOTES = [
    "Referente contattato, valuta la proposta.",
    "Inviata offerta con sconto volumi.",
    "Incontro con l'ufficio acquisti.",
    "Richiamare dopo la delibera.",
]
REQUESTERS = ["Ufficio acquisti", "Servizi generali", "Direzione IT", "Ufficio personale"]


def read_step(step: str = STEP) -> dict | None:
    """A step's marker in this database (default: this one's), or None."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s)", [STEPS_TABLE])
        if cursor.fetchone()[0] is None:
            return None
        cursor.execute(
            f"SELECT version, built_at, seconds, counts FROM {STEPS_TABLE} "  # noqa: S608
            "WHERE step = %s ORDER BY built_at DESC LIMIT 1",
            [step],
        )
        row = cursor.fetchone()
    if row is None:
        return None
    counts = row[3] if isinstance(row[3], dict) else json.loads(row[3])
    return {"version": row[0], "built_at": row[1].isoformat(), "seconds": row[2], "counts": counts}


def needed(step: str = STEP, version: int = STEP_VERSION) -> bool:
    found = read_step(step)
    return found is None or found["version"] != version


def build_back_office(*, seed: int, progress: Progress | None = None) -> dict:
    """Add the orders and the loyalty worklist to the data set in this database, once per
    step version. Returns the counts (empty when the step was already there)."""
    marker = read_marker()
    if marker is None:
        raise BuildError("no benchmark data set in this database: build it first.")
    if not needed():
        return {}
    progress = progress or Progress()
    started = time.perf_counter()
    as_of = datetime.fromisoformat(marker["as_of"]).astimezone(UTC)
    with transaction.atomic():
        if ContractOrder.objects.exists() or LoyaltyItem.objects.exists():
            raise BuildError(
                "the data set already holds contract orders or loyalty items without the "
                "back-office step's marker: rebuild it (make bench BENCH_ARGS=--rebuild)."
            )
        builder = _BackOffice(seed=seed, now=as_of, days=scale_of(marker["scale"]).days)
        counts = builder.run(progress)
        seconds = time.perf_counter() - started
        write_step(STEP, STEP_VERSION, seconds=seconds, counts=counts)
    with connection.cursor() as cursor:
        for model in (ContractOrder, LoyaltyItem):
            cursor.execute(f'ANALYZE "{model._meta.db_table}"')
    progress.say(f"back-office step in {time.perf_counter() - started:.1f}s: {counts}")
    return counts


def write_step(step: str, version: int, *, seconds: float, counts: dict) -> None:
    """Record that `step` (at `version`) ran on this data set, with the rows it added."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TABLE IF NOT EXISTS {STEPS_TABLE} (step text NOT NULL, version integer "
            "NOT NULL, built_at timestamptz NOT NULL, seconds double precision NOT NULL, "
            "counts jsonb NOT NULL)"
        )
        cursor.execute(
            f"INSERT INTO {STEPS_TABLE} VALUES (%s, %s, now(), %s, %s)",  # noqa: S608
            [step, version, seconds, json.dumps(counts)],
        )
        # The data set's own marker lists every table's rows: the new ones too.
        cursor.execute(
            f"UPDATE {MARKER_TABLE} SET counts = counts || %s::jsonb",  # noqa: S608
            [json.dumps(counts)],
        )


def _weighted(rng: random.Random, choices: list[tuple[str, int]]) -> str:
    return rng.choices([c for c, _w in choices], weights=[w for _c, w in choices])[0]


def _first_id(model) -> int:
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT COALESCE(max(id), 0) + 1 FROM "{model._meta.db_table}"')  # noqa: S608
        return cursor.fetchone()[0]


class _BackOffice:
    def __init__(self, *, seed: int, now: datetime, days: int):
        from django.apps import apps

        self.rng = random.Random(f"{seed}-back-office")  # noqa: S311 - test data
        self.now_us = (now - EPOCH) // timedelta(microseconds=1)
        self.today = now.date()
        self.days = days
        self.m = apps.get_model
        self.counts: dict[str, int] = {}

    def copy(self, progress: Progress, label: str, columns: list[str], rows: list[str]) -> None:
        Copier(progress, self.m(label), columns).copy(rows, total=len(rows), label=label)
        self.counts[label] = len(rows)

    def run(self, progress: Progress) -> dict:
        contract_model = self.m("contracts.Contract")
        self.contracts = list(
            contract_model.objects.order_by("id").values_list("id", "client_id", "services")
        )
        if not self.contracts:
            raise BuildError("the data set has no contracts")
        backoffice = Group.objects.filter(name=roles.BACKOFFICE).first()
        users = self.m("auth.User").objects.filter(username__startswith="bench").order_by("id")
        staff = list(users.filter(groups=backoffice).values_list("id", flat=True))
        self.staff = staff or list(users.values_list("id", flat=True)[:10])
        if not self.staff:
            raise BuildError("the data set has no benchmark users")
        self.orders(progress)
        self.loyalty(progress)
        return self.counts

    # --- orders ---
    def orders(self, progress: Progress) -> None:
        rng, start_us = self.rng, self.now_us - self.days * DAY_US
        total = round(len(self.contracts) * self.days * ORDERS_PER_CONTRACT_DAY)
        created = sorted(start_us + rng.randrange(self.days * DAY_US) for _ in range(total))
        first_order = _first_id(ContractOrder)
        first_line = _first_id(self.m("contracts.OrderLine"))
        orders, lines, events = [], [], []
        numbers: dict[int, int] = {}
        for n, created_us in enumerate(created):
            oid = first_order + n
            cid, client_id, services = self.contracts[rng.randrange(len(self.contracts))]
            kind = _weighted(rng, KINDS)
            ending = _weighted(rng, ENDINGS)
            owner = self.staff[rng.randrange(len(self.staff))]
            year = (EPOCH + timedelta(microseconds=created_us)).year
            numbers[year] = numbers.get(year, 0) + 1
            # Walk the pipeline until `now` or the ending.
            trail = [("", "draft", created_us)]
            entered, state, due, late = created_us, "draft", None, []
            stop_at = {"rejected": "submitted", "cancelled": "draft"}.get(ending)
            for position, (name, (low, high), budget) in enumerate(PIPELINE):
                stay = rng.randint(low * 60, high * 60) * 60 * 1_000_000
                due = entered + budget * HOUR_US
                if entered + stay > self.now_us:  # still in this state
                    if due < self.now_us:
                        late.append((name, due))
                    break
                if stay > budget * HOUR_US:
                    late.append((name, due))
                if stop_at == name:
                    upcoming = ending
                elif position + 1 < len(PIPELINE):
                    upcoming = PIPELINE[position + 1][0]
                else:
                    upcoming = "completed"
                entered += stay
                trail.append((name, upcoming, entered))
                state = upcoming
                if state in ("completed", "rejected", "cancelled"):
                    due = None
                    break
            closed = state in ("completed", "rejected", "cancelled")
            # `is_late`: late in the state it is in now (a transition clears it).
            is_late = not closed and bool(late) and late[-1][0] == state
            service = services[rng.randrange(len(services))] if services else "mobile"
            quantity = rng.choice([1, 1, 2, 5, 10, 25, 50])
            summary = SUMMARIES[kind].format(n=quantity, service=service)
            orders.append(
                "\t".join(
                    [
                        str(oid),
                        f"OR-{year}-{numbers[year]:06d}",
                        kind,
                        str(client_id),
                        str(cid),
                        REQUESTERS[n % len(REQUESTERS)],
                        str(owner),
                        _esc(summary),
                        state,
                        _esc(REASONS.get(state, "")),
                        _ts(entered),
                        _ts(due) if due is not None else "\\N",
                        "t" if is_late else "f",
                        str(len(trail)),
                        str(owner),
                        _ts(created_us),
                        _ts(entered),
                        _ts(entered) if closed else "\\N",
                    ]
                )
            )
            for k in range(rng.choice([1, 1, 2, 2, 3])):
                target = (EPOCH + timedelta(microseconds=created_us)).date() + timedelta(
                    days=rng.randint(7, 45)
                )
                lines.append(
                    f"{first_line + len(lines)}\t{oid}\t{service}\t{quantity if k == 0 else 1}"
                    f"\t{target.isoformat()}\t{_esc(summary if k == 0 else 'Accessori')}"
                )
            for from_state, to_state, at in trail:
                what = "created" if not from_state else "state_changed"
                events.append(f"{oid}\t{what}\t{from_state}\t{to_state}\t{owner}\t{_ts(at)}\t{{}}")
            for late_state, late_at in late:  # the late scan's events, one per late state
                detail = _esc(json.dumps({"due": _ts(late_at)}))
                events.append(
                    f"{oid}\tlate\t{late_state}\t{late_state}\t\\N\t{_ts(late_at)}\t{detail}"
                )
        order_columns = [
            "id",
            "reference",
            "kind",
            "client_id",
            "contract_id",
            "requester_name",
            "owner_id",
            "summary",
            "state",
            "state_reason",
            "state_entered_at",
            "state_due_at",
            "is_late",
            "row_version",
            "created_by_id",
            "created_at",
            "updated_at",
            "closed_at",
        ]
        self.copy(progress, "contracts.ContractOrder", order_columns, orders)
        self.copy(
            progress,
            "contracts.OrderLine",
            ["id", "order_id", "service", "quantity", "target_date", "description"],
            lines,
        )
        self.copy(
            progress,
            "contracts.OrderEvent",
            ["order_id", "kind", "from_state", "to_state", "actor_id", "at", "detail"],
            events,
        )
        with connection.cursor() as cursor:  # the next order number of each year follows on
            for year, last in numbers.items():
                cursor.execute(
                    "INSERT INTO contracts_ordersequence (year, last) VALUES (%s, %s) "
                    "ON CONFLICT (year) DO UPDATE SET last = GREATEST("
                    "contracts_ordersequence.last, EXCLUDED.last)",
                    [year, last],
                )
            for table in ("contracts_contractorder", "contracts_orderline", "contracts_orderevent"):
                cursor.execute(
                    "SELECT setval(pg_get_serial_sequence(%s, 'id'), "  # noqa: S608
                    f'COALESCE((SELECT max(id) FROM "{table}"), 0) + 1, false)',
                    [table],
                )

    # --- loyalty ---
    def loyalty(self, progress: Progress) -> None:
        rng = self.rng
        first = self.today - timedelta(days=self.days)
        last = self.today + timedelta(days=LOYALTY_LEAD_DAYS)
        first_item = _first_id(LoyaltyItem)
        items, actions = [], []
        for cid, client_id, _services in self.contracts:
            anniversary = rng.randrange(365)
            expiry = date(first.year - 1, 1, 1) + timedelta(days=anniversary)
            while expiry <= last:
                if expiry >= first:
                    row, done = self._item(first_item + len(items), cid, client_id, expiry)
                    items.append(row)
                    actions.extend(done)
                expiry = _next_year(expiry)
        self.copy(
            progress,
            "contracts.LoyaltyItem",
            [
                "id",
                "contract_id",
                "client_id",
                "valid_to",
                "owner_id",
                "outcome",
                "outcome_note",
                "created_at",
                "closed_at",
                "closed_by_id",
            ],
            items,
        )
        self.copy(
            progress,
            "contracts.LoyaltyAction",
            ["item_id", "kind", "at", "actor_id", "note"],
            actions,
        )
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT setval(pg_get_serial_sequence('contracts_loyaltyitem', 'id'), "
                "COALESCE((SELECT max(id) FROM contracts_loyaltyitem), 0) + 1, false)"
            )

    def _day_us(self, day: date, hour: int) -> int:
        return (datetime(day.year, day.month, day.day, hour, tzinfo=UTC) - EPOCH) // timedelta(
            microseconds=1
        )

    def _item(self, iid: int, cid: int, client_id: int, expiry: date) -> tuple[str, list[str]]:
        """One worklist item, put on the list LOYALTY_LEAD_DAYS before the expiry, and the
        actions taken on it until it was decided (or until now)."""
        rng = self.rng
        owner = self.staff[rng.randrange(len(self.staff))]
        created_us = min(
            self.now_us - DAY_US, self._day_us(expiry - timedelta(days=LOYALTY_LEAD_DAYS), 6)
        )
        outcome = _weighted(rng, OUTCOMES)
        if expiry > self.today and rng.random() < 0.7:
            outcome = "pending"  # most of the coming renewals are still being worked
        closed_us = None
        if outcome != "pending":
            decided = created_us + rng.randint(10, LOYALTY_LEAD_DAYS + 15) * DAY_US
            closed_us = max(created_us + HOUR_US, min(self.now_us - HOUR_US, decided))
        closed, closed_by = ("\\N", "\\N") if closed_us is None else (_ts(closed_us), owner)
        row = (
            f"{iid}\t{cid}\t{client_id}\t{expiry.isoformat()}\t{owner}\t{outcome}\t"
            f"\t{_ts(created_us)}\t{closed}\t{closed_by}"
        )
        end_us = closed_us or self.now_us
        actions = []
        for _k in range(rng.randint(1, 5)):
            at = created_us + rng.randrange(end_us - created_us)
            kind = rng.choice(["call", "call", "offer", "meeting"])
            note = _esc(ACTION_NOTES[rng.randrange(len(ACTION_NOTES))])
            actions.append(f"{iid}\t{kind}\t{_ts(at)}\t{owner}\t{note}")
        return row, actions


def _next_year(day: date) -> date:
    try:
        return day.replace(year=day.year + 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year + 1, day=28)
