"""Every write of saved replies: create, change, delete (who may: care.reply_selectors).

Bad input is refused whole, with every problem at once: an unknown variable in the text,
a contract the author does not work, a queue they do not supervise.

A team or contract reply is the unit's configuration: each write of one is kept in the
configuration audit (`config.audit`, target "saved_reply") in its transaction, with the
values before and after. A personal reply is its owner's alone (nobody else finds it): its
writes are not recorded, and where a reply turns personal or stops being personal, the
record says only "personal" and whose, never its title or text.
"""

from dataclasses import dataclass, field
from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from care import reply_selectors, reply_text
from care.exceptions import InvalidSavedReply, SavedReplyNotAllowed
from care.models import SavedReply
from config import audit
from config.models import ConfigChange
from contracts.models import Contract

Scope = SavedReply.Scope
FIELDS = ("scope", "title", "body", "contract", "queue")
TITLE_MAX, BODY_MAX = 120, 4000


@dataclass(frozen=True)
class ReplyData:
    """What a form or the API sends; on a change only the names in `given` count."""

    scope: str = Scope.PERSONAL
    title: str = ""
    body: str = ""
    contract: str = ""  # the contract's code
    queue: str = ""  # the queue's code
    given: tuple[str, ...] = field(default=FIELDS)


def _current(reply: SavedReply) -> dict:
    return {
        "scope": reply.scope,
        "title": reply.title,
        "body": reply.body,
        "contract": reply.contract.code if reply.contract_id else "",
        "queue": reply.queue_code,
    }


def _checked(actor, values: dict) -> dict:
    """The fields to store, or InvalidSavedReply / SavedReplyNotAllowed."""
    errors: dict[str, list[str]] = {}
    scope = values["scope"]
    title = (values["title"] or "").strip()
    body = (values["body"] or "").replace("\r\n", "\n").strip()
    if not title:
        errors["title"] = [_("Give the reply a title.")]
    elif len(title) > TITLE_MAX:
        errors["title"] = [_("At most %(n)s characters.") % {"n": TITLE_MAX}]
    if not body:
        errors["body"] = [_("Write the text of the reply.")]
    elif len(body) > BODY_MAX:
        errors["body"] = [_("At most %(n)s characters.") % {"n": BODY_MAX}]
    elif unknown := reply_text.problems(body):
        errors["body"] = [
            _(
                "Unknown variable: %(names)s. Use {{ nome_chiamante }}, {{ riferimento }}, "
                "{{ scadenza }} or {{ operatore }}."
            )
            % {"names": ", ".join(unknown)}
        ]
    stored = {
        "scope": scope,
        "title": title,
        "body": body,
        "owner": None,
        "contract": None,
        "queue_code": "",
    }
    if scope == Scope.PERSONAL:
        stored["owner"] = actor
    elif scope == Scope.TEAM:
        queue = (values["queue"] or "").strip().lower()
        if not queue:
            errors["queue"] = [_("Choose the queue of the team.")]
        elif not reply_selectors.supervises_queue(actor, queue):
            raise SavedReplyNotAllowed(fields={"queue": [_("You do not supervise this queue.")]})
        stored["queue_code"] = queue
    elif scope == Scope.CONTRACT:
        code = (values["contract"] or "").strip().upper()
        contract = Contract.objects.filter(code=code).first() if code else None
        if contract is None or not reply_selectors.sees_contract(actor, contract):
            errors["contract"] = [
                _("Choose a contract you work: this one is unknown or not among yours.")
            ]
        stored["contract"] = contract
    else:
        errors["scope"] = [_("Choose personal, team or contract.")]
    if errors:
        raise InvalidSavedReply(fields=errors)
    return stored


def _audited_values(values: dict) -> dict:
    """What the audit keeps of a reply (`_current`'s values and its owner): a personal
    reply's title and text stay private."""
    if values["scope"] == Scope.PERSONAL:
        return {"scope": Scope.PERSONAL, "owner": values["owner"]}
    return {name: values[name] for name in FIELDS}


def _values_of(reply: SavedReply) -> dict:
    return _current(reply) | {"owner": reply.owner_id}


def _record(*, actor, reply: SavedReply, action: str, before: dict, after: dict, now) -> None:
    """Inside the write's transaction: its configuration change, unless the reply is
    personal before and after (or was created or deleted personal)."""
    if all(side.get("scope", Scope.PERSONAL) == Scope.PERSONAL for side in (before, after)):
        return
    shared = after if after.get("scope", Scope.PERSONAL) != Scope.PERSONAL else before
    audit.record_change(
        actor=actor,
        now=now,
        target_type="saved_reply",
        target_id=reply.pk,
        target_label=shared.get("title", ""),
        action=action,
        before=_audited_values(before) if before else None,
        after=_audited_values(after) if after else None,
    )


def _locked(reply: SavedReply) -> SavedReply:
    # of=self: PostgreSQL locks no row of the (nullable) contract joined beside it.
    locked = SavedReply.objects.select_for_update(of=("self",)).select_related("contract")
    return locked.get(id=reply.id)


def create_reply(*, actor, data: ReplyData, now: datetime | None = None) -> SavedReply:
    now = now or timezone.now()
    values = {name: getattr(data, name) for name in FIELDS}
    with transaction.atomic(durable=True):
        stored = _checked(actor, values)
        reply = SavedReply.objects.create(
            **stored, created_by=actor, created_at=now, updated_at=now
        )
        _record(
            actor=actor,
            reply=reply,
            action=ConfigChange.Action.CREATED,
            before={},
            after=_values_of(reply),
            now=now,
        )
    return reply


def update_reply(
    *, actor, reply: SavedReply, data: ReplyData, now: datetime | None = None
) -> SavedReply:
    """Change the fields in `data.given`; the author needs to manage the reply as it is and
    as it will be."""
    now = now or timezone.now()
    with transaction.atomic(durable=True):
        reply = _locked(reply)
        if not reply_selectors.may_manage(actor, reply):
            raise SavedReplyNotAllowed
        before = _values_of(reply)
        values = _current(reply) | {name: getattr(data, name) for name in data.given}
        stored = _checked(actor, values)
        for name, value in stored.items():
            setattr(reply, name, value)
        reply.updated_at = now
        reply.save(update_fields=[*stored, "updated_at"])
        _record(
            actor=actor,
            reply=reply,
            action=ConfigChange.Action.CHANGED,
            before=before,
            after=_values_of(reply),
            now=now,
        )
    return reply


def delete_reply(*, actor, reply: SavedReply, now: datetime | None = None) -> None:
    now = now or timezone.now()
    with transaction.atomic(durable=True):
        reply = _locked(reply)
        if not reply_selectors.may_manage(actor, reply):
            raise SavedReplyNotAllowed
        before = _values_of(reply)
        _record(
            actor=actor,
            reply=reply,
            action=ConfigChange.Action.DELETED,
            before=before,
            after={},
            now=now,
        )
        reply.delete()
