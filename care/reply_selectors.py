"""Reads of saved replies: which ones a user may use on a case (rendered for it), see and
manage. The rule of who manages what lives here, and the services ask it too.

- personal replies: their owner only (anyone else finds nothing);
- team replies (a queue): used on the cases of that queue, managed by its supervisors;
- contract replies: used on the cases of that contract, managed by the supervisors who work
  the contract (certified on it or on its client: `sees_contract`), managers and
  administrators.
"""

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from django.db.models import Q, QuerySet

from care import privacy, reply_text
from care.exceptions import SavedReplyNotFound
from care.models import Case, SavedReply
from contracts.calendars import UNIT_TIME_ZONE
from contracts.models import Contract

Scope = SavedReply.Scope


def _configures_contracts(user) -> bool:
    return user.has_perm("config.administer") or user.has_perm("config.manage_contracts")


def sees_contract(user, contract: Contract) -> bool:
    """Whether `user` may write replies for `contract`: managers and administrators for
    every contract, a supervisor for the contracts they work (certified on the contract or
    its client)."""
    if _configures_contracts(user):
        return True
    if not user.has_perm("config.supervise"):
        return False
    scope = privacy.scope_of(user)
    return (
        scope.everything
        or contract.id in scope.contract_ids
        or contract.client_id in scope.client_ids
    )


def supervises_queue(user, queue_code: str) -> bool:
    if user.has_perm("config.administer"):
        return True
    return user.has_perm("config.supervise") and queue_code in privacy.scope_of(user).queue_codes


def may_manage(user, reply: SavedReply) -> bool:
    if reply.scope == Scope.PERSONAL:
        return reply.owner_id == user.id
    if reply.scope == Scope.TEAM:
        return supervises_queue(user, reply.queue_code)
    return reply.contract is not None and sees_contract(user, reply.contract)


def replies_visible_to(user) -> QuerySet[SavedReply]:
    """The user's own personal replies and every team and contract reply (their texts hold
    no personal data: the caller's name is filled in only when used on a case)."""
    return (
        SavedReply.objects.filter(~Q(scope=Scope.PERSONAL) | Q(owner_id=user.id))
        .select_related("contract")
        .order_by("scope", "title", "id")
    )


def reply_by_id(user, reply_id) -> SavedReply:
    reply = replies_visible_to(user).filter(id=reply_id).first() if reply_id else None
    if reply is None:
        raise SavedReplyNotFound
    return reply


def replies_for_case(user, case: Case) -> QuerySet[SavedReply]:
    """The replies usable on `case`: the user's, its queue's and its contract's."""
    usable = Q(scope=Scope.PERSONAL, owner_id=user.id) | Q(
        scope=Scope.CONTRACT, contract_id=case.contract_id
    )
    if case.queue_code:
        usable |= Q(scope=Scope.TEAM, queue_code=case.queue_code)
    return SavedReply.objects.filter(usable).select_related("contract").order_by("title", "id")


def values_for(case: Case, user) -> dict[str, str]:
    """The variables' values on `case` for `user`: the caller's name masked as the case
    page masks it for them, the resolution due time in the unit's time zone."""
    caller = privacy.shown_caller(case, user, with_contacts=False)
    due: datetime | None = case.resolution_due_at
    return {
        "caller_name": " ".join(p for p in (caller.first_name, caller.last_name) if p)
        if caller
        else "",
        "reference": case.reference,
        "due": due.astimezone(ZoneInfo(UNIT_TIME_ZONE)).strftime("%d/%m/%Y %H:%M") if due else "",
        "operator": user.get_full_name() or user.get_username(),
    }


@dataclass(frozen=True)
class RenderedReply:
    reply: SavedReply
    text: str


def rendered_for_case(user, case: Case) -> list[RenderedReply]:
    values = values_for(case, user)
    return [
        RenderedReply(reply, reply_text.render(reply.body, values))
        for reply in replies_for_case(user, case)
    ]
