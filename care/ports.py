"""What care needs from the app above it, declared once and plugged in once (DESIGN.md §4).

care imports no routing, yet three of its decisions are routing's:

- a new case enters a queue (`queue_for`): routing's rule is `routing.services.queue_for`;
- a caller is shown in full to whoever works the case's contract, client or queue beyond
  their own cases (`personal_data_grants`): routing's rule is `routing.privacy.grants_of`;
- a case is opened during a call only by whoever answered it (`caller_of_call`): routing's
  rule is `routing.calls.caller_of_call`;
- a timeline names the queues a case went through (`queue_names`): routing's read is
  `routing.selectors.queue_names`;
- an operator reads the knowledge-base articles of the services, clients and contracts they
  are skilled or certified on (`article_reach`): routing's rule is `routing.privacy.reach_of`.

Each is a typed port with a default that lets care work alone (no queue, no grants);
`routing.apps.RoutingConfig.ready()` plugs routing's implementations in. A reader follows the
call from `care.services.open_case` to here and from here to routing, not a broadcast.
Notifications (a case was opened or released) stay signals: `care.signals`.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from care.models import Case


@dataclass(frozen=True)
class Grants:
    """The cases a user works beyond their own: by contract, client or queue."""

    contract_ids: frozenset[int] = frozenset()
    client_ids: frozenset[int] = frozenset()
    queue_codes: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Reach:
    """What an operator's articles may be about: their service skills, the contracts and
    clients they are certified on."""

    services: frozenset[str] = frozenset()
    contract_ids: frozenset[int] = frozenset()
    client_ids: frozenset[int] = frozenset()


QueuePolicy = Callable[["Case"], str]
PersonalDataGrants = Callable[[object], Grants]
# The caller's number (E.164) of a call this user answered and still works, else None.
CallerOfCall = Callable[[str, object], "str | None"]
# The names of the queues with these codes (one query); a code not known is left out.
QueueNames = Callable[[Collection[str]], dict[str, str]]
ArticleReach = Callable[[object], Reach]


def _no_queue(case: Case) -> str:
    return ""


def _no_grants(user: object) -> Grants:
    return Grants()


def _no_calls(call_id: str, user: object) -> str | None:
    return None


def _no_queue_names(codes: Collection[str]) -> dict[str, str]:
    return {}


def _no_reach(user: object) -> Reach:
    return Reach()


_queue_policy: QueuePolicy = _no_queue
_queue_names: QueueNames = _no_queue_names
_personal_data_grants: PersonalDataGrants = _no_grants
_caller_of_call: CallerOfCall = _no_calls
_article_reach: ArticleReach = _no_reach


def queue_for(case: Case) -> str:
    """The code of the queue a new case enters ("" for none), asked inside `open_case`'s
    transaction before the case is saved."""
    return _queue_policy(case)


def queue_names(codes: Collection[str]) -> dict[str, str]:
    """The queues' names by code (codes without a queue are left out)."""
    return _queue_names(codes) if codes else {}


def personal_data_grants(user: object) -> Grants:
    return _personal_data_grants(user)


def caller_of_call(call_id: str, user: object) -> str | None:
    """The number that called on `call_id` if `user` answered that call (and it is recent
    enough to be worked), else None: what lets a case be opened during a call."""
    return _caller_of_call(call_id, user)


def use_caller_of_call(rule: CallerOfCall) -> CallerOfCall:
    """Plug the telephony rule in; returns the one it replaces (tests put it back)."""
    global _caller_of_call
    previous, _caller_of_call = _caller_of_call, rule
    return previous


def use_queue_policy(policy: QueuePolicy) -> QueuePolicy:
    """Plug the queue rule in; returns the one it replaces (tests put it back)."""
    global _queue_policy
    previous, _queue_policy = _queue_policy, policy
    return previous


def use_personal_data_grants(grants: PersonalDataGrants) -> PersonalDataGrants:
    """Plug the grants rule in; returns the one it replaces (tests put it back)."""
    global _personal_data_grants
    previous, _personal_data_grants = _personal_data_grants, grants
    return previous


def use_queue_names(rule: QueueNames) -> QueueNames:
    """Plug the queue names' read in; returns the one it replaces (tests put it back)."""
    global _queue_names
    previous, _queue_names = _queue_names, rule
    return previous


def article_reach(user: object) -> Reach:
    return _article_reach(user)


def use_article_reach(rule: ArticleReach) -> ArticleReach:
    """Plug the knowledge-base reach in; returns the one it replaces (tests put it back)."""
    global _article_reach
    previous, _article_reach = _article_reach, rule
    return previous
