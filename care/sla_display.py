"""What pages show of a case's SLA between two recomputes: the list's next target with the
time left, the case page's two targets. One rule for "paused" (the clock stands still while
the case waits on the customer, and once it is resolved or closed); the state itself is
`care.clock.state_at`, the rule the recompute applies in SQL."""

from datetime import datetime, timedelta

from django.utils.translation import gettext as _

from care import clock
from care.models import CaseStatus, SlaState
from config import durations


def _paused(case) -> bool:
    return case.status == CaseStatus.WAITING_CUSTOMER or not case.is_open


def summary(case, now: datetime) -> dict:
    """What the list shows of a case's SLA: the next target due, its state as of `now` (the
    stored state may lag the periodic recompute) and the time left, or how late it is."""
    if not case.is_open or (
        case.first_response_state == SlaState.NONE and case.resolution_state == SlaState.NONE
    ):
        state = case.resolution_state
        if not case.is_open and state not in (SlaState.MET, SlaState.BREACHED):
            state = SlaState.NONE
        return {"state": state, "label": SlaState(state).label, "due": None}
    if case.first_response_at is None and case.first_response_state != SlaState.NONE:
        target = _("First response")
        state, due = case.first_response_state, case.first_response_due_at
        at_risk = case.first_response_at_risk_at
    else:
        target = _("Resolution")
        state, due = case.resolution_state, case.resolution_due_at
        at_risk = case.resolution_at_risk_at
    paused = _paused(case)
    state = clock.state_at(stored=state, at_risk_at=at_risk, due_at=due, paused=paused, now=now)
    shown = {"state": state, "label": SlaState(state).label, "target": target, "due": due}
    if due:
        shown |= {"late": now > due, "paused": paused, "left": duration(due - now)}
    return shown


def panel(case, now: datetime) -> list[dict]:
    """Both targets of a case, as its page shows them."""
    rows = []
    for name, label, done, due, at_risk, met_at, stored in (
        (
            "first_response",
            _("First response"),
            _("Answered on"),
            case.first_response_due_at,
            case.first_response_at_risk_at,
            case.first_response_at,
            case.first_response_state,
        ),
        (
            "resolution",
            _("Resolution"),
            _("Resolved on"),
            case.resolution_due_at,
            case.resolution_at_risk_at,
            case.resolved_at,
            case.resolution_state,
        ),
    ):
        state = clock.state_at(
            stored=stored, at_risk_at=at_risk, due_at=due, paused=_paused(case), now=now
        )
        # What happened, in words that agree with the state: a target answered after its
        # due time was breached, not met ("Answered on …, 2 h late", never "Met on …").
        late = state == SlaState.BREACHED and met_at is not None
        rows.append(
            {
                "name": name,
                "label": label,
                "due": due,
                "met_at": met_at,
                "done_label": done,
                "late_by": duration(met_at - due) if late and due and met_at > due else "",
                "late": late,
                "state": state,
                "state_label": SlaState(state).label,
            }
        )
    return rows


def duration(delta: timedelta) -> str:
    """A span as people say it: "3 d 8 h", "2 h 5 min", "12 min" (`config.durations`)."""
    return durations.in_words(delta)
