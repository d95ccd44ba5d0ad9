"""People of the unit as routing knows them: operator profiles and certifications, a person
leaving (their open cases back to their queues) and bulk onboarding from a file.

Who may act: administrators everywhere; supervisors on the profiles of their sites
(`routing.scope`), and on the profile of an operator who has none yet, which they place at
one of their sites. Accounts and roles are `config.users`' (administrators only), called
inside these transactions. Every change is kept in the configuration audit (targets
"profile" and "certification") in the transaction that makes it.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from functools import partial

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from care import services as care_services
from care import wording
from config import roles, users
from config.audit import record_change, snapshot
from config.errors import Conflict, InvalidInput, PermissionDenied
from config.models import ConfigChange
from contracts.models import Client, Contract, ContractStatus, Service
from contracts.services import ImportReport, RowError
from routing import services
from routing.models import Certification, OperatorProfile, PresenceState, Site
from routing.scope import supervisor_scope

MAX_CAPACITY = 30
# The languages an operator may speak to callers (ISO 639-1), as the forms offer them.
LANGUAGES = {
    "it": gettext_lazy("Italian"),
    "en": gettext_lazy("English"),
    "de": gettext_lazy("German"),
    "fr": gettext_lazy("French"),
    "es": gettext_lazy("Spanish"),
    "sl": gettext_lazy("Slovenian"),
    "ro": gettext_lazy("Romanian"),
    "ar": gettext_lazy("Arabic"),
    "sq": gettext_lazy("Albanian"),
    "uk": gettext_lazy("Ukrainian"),
    "zh": gettext_lazy("Chinese"),
}
PROFILE_FIELDS = (
    "site",
    "remote",
    "capacity",
    "backoffice_share",
    "skills",
    "languages",
    "extension",
)
EXTENSION_MAX = 20


class InvalidProfileData(InvalidInput):
    code = "invalid_profile_data"
    default_message = gettext_lazy("Some data is not valid: check the highlighted fields.")


class OutsideYourSites(PermissionDenied):
    code = "outside_your_sites"
    default_message = gettext_lazy(
        "This operator works at a site you do not supervise: ask that site's supervisor."
    )


class NoProfileYet(Conflict):
    code = "no_profile_yet"
    default_message = gettext_lazy("This person has no operator profile yet: create it first.")


class ProfileExists(Conflict):
    code = "profile_exists"
    default_message = gettext_lazy("This person already has an operator profile.")


@dataclass
class ProfileData:
    site: Site | None
    remote: bool = False
    capacity: int = 5
    backoffice_share: Decimal = Decimal("0.40")
    skills: list[str] = field(default_factory=list)
    languages: list[str] = field(default_factory=list)
    extension: str = ""


# --- Who may act ----------------------------------------------------------------------------


def may_manage_site(actor, site_id: int | None) -> bool:
    """Administrators every site (and none); a supervisor the sites they run."""
    if actor.has_perm("config.administer"):
        return True
    return actor.has_perm("config.supervise") and (
        site_id is not None and supervisor_scope(actor).covers_site(site_id)
    )


def _require_site(actor, site_id: int | None) -> None:
    if not may_manage_site(actor, site_id):
        raise OutsideYourSites()


# --- Checks ---------------------------------------------------------------------------------


def check_profile(data: ProfileData, *, profile_id: int | None = None) -> dict[str, list[str]]:
    """Every problem of `data` by field ({} when none)."""
    errors: dict[str, list[str]] = {}

    def add(name: str, message: str) -> None:
        errors.setdefault(name, []).append(message)

    if data.site is None:
        add("site", _("Choose the operator's site."))
    if not 1 <= data.capacity <= MAX_CAPACITY:
        add(
            "capacity",
            _("The capacity is between 1 and %(max)s cases at once.") % {"max": MAX_CAPACITY},
        )
    if not Decimal(0) <= data.backoffice_share <= Decimal(1):
        add("backoffice_share", _("The back-office share is between 0 and 1 (e.g. 0.4)."))
    elif data.backoffice_share != data.backoffice_share.quantize(Decimal("0.01")):
        add("backoffice_share", _("Give the back-office share with at most two decimals."))
    if unknown := sorted(set(data.skills) - set(Service.values)):
        add("skills", _("Unknown service: %(codes)s.") % {"codes": ", ".join(unknown)})
    if unknown := sorted(set(data.languages) - set(LANGUAGES)):
        add("languages", _("Unknown language: %(codes)s.") % {"codes": ", ".join(unknown)})
    extension = data.extension.strip()
    if len(extension) > EXTENSION_MAX:
        add("extension", _("At most 20 characters."))
    elif extension and (
        OperatorProfile.objects.filter(extension=extension).exclude(id=profile_id or 0).exists()
    ):
        add("extension", _("This extension belongs to another operator."))
    return errors


def _values(data: ProfileData) -> dict:
    return {
        "site": data.site,
        "remote": data.remote,
        "capacity": data.capacity,
        "backoffice_share": data.backoffice_share,
        "skills": sorted(set(data.skills)),
        "languages": sorted(set(data.languages)),
        "extension": data.extension.strip(),
    }


def _profile_snapshot(profile: OperatorProfile) -> dict:
    return snapshot(profile, PROFILE_FIELDS) | {"user": profile.user_id}


# --- Profiles -------------------------------------------------------------------------------


def create_profile(*, actor, user, data: ProfileData, now: datetime) -> OperatorProfile:
    """The operator profile of a person who has none, placed at a site the actor runs."""
    _require_site(actor, data.site.pk if data.site else None)
    errors = check_profile(data)
    if not user.is_active:
        errors.setdefault("user", []).append(_("This account is deactivated."))
    if errors:
        raise InvalidProfileData(fields=errors)
    with transaction.atomic(durable=not transaction.get_connection().in_atomic_block):
        if OperatorProfile.objects.filter(user_id=user.pk).exists():
            raise ProfileExists()
        profile = OperatorProfile.objects.create(user=user, **_values(data))
        record_change(
            actor=actor,
            now=now,
            target_type="profile",
            target_id=profile.pk,
            target_label=user.get_username(),
            action=ConfigChange.Action.CREATED,
            after=_profile_snapshot(profile),
        )
    return profile


def update_profile(
    *, actor, profile: OperatorProfile, data: ProfileData, now: datetime
) -> OperatorProfile:
    """Change a profile: the actor must run its site (and the new one, when it moves)."""
    _require_site(actor, profile.site_id)
    _require_site(actor, data.site.pk if data.site else None)
    errors = check_profile(data, profile_id=profile.pk)
    if errors:
        raise InvalidProfileData(fields=errors)
    with transaction.atomic(durable=not transaction.get_connection().in_atomic_block):
        profile = OperatorProfile.objects.select_for_update().get(id=profile.pk)
        before = _profile_snapshot(profile)
        for name, value in _values(data).items():
            setattr(profile, name, value)
        profile.save(update_fields=list(PROFILE_FIELDS))
        record_change(
            actor=actor,
            now=now,
            target_type="profile",
            target_id=profile.pk,
            target_label=profile.user.get_username(),
            action=ConfigChange.Action.CHANGED,
            before=before,
            after=_profile_snapshot(profile),
        )
    return profile


def profile_data(values: dict, *, profile: OperatorProfile | None = None) -> ProfileData:
    """A profile's current values (none for a new one) overridden by those given (a form's
    or the API's, by field name)."""
    base = {name: getattr(profile, name) for name in PROFILE_FIELDS} if profile is not None else {}
    given = {name: value for name, value in values.items() if name in PROFILE_FIELDS}
    return ProfileData(**{"site": None, **base, **given})


def change_person(
    *,
    actor,
    person,
    account: users.UserData | None = None,
    profile_values: dict | None = None,
    now: datetime,
):
    """The account (administrators) and/or the operator profile (created when the person has
    none) in one transaction: both are checked first, refused whole or written whole."""
    profile = OperatorProfile.objects.filter(user_id=person.pk).select_related("site").first()
    if account is not None:
        users.require_administrator(actor)
    data = profile_data(profile_values, profile=profile) if profile_values is not None else None
    if data is not None:
        if profile is not None:
            _require_site(actor, profile.site_id)
        _require_site(actor, data.site.pk if data.site else None)
    errors = users.check_user_data(account, creating=False) if account is not None else {}
    if data is not None:
        errors.update(check_profile(data, profile_id=profile.pk if profile else None))
    if errors:
        raise InvalidProfileData(fields=errors)
    with transaction.atomic(durable=True):
        if account is not None:
            person = users.change_user(actor=actor, user=person, data=account, now=now)
        if data is not None and profile is None:
            create_profile(actor=actor, user=person, data=data, now=now)
        elif data is not None and profile is not None:
            update_profile(actor=actor, profile=profile, data=data, now=now)
    return person


# --- Certifications -------------------------------------------------------------------------


def _certification_label(profile: OperatorProfile, certification: Certification) -> str:
    what = certification.contract.code if certification.contract else str(certification.client)
    return f"{profile.user.get_username()}: {what}"


def _certification_snapshot(certification: Certification) -> dict:
    return snapshot(certification, ("profile", "contract", "client"))


def check_certification(
    profile_id: int | None, *, contract: Contract | None, client: Client | None, now: datetime
) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if (contract is None) == (client is None):
        errors["contract"] = [_("Choose a contract or a client (one of the two).")]
        return errors
    if contract is not None:
        ended = contract.valid_to is not None and contract.valid_to < now.date()
        if ended or contract.status == ContractStatus.TERMINATED:
            errors["contract"] = [
                _("The contract %(code)s has ended: an operator cannot be certified on it.")
                % {"code": contract.code}
            ]
        elif (
            profile_id
            and Certification.objects.filter(profile_id=profile_id, contract=contract).exists()
        ):
            errors["contract"] = [_("The operator is already certified on this contract.")]
    elif profile_id and Certification.objects.filter(profile_id=profile_id, client=client).exists():
        errors["client"] = [_("The operator is already certified on this client.")]
    return errors


def add_certification(
    *,
    actor,
    profile: OperatorProfile,
    contract: Contract | None = None,
    client: Client | None = None,
    now: datetime,
) -> Certification:
    _require_site(actor, profile.site_id)
    if errors := check_certification(profile.pk, contract=contract, client=client, now=now):
        raise InvalidProfileData(fields=errors)
    with transaction.atomic(durable=True):
        certification = Certification.objects.create(
            profile=profile, contract=contract, client=client
        )
        record_change(
            actor=actor,
            now=now,
            target_type="certification",
            target_id=certification.pk,
            target_label=_certification_label(profile, certification),
            action=ConfigChange.Action.CREATED,
            after=_certification_snapshot(certification),
        )
    return certification


def remove_certification(*, actor, certification: Certification, now: datetime) -> None:
    profile = certification.profile
    _require_site(actor, profile.site_id)
    with transaction.atomic(durable=True):
        record_change(
            actor=actor,
            now=now,
            target_type="certification",
            target_id=certification.pk,
            target_label=_certification_label(profile, certification),
            action=ConfigChange.Action.DELETED,
            before=_certification_snapshot(certification),
        )
        Certification.objects.filter(id=certification.pk).delete()


# --- Leaving and coming back ----------------------------------------------------------------


def deactivate_person(*, actor, user, now: datetime, reason: str = "") -> list[int]:
    """An administrator deactivates an account: in one transaction with its audit row, the
    open cases the person holds go back to their queues (unassigned, recorded on each case,
    one set-based pass) and their presence goes offline. Returns the cases released."""
    users.require_administrator(actor)
    with transaction.atomic(durable=True):
        users.set_active(actor=actor, user=user, active=False, now=now, reason=reason)
        released = care_services.release_cases(
            actor=actor, holder=user, now=now, reason_code=wording.HOLDER_DEACTIVATED
        )
        profile = OperatorProfile.objects.filter(user_id=user.pk).first()
        if profile is not None and profile.presence != PresenceState.OFFLINE:
            services.set_presence(
                actor=actor, profile=profile, state=PresenceState.OFFLINE, now=now
            )
        for case_id in released:
            transaction.on_commit(partial(services.trigger_offer_case, case_id), robust=True)
    return released


def reactivate_person(*, actor, user, now: datetime, reason: str = ""):
    """The account works again; the person sets their own presence when they start."""
    return users.set_active(actor=actor, user=user, active=True, now=now, reason=reason)


# --- Onboarding: one person, or a whole file ------------------------------------------------


@dataclass
class Newcomer:
    user: users.UserData
    profile: ProfileData | None = None
    contracts: list[Contract] = field(default_factory=list)
    clients: list[Client] = field(default_factory=list)


def _write_newcomer(*, actor, newcomer: Newcomer, now: datetime):
    """Inside the caller's transaction: the account, its profile with its certifications
    (one audit row for the account, one for the profile, which lists them)."""
    user = users.create_user(actor=actor, data=newcomer.user, now=now)
    if newcomer.profile is None:
        return user
    profile = OperatorProfile.objects.create(user=user, **_values(newcomer.profile))
    certifications = Certification.objects.bulk_create(
        [Certification(profile=profile, contract=c) for c in newcomer.contracts]
        + [Certification(profile=profile, client=c) for c in newcomer.clients]
    )
    record_change(
        actor=actor,
        now=now,
        target_type="profile",
        target_id=profile.pk,
        target_label=user.get_username(),
        action=ConfigChange.Action.CREATED,
        after=_profile_snapshot(profile)
        | {
            "certifications": sorted(
                (c.contract.code if c.contract else f"client:{c.client_id}") for c in certifications
            )
        },
    )
    return user


def onboard_person(*, actor, newcomer: Newcomer, now: datetime):
    """An administrator creates a person in one go: account, roles and (for an operator)
    the profile with its certifications. Refused whole with every field error."""
    users.require_administrator(actor)
    errors = users.check_user_data(newcomer.user)
    if newcomer.profile is not None:
        errors.update(check_profile(newcomer.profile))
        for contract in newcomer.contracts:
            for name, messages in check_certification(
                None, contract=contract, client=None, now=now
            ).items():
                errors.setdefault(name, []).extend(messages)
    if errors:
        raise InvalidProfileData(fields=errors)
    with transaction.atomic(durable=True):
        return _write_newcomer(actor=actor, newcomer=newcomer, now=now)


IMPORT_COLUMNS = {
    "username": {"username", "utente", "nome_utente", "nome utente"},
    "first_name": {"first_name", "nome", "first name"},
    "last_name": {"last_name", "cognome", "last name", "surname"},
    "email": {"email", "e-mail", "mail"},
    "role": {"role", "roles", "ruolo", "ruoli"},
    "site": {"site", "site_code", "sede", "codice_sede"},
    "remote": {"remote", "remoto", "da remoto"},
    "capacity": {"capacity", "capacità", "capacita"},
    "backoffice_share": {"backoffice_share", "back-office share", "quota_backoffice", "quota"},
    "skills": {"skills", "competenze", "servizi"},
    "languages": {"languages", "lingue"},
    "contracts": {"contracts", "contratti", "certified_contracts", "contratti_abilitati"},
    "clients": {"clients", "clienti", "certified_clients", "clienti_abilitati"},
}
IMPORT_REQUIRED = ("username", "first_name", "last_name", "email", "role")
IMPORT_FIELD_LABELS = {
    "username": gettext_lazy("username"),
    "first_name": gettext_lazy("first name"),
    "last_name": gettext_lazy("last name"),
    "email": gettext_lazy("e-mail"),
    "role": gettext_lazy("role"),
    "roles": gettext_lazy("role"),
    "site": gettext_lazy("site"),
    "remote": gettext_lazy("remote"),
    "capacity": gettext_lazy("capacity"),
    "backoffice_share": gettext_lazy("back-office share"),
    "skills": gettext_lazy("skills"),
    "languages": gettext_lazy("languages"),
    "contracts": gettext_lazy("certified contracts"),
    "contract": gettext_lazy("certified contracts"),
    "clients": gettext_lazy("certified clients"),
}
YES = {"1", "true", "yes", "y", "sì", "si", "s", "x", "remoto", "remote"}
NO = {"", "0", "false", "no", "n", "in sede", "on site", "on-site"}
# Roles that work cases: a row giving one of them needs a site (their operator profile).
WORKING_ROLES = {roles.OPERATOR, roles.BACKOFFICE, roles.SUPERVISOR}


@dataclass(frozen=True)
class PersonRowError(RowError):
    @property
    def field_label(self) -> str:
        return str(IMPORT_FIELD_LABELS.get(self.field, self.field))


def _split(text: str) -> list[str]:
    for separator in (";", ","):
        text = text.replace(separator, "|")
    return [part.strip() for part in text.split("|") if part.strip()]


def _number(text: str, kind, errors: dict, name: str, default):
    if not text.strip():
        return default
    try:
        return kind(text.strip().replace(",", "."))
    except (ValueError, InvalidOperation):
        errors.setdefault(name, []).append(_("Not a number: %(value)s.") % {"value": text[:40]})
        return None


class _Known:
    """What the rows name, read once for the whole file."""

    def __init__(self, rows: list) -> None:
        wanted = lambda column: {  # noqa: E731
            part for row in rows for part in _split(row.values.get(column, ""))
        }
        self.sites = {s.code.lower(): s for s in Site.objects.filter(code__in=wanted("site"))}
        codes = wanted("contracts")
        self.contracts = {c.code.lower(): c for c in Contract.objects.filter(code__in=codes)}
        names = wanted("clients")
        ids = [int(n) for n in names if n.isascii() and n.isdigit()]
        self.clients = {
            key: c
            for c in Client.objects.filter(Q(name__in=names) | Q(id__in=ids))
            for key in (c.name.lower(), str(c.pk))
        }
        wanted_usernames = {r.values.get("username", "").strip().lower() for r in rows}
        self.usernames = set(
            get_user_model()
            .objects.annotate(lowered=Lower("username"))
            .filter(lowered__in=wanted_usernames)
            .values_list("lowered", flat=True)
        )


def _newcomer_of(row, known: _Known, errors: dict, *, now: datetime) -> Newcomer:
    values = row.values
    role_names = [r.lower() for r in _split(values.get("role", ""))]
    newcomer = Newcomer(
        user=users.UserData(
            username=values.get("username", ""),
            first_name=values.get("first_name", ""),
            last_name=values.get("last_name", ""),
            email=values.get("email", ""),
            roles=role_names,
        )
    )
    site_code = values.get("site", "").strip()
    if not site_code:
        if WORKING_ROLES & set(role_names):
            errors.setdefault("site", []).append(_("An operator needs a site."))
        return newcomer
    site = known.sites.get(site_code.lower())
    if site is None:
        errors.setdefault("site", []).append(_("Unknown site: %(code)s.") % {"code": site_code})
    remote_text = values.get("remote", "").strip().lower()
    if remote_text not in YES | NO:
        errors.setdefault("remote", []).append(_("Write sì or no."))
    capacity = _number(values.get("capacity", ""), int, errors, "capacity", 5)
    share = _number(values.get("backoffice_share", ""), Decimal, errors, "backoffice_share", None)
    newcomer.profile = ProfileData(
        site=site,
        remote=remote_text in YES,
        capacity=capacity if capacity is not None else 1,
        backoffice_share=share if share is not None else Decimal("0.40"),
        skills=[s.lower() for s in _split(values.get("skills", ""))],
        languages=[s.lower() for s in _split(values.get("languages", ""))],
    )
    for code in _split(values.get("contracts", "")):
        contract = known.contracts.get(code.lower())
        if contract is None:
            errors.setdefault("contracts", []).append(
                _("Unknown contract: %(code)s.") % {"code": code}
            )
            continue
        newcomer.contracts.append(contract)
    for name in _split(values.get("clients", "")):
        client = known.clients.get(name.lower())
        if client is None:
            errors.setdefault("clients", []).append(_("Unknown client: %(name)s.") % {"name": name})
            continue
        newcomer.clients.append(client)
    return newcomer


def _row_problems(newcomer: Newcomer, errors: dict, known: _Known, *, now: datetime) -> None:
    taken = known.usernames
    for name, messages in users.check_user_data(newcomer.user, taken_usernames=taken).items():
        errors.setdefault(name, []).extend(messages)
    if newcomer.profile is None:
        return
    profile_errors = check_profile(newcomer.profile)
    if newcomer.profile.site is None:
        profile_errors.pop("site", None)  # already said: unknown site
    for name, messages in profile_errors.items():
        errors.setdefault(name, []).extend(messages)
    for contract in newcomer.contracts:
        for messages in check_certification(None, contract=contract, client=None, now=now).values():
            errors.setdefault("contracts", []).extend(messages)


def onboard_people(*, actor, rows: Iterable, dry_run: bool, now: datetime) -> ImportReport:
    """Bulk onboarding from a file's rows (`contracts.imports.Row`, read with IMPORT_COLUMNS):
    every problem of every row with its line and field (duplicate usernames inside the file,
    usernames that exist, unknown site/contract/client, bad numbers); then, unless a dry run,
    all rows are written or, when any row is bad, none (one audit row per account and per
    profile)."""
    users.require_administrator(actor)
    rows = list(rows)
    report = ImportReport(dry_run=dry_run, all_or_nothing=True)
    known = _Known(rows)
    first_line: dict[str, int] = {}
    newcomers: list[Newcomer] = []
    for row in rows:
        report.rows += 1
        errors: dict[str, list[str]] = {}
        newcomer = _newcomer_of(row, known, errors, now=now)
        username = newcomer.user.username.strip().lower()
        if username in first_line:
            errors.setdefault("username", []).append(
                _("This username is already on line %(line)s of the file.")
                % {"line": first_line[username]}
            )
        else:
            _row_problems(newcomer, errors, known, now=now)
            if username:
                first_line[username] = row.line
        if errors:
            report.errors.extend(
                PersonRowError(row.line, name, message)
                for name, messages in errors.items()
                for message in messages
            )
            continue
        newcomers.append(newcomer)
    report.valid = len(newcomers)
    if dry_run or report.errors or not newcomers:
        return report
    with transaction.atomic(durable=True):
        for newcomer in newcomers:
            _write_newcomer(actor=actor, newcomer=newcomer, now=now)
    report.created = len(newcomers)
    return report
