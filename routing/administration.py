"""Sites and queues set up by the unit itself (issue #20 point 2): every write here runs in
one transaction with its configuration audit row (`config.audit`, targets "site" and
"queue"), and a refusal writes nothing.

Who may do what:

- sites: administrators create, change and delete them; a site's own supervisors may
  change its name and working-hours calendar;
- queues: administrators and managers create, change, archive and delete them; a queue's
  own supervisors may change its thresholds (overflow and calls).

A change of a queue's criteria (or its archiving) applies from that moment to the waiting
cases (new, unassigned): every one of them is filed again, set-based, by the rule intake
uses (`services.filing_expression`, the SQL form of `services.queue_for`), each moved case
gets its "queue changed" event, and the audit row says how many moved. Threshold changes
apply to the next routing pass: take-next and auto-assign read them each time.
"""

from collections.abc import Collection, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from django.conf import global_settings
from django.db import transaction
from django.db.models import F, Q
from django.utils.translation import gettext as _

from care import services as care_services
from care.models import Case
from config import audit
from config.models import ConfigChange
from config.roles import users_with
from contracts.identifiers import province_codes
from contracts.models import BusinessCalendar, Category, Client, Segment, Service
from routing import selectors, services
from routing.exceptions import (
    InvalidRoutingData,
    QueueHasCases,
    QueueHasWaitingCases,
    SetupNotAllowed,
    SiteHasOperators,
)
from routing.models import Call, Callback, OperatorProfile, Queue, QueueEvent, Site, TelephonyLine

SITE_FIELDS = ("code", "name", "province", "calendar", "supervisors")
# What a site's own supervisors may change.
SITE_FIELDS_OF_ITS_SUPERVISORS = ("name", "calendar")

QUEUE_CRITERIA = ("segment", "service", "category_codes", "client")
QUEUE_THRESHOLDS = (
    "overflow_client_minutes",
    "overflow_national_minutes",
    "service_level_seconds",
    "service_level_target",
    "longest_wait_alarm_seconds",
    "wrap_up_seconds",
    "callback_minutes",
)
QUEUE_FIELDS = ("code", "name", *QUEUE_CRITERIA, "language", *QUEUE_THRESHOLDS, "supervisors")
QUEUE_AUDITED = (*QUEUE_FIELDS, "archived_at")

# Codes the pages' addresses use (`/routing/sites/new/`).
RESERVED_CODES = frozenset({"new"})

# Upper bounds of the thresholds (what the model does not bound itself).
THRESHOLD_MAX = {
    "overflow_client_minutes": 7 * 24 * 60,
    "overflow_national_minutes": 7 * 24 * 60,
    "service_level_seconds": 3600,
    "service_level_target": 100,
    "longest_wait_alarm_seconds": 3600,
    "wrap_up_seconds": 3600,
    "callback_minutes": 7 * 24 * 60,
}

# The languages a queue may ask for: the two-letter codes Django knows (names in English,
# translated where shown).
LANGUAGE_CODES = tuple(code for code, _name in global_settings.LANGUAGES if len(code) == 2)


# --- Who may do what ------------------------------------------------------------------------


def administers_sites(user) -> bool:
    return user.has_perm("config.administer")


def administers_queues(user) -> bool:
    return user.has_perm("config.administer") or user.has_perm("config.manage_contracts")


def site_fields_for(user, site: Site | None) -> tuple[str, ...]:
    """The fields of `site` (None: a new one) that `user` may set."""
    if administers_sites(user):
        return SITE_FIELDS if site is None else SITE_FIELDS[1:]  # the code never changes
    if site is not None and site.supervisors.filter(id=user.id).exists():
        return SITE_FIELDS_OF_ITS_SUPERVISORS
    return ()


def queue_fields_for(user, queue: Queue | None) -> tuple[str, ...]:
    """The fields of `queue` (None: a new one) that `user` may set."""
    if administers_queues(user):
        return QUEUE_FIELDS if queue is None else QUEUE_FIELDS[1:]  # cases keep the code
    if queue is not None and queue.supervisors.filter(id=user.id).exists():
        return QUEUE_THRESHOLDS
    return ()


def _require(allowed: bool) -> None:
    if not allowed:
        raise SetupNotAllowed()


def _check_allowed(changes: Mapping[str, Any], allowed: Collection[str]) -> None:
    refused = sorted(name for name in changes if name not in allowed)
    if not allowed or refused:
        message = _("You may not change this.")
        raise SetupNotAllowed(fields={name: [message] for name in refused})


# --- Checks ---------------------------------------------------------------------------------


def _required_text(values: Mapping[str, Any], name: str, errors: dict, max_length: int) -> None:
    if name not in values:
        return
    text = str(values[name] or "").strip()
    if not text:
        errors[name] = [_("This field is required.")]
    elif len(text) > max_length:
        errors[name] = [_("At most %(n)s characters.") % {"n": max_length}]


def _check_code(model, code: str, errors: dict, max_length: int) -> None:
    if not code:
        errors["code"] = [_("This field is required.")]
    elif len(code) > max_length or not code.replace("-", "").replace("_", "").isalnum():
        errors["code"] = [_("Letters, digits, hyphens and underscores only.")]
    elif code in RESERVED_CODES or model.objects.filter(code=code).exists():
        errors["code"] = [_("This code is already in use.")]


def _check_supervisors(values: Mapping[str, Any], errors: dict) -> None:
    ids = set(values.get("supervisors") or [])
    if ids and users_with("supervise").filter(id__in=ids).count() != len(ids):
        errors["supervisors"] = [_("Choose users who hold the supervisor role.")]


def _site_errors(values: Mapping[str, Any], site: Site | None) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if site is None:
        _check_code(Site, values.get("code", ""), errors, 20)
    _required_text(values, "name", errors, 120)
    if "province" in values and values["province"] not in province_codes():
        errors["province"] = [_("Type the code of an Italian province (e.g. MI, PA).")]
    calendar = values.get("calendar")
    if calendar is not None and not BusinessCalendar.objects.filter(id=calendar).exists():
        errors["calendar"] = [_("Unknown calendar.")]
    _check_supervisors(values, errors)
    return errors


def _criteria_of(values: Mapping[str, Any]) -> tuple:
    return (
        values["segment"],
        values["service"],
        tuple(sorted(values["category_codes"])),
        values["client"],
    )


def _queue_errors(values: dict[str, Any], queue: Queue | None) -> dict[str, list[str]]:
    """`values`: every field of the queue as it would be after the change."""
    errors: dict[str, list[str]] = {}
    if queue is None:
        _check_code(Queue, values["code"], errors, 50)
    _required_text(values, "name", errors, 120)
    if values["segment"] not in ("", *Segment.values):
        errors["segment"] = [_("Choose a valid segment.")]
    if values["service"] not in ("", *Service.values):
        errors["service"] = [_("Choose a valid service.")]
    if values["language"] not in ("", *LANGUAGE_CODES):
        errors["language"] = [_("Choose a valid language.")]
    client = None
    if values["client"] is not None:
        client = Client.objects.filter(id=values["client"]).first()
        if client is None:
            errors["client"] = [_("Unknown client.")]
        elif values["segment"] and client.segment != values["segment"]:
            errors["client"] = [_("This client is not in the queue's segment.")]
    codes = values["category_codes"]
    if codes:
        known = Category.objects.filter(code__in=codes)
        if client is not None:
            known = known.filter(version__contract__client=client)
        unknown = sorted(set(codes) - set(known.values_list("code", flat=True)))
        if unknown:
            errors["category_codes"] = [
                _("Unknown category codes: %(codes)s.") % {"codes": ", ".join(unknown)}
            ]
    for name, top in THRESHOLD_MAX.items():
        value = values[name]
        if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= top:
            errors[name] = [_("A whole number between 0 and %(max)s.") % {"max": top}]
    if (
        "overflow_client_minutes" not in errors
        and "overflow_national_minutes" not in errors
        and values["overflow_client_minutes"] > values["overflow_national_minutes"]
    ):
        errors["overflow_client_minutes"] = [
            _("The client's operators come before the national overflow: at most %(n)s.")
            % {"n": values["overflow_national_minutes"]}
        ]
    _check_supervisors(values, errors)
    if not errors:
        errors |= _overlap_errors(values, queue)
    return errors


def _overlap_errors(values: dict[str, Any], queue: Queue | None) -> dict[str, list[str]]:
    """Two active queues with the same criteria: intake could not choose between them."""
    others = selectors.active_queues()
    if queue is not None:
        others = others.exclude(id=queue.id)
    criteria = _criteria_of(values)
    twin = next((q for q in others if _criteria_of(_values_of(q)) == criteria), None)
    if twin is None:
        return {}
    if not any(criteria[:2]) and not criteria[2] and criteria[3] is None:
        message = _(
            "The queue “%(queue)s” already takes every case: give this queue at least one "
            "criterion."
        ) % {"queue": twin.name}
    else:
        message = _(
            "The queue “%(queue)s” has exactly these criteria: intake could not choose "
            "between them. Change a criterion."
        ) % {"queue": twin.name}
    return {"criteria": [message]}


def _values_of(queue: Queue) -> dict[str, Any]:
    values = audit.snapshot(queue, [name for name in QUEUE_FIELDS if name != "supervisors"])
    values["category_codes"] = list(queue.category_codes or [])
    return values


def _clean(values: Mapping[str, Any]) -> dict[str, Any]:
    """Trim text; sort and de-duplicate lists (what is stored and compared)."""
    cleaned = dict(values)
    for name in ("code", "name", "province", "segment", "service", "language"):
        if name in cleaned:
            cleaned[name] = str(cleaned[name] or "").strip()
    if "province" in cleaned:
        cleaned["province"] = cleaned["province"].upper()
    if "category_codes" in cleaned:
        cleaned["category_codes"] = sorted(
            {str(code).strip() for code in cleaned["category_codes"] or [] if str(code).strip()}
        )
    if "supervisors" in cleaned:
        cleaned["supervisors"] = sorted(set(cleaned["supervisors"] or []))
    return cleaned


def _assign(instance, values: Mapping[str, Any]) -> list[str]:
    """Set the plain fields on `instance`; the names of those set (foreign keys by id)."""
    names = []
    for name, value in values.items():
        if name == "supervisors":
            continue
        field = instance._meta.get_field(name)
        setattr(instance, field.attname, value)
        names.append(name)
    return names


# --- The audit of every write here ----------------------------------------------------------


@dataclass
class _Change:
    """What `_audited` hands the block: the values before, and `extra` values the block adds
    to the record (to the values after; to those before for a deletion)."""

    instance: Site | Queue
    before: dict[str, Any]
    extra: dict[str, Any] = field(default_factory=dict)

    def now_differs(self, names: Collection[str]) -> bool:
        """Whether any of `names` differs now from before the block."""
        current = audit.snapshot(self.instance, names)
        return any(self.before[name] != current[name] for name in names)


_AUDITED: dict[type, tuple[str, tuple[str, ...]]] = {
    Site: ("site", SITE_FIELDS),
    Queue: ("queue", QUEUE_AUDITED),
}


@contextmanager
def _audited(instance: Site | Queue, *, actor, now: datetime, action: str) -> Iterator[_Change]:
    """Snapshot `instance` before the block (nothing for a creation), let the block change
    it, snapshot it after (nothing for a deletion) and record the change, inside the
    caller's transaction: the one audit path of every site and queue write."""
    target_type, fields = _AUDITED[type(instance)]
    creating = action == ConfigChange.Action.CREATED
    deleting = action == ConfigChange.Action.DELETED
    change = _Change(instance, {} if creating else audit.snapshot(instance, fields))
    code, name = instance.code, instance.name
    yield change
    if not deleting:
        code, name = instance.code, instance.name
    after = {} if deleting else audit.snapshot(instance, fields) | change.extra
    audit.record_change(
        actor=actor,
        now=now,
        target_type=target_type,
        target_id=code,
        target_label=name,
        action=action,
        before=change.before | change.extra if deleting else change.before,
        after=after,
    )


# --- Sites ----------------------------------------------------------------------------------


def create_site(*, actor, now: datetime, values: Mapping[str, Any]) -> Site:
    """A new site (administrators): code, name, province, calendar, supervisors."""
    values = _clean(values)
    _check_allowed(values, site_fields_for(actor, None))
    values = {"name": "", "province": "", "calendar": None, "supervisors": []} | values
    if errors := _site_errors(values, None):
        raise InvalidRoutingData(fields=errors)
    site = Site(code=values["code"])
    with (
        transaction.atomic(durable=True),
        _audited(site, actor=actor, now=now, action=ConfigChange.Action.CREATED),
    ):
        _assign(site, {k: v for k, v in values.items() if k != "code"})
        site.save()
        site.supervisors.set(values["supervisors"])
    return site


def update_site(*, actor, site: Site, now: datetime, changes: Mapping[str, Any]) -> Site:
    """Change a site (administrators; its own supervisors: name and calendar)."""
    changes = _clean(changes)
    _check_allowed(changes, site_fields_for(actor, site))
    if errors := _site_errors(changes, site):
        raise InvalidRoutingData(fields=errors)
    with transaction.atomic(durable=True):
        site = Site.objects.select_for_update().get(id=site.id)
        with _audited(site, actor=actor, now=now, action=ConfigChange.Action.CHANGED):
            if names := _assign(site, changes):
                site.save(update_fields=names)
            if "supervisors" in changes:
                site.supervisors.set(changes["supervisors"])
    return site


def delete_site(*, actor, site: Site, now: datetime) -> None:
    """Delete a site (administrators); refused while operators belong to it."""
    _require(administers_sites(actor))
    with transaction.atomic(durable=True):
        site = Site.objects.select_for_update().get(id=site.id)
        operators = OperatorProfile.objects.filter(site=site).count()
        if operators:
            raise SiteHasOperators(
                _("The site “%(site)s” has %(n)s operators: move them to another site first.")
                % {"site": site.name, "n": operators}
            )
        with _audited(site, actor=actor, now=now, action=ConfigChange.Action.DELETED) as change:
            change.extra["id"] = site.id
            site.delete()


# --- Queues ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class QueueChange:
    """A queue written, and how many waiting cases moved because of it."""

    queue: Queue
    moved: int = 0


_QUEUE_DEFAULTS: dict[str, Any] = {
    "name": "",
    "segment": "",
    "service": "",
    "category_codes": [],
    "client": None,
    "language": "",
    "overflow_client_minutes": 10,
    "overflow_national_minutes": 30,
    "service_level_seconds": 20,
    "service_level_target": 80,
    "longest_wait_alarm_seconds": 120,
    "wrap_up_seconds": 60,
    "callback_minutes": 120,
    "supervisors": [],
}


def refile_waiting(*, actor, now: datetime, reason: str, exclude: str = "") -> int:
    """File every waiting case again by the current criteria of the active queues (the rule
    of intake, set-based: one query finds the cases whose queue changes), each move on the
    case's timeline; how many moved. `exclude`: a queue code no case may stay in."""
    queues = list(selectors.active_queues().exclude(code=exclude))
    rows = (
        selectors.waiting_cases()
        .annotate(target=services.filing_expression(queues))
        .filter(~Q(queue_code=F("target")))
        .values_list("id", "target")
    )
    moves = dict(rows.order_by("id"))
    return care_services.refile_waiting_cases(
        actor=actor, moves=moves, now=now, detail={"reason": reason}
    )


def create_queue(*, actor, now: datetime, values: Mapping[str, Any]) -> QueueChange:
    """A new queue (administrators and managers). Waiting cases its criteria now fit better
    move to it at once."""
    values = _clean(values)
    _check_allowed(values, queue_fields_for(actor, None))
    values = _QUEUE_DEFAULTS | {"code": ""} | values
    if errors := _queue_errors(values, None):
        raise InvalidRoutingData(fields=errors)
    queue = Queue(code=values["code"])
    with (
        transaction.atomic(durable=True),
        _audited(queue, actor=actor, now=now, action=ConfigChange.Action.CREATED) as change,
    ):
        _assign(queue, {k: v for k, v in values.items() if k != "code"})
        queue.save()
        queue.supervisors.set(values["supervisors"])
        moved = refile_waiting(actor=actor, now=now, reason=f"queue_created:{queue.code}")
        change.extra["waiting_cases_moved"] = moved
    return QueueChange(queue, moved)


def update_queue(*, actor, queue: Queue, now: datetime, changes: Mapping[str, Any]) -> QueueChange:
    """Change a queue (administrators and managers; its own supervisors: thresholds). A
    change of criteria re-files the waiting cases at once (how many moved is recorded);
    thresholds apply to the next routing pass."""
    changes = _clean(changes)
    _check_allowed(changes, queue_fields_for(actor, queue))
    if queue.archived_at is not None:
        raise InvalidRoutingData(_("An archived queue cannot be changed."))
    current = _values_of(queue) | {
        "supervisors": list(queue.supervisors.values_list("id", flat=True))
    }
    if errors := _queue_errors(current | changes, queue):
        raise InvalidRoutingData(fields=errors)
    with transaction.atomic(durable=True):
        queue = Queue.objects.select_for_update().get(id=queue.id)
        moved = 0
        with _audited(queue, actor=actor, now=now, action=ConfigChange.Action.CHANGED) as change:
            if names := _assign(queue, changes):
                queue.save(update_fields=names)
            if "supervisors" in changes:
                queue.supervisors.set(changes["supervisors"])
            if change.now_differs(QUEUE_CRITERIA):
                moved = refile_waiting(actor=actor, now=now, reason=f"queue_changed:{queue.code}")
                change.extra["waiting_cases_moved"] = moved
    return QueueChange(queue, moved)


def _has_history(queue: Queue) -> bool:
    """Cases (any, ever), calls, callbacks, lines or emergencies name the queue."""
    return (
        Case.objects.filter(queue_code=queue.code).exists()
        or Call.objects.filter(queue_code=queue.code).exists()
        or Callback.objects.filter(queue_code=queue.code).exists()
        or TelephonyLine.objects.filter(queue=queue).exists()
        or QueueEvent.objects.filter(queue=queue).exists()
    )


def archive_queue(*, actor, queue: Queue, now: datetime, refile: bool = False) -> QueueChange:
    """Archive a queue (administrators and managers): it keeps its history, intake files no
    case into it, the console and the forms no longer offer it. Refused while cases wait in
    it, unless `refile`: they are then filed again by the other queues' criteria first."""
    _require(administers_queues(actor))
    with transaction.atomic(durable=True):
        queue = Queue.objects.select_for_update().get(id=queue.id)
        if queue.archived_at is not None:
            return QueueChange(queue)
        waiting = selectors.waiting_cases().filter(queue_code=queue.code).count()
        if waiting and not refile:
            raise QueueHasWaitingCases(
                _(
                    "%(n)s cases wait in the queue “%(queue)s”: file them in the other queues "
                    "first (the archiving can do it)."
                )
                % {"n": waiting, "queue": queue.name},
                extra={"waiting": waiting},
            )
        with _audited(queue, actor=actor, now=now, action=ConfigChange.Action.ARCHIVED) as change:
            queue.archived_at = now.astimezone(UTC)
            queue.save(update_fields=["archived_at"])
            moved = 0
            if waiting:
                moved = refile_waiting(
                    actor=actor, now=now, reason=f"queue_archived:{queue.code}", exclude=queue.code
                )
            change.extra["waiting_cases_moved"] = moved
    return QueueChange(queue, moved)


def delete_queue(*, actor, queue: Queue, now: datetime) -> None:
    """Delete a queue that never had a case (administrators and managers); one with cases
    (or calls, lines, emergencies) is refused: archive it instead."""
    _require(administers_queues(actor))
    with transaction.atomic(durable=True):
        queue = Queue.objects.select_for_update().get(id=queue.id)
        if _has_history(queue):
            raise QueueHasCases(
                _(
                    "The queue “%(queue)s” has cases or calls on record: it cannot be deleted. "
                    "Archive it instead: it keeps its history and takes no new case."
                )
                % {"queue": queue.name}
            )
        with _audited(queue, actor=actor, now=now, action=ConfigChange.Action.DELETED):
            queue.delete()
