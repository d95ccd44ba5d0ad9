"""The configuration audit: one mechanism for every change to the unit's set-up.

Callers take a `snapshot` of the fields they change before and after, and call
`record_change` inside the same transaction as the change. Only values go into the record
(ids, codes, numbers, text), never a live object, so the record reads the same years later.
"""

from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.db import models, transaction
from django.utils.translation import gettext_lazy as _

from config.models import ConfigChange

# What a configuration change can be about, as a reader says it.
TARGET_LABELS = {
    "user": _("user"),
    "profile": _("operator profile"),
    "certification": _("certification"),
    "site": _("site"),
    "queue": _("queue"),
    "emergency": _("emergency"),
    "token": _("API token"),
    "session": _("session"),
    "saved_reply": _("saved reply"),
    "closing_code": _("closing code"),
}


def plain(value: Any) -> Any:
    """A JSON-safe copy of a field's value: model instances become their id, sets and
    querysets sorted lists, decimals and dates strings."""
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, models.QuerySet):
        return sorted(plain(item) for item in value)
    if isinstance(value, set | frozenset | tuple | list):
        items = [plain(item) for item in value]
        return sorted(items, key=str) if isinstance(value, set | frozenset) else items
    return value


def snapshot(instance: models.Model | None, fields: Iterable[str]) -> dict[str, Any]:
    """The values of `fields` on `instance` (a foreign key as its id); {} for no instance."""
    if instance is None:
        return {}
    values: dict[str, Any] = {}
    for name in fields:
        field = instance._meta.get_field(name)
        if field.many_to_many:
            values[name] = sorted(getattr(instance, name).values_list("pk", flat=True))
        elif field.is_relation:
            values[name] = getattr(instance, field.attname)
        else:
            values[name] = plain(getattr(instance, name))
    return values


def record_change(
    *,
    actor,
    now: datetime,
    target_type: str,
    target_id: Any,
    target_label: str = "",
    action: str,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    reason: str = "",
) -> ConfigChange | None:
    """Keep one change. A change that changes nothing is not recorded (returns None)."""
    if target_type not in TARGET_LABELS:
        raise ValueError(f"unknown configuration target {target_type!r}")
    before = {key: plain(value) for key, value in (before or {}).items()}
    after = {key: plain(value) for key, value in (after or {}).items()}
    if action == ConfigChange.Action.CHANGED and before == after:
        return None
    with transaction.atomic():
        return ConfigChange.objects.create(
            at=now,
            actor=actor if getattr(actor, "pk", None) else None,
            target_type=target_type,
            target_id=str(target_id),
            target_label=str(target_label)[:200],
            action=action,
            before=before,
            after=after,
            reason=reason[:300],
        )
