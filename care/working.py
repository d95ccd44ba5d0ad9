"""Need to know for writes: who works a case (DESIGN.md §2).

Everyone who handles cases may read any case (the caller masked where `care.privacy` says so);
changing one is for those who work it:

- its assignee and whoever opened it (they took the call; with telephony, the operator who
  answers a call is the assignee of the case opened during it);
- the supervisors of its queue;
- while it waits unassigned, those it may be offered to: operators certified on its contract
  or client (and the back-office of its client);
- administrators.

Anyone else who has to act (a colleague covering a sick day, a supervisor of another queue)
gives a reason, which the service records on the case's timeline (`work_override`: who, why,
what) before the change. The services enforce the rule; the case page and the API ask
`may_work` only to show the reason field or to explain a refusal.
"""

from care import privacy
from care.models import OPEN_STATUSES, Case


def may_work(user, case: Case, *, caller_on_the_line: bool = False) -> bool:
    """Whether `user` works `case`. `caller_on_the_line`: the user answers a new call from the
    case's caller (intake's "add to this case"), which makes them work it as the operator who
    answers a call does."""
    if user is None or not user.is_authenticated:
        return False
    if user.has_perm("config.administer") or caller_on_the_line:
        return True
    if user.id in (case.assignee_id, case.opened_by_id):
        return True
    scope = privacy.scope_of(user)  # routing's certifications and queues: care/ports.py
    if case.queue_code and case.queue_code in scope.queue_codes:
        return True
    waiting = case.assignee_id is None and case.status in OPEN_STATUSES
    return waiting and (
        case.contract_id in scope.contract_ids or case.client_id in scope.client_ids
    )
