"""Reads of the contracts app that pages, the API and other apps share."""

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.db.models import OuterRef, Prefetch, Q, QuerySet, prefetch_related_objects
from django.utils.translation import gettext as _

from config import roles
from config.db import JSONRows, as_prefetched, keep_prefetched
from config.errors import InvalidInput
from contracts import calendars, ports
from contracts.exceptions import ContractNotFound, ContractNotInForce
from contracts.models import (
    AuditEvent,
    BusinessCalendar,
    Category,
    Client,
    ClosingCode,
    ClosureDay,
    Contract,
    ContractStatus,
    ContractVersion,
    EndUser,
    EndUserPhone,
    OpeningInterval,
    SlaTarget,
)
from contracts.phones import InvalidPhoneNumber, normalise_phone


def calendar_spec(calendar: BusinessCalendar) -> calendars.CalendarSpec:
    """The pure calendar of a stored one (uses prefetched intervals and closures)."""
    weekly: list[list[calendars.Interval]] = [[] for _ in range(7)]
    for interval in calendar.intervals.all():
        weekly[interval.weekday].append(
            calendars.Interval(interval.start_minute, interval.end_minute)
        )
    return calendars.CalendarSpec(
        weekly_hours=tuple(tuple(day) for day in weekly),
        timezone=calendar.timezone,
        province=calendar.province or None,
        closures=frozenset(closure.day for closure in calendar.closures.all()),
        always_open=calendar.always_open,
    )


def calendar_spec_from_state(state: dict) -> calendars.CalendarSpec:
    """The pure calendar of a recorded state (as `services.calendar_state` writes it)."""
    weekly: list[list[calendars.Interval]] = [[] for _ in range(7)]
    for weekday, start, end in state["hours"]:
        weekly[weekday].append(calendars.Interval(start, end))
    return calendars.CalendarSpec(
        weekly_hours=tuple(tuple(day) for day in weekly),
        timezone=state["timezone"],
        province=state["province"] or None,
        closures=frozenset(date.fromisoformat(day) for day, _reason in state["closures"]),
        always_open=state["always_open"],
    )


def calendars_with_rules() -> QuerySet[BusinessCalendar]:
    return BusinessCalendar.objects.prefetch_related("intervals", "closures")


def versions_with_terms() -> QuerySet[ContractVersion]:
    return ContractVersion.objects.prefetch_related(
        Prefetch("sla_targets", queryset=SlaTarget.objects.order_by("priority")),
        Prefetch("categories", queryset=Category.objects.order_by("name")),
        Prefetch("closing_codes", queryset=ClosingCode.objects.order_by("code")),
    )


def contract_list(
    *,
    search: str = "",
    client_id: int | None = None,
    segment: str = "",
    service: str = "",
    status: str = "",
) -> QuerySet[Contract]:
    """Every contract card is open to every role; the list is filtered, never scoped."""
    contracts = Contract.objects.select_related("client", "calendar").order_by("code")
    if search:
        contracts = contracts.filter(Q(code__icontains=search) | Q(client__name__icontains=search))
    if client_id:
        contracts = contracts.filter(client_id=client_id)
    if segment:
        contracts = contracts.filter(client__segment=segment)
    if service:
        # JSON list membership that works on SQLite and PostgreSQL alike.
        contracts = contracts.filter(services__icontains=f'"{service}"')
    if status:
        contracts = contracts.filter(status=status)
    return contracts


# What SLA due times need beyond a contract's versions and categories: `with_terms` reads only
# what is missing.
_SLA_TERMS = (
    "calendar__intervals",
    "calendar__closures",
    Prefetch("versions__sla_targets", queryset=SlaTarget.objects.order_by("priority")),
)


def calendar_rules(calendar_id) -> dict:
    """Annotations of a row naming a calendar (`calendar_id`: an `OuterRef`) with the
    calendar's opening hours and closures; `keep_calendar_rules` puts them in place."""
    return {
        "calendar_hours": JSONRows(
            OpeningInterval.objects.filter(calendar_id=calendar_id),
            "id",
            "calendar_id",
            "weekday",
            "start_minute",
            "end_minute",
        ),
        "calendar_closures": JSONRows(
            ClosureDay.objects.filter(calendar_id=calendar_id), "id", "calendar_id", "day", "reason"
        ),
    }


def keep_calendar_rules(row, calendar: BusinessCalendar) -> BusinessCalendar:
    """The calendar's rules read by `calendar_rules` on `row`, kept as if prefetched."""
    hours = sorted(row.calendar_hours, key=lambda h: (h["weekday"], h["start_minute"]))
    as_prefetched(calendar, "intervals", OpeningInterval, hours)
    closures = sorted(row.calendar_closures, key=lambda c: c["day"])
    as_prefetched(calendar, "closures", ClosureDay, closures)
    return calendar


def sla_targets_of(version_id) -> JSONRows:
    """An annotation of a row naming a contract version (`version_id`: an `OuterRef`) with
    the version's SLA targets; `keep_sla_targets` puts them in place."""
    return JSONRows(
        SlaTarget.objects.filter(version_id=version_id),
        "id",
        "version_id",
        "priority",
        "first_response_minutes",
        "resolution_minutes",
    )


def keep_sla_targets(rows, version: ContractVersion) -> ContractVersion:
    as_prefetched(version, "sla_targets", SlaTarget, sorted(rows, key=lambda t: t["priority"]))
    return version


def phones_of(end_user_id) -> JSONRows:
    """An annotation of a row naming an end user (`end_user_id`: an `OuterRef`) with their
    phone numbers; `keep_phones` puts them in place."""
    return JSONRows(
        EndUserPhone.objects.filter(end_user_id=end_user_id).order_by("id"),
        "id",
        "end_user_id",
        "client_id",
        "number",
    )


def keep_phones(rows, end_user: EndUser) -> EndUser:
    as_prefetched(end_user, "phones", EndUserPhone, rows)
    return end_user


def contract_by_code(code: str) -> Contract:
    """The contract with its client, calendar and the calendar's rules, versions (newest
    first) with their categories and SLA targets: one query of its versions, each row with
    the contract joined and the small related rows as JSON columns (`config.db.JSONRows`);
    a second one only for a contract without versions."""
    code = (code or "").upper()
    versions = list(
        ContractVersion.objects.filter(contract__code=code)
        .select_related("contract__client", "contract__calendar")
        .annotate(
            **calendar_rules(OuterRef("contract__calendar_id")),
            category_rows=JSONRows(
                Category.objects.filter(version_id=OuterRef("id")).order_by("name"),
                *(f.attname for f in Category._meta.concrete_fields),
            ),
            sla_target_rows=sla_targets_of(OuterRef("id")),
        )
        .order_by("-number")
    )
    if versions:
        contract = versions[0].contract
        keep_calendar_rules(versions[0], contract.calendar)
    else:
        alone = (
            Contract.objects.select_related("client", "calendar")
            .annotate(**calendar_rules(OuterRef("calendar_id")))
            .filter(code=code)
            .first()
        )
        if alone is None:
            raise ContractNotFound()
        keep_calendar_rules(alone, alone.calendar)
        contract = alone
    for version in versions:
        version.contract = contract
        as_prefetched(version, "categories", Category, version.category_rows)
        keep_sla_targets(version.sla_target_rows, version)
    keep_prefetched(contract, "versions", versions)
    return contract


def with_terms(contract: Contract) -> Contract:
    """A contract completed with what SLA due times need: no query for one of
    `contract_by_code`, which has them."""
    prefetch_related_objects([contract], *_SLA_TERMS)
    return contract


def order_validation_changes(contract: Contract, *, limit: int = 5) -> list:
    """The latest changes of the contract's order-validation rule (who, when, why)."""
    return list(
        contract.audit_events.filter(kind=AuditEvent.Kind.ORDER_VALIDATION_CHANGED)
        .select_related("actor")
        .order_by("-at", "-id")[:limit]
    )


def in_force_on(on: date) -> Q:
    """Contracts in force on a day: active and within their validity."""
    return Q(status=ContractStatus.ACTIVE, valid_from__lte=on) & (
        Q(valid_to__isnull=True) | Q(valid_to__gte=on)
    )


def version_in_force(contract: Contract, on: date) -> ContractVersion | None:
    """The version whose terms apply on `on` (uses prefetched versions when present)."""
    for version in sorted(contract.versions.all(), key=lambda v: v.effective_from, reverse=True):
        if version.effective_from <= on and (
            version.effective_to is None or on <= version.effective_to
        ):
            return version
    return None


def default_closing_codes() -> QuerySet[ClosingCode]:
    """The national default list (system codes included)."""
    return ClosingCode.objects.filter(version__isnull=True).order_by("code")


def closing_codes_for(version_id: int | None, *, category_code: str = "") -> list[ClosingCode]:
    """The codes a case of this version and category can be resolved with: the version's own
    list, or the national default list when it defines none; a code restricted to another
    category is left out. The portal's own (system) codes come last: they are always
    accepted, but `offered` leaves them out of the operator's choice."""
    rows = list(
        ClosingCode.objects.filter(Q(version_id=version_id) | Q(version__isnull=True)).order_by(
            "code"
        )
        if version_id
        else default_closing_codes()
    )
    own = [c for c in rows if version_id and c.version_id == version_id]
    defaults = [c for c in rows if c.version_id is None]
    chosen = own or [c for c in defaults if not c.system]
    chosen = [c for c in chosen if not c.category_code or c.category_code == category_code]
    return chosen + [c for c in defaults if c.system and c.code not in {x.code for x in own}]


def offered_closing_codes(codes: list[ClosingCode]) -> list[ClosingCode]:
    """What the resolve form offers of `closing_codes_for`: not the portal's own codes."""
    return [c for c in codes if c.version_id or not c.system]


@dataclass(frozen=True)
class SlaDue:
    clock_starts_at: datetime
    first_response_due: datetime
    resolution_due: datetime
    first_response_minutes: int
    resolution_minutes: int


def sla_due(contract: Contract, *, priority: str, opened_at: datetime) -> SlaDue:
    """Due instants of a case opened now on this contract: the clock starts at the next
    opening of the contract's calendar and counts business minutes of the version in force."""
    spec = calendar_spec(contract.calendar)
    local_day = opened_at.astimezone(ZoneInfo(spec.timezone)).date()
    version = version_in_force(contract, local_day)
    if version is None or not contract_in_force(contract, local_day):
        raise ContractNotInForce()
    target = next((t for t in version.sla_targets.all() if t.priority == priority), None)
    if target is None:
        raise InvalidInput(
            _("The contract has no SLA target for priority %(p)s.") % {"p": priority},
            fields={"priority": [_("No target.")]},
        )
    return SlaDue(
        clock_starts_at=calendars.next_opening(spec, opened_at),
        first_response_due=calendars.add_business_minutes(
            spec, opened_at, target.first_response_minutes
        ),
        resolution_due=calendars.add_business_minutes(spec, opened_at, target.resolution_minutes),
        first_response_minutes=target.first_response_minutes,
        resolution_minutes=target.resolution_minutes,
    )


def contract_in_force(contract: Contract, on: date) -> bool:
    return (
        contract.status == ContractStatus.ACTIVE
        and contract.valid_from <= on
        and (contract.valid_to is None or on <= contract.valid_to)
    )


# --- Caller lookup --------------------------------------------------------------------------


@dataclass
class CallerMatch:
    """One end user with one of their client's contracts in force (or None)."""

    end_user: EndUser
    client: Client
    contract: Contract | None
    version: ContractVersion | None
    open_cases: list = field(default_factory=list)


def find_end_users(
    *, phone: str = "", email: str = "", employee_code: str = ""
) -> QuerySet[EndUser]:
    """End users matching exactly one of the keys (normalised as they are stored)."""
    end_users = EndUser.objects.filter(is_active=True).select_related("client")
    if phone:
        try:
            number = normalise_phone(phone)
        except InvalidPhoneNumber:
            raise InvalidInput(
                _("This is not a valid phone number."),
                fields={"phone": [_("Not a valid phone number.")]},
            ) from None
        ids = EndUserPhone.objects.filter(number=number).values("end_user_id")
        return end_users.filter(id__in=ids)
    if email:
        return end_users.filter(email=email.strip().lower())
    if employee_code:
        return end_users.filter(employee_code=employee_code.strip())
    raise InvalidInput(
        _("Search by phone, e-mail or employee code."),
        fields={"phone": [_("Give one search key.")]},
    )


LOOKUP_LIMIT = 20


def caller_lookup(
    *, on: date, phone: str = "", email: str = "", employee_code: str = ""
) -> list[CallerMatch]:
    """Who is calling: each matching end user with each contract of their client in force
    today, its version's terms, and (through `ports.open_cases_of`, care's) their open
    cases. A fixed handful of queries, whatever the number of matches."""
    end_users = list(
        find_end_users(phone=phone, email=email, employee_code=employee_code).prefetch_related(
            "phones"
        )[:LOOKUP_LIMIT]
    )
    if not end_users:
        return []
    contracts_by_client: dict[int, list[Contract | None]] = {}
    contracts = (
        Contract.objects.filter(in_force_on(on), client_id__in={u.client_id for u in end_users})
        .prefetch_related(Prefetch("versions", queryset=versions_with_terms()))
        .order_by("code")
    )
    for contract in contracts:
        contracts_by_client.setdefault(contract.client_id, []).append(contract)
    open_cases = ports.open_cases_of([u.id for u in end_users])
    return [
        CallerMatch(
            end_user=end_user,
            client=end_user.client,
            contract=contract,
            version=version_in_force(contract, on) if contract else None,
            open_cases=open_cases.get(end_user.id, []),
        )
        for end_user in end_users
        for contract in contracts_by_client.get(end_user.client_id) or [None]
    ]


def sees_every_client(user) -> bool:
    """Managers (they configure contracts and maintain the directories) and administrators
    reach every client's orders, loyalty items, end users and referents; back-office only
    those of its clients, the account teams it is in (DESIGN.md section 2)."""
    return user.has_perm("config.manage_contracts") or user.has_perm(
        "config.view_unmasked_personal_data"
    )


def of_their_clients(queryset: QuerySet, user, *, field: str = "client") -> QuerySet:
    """The rows of `queryset` (whose client is `field`; "" for clients themselves) the user
    may reach."""
    if sees_every_client(user):
        return queryset
    return queryset.filter(**{f"{field}__account_team" if field else "account_team": user})


def is_their_client(user, client_id: int) -> bool:
    return sees_every_client(user) or client_id in their_client_ids(user)


def sees_people_in_full(user, client_id: int) -> bool:
    """End users and referents in full: administrators, and back-office for their clients.
    Managers see aggregates: people masked (DESIGN.md section 2)."""
    if user.has_perm("config.view_unmasked_personal_data"):
        return True
    return user.has_perm("config.work_backoffice") and client_id in their_client_ids(user)


def their_client_ids(user) -> set[int]:
    """The clients whose account team the user is in (asked once per request)."""
    cached = getattr(user, "_presidio_their_clients", None)
    if cached is None:
        cached = set(
            Client.account_team.through.objects.filter(user_id=user.id).values_list(
                "client_id", flat=True
            )
        )
        user._presidio_their_clients = cached
    return cached


def end_user_ids_named(last_name: str, *, limit: int = 20) -> list[int]:
    """The end users with this surname, as typed (case ignored), by their own index."""
    wanted = (last_name or "").strip()
    if not wanted:
        return []
    return list(
        EndUser.objects.filter(last_name__iexact=wanted).values_list("id", flat=True)[:limit]
    )


def end_users_visible_to(user) -> QuerySet[EndUser]:
    return of_their_clients(end_user_list(), user)


def end_user_list(*, client_id: int | None = None, search: str = "") -> QuerySet[EndUser]:
    end_users = EndUser.objects.select_related("client").prefetch_related("phones")
    if client_id:
        end_users = end_users.filter(client_id=client_id)
    if search:
        end_users = end_users.filter(Q(last_name__icontains=search) | Q(employee_code=search))
    return end_users.order_by("last_name", "first_name", "id")


def account_team_candidates() -> QuerySet:
    """Who may be in a client's account team: back-office staff and managers (DESIGN §2:
    back-office sees "their clients in full")."""
    return roles.users_with("work_backoffice", "manage_contracts").order_by(
        "last_name", "first_name", "username"
    )


# Contracts this close to their end join the loyalty worklist (back-office renewals).
LOYALTY_HORIZON_DAYS = 90


def contracts_expiring(
    *, today: date, within_days: int = LOYALTY_HORIZON_DAYS
) -> QuerySet[Contract]:
    """Contracts in force today whose validity ends within `within_days` days (today
    included), soonest first: the loyalty worklist's feed."""
    return (
        Contract.objects.filter(
            in_force_on(today), valid_to__lte=today + timedelta(days=within_days)
        )
        .select_related("client")
        .order_by("valid_to", "code")
    )
