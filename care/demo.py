"""Demo cases relative to now, written through the real services so every rule and event applies.

A working unit, not a broken one: some weeks of closed cases for the reports; open cases mostly
on time, some at risk, a few breached (their age is chosen in business minutes of their own
contract's calendar against their own targets); cases waiting in the queues for *Prossimo
caso*; descriptions in plausible Italian (`care.demo_texts`). Deterministic for a given `now`.

Idempotent: nothing is added once demo cases exist, unless the newest case was opened more than
`STALE_AFTER` ago (a demo seeded long ago): then `refresh_care_demo` resolves what was left open
(dated shortly after its last activity, as the unit would have) and opens a fresh set of open
cases and the missing days of history, relative to now.
"""

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.db.models import Max
from django.utils import timezone

from care import demo_texts, services
from care.exceptions import DuplicateSuspected
from care.models import OPEN_STATUSES, Case, CaseStatus, Note
from care.sla import recompute_sla_states
from contracts import calendars
from contracts import selectors as contract_selectors
from contracts.models import Contract, ContractStatus

STALE_AFTER = timedelta(days=1)
HISTORY_DAYS = 28
HISTORY_PER_DAY = 3
DEMO_OPERATOR = "operatore"

# The open cases: (kind, how many). Ages are shares of the case's own target in business
# minutes: "queued" of the first response, the others of the resolution.
OPEN_MIX = [
    ("queued", 10),
    ("on_time", 13),
    ("at_risk", 3),
    ("breached", 2),
    ("waiting_customer", 3),
]
AGE_SHARES = {
    "queued": (0.05, 0.5),
    "on_time": (0.1, 0.65),
    "at_risk": (0.84, 0.95),
    "breached": (1.05, 1.3),
    "waiting_customer": (0.2, 0.5),
}


@dataclass
class _Plan:
    contract: Contract
    category: object
    spec: calendars.CalendarSpec
    target: object


class _Pool:
    """The demo contracts with what a case needs of them, and their end users in turn."""

    def __init__(self, rng: random.Random, *, now: datetime) -> None:
        self.rng = rng
        contracts = (
            Contract.objects.filter(status=ContractStatus.ACTIVE)
            .select_related("client", "calendar")
            .order_by("code")
        )
        today = timezone.localdate(now)
        self.versions = {c.id: contract_selectors.version_in_force(c, today) for c in contracts}
        self.contracts = [
            c
            for c in contracts
            if self.versions[c.id] is not None and self.versions[c.id].categories.exists()
        ]
        self.categories = {
            c.id: list(self.versions[c.id].categories.order_by("code")) for c in self.contracts
        }
        self.targets = {
            c.id: {t.priority: t for t in self.versions[c.id].sla_targets.all()}
            for c in self.contracts
        }
        self.specs = {
            c.id: contract_selectors.calendar_spec(
                contract_selectors.contract_by_code(c.code).calendar
            )
            for c in self.contracts
        }
        self.end_users = {
            c.client_id: list(c.client.end_users.order_by("id").values_list("id", flat=True))
            for c in self.contracts
        }
        self.turn = 0

    def plan(self) -> _Plan:
        contract = self.contracts[self.turn % len(self.contracts)]
        self.turn += 1
        category = self.rng.choice(self.categories[contract.id])
        return _Plan(
            contract=contract,
            category=category,
            spec=self.specs[contract.id],
            target=self.targets[contract.id].get(category.default_priority),
        )

    def end_user(self, plan: _Plan) -> int:
        return self.rng.choice(self.end_users[plan.contract.client_id])


def _opened_before(spec: calendars.CalendarSpec, now: datetime, minutes: float) -> datetime:
    """The latest instant from which `minutes` business minutes have run up to `now`."""
    low, high = 0, 60 * 24 * 45  # real minutes back
    while high - low > 1:
        middle = (low + high) // 2
        enough = (
            calendars.business_minutes_between(spec, now - timedelta(minutes=middle), now)
            >= minutes
        )
        low, high = (low, middle) if enough else (middle, high)
    return now - timedelta(minutes=high)


def _open(plan: _Plan, *, actor, end_user_id: int, opened_at: datetime, rng, channel: str, **extra):
    return services.open_case(
        actor=actor,
        now=opened_at,
        request=services.CaseRequest(
            contract_code=plan.contract.code,
            category_code=plan.category.code,
            channel=channel,
            subject=demo_texts.subject_for(plan.category.code, rng),
            description=demo_texts.description_for(
                plan.category.code, plan.category.template, rng, plan.contract.client.province
            ),
            end_user_id=end_user_id,
            **extra,
        ),
    )


def _answer(case: Case, *, operator, at: datetime) -> None:
    services.assign_case(actor=operator, case=case, assignee=operator, now=at)
    services.transition_case(actor=operator, case=case, to=CaseStatus.IN_PROGRESS, now=at)
    services.add_note(
        actor=operator,
        case=case,
        now=at + timedelta(minutes=1),
        visibility=Note.Visibility.CUSTOMER,
        body="Buongiorno, abbiamo preso in carico la sua richiesta e la aggiorneremo a breve.",
    )


# Why callers called, by category (national closing codes): the contact-reasons report of the
# demo reads like a unit's.
CLOSING_CODES = {
    "sim-lost": ("sostituzione-sim", "blocco-sblocco-sim"),
    "no-service": ("guasto-rete", "risolto-configurazione"),
    "roaming": ("roaming", "risolto-configurazione"),
    "device": ("risolto-configurazione", "risolto-informazioni"),
    "new-line": ("inoltrato-backoffice", "risolto-informazioni"),
    "billing": ("fatturazione", "risolto-informazioni"),
}


def _closing_code(category_code: str, rng: random.Random | None = None) -> str:
    codes = CLOSING_CODES.get(category_code, ("risolto-informazioni",))
    return rng.choice(codes) if rng is not None else codes[0]


def seed_care_demo(*, operators, now: datetime | None = None) -> int:
    """Weeks of closed cases and a working day of open ones; how many cases were opened
    (0 when demo cases exist already)."""
    if Case.objects.exists() or not operators:
        return 0
    now = now or timezone.now()
    rng = random.Random(7)  # noqa: S311 - demo data, not security
    pool = _Pool(rng, now=now)
    if not pool.contracts:
        return 0
    created = _seed_history(pool, operators, since=now - timedelta(days=HISTORY_DAYS), now=now)
    created += _seed_open(pool, operators, now=now)
    recompute_sla_states(now=now)
    return created


def refresh_care_demo(*, operators, now: datetime | None = None) -> int:
    """A demo seeded more than `STALE_AFTER` ago comes back to life: what was left open is
    resolved shortly after its last activity, and the missing days of history and a fresh set
    of open cases are written relative to now. How many cases were opened (0: nothing to do)."""
    now = now or timezone.now()
    newest = Case.objects.aggregate(newest=Max("opened_at"))["newest"]
    if newest is None or now - newest < STALE_AFTER or not operators:
        return 0
    rng = random.Random(now.date().toordinal())  # noqa: S311 - demo data, not security
    pool = _Pool(rng, now=now)
    stale = (
        Case.objects.filter(status__in=OPEN_STATUSES)
        .exclude(status=CaseStatus.WAITING_UNIT)
        .select_related("assignee", "category")
        .annotate(last_event=Max("events__at"))
        .order_by("id")
    )
    for case in stale:
        actor = case.assignee or operators[0]
        at = min(max(case.last_event or case.opened_at, newest) + timedelta(minutes=20), now)
        if case.status == CaseStatus.WAITING_CUSTOMER:
            services.transition_case(actor=actor, case=case, to=CaseStatus.IN_PROGRESS, now=at)
            at += timedelta(minutes=1)
        services.transition_case(
            actor=actor,
            case=case,
            to=CaseStatus.RESOLVED,
            resolution_code=_closing_code(case.category.code),
            now=at,
        )
    if not pool.contracts:
        return 0
    since = max(newest, now - timedelta(days=HISTORY_DAYS))
    created = _seed_history(pool, operators, since=since, now=now)
    created += _seed_open(pool, operators, now=now)
    recompute_sla_states(now=now)
    return created


def _workers(operators) -> tuple[list, object | None]:
    demo = next((o for o in operators if o.get_username() == DEMO_OPERATOR), None)
    return [o for o in operators if o is not demo], demo


def _seed_history(pool: _Pool, operators, *, since: datetime, now: datetime) -> int:
    """Cases opened on working days between `since` and yesterday, answered and resolved
    (mostly within their targets, a few late), the older ones closed; some resolved during
    the call (first-contact resolution)."""
    workers, _demo = _workers(operators)
    rome = ZoneInfo("Europe/Rome")
    created = 0
    day = since.astimezone(rome).date() + timedelta(days=1)
    last = (now - timedelta(days=1)).astimezone(rome).date()
    while day <= last:
        if day.weekday() < 5:
            for _n in range(HISTORY_PER_DAY):
                created += _one_closed_case(pool, workers, day=day, now=now, rome=rome)
        day += timedelta(days=1)
    return created


def _one_closed_case(pool: _Pool, workers, *, day, now: datetime, rome) -> int:
    rng = pool.rng
    plan = pool.plan()
    if plan.target is None:
        return 0
    opened_at = datetime.combine(day, datetime.min.time(), tzinfo=rome) + timedelta(
        minutes=rng.randint(9 * 60, 16 * 60)
    )
    operator = rng.choice(workers)
    share = rng.uniform(1.05, 1.5) if rng.random() < 0.08 else rng.uniform(0.08, 0.9)
    try:
        resolved_at = calendars.add_business_minutes(
            plan.spec, opened_at, share * plan.target.resolution_minutes
        )
        answered_at = calendars.add_business_minutes(
            plan.spec, opened_at, rng.uniform(0.2, 0.8) * plan.target.first_response_minutes
        )
    except calendars.NoOpeningError:
        return 0
    if resolved_at > now - timedelta(hours=1) or answered_at >= resolved_at:
        return 0
    first_contact = rng.random() < 0.2
    try:
        case = _open(
            plan,
            actor=operator,
            end_user_id=pool.end_user(plan),
            opened_at=opened_at,
            rng=rng,
            channel="phone" if first_contact or rng.random() < 0.75 else "email",
            resolved_during_call=first_contact,
        )
    except DuplicateSuspected:
        return 0
    if not first_contact:
        _answer(case, operator=operator, at=answered_at)
        services.transition_case(
            actor=operator,
            case=case,
            to=CaseStatus.RESOLVED,
            resolution_code=_closing_code(case.category.code, rng),
            now=resolved_at,
        )
    closed_at = (opened_at if first_contact else resolved_at) + timedelta(days=2)
    if closed_at < now:
        services.transition_case(actor=operator, case=case, to=CaseStatus.CLOSED, now=closed_at)
    return 1


def _seed_open(pool: _Pool, operators, *, now: datetime) -> int:
    """Today's open cases: waiting in the queues, in progress (one of them the demo
    operator's), waiting for the customer; ages chosen so that most are on time."""
    rng = pool.rng
    workers, demo = _workers(operators)
    created = 0
    demo_has_one = demo is None
    for kind, count in OPEN_MIX:
        low, high = AGE_SHARES[kind]
        for _n in range(count):
            plan = pool.plan()
            if plan.target is None:
                continue
            budget = (
                plan.target.first_response_minutes
                if kind == "queued"
                else plan.target.resolution_minutes
            )
            opened_at = _opened_before(plan.spec, now, rng.uniform(low, high) * budget)
            operator = demo if not demo_has_one and kind == "on_time" else rng.choice(workers)
            try:
                case = _open(
                    plan,
                    actor=operator,
                    end_user_id=pool.end_user(plan),
                    opened_at=opened_at,
                    rng=rng,
                    channel="email" if kind == "queued" and rng.random() < 0.4 else "phone",
                )
            except DuplicateSuspected:
                continue
            created += 1
            if kind == "queued":
                continue
            demo_has_one = demo_has_one or operator is demo
            answered_at = calendars.add_business_minutes(
                plan.spec, opened_at, rng.uniform(0.2, 0.7) * plan.target.first_response_minutes
            )
            _answer(case, operator=operator, at=min(answered_at, now - timedelta(minutes=2)))
            if kind == "waiting_customer":
                services.transition_case(
                    actor=operator, case=case, to=CaseStatus.WAITING_CUSTOMER, now=now
                )
    return created
