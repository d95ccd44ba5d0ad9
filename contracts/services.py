"""Every write of the contracts app: one function per business operation.

Each runs in a transaction, validates the domain rules (so the API, the manager pages and the
importer refuse the same things with the same messages) and writes its audit event.
"""

import re
import zoneinfo
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from config import audit
from config.errors import PermissionDenied
from config.inputs import text_problem
from config.models import ConfigChange
from contracts import calendars, selectors, signals
from contracts.cards import render_card
from contracts.exceptions import InvalidContractData
from contracts.identifiers import (
    InvalidIdentifier,
    normalise_codice_fiscale,
    normalise_province,
    normalise_vat_number,
)
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
    Priority,
    Referent,
    Segment,
    Service,
    SlaTarget,
)
from contracts.phones import InvalidPhoneNumber, normalise_phone

SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")

# --- Inputs ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class TargetTerms:
    priority: str
    first_response_minutes: int
    resolution_minutes: int


@dataclass(frozen=True)
class CategoryTerms:
    code: str
    name: str
    default_priority: str = Priority.P3
    template: str = ""


@dataclass(frozen=True)
class ClosingCodeTerms:
    code: str
    name_it: str
    name_en: str = ""
    category_code: str = ""


@dataclass(frozen=True)
class ContractTerms:
    """What a contract version promises; a new version carries a complete set."""

    sla_targets: Sequence[TargetTerms]
    categories: Sequence[CategoryTerms] = ()
    # Empty: the version's cases use the national default list of closing codes.
    closing_codes: Sequence[ClosingCodeTerms] = ()
    at_risk_share: Decimal = Decimal("0.20")
    card_markdown: str = ""
    entitlements: dict = field(default_factory=dict)
    handoff_units: list = field(default_factory=list)
    escalation_contacts: list = field(default_factory=list)
    change_summary: str = ""


@dataclass(frozen=True)
class EndUserData:
    first_name: str
    last_name: str
    phones: Sequence[str] = ()
    email: str = ""
    employee_code: str = ""
    codice_fiscale: str = ""
    language: str = "it"  # of the mail they receive: it or en


# weekday (Monday = 0) -> [(start_minute, end_minute), ...]
WeeklyHours = dict[int, Sequence[tuple[int, int]]]


class FieldErrors:
    """Collects every problem before refusing, so the user fixes them all at once."""

    def __init__(self) -> None:
        self.fields: dict[str, list[str]] = {}

    def add(self, name: str, message: str) -> None:
        self.fields.setdefault(name, []).append(str(message))

    def raise_if_any(self) -> None:
        if self.fields:
            raise InvalidContractData(fields=self.fields)


def _audit(kind: str, *, actor, summary: str, **links) -> AuditEvent:
    return AuditEvent.objects.create(
        kind=kind, at=timezone.now(), actor=actor, summary=summary[:300], **links
    )


# --- Clients --------------------------------------------------------------------------------


def _checked_client_fields(
    errors: FieldErrors, *, name, segment, vat_number, province, exclude_id=None
) -> dict:
    values = {"name": (name or "").strip(), "segment": segment}
    if not values["name"]:
        errors.add("name", _("Enter the client's name."))
    elif Client.objects.filter(name__iexact=values["name"]).exclude(id=exclude_id).exists():
        errors.add("name", _("A client with this name already exists."))
    if segment not in Segment.values:
        errors.add("segment", _("Choose a segment: TOP, LARGE or PA."))
    try:
        values["vat_number"] = normalise_vat_number(vat_number)
        if Client.objects.filter(vat_number=values["vat_number"]).exclude(id=exclude_id).exists():
            errors.add("vat_number", _("Another client has this VAT number."))
    except InvalidIdentifier:
        errors.add("vat_number", _("This is not a valid Italian VAT number (partita IVA)."))
    try:
        values["province"] = normalise_province(province)
    except InvalidIdentifier:
        errors.add("province", _("Enter an Italian province code, e.g. PA, MI, RM."))
    return values


@dataclass(frozen=True)
class ReferentData:
    first_name: str
    last_name: str
    role: str = ""
    phone: str = ""
    email: str = ""
    is_primary: bool = False


def _check_account_team(errors: FieldErrors, members: Iterable) -> None:
    """Only back-office staff and managers join an account team, on every interface."""
    members = list(members)
    allowed = set(
        selectors.account_team_candidates()
        .filter(id__in=[member.id for member in members])
        .values_list("id", flat=True)
    )
    for member in members:
        if member.id not in allowed:
            errors.add(
                "account_team",
                _("%(user)s cannot be in an account team: back-office staff and managers only.")
                % {"user": member.get_username()},
            )


def _checked_referents(errors: FieldErrors, referents: Sequence[ReferentData]) -> list[dict]:
    rows = []
    for referent in referents:
        name = f"{referent.first_name} {referent.last_name}".strip()
        if not referent.first_name.strip() or not referent.last_name.strip():
            errors.add("referents", _("Each referent needs a first and a last name."))
            continue
        phone = ""
        if referent.phone.strip():
            try:
                phone = normalise_phone(referent.phone)
            except InvalidPhoneNumber:
                errors.add(
                    "referents",
                    _("%(name)s: %(raw)s is not a valid phone number.")
                    % {"name": name, "raw": referent.phone},
                )
        email = referent.email.strip().lower()
        if email and "@" not in email:
            errors.add("referents", _("%(name)s: enter a valid e-mail address.") % {"name": name})
        rows.append(
            {
                "first_name": referent.first_name.strip(),
                "last_name": referent.last_name.strip(),
                "role": referent.role.strip(),
                "phone": phone,
                "email": email,
                "is_primary": referent.is_primary,
            }
        )
    return rows


def _write_referents(client: Client, rows: list[dict]) -> None:
    client.referents.all().delete()
    Referent.objects.bulk_create(Referent(client=client, **row) for row in rows)


@transaction.atomic(durable=True)
def create_client(
    *,
    actor,
    name: str,
    segment: str,
    vat_number: str,
    province: str,
    account_team: Iterable = (),
    referents: Sequence[ReferentData] = (),
) -> Client:
    errors = FieldErrors()
    values = _checked_client_fields(
        errors, name=name, segment=segment, vat_number=vat_number, province=province
    )
    referent_rows = _checked_referents(errors, referents)
    _check_account_team(errors, account_team)
    errors.raise_if_any()
    client = Client.objects.create(**values)
    client.account_team.set(account_team)
    _write_referents(client, referent_rows)
    _audit(
        AuditEvent.Kind.CLIENT_CREATED,
        actor=actor,
        client=client,
        summary=f"{client.name} ({client.segment})",
    )
    return client


@transaction.atomic(durable=True)
def update_client(
    *,
    actor,
    client: Client,
    name: str,
    segment: str,
    vat_number: str,
    province: str,
    is_active: bool = True,
    account_team: Iterable | None = None,
    referents: Sequence[ReferentData] | None = None,
) -> Client:
    """`account_team` and `referents`, when given, replace the current ones."""
    errors = FieldErrors()
    values = _checked_client_fields(
        errors,
        name=name,
        segment=segment,
        vat_number=vat_number,
        province=province,
        exclude_id=client.id,
    )
    referent_rows = _checked_referents(errors, referents or ())
    _check_account_team(errors, account_team or ())
    errors.raise_if_any()
    client = Client.objects.select_for_update().get(id=client.id)
    for attribute, value in {**values, "is_active": is_active}.items():
        setattr(client, attribute, value)
    client.save(update_fields=[*values, "is_active", "updated_at"])
    if account_team is not None:
        client.account_team.set(account_team)
    if referents is not None:
        _write_referents(client, referent_rows)
    _audit(AuditEvent.Kind.CLIENT_UPDATED, actor=actor, client=client, summary=client.name)
    return client


# --- Calendars ------------------------------------------------------------------------------


def _checked_hours(
    errors: FieldErrors, hours: WeeklyHours, *, always_open: bool
) -> list[tuple[int, int, int]]:
    rows = []
    for weekday, intervals in sorted(hours.items()):
        if weekday not in range(7):
            errors.add("hours", _("Unknown weekday %(day)s.") % {"day": weekday})
            continue
        previous_end = -1
        for start, end in sorted(intervals):
            label = f"{_minutes_label(start)}–{_minutes_label(end)}"
            if not (0 <= start < end <= 1440):
                errors.add(
                    "hours",
                    _("%(interval)s: an opening must end after it starts, within the day.")
                    % {"interval": label},
                )
            elif start < previous_end:
                errors.add(
                    "hours",
                    _("%(interval)s overlaps another opening of the same day.")
                    % {"interval": label},
                )
            previous_end = max(previous_end, end)
            rows.append((weekday, start, end))
    if not rows and not always_open:
        errors.add("hours", _("Give at least one opening, or mark the calendar as open 24x7."))
    return rows


def _minutes_label(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _checked_calendar_fields(
    errors: FieldErrors, *, name, timezone_name, province, closures, exclude_id=None
) -> dict:
    values = {
        "name": (name or "").strip(),
        "timezone": timezone_name or calendars.UNIT_TIME_ZONE,
        "province": "",
    }
    if not values["name"]:
        errors.add("name", _("Enter the calendar's name."))
    elif (
        BusinessCalendar.objects.filter(name__iexact=values["name"]).exclude(id=exclude_id).exists()
    ):
        errors.add("name", _("A calendar with this name already exists."))
    if values["timezone"] not in zoneinfo.available_timezones():
        errors.add("timezone", _("Unknown time zone."))
    if province:
        try:
            values["province"] = normalise_province(province)
        except InvalidIdentifier:
            errors.add("province", _("Enter an Italian province code, e.g. PA, MI, RM."))
    days = [day for day, _reason in closures]
    if len(days) != len(set(days)):
        errors.add("closures", _("A closure day is listed twice."))
    return values


def calendar_state(calendar: BusinessCalendar) -> dict:
    """A plain picture of the calendar, stored before and after each change."""
    return {
        "timezone": calendar.timezone,
        "province": calendar.province,
        "always_open": calendar.always_open,
        "hours": [
            [i.weekday, i.start_minute, i.end_minute]
            for i in calendar.intervals.order_by("weekday", "start_minute")
        ],
        "closures": [[c.day.isoformat(), c.reason] for c in calendar.closures.order_by("day")],
    }


def _write_hours_and_closures(calendar, rows, closures) -> None:
    calendar.intervals.all().delete()
    calendar.closures.all().delete()
    OpeningInterval.objects.bulk_create(
        OpeningInterval(calendar=calendar, weekday=w, start_minute=s, end_minute=e)
        for w, s, e in rows
    )
    ClosureDay.objects.bulk_create(
        ClosureDay(calendar=calendar, day=day, reason=(reason or "")[:200])
        for day, reason in closures
    )


@transaction.atomic(durable=True)
def create_calendar(
    *,
    actor,
    name: str,
    timezone_name: str = calendars.UNIT_TIME_ZONE,
    province: str = "",
    always_open: bool = False,
    hours: WeeklyHours | None = None,
    closures: Sequence[tuple[date, str]] = (),
) -> BusinessCalendar:
    errors = FieldErrors()
    values = _checked_calendar_fields(
        errors, name=name, timezone_name=timezone_name, province=province, closures=closures
    )
    rows = _checked_hours(errors, hours or {}, always_open=always_open)
    errors.raise_if_any()
    calendar = BusinessCalendar.objects.create(always_open=always_open, **values)
    _write_hours_and_closures(calendar, rows, closures)
    _audit(AuditEvent.Kind.CALENDAR_CREATED, actor=actor, calendar=calendar, summary=calendar.name)
    return calendar


@transaction.atomic(durable=True)
def update_calendar(
    *,
    actor,
    calendar: BusinessCalendar,
    name: str,
    timezone_name: str,
    province: str,
    always_open: bool,
    hours: WeeklyHours,
    closures: Sequence[tuple[date, str]],
    now: datetime | None = None,
) -> BusinessCalendar:
    """Replace the calendar's hours and closures. Open cases' due times move from `now` on
    (the care app listens to `calendar_changed`); targets already met or breached stay."""
    errors = FieldErrors()
    values = _checked_calendar_fields(
        errors,
        name=name,
        timezone_name=timezone_name,
        province=province,
        closures=closures,
        exclude_id=calendar.id,
    )
    rows = _checked_hours(errors, hours, always_open=always_open)
    errors.raise_if_any()
    now = now or timezone.now()
    calendar = BusinessCalendar.objects.select_for_update().get(id=calendar.id)
    before = calendar_state(calendar)
    for attribute, value in {**values, "always_open": always_open}.items():
        setattr(calendar, attribute, value)
    calendar.save(update_fields=[*values, "always_open", "updated_at"])
    _write_hours_and_closures(calendar, rows, closures)
    after = calendar_state(calendar)
    if before != after:
        AuditEvent.objects.create(
            kind=AuditEvent.Kind.CALENDAR_CHANGED,
            at=now,
            actor=actor,
            calendar=calendar,
            summary=calendar.name,
            detail={"before": before, "after": after},
        )
        # In the same transaction: the calendar and the due times move together or not at all.
        signals.calendar_changed.send(
            sender=BusinessCalendar,
            calendar_id=calendar.id,
            effective_at=now,
            previous_state=before,
        )
    return calendar


# --- Contracts ------------------------------------------------------------------------------


def _checked_terms(errors: FieldErrors, terms: ContractTerms) -> Decimal:
    try:
        share = Decimal(str(terms.at_risk_share))
    except (InvalidOperation, ValueError):
        share = Decimal(-1)
    if not Decimal(0) < share < Decimal(1):
        errors.add("at_risk_share", _("The at-risk share must be between 0 and 1 (e.g. 0.2)."))
    if not terms.sla_targets:
        errors.add("sla_targets", _("Give the SLA targets of at least one priority."))
    seen = set()
    for target in terms.sla_targets:
        if target.priority not in Priority.values:
            errors.add("sla_targets", _("Unknown priority %(p)s.") % {"p": target.priority})
            continue
        if target.priority in seen:
            errors.add("sla_targets", _("%(p)s is given twice.") % {"p": target.priority})
        seen.add(target.priority)
        first, resolution = target.first_response_minutes, target.resolution_minutes
        if not (
            isinstance(first, int) and first > 0 and isinstance(resolution, int) and resolution > 0
        ):
            errors.add(
                "sla_targets",
                _("%(p)s: targets must be positive whole minutes.") % {"p": target.priority},
            )
        elif first > resolution:
            errors.add(
                "sla_targets",
                _("%(p)s: first response cannot come after resolution.") % {"p": target.priority},
            )
    codes = set()
    for category in terms.categories:
        if not category.code or not category.name:
            errors.add("categories", _("Each category needs a code and a name."))
        elif category.code in codes:
            errors.add(
                "categories", _("Category %(code)s is given twice.") % {"code": category.code}
            )
        codes.add(category.code)
        if category.default_priority not in seen:
            errors.add(
                "categories",
                _("Category %(code)s: its default priority %(p)s has no SLA target.")
                % {"code": category.code, "p": category.default_priority},
            )
    _check_closing_codes(errors, terms.closing_codes, category_codes=codes)
    if not isinstance(terms.entitlements, dict):
        errors.add("entitlements", _("Entitlements must be a list of name and value."))
    for contact in terms.escalation_contacts:
        if not isinstance(contact, dict) or not contact.get("name"):
            errors.add("escalation_contacts", _("Each escalation contact needs a name."))
    for unit in terms.handoff_units:
        if not isinstance(unit, dict) or not unit.get("code") or not unit.get("name"):
            errors.add("handoff_units", _("Each hand-off unit needs a code and a name."))
    return share


def _check_closing_codes(
    errors: FieldErrors, closing_codes: Sequence[ClosingCodeTerms], *, category_codes: set
) -> None:
    seen: set[str] = set()
    for item in closing_codes:
        code = (item.code or "").strip()
        if not code or not SLUG.fullmatch(code) or len(code) > 50:
            errors.add(
                "closing_codes",
                _("Closing code “%(code)s”: use lower-case letters, digits and dashes.")
                % {"code": code},
            )
            continue
        if code in seen:
            errors.add("closing_codes", _("Closing code %(code)s is given twice.") % {"code": code})
        seen.add(code)
        if not (item.name_it or "").strip() or not (item.name_en or "").strip():
            errors.add(
                "closing_codes",
                _("Closing code %(code)s needs an Italian and an English name.") % {"code": code},
            )
        if item.category_code and item.category_code not in category_codes:
            errors.add(
                "closing_codes",
                _("Closing code %(code)s: the category %(category)s is not in the contract.")
                % {"code": code, "category": item.category_code},
            )


CLOSING_CODE_FIELDS = ("code", "name_it", "name_en", "category_code")


def _record_closing_codes(*, actor, contract, version, previous) -> None:
    """The closing codes the new version adds, changes or drops against the version before
    it (none for a new contract), each a configuration change (target "closing_code") in
    the version's transaction. A version that lists none falls back on the national list."""
    old = {c.code: c for c in previous.closing_codes.all()} if previous is not None else {}
    new = {c.code: c for c in version.closing_codes.all()}
    now = timezone.now()
    for code in sorted({*old, *new}):
        before = audit.snapshot(old.get(code), CLOSING_CODE_FIELDS)
        after = audit.snapshot(new.get(code), CLOSING_CODE_FIELDS)
        if before == after:
            continue
        action = ConfigChange.Action.CHANGED
        if not before:
            action = ConfigChange.Action.CREATED
        elif not after:
            action = ConfigChange.Action.DELETED
        if before:
            before |= {"contract": contract.code, "version": previous.number}
        if after:
            after |= {"contract": contract.code, "version": version.number}
        audit.record_change(
            actor=actor,
            now=now,
            target_type="closing_code",
            target_id=f"{contract.code}/{code}"[:64],
            target_label=f"{contract.code}: {(after or before)['name_it']}",
            action=action,
            before=before,
            after=after,
        )


def _write_version(
    *, actor, contract, number, effective_from, terms, share, previous=None
) -> ContractVersion:
    version = ContractVersion.objects.create(
        contract=contract,
        number=number,
        effective_from=effective_from,
        at_risk_share=share,
        card_markdown=terms.card_markdown,
        card_html=render_card(terms.card_markdown),
        entitlements=terms.entitlements,
        handoff_units=list(terms.handoff_units),
        escalation_contacts=list(terms.escalation_contacts),
        change_summary=terms.change_summary[:300],
        created_by=actor,
    )
    SlaTarget.objects.bulk_create(
        SlaTarget(
            version=version,
            priority=t.priority,
            first_response_minutes=t.first_response_minutes,
            resolution_minutes=t.resolution_minutes,
        )
        for t in terms.sla_targets
    )
    Category.objects.bulk_create(
        Category(
            version=version,
            code=c.code,
            name=c.name,
            default_priority=c.default_priority,
            template=c.template,
        )
        for c in terms.categories
    )
    ClosingCode.objects.bulk_create(
        ClosingCode(
            version=version,
            code=c.code.strip(),
            name_it=c.name_it.strip()[:150],
            name_en=c.name_en.strip()[:150],
            category_code=c.category_code or "",
        )
        for c in terms.closing_codes
    )
    _record_closing_codes(actor=actor, contract=contract, version=version, previous=previous)
    return version


def _checked_contract_fields(errors: FieldErrors, *, services, valid_from, valid_to) -> list:
    services = list(dict.fromkeys(services or []))
    if not services:
        errors.add("services", _("Choose at least one service in scope."))
    unknown = [s for s in services if s not in Service.values]
    if unknown:
        errors.add("services", _("Unknown services: %(list)s.") % {"list": ", ".join(unknown)})
    if valid_to and valid_from and valid_to < valid_from:
        errors.add("valid_to", _("The contract cannot end before it starts."))
    return services


@transaction.atomic(durable=True)
def create_contract(
    *,
    actor,
    code: str,
    client: Client,
    calendar: BusinessCalendar,
    services: Sequence[str],
    valid_from: date,
    valid_to: date | None,
    terms: ContractTerms,
) -> Contract:
    """A new contract with its first version, in force from `valid_from`."""
    errors = FieldErrors()
    code = (code or "").strip().upper()
    if not code or any(not (ch.isalnum() or ch in "-_.") for ch in code):
        errors.add("code", _("Use letters, digits and dashes for the code."))
    elif Contract.objects.filter(code=code).exists():
        errors.add("code", _("A contract with this code already exists."))
    services = _checked_contract_fields(
        errors, services=services, valid_from=valid_from, valid_to=valid_to
    )
    share = _checked_terms(errors, terms)
    errors.raise_if_any()
    contract = Contract.objects.create(
        code=code,
        client=client,
        calendar=calendar,
        services=services,
        valid_from=valid_from,
        valid_to=valid_to,
    )
    _write_version(
        actor=actor,
        contract=contract,
        number=1,
        effective_from=valid_from,
        terms=terms,
        share=share,
    )
    _audit(
        AuditEvent.Kind.CONTRACT_CREATED,
        actor=actor,
        contract=contract,
        client=client,
        summary=f"{contract.code} ({client.name})",
    )
    return contract


@transaction.atomic(durable=True)
def amend_contract(
    *, actor, contract: Contract, effective_from: date, terms: ContractTerms
) -> ContractVersion:
    """Add a version in force from `effective_from`; the previous one ends the day before.

    Cases keep the version that was in force when they were opened, so nothing already
    measured changes.
    """
    contract = Contract.objects.select_for_update().get(id=contract.id)
    errors = FieldErrors()
    share = _checked_terms(errors, terms)
    latest = contract.versions.order_by("-effective_from").first()
    if effective_from is None:
        errors.add("effective_from", _("Give the date the amendment takes effect."))
    elif effective_from < contract.valid_from or (
        contract.valid_to and effective_from > contract.valid_to
    ):
        errors.add(
            "effective_from", _("The amendment must take effect within the contract's validity.")
        )
    elif latest and effective_from <= latest.effective_from:
        errors.add(
            "effective_from",
            _("Version %(n)s is already in force from %(date)s: an amendment must start later.")
            % {"n": latest.number, "date": latest.effective_from.strftime("%d/%m/%Y")},
        )
    errors.raise_if_any()
    if latest and (latest.effective_to is None or latest.effective_to >= effective_from):
        latest.effective_to = effective_from - timedelta(days=1)
        latest.save(update_fields=["effective_to"])
    version = _write_version(
        actor=actor,
        contract=contract,
        number=(latest.number + 1) if latest else 1,
        effective_from=effective_from,
        terms=terms,
        share=share,
        previous=latest,
    )
    _audit(
        AuditEvent.Kind.CONTRACT_AMENDED,
        actor=actor,
        contract=contract,
        client_id=contract.client_id,
        summary=f"{contract.code} v{version.number} {terms.change_summary}",
        detail={"version": version.number, "effective_from": effective_from.isoformat()},
    )
    return version


@transaction.atomic(durable=True)
def update_contract(
    *,
    actor,
    contract: Contract,
    calendar: BusinessCalendar,
    services: Sequence[str],
    valid_to: date | None,
    status: str,
    retention_months: int | None = None,
    mail_signature: str | None = None,
    acknowledge_phone_cases: bool | None = None,
) -> Contract:
    """Contract-level facts; the terms change only through an amendment."""
    contract = Contract.objects.select_for_update().get(id=contract.id)
    errors = FieldErrors()
    services = _checked_contract_fields(
        errors, services=services, valid_from=contract.valid_from, valid_to=valid_to
    )
    if status not in ContractStatus.values:
        errors.add("status", _("Unknown status."))
    if retention_months is None:
        retention_months = contract.retention_months
    elif not 1 <= retention_months <= 120:
        errors.add("retention_months", _("Between 1 and 120 months."))
    latest = contract.versions.order_by("-effective_from").first()
    if valid_to and latest and valid_to < latest.effective_from:
        errors.add("valid_to", _("Version %(n)s starts after that date.") % {"n": latest.number})
    errors.raise_if_any()
    calendar_changed = contract.calendar_id != calendar.id
    previous_state = calendar_state(contract.calendar) if calendar_changed else None
    contract.calendar, contract.services = calendar, services
    contract.valid_to, contract.status = valid_to, status
    contract.retention_months = retention_months
    if mail_signature is not None:
        contract.mail_signature = mail_signature.strip()[:1000]
    if acknowledge_phone_cases is not None:
        contract.acknowledge_phone_cases = acknowledge_phone_cases
    contract.save(
        update_fields=[
            "calendar",
            "services",
            "valid_to",
            "status",
            "retention_months",
            "updated_at",
        ]
    )
    _audit(
        AuditEvent.Kind.CONTRACT_UPDATED,
        actor=actor,
        contract=contract,
        client_id=contract.client_id,
        summary=contract.code,
        detail={
            "calendar": calendar.id,
            "status": status,
            "services": services,
            "valid_to": valid_to.isoformat() if valid_to else None,
            "retention_months": retention_months,
        },
    )
    if calendar_changed:
        now = timezone.now()
        # In the same transaction: the calendar and the due times move together or not at all.
        signals.calendar_changed.send(
            sender=Contract,
            calendar_id=calendar.id,
            effective_at=now,
            previous_state=previous_state,
            contract_id=contract.id,
        )
    return contract


REASON_MAX = 300


class ManagersOnly(PermissionDenied):
    code = "managers_only"
    default_message = gettext_lazy("Only managers can change this for a contract.")


@transaction.atomic(durable=True)
def set_order_validation(
    *, actor, contract: Contract, single_person: bool, reason: str
) -> Contract:
    """Allow (or stop allowing) whoever submitted an order on `contract` to validate it
    alone; by default validation is a second person's act (contracts.orders.services).
    Managers only, with a reason; the change and its reason go to the contract's audit
    trail like every other contract change."""
    if not actor.has_perm("config.manage_contracts"):
        raise ManagersOnly()
    reason = (reason or "").strip()
    if not reason:
        raise InvalidContractData(fields={"reason": [_("Give the reason.")]})
    if len(reason) > REASON_MAX:
        raise InvalidContractData(
            fields={"reason": [_("At most %(n)s characters.") % {"n": REASON_MAX}]}
        )
    contract = Contract.objects.select_for_update().get(id=contract.id)
    before = contract.single_person_order_validation
    contract.single_person_order_validation = bool(single_person)
    contract.save(update_fields=["single_person_order_validation", "updated_at"])
    _audit(
        AuditEvent.Kind.ORDER_VALIDATION_CHANGED,
        actor=actor,
        contract=contract,
        client_id=contract.client_id,
        summary=f"{contract.code}: {reason}",
        detail={"single_person": bool(single_person), "before": before, "reason": reason},
    )
    return contract


# --- End users ------------------------------------------------------------------------------


# The columns' lengths: past them PostgreSQL refuses the row (SQLite would keep it).
END_USER_LENGTHS: dict[str, int] = {
    name: getattr(EndUser._meta.get_field(name), "max_length", 0) or 0
    for name in ("first_name", "last_name", "email", "employee_code")
}


def checked_end_user(
    errors: FieldErrors,
    client: Client,
    data: EndUserData,
    *,
    taken_phones: set[str],
    taken_codes: set[str],
    taken_cfs: set[str],
    prefix: str = "",
) -> dict:
    """Normalised fields of one end user; the `taken_*` sets are what the client already
    uses (the importer passes its running sets, so duplicates inside a file are caught).
    Whatever passes here can be written (the import's dry run and the import itself rely
    on it): text the database cannot store or longer than its column is a field error."""
    values: dict[str, Any] = {
        "first_name": (data.first_name or "").strip(),
        "last_name": (data.last_name or "").strip(),
        "email": (data.email or "").strip().lower(),
        "employee_code": (data.employee_code or "").strip(),
        "codice_fiscale": "",
        "phones": [],
        "language": data.language if data.language in ("it", "en") else "it",
    }
    as_typed = {
        **{name: values[name] for name in ("first_name", "last_name", "email", "employee_code")},
        "phone": " ".join(data.phones),
        "codice_fiscale": data.codice_fiscale or "",
    }
    unwritable = set()
    for name, text in as_typed.items():
        if problem := text_problem(text):
            errors.add(f"{prefix}{name}", problem)
            unwritable.add(name)
        elif name in END_USER_LENGTHS and len(text) > END_USER_LENGTHS[name]:
            errors.add(
                f"{prefix}{name}",
                _("At most %(n)s characters.") % {"n": END_USER_LENGTHS[name]},
            )
            unwritable.add(name)
    if not values["first_name"]:
        errors.add(f"{prefix}first_name", _("Enter the first name."))
    if not values["last_name"]:
        errors.add(f"{prefix}last_name", _("Enter the last name."))
    if (
        values["email"]
        and "email" not in unwritable
        and ("@" not in values["email"] or " " in values["email"])
    ):
        errors.add(f"{prefix}email", _("Enter a valid e-mail address."))
    for raw in data.phones if "phone" not in unwritable else ():
        if not (raw or "").strip():
            continue
        try:
            number = normalise_phone(raw)
        except InvalidPhoneNumber:
            errors.add(f"{prefix}phone", _("%(raw)s is not a valid phone number.") % {"raw": raw})
            continue
        if number in taken_phones or number in values["phones"]:
            errors.add(
                f"{prefix}phone",
                _("%(number)s already belongs to another end user of this client.")
                % {"number": number},
            )
        else:
            values["phones"].append(number)
    if values["employee_code"] and values["employee_code"] in taken_codes:
        errors.add(
            f"{prefix}employee_code", _("Another end user of this client has this employee code.")
        )
    if data.codice_fiscale and data.codice_fiscale.strip() and "codice_fiscale" not in unwritable:
        try:
            values["codice_fiscale"] = normalise_codice_fiscale(data.codice_fiscale)
            if values["codice_fiscale"] in taken_cfs:
                errors.add(
                    f"{prefix}codice_fiscale",
                    _("Another end user of this client has this codice fiscale."),
                )
        except InvalidIdentifier:
            errors.add(f"{prefix}codice_fiscale", _("This is not a valid codice fiscale."))
    return values


def taken_identifiers(client: Client, *, exclude_end_user_id=None) -> tuple[set, set, set]:
    """Phones, employee codes and codici fiscali the client's end users already use."""
    end_users = EndUser.objects.filter(client=client).exclude(id=exclude_end_user_id)
    phones = set(
        EndUserPhone.objects.filter(client=client)
        .exclude(end_user_id=exclude_end_user_id)
        .values_list("number", flat=True)
    )
    codes = set(end_users.exclude(employee_code="").values_list("employee_code", flat=True))
    cfs = set(end_users.exclude(codice_fiscale="").values_list("codice_fiscale", flat=True))
    return phones, codes, cfs


def _require_their_client(actor, client: Client) -> None:
    """Back-office maintains only its clients' directories (managers and admins all)."""
    if actor is not None and not selectors.is_their_client(actor, client.id):
        raise PermissionDenied(_("You maintain only the directories of your clients."))


@transaction.atomic(durable=True)
def create_end_user(*, actor, client: Client, data: EndUserData) -> EndUser:
    _require_their_client(actor, client)
    errors = FieldErrors()
    phones, codes, cfs = taken_identifiers(client)
    values = checked_end_user(
        errors, client, data, taken_phones=phones, taken_codes=codes, taken_cfs=cfs
    )
    errors.raise_if_any()
    numbers = values.pop("phones")
    end_user = EndUser.objects.create(client=client, **values)
    EndUserPhone.objects.bulk_create(
        EndUserPhone(end_user=end_user, client=client, number=n) for n in numbers
    )
    _audit(
        AuditEvent.Kind.END_USER_CREATED,
        actor=actor,
        client=client,
        summary=f"end user #{end_user.id}",
    )  # no personal data in the trail's summary
    return end_user


@transaction.atomic(durable=True)
def update_end_user(
    *, actor, end_user: EndUser, data: EndUserData, is_active: bool = True
) -> EndUser:
    end_user = EndUser.objects.select_for_update().select_related("client").get(id=end_user.id)
    _require_their_client(actor, end_user.client)
    errors = FieldErrors()
    phones, codes, cfs = taken_identifiers(end_user.client, exclude_end_user_id=end_user.id)
    values = checked_end_user(
        errors, end_user.client, data, taken_phones=phones, taken_codes=codes, taken_cfs=cfs
    )
    errors.raise_if_any()
    numbers = values.pop("phones")
    for attribute, value in {**values, "is_active": is_active}.items():
        setattr(end_user, attribute, value)
    end_user.save(update_fields=[*values, "is_active", "updated_at"])
    end_user.phones.exclude(number__in=numbers).delete()
    existing = set(end_user.phones.values_list("number", flat=True))
    EndUserPhone.objects.bulk_create(
        EndUserPhone(end_user=end_user, client=end_user.client, number=n)
        for n in numbers
        if n not in existing
    )
    _audit(
        AuditEvent.Kind.END_USER_UPDATED,
        actor=actor,
        client=end_user.client,
        summary=f"end user #{end_user.id}",
    )
    return end_user


# --- Bulk onboarding ------------------------------------------------------------------------


# What the reader is shown for a row error's field (its code stays in the API's `field`).
IMPORT_FIELD_LABELS = {
    "first_name": gettext_lazy("first name"),
    "last_name": gettext_lazy("last name"),
    "phone": gettext_lazy("phone number"),
    "email": gettext_lazy("e-mail"),
    "employee_code": gettext_lazy("employee code"),
    "codice_fiscale": gettext_lazy("codice fiscale"),
}


@dataclass(frozen=True)
class RowError:
    line: int
    field: str
    message: str

    @property
    def field_label(self) -> str:
        """The field's name in the reader's language ("nome", not "first_name")."""
        return str(IMPORT_FIELD_LABELS.get(self.field, self.field))


@dataclass
class ImportReport:
    rows: int = 0
    valid: int = 0
    created: int = 0
    errors: list[RowError] = field(default_factory=list)
    dry_run: bool = True
    all_or_nothing: bool = True

    @property
    def rejected_lines(self) -> int:
        return len({error.line for error in self.errors})


IMPORT_BATCH = 2000


def import_end_users(
    *, actor, client: Client, rows: Iterable, dry_run: bool, all_or_nothing: bool
) -> ImportReport:
    """Validate every row (line, field, reason for each problem), then write either all valid
    rows or, with `all_or_nothing`, nothing at all when any row is bad.

    `rows` are `contracts.imports.Row`s. Duplicates inside the file count as errors too.
    """
    _require_their_client(actor, client)
    report = ImportReport(dry_run=dry_run, all_or_nothing=all_or_nothing)
    phones, codes, cfs = taken_identifiers(client)
    valid: list[dict] = []
    for row in rows:
        report.rows += 1
        errors = FieldErrors()
        values = checked_end_user(
            errors,
            client,
            EndUserData(
                first_name=row.values.get("first_name", ""),
                last_name=row.values.get("last_name", ""),
                phones=row.phones,
                email=row.values.get("email", ""),
                employee_code=row.values.get("employee_code", ""),
                codice_fiscale=row.values.get("codice_fiscale", ""),
            ),
            taken_phones=phones,
            taken_codes=codes,
            taken_cfs=cfs,
        )
        if errors.fields:
            report.errors.extend(
                RowError(row.line, name, message)
                for name, messages in errors.fields.items()
                for message in messages
            )
            continue
        phones.update(values["phones"])
        if values["employee_code"]:
            codes.add(values["employee_code"])
        if values["codice_fiscale"]:
            cfs.add(values["codice_fiscale"])
        valid.append(values)
    report.valid = len(valid)
    if dry_run or not valid or (all_or_nothing and report.errors):
        return report
    with transaction.atomic(durable=True):
        for start in range(0, len(valid), IMPORT_BATCH):
            batch = valid[start : start + IMPORT_BATCH]
            end_users = EndUser.objects.bulk_create(
                EndUser(client=client, **{k: v for k, v in values.items() if k != "phones"})
                for values in batch
            )
            EndUserPhone.objects.bulk_create(
                EndUserPhone(end_user=end_user, client=client, number=number)
                for end_user, values in zip(end_users, batch, strict=True)
                for number in values["phones"]
            )
        report.created = len(valid)
        _audit(
            AuditEvent.Kind.END_USERS_IMPORTED,
            actor=actor,
            client=client,
            summary=f"{report.created} end users imported",
            detail={
                "rows": report.rows,
                "created": report.created,
                "rejected_lines": report.rejected_lines,
            },
        )
    return report
