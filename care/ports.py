"""What care needs from the app above it, declared once and plugged in once (DESIGN.md §4).

care imports no routing, yet two of its decisions are routing's:

- a new case enters a queue (`queue_for`): routing's rule is `routing.services.queue_for`;
- a caller is shown in full to whoever works the case's contract, client or queue beyond
  their own cases (`personal_data_grants`): routing's rule is `routing.privacy.grants_of`.

Each is a typed port with a default that lets care work alone (no queue, no grants);
`routing.apps.RoutingConfig.ready()` plugs routing's implementations in. A reader follows the
call from `care.services.open_case` to here and from here to routing, not a broadcast.
Notifications (a case was opened or released) stay signals: `care.signals`.
"""

from __future__ import annotations

from collections.abc import Callable
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


QueuePolicy = Callable[["Case"], str]
PersonalDataGrants = Callable[[object], Grants]


def _no_queue(case: Case) -> str:
    return ""


def _no_grants(user: object) -> Grants:
    return Grants()


_queue_policy: QueuePolicy = _no_queue
_personal_data_grants: PersonalDataGrants = _no_grants


def queue_for(case: Case) -> str:
    """The code of the queue a new case enters ("" for none), asked inside `open_case`'s
    transaction before the case is saved."""
    return _queue_policy(case)


def personal_data_grants(user: object) -> Grants:
    return _personal_data_grants(user)


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
