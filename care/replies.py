"""Every write of saved replies: create, change, delete (who may: care.reply_selectors).

Bad input is refused whole, with every problem at once: an unknown variable in the text,
a contract the author does not work, a queue they do not supervise.
"""

from dataclasses import dataclass, field
from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from care import reply_selectors, reply_text
from care.exceptions import InvalidSavedReply, SavedReplyNotAllowed
from care.models import SavedReply
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


def _locked(reply: SavedReply) -> SavedReply:
    # of=self: PostgreSQL locks no row of the (nullable) contract joined beside it.
    locked = SavedReply.objects.select_for_update(of=("self",)).select_related("contract")
    return locked.get(id=reply.id)


def create_reply(*, actor, data: ReplyData, now: datetime | None = None) -> SavedReply:
    now = now or timezone.now()
    values = {name: getattr(data, name) for name in FIELDS}
    with transaction.atomic(durable=True):
        stored = _checked(actor, values)
        return SavedReply.objects.create(**stored, created_by=actor, created_at=now, updated_at=now)


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
        values = _current(reply) | {name: getattr(data, name) for name in data.given}
        stored = _checked(actor, values)
        for name, value in stored.items():
            setattr(reply, name, value)
        reply.updated_at = now
        reply.save(update_fields=[*stored, "updated_at"])
    return reply


def delete_reply(*, actor, reply: SavedReply) -> None:
    with transaction.atomic(durable=True):
        reply = _locked(reply)
        if not reply_selectors.may_manage(actor, reply):
            raise SavedReplyNotAllowed
        reply.delete()
