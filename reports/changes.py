"""The configuration audit as admins and managers read it: `config.ConfigChange` (users and
roles, profiles, certifications, sites, queues, emergencies, tokens, sessions, saved replies,
closing codes) and the contracts' own trail (`contracts.AuditEvent`: clients, calendars,
contracts) in one list, newest first, with the same filters on the page, in the API and in
the exports.

Both sources are merged in SQL (a UNION of their ids and times, ordered and sliced), then
the rows of one page are read with two queries: a page costs the same whatever the length
of the history. End-user events of the contracts' trail are not configuration (and name
people): they stay out.
"""

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.sessions.models import Session
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.db.models import CharField, Q, QuerySet, Value
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rest_framework.authtoken.models import Token

from care.models import SavedReply
from config.audit import TARGET_LABELS
from config.models import ConfigChange
from contracts.models import AuditEvent, BusinessCalendar, Client, ClosingCode, Contract
from reports.formats import Column
from reports.formats import ColumnType as T
from routing.models import Certification, OperatorProfile, Queue, Site

CONFIG, CONTRACTS = "config", "contracts"
CHUNK = 1000

# The contracts' trail: what each kind of event is about, and the action it was.
CONTRACT_TARGETS = {
    "client": gettext_lazy("client"),
    "calendar": gettext_lazy("calendar"),
    "contract": gettext_lazy("contract"),
}
_K = AuditEvent.Kind
CONTRACT_KINDS: dict[str, tuple[str, str]] = {
    _K.CLIENT_CREATED: ("client", ConfigChange.Action.CREATED),
    _K.CLIENT_UPDATED: ("client", ConfigChange.Action.CHANGED),
    _K.CALENDAR_CREATED: ("calendar", ConfigChange.Action.CREATED),
    _K.CALENDAR_CHANGED: ("calendar", ConfigChange.Action.CHANGED),
    _K.CONTRACT_CREATED: ("contract", ConfigChange.Action.CREATED),
    _K.CONTRACT_UPDATED: ("contract", ConfigChange.Action.CHANGED),
    _K.CONTRACT_AMENDED: ("contract", ConfigChange.Action.CHANGED),
    _K.ORDER_VALIDATION_CHANGED: ("contract", ConfigChange.Action.CHANGED),
}
# Where a change's field names are labelled from (a key the model lacks is shown as it is).
TARGET_MODELS: dict[str, type[models.Model]] = {
    "user": get_user_model(),
    "profile": OperatorProfile,
    "certification": Certification,
    "site": Site,
    "queue": Queue,
    "emergency": Queue,
    "token": Token,
    "session": Session,
    "saved_reply": SavedReply,
    "closing_code": ClosingCode,
    "client": Client,
    "calendar": BusinessCalendar,
    "contract": Contract,
}


def target_choices() -> list[tuple[str, str]]:
    return [(key, str(label)) for key, label in {**TARGET_LABELS, **CONTRACT_TARGETS}.items()]


@dataclass(frozen=True)
class ChangeFilters:
    """Validated filters; every one optional. `date_to` is included."""

    target_type: str = ""
    actor: str = ""  # a username
    date_from: date | None = None
    date_to: date | None = None
    text: str = ""  # the target's id, or part of its name
    action: str = ""

    def as_query(self) -> dict:
        values = {
            "what": self.target_type,
            "who": self.actor,
            "from": self.date_from.isoformat() if self.date_from else "",
            "to": self.date_to.isoformat() if self.date_to else "",
            "q": self.text,
            "action": self.action,
        }
        return {key: value for key, value in values.items() if value}


def _instant(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=timezone.get_default_timezone())


def _config_changes(filters: ChangeFilters) -> QuerySet:
    rows = ConfigChange.objects.all()
    if filters.target_type:
        if filters.target_type not in TARGET_LABELS:
            return rows.none()
        rows = rows.filter(target_type=filters.target_type)
    if filters.action:
        rows = rows.filter(action=filters.action)
    if filters.text:
        rows = rows.filter(Q(target_id=filters.text) | Q(target_label__icontains=filters.text))
    return _common(rows, filters)


def _contract_events(filters: ChangeFilters) -> QuerySet:
    kinds = [
        kind
        for kind, (target, action) in CONTRACT_KINDS.items()
        if (not filters.target_type or target == filters.target_type)
        and (not filters.action or action == filters.action)
    ]
    rows = AuditEvent.objects.filter(kind__in=kinds)
    if filters.text:
        found = Q(summary__icontains=filters.text)
        if filters.text.isdigit():
            number = int(filters.text)
            found |= Q(client_id=number) | Q(calendar_id=number) | Q(contract_id=number)
        rows = rows.filter(found)
    return _common(rows, filters)


def _common(rows: QuerySet, filters: ChangeFilters) -> QuerySet:
    if filters.actor:
        rows = rows.filter(actor__username__iexact=filters.actor)
    if filters.date_from:
        rows = rows.filter(at__gte=_instant(filters.date_from))
    if filters.date_to:
        rows = rows.filter(at__lt=_instant(filters.date_to + timedelta(days=1)))
    return rows.order_by()


class ChangeList:
    """The merged list: `count()`, slices (Django's Paginator) and iteration in chunks."""

    def __init__(self, filters: ChangeFilters):
        self.config = _config_changes(filters)
        self.contracts = _contract_events(filters)

    def count(self) -> int:
        return self.config.count() + self.contracts.count()

    def __len__(self) -> int:
        return self.count()

    def _keys(self, offset: int, limit: int) -> list[tuple[str, int]]:
        source = CharField(max_length=10)
        first = self.config.values_list(Value(CONFIG, output_field=source), "id", "at")
        second = self.contracts.values_list(Value(CONTRACTS, output_field=source), "id", "at")
        merged = first.union(second, all=True).order_by("-at", "-id")
        return [(kind, pk) for kind, pk, _at in merged[offset : offset + limit]]

    def page(self, offset: int, limit: int) -> list[dict]:
        """One page of rows, in 3 to 5 queries: the merged keys, each source's rows, and the
        names of the sites, queues, clients, calendars, users and roles their values name."""
        keys = self._keys(offset, limit)
        config_ids = [pk for kind, pk in keys if kind == CONFIG]
        contract_ids = [pk for kind, pk in keys if kind == CONTRACTS]
        changes = (
            list(ConfigChange.objects.filter(id__in=config_ids).select_related("actor"))
            if config_ids
            else []
        )
        events = (
            list(AuditEvent.objects.filter(id__in=contract_ids).select_related("actor"))
            if contract_ids
            else []
        )
        names = _names_of(
            [(c.target_type, c.before or {}, c.after or {}) for c in changes]
            + [(_contract_target(e), *_contract_values(e)) for e in events]
        )
        found: dict[tuple[str, int], dict] = {}
        for change in changes:
            found[(CONFIG, change.id)] = _config_row(change, names)
        for event in events:
            found[(CONTRACTS, event.id)] = _contract_row(event, names)
        return [found[key] for key in keys if key in found]

    def __getitem__(self, index: slice) -> list[dict]:
        start = index.start or 0
        return self.page(start, (index.stop or start) - start)

    def __iter__(self) -> Iterator[dict]:
        offset = 0
        while True:
            rows = self.page(offset, CHUNK)
            yield from rows
            if len(rows) < CHUNK:
                return
            offset += CHUNK


# --- One row as people read it ---------------------------------------------------------------


def _actor(user) -> tuple[str, str]:
    if user is None:
        return _("the system"), ""
    return user.get_full_name() or user.get_username(), user.get_username()


def _field(target_type: str, key: str):
    model = TARGET_MODELS.get(target_type)
    if model is None:
        return None
    try:
        return model._meta.get_field(key)
    except FieldDoesNotExist:
        return None


def field_label(target_type: str, key: str) -> str:
    field = _field(target_type, key)
    return str(getattr(field, "verbose_name", key)) if field is not None else key.replace("_", " ")


# Values naming these are shown by the name (their __str__ reads no other table).
NAMED_MODELS = (Site, Queue, Client, BusinessCalendar, get_user_model(), Group)
Names = dict[tuple[type, Any], str]


def _named_model(target_type: str, key: str) -> type[models.Model] | None:
    field = _field(target_type, key)
    related = getattr(field, "related_model", None) if field is not None else None
    return related if related in NAMED_MODELS else None


def _names_of(records: list[tuple[str, dict, dict]]) -> Names:
    """The names of the objects the values name (ids of sites, queues, users...), one query
    per kind of object named."""
    wanted: dict[type[models.Model], set] = defaultdict(set)
    for target_type, before, after in records:
        for key, value in [*before.items(), *after.items()]:
            related = _named_model(target_type, key)
            if related is not None:
                items = value if isinstance(value, list) else [value]
                wanted[related] |= {item for item in items if isinstance(item, int)}
    names: Names = {}
    for related, ids in wanted.items():
        for obj in related._default_manager.filter(pk__in=ids):
            names[(related, obj.pk)] = str(obj)
    return names


def shown(value: Any, named: type | None = None, names: Names | None = None) -> str:
    """A stored value in words: yes/no, lists joined, an object by its name, nothing as a
    dash."""
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, list):
        return ", ".join(shown(item, named, names) for item in value)
    if isinstance(value, dict):
        return ", ".join(f"{key}: {shown(item)}" for key, item in value.items())
    if named is not None and names and (named, value) in names:
        return names[(named, value)]
    return str(value)


def field_changes(
    target_type: str, before: dict, after: dict, names: Names | None = None
) -> list[dict]:
    """The fields that differ (all of them for a creation or a removal), labelled, in the
    order of their keys."""
    keys = sorted({*before, *after})  # PostgreSQL's jsonb keeps no order of its own
    changes = []
    for key in keys:
        old, new = before.get(key), after.get(key)
        if before and after and old == new:
            continue
        named = _named_model(target_type, key)
        changes.append(
            {
                "field": key,
                "label": field_label(target_type, key),
                "before": shown(old, named, names) if key in before else "",
                "after": shown(new, named, names) if key in after else "",
            }
        )
    return changes


def changes_text(changes: list[dict]) -> str:
    """ "Capacity: 5 → 8; Site: 3 → 4" (a value only before or after shown alone)."""
    parts = []
    for change in changes:
        if change["before"] and change["after"]:
            parts.append(f"{change['label']}: {change['before']} → {change['after']}")
        else:
            parts.append(f"{change['label']}: {change['before'] or change['after']}")
    return "; ".join(parts)


def _row(
    *,
    source: str,
    at,
    target_type: str,
    target_id: str,
    target: str,
    action: str,
    actor,
    changes: list[dict],
    reason: str,
) -> dict:
    name, username = _actor(actor)
    labels = {**TARGET_LABELS, **CONTRACT_TARGETS}
    return {
        "source": source,
        "at": at,
        "target_type": target_type,
        "what": str(labels.get(target_type, target_type)),
        "target_id": target_id,
        "target": target,
        "action_code": action,
        "action": str(ConfigChange.Action(action).label)
        if action in ConfigChange.Action.values
        else action,
        "actor": name,
        "actor_username": username,
        "changes": changes,
        "changes_text": changes_text(changes),
        "reason": reason,
    }


def _config_row(change: ConfigChange, names: Names) -> dict:
    return _row(
        source=CONFIG,
        at=change.at,
        target_type=change.target_type,
        target_id=change.target_id,
        target=change.target_label,
        action=change.action,
        actor=change.actor,
        changes=field_changes(change.target_type, change.before or {}, change.after or {}, names),
        reason=change.reason,
    )


def _contract_target(event: AuditEvent) -> str:
    return CONTRACT_KINDS.get(event.kind, ("contract", ""))[0]


def _contract_values(event: AuditEvent) -> tuple[dict, dict]:
    """Before and after, when the event kept them; else its detail as what it set."""
    detail = event.detail or {}
    if "before" in detail or "after" in detail:
        return detail.get("before") or {}, detail.get("after") or {}
    return {}, detail


def _contract_row(event: AuditEvent, names: Names) -> dict:
    target_type, action = CONTRACT_KINDS.get(event.kind, ("contract", event.kind))
    before, after = _contract_values(event)
    target_id = event.contract_id or event.calendar_id or event.client_id
    return _row(
        source=CONTRACTS,
        at=event.at,
        target_type=target_type,
        target_id=str(target_id or ""),
        target=event.summary,
        action=action,
        actor=event.actor,
        changes=field_changes(target_type, before, after, names),
        reason=str(event.get_kind_display()),
    )


COLUMNS = (
    Column("at", gettext_lazy("When"), T.DATETIME),
    Column("what", gettext_lazy("What")),
    Column("target_id", gettext_lazy("Id")),
    Column("target", gettext_lazy("Name")),
    Column("action", gettext_lazy("Action")),
    Column("actor", gettext_lazy("By")),
    Column("actor_username", gettext_lazy("Username")),
    Column("changes_text", gettext_lazy("Changes (before → after)")),
    Column("reason", gettext_lazy("Reason")),
    Column("target_type", gettext_lazy("Kind code")),
    Column("source", gettext_lazy("Source")),
)
