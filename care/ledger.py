"""The SLA ledger of a case: why each due time is what it is.

`build_ledger` is pure: it replays the case's clock events (opened, priority changed, paused,
resumed, due times moved by a calendar change, met, breached) with the calendar module, the
same way the services computed the stored instants, and lists what happened, the closed days
(holidays, patron saint, closures) the clock skipped, and the due times it arrives at.
`case_ledger` gathers those facts of a stored case (its SLA transitions from its alerts,
`care.selectors.case_events`); its due times must equal the stored ones.
"""

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.utils.translation import get_language
from django.utils.translation import gettext as _

from care import clock, selectors
from contracts import calendars
from contracts import selectors as contract_selectors

FIRST_RESPONSE = "first_response"
RESOLUTION = "resolution"
TARGETS = (FIRST_RESPONSE, RESOLUTION)
MAX_CLOSED_DAYS = 120  # a ledger lists at most this many days of calendar


@dataclass(frozen=True)
class EventFact:
    kind: str  # a CaseEvent.Kind value
    at: datetime
    from_value: str = ""
    to_value: str = ""
    detail: dict = field(default_factory=dict)


@dataclass(frozen=True)
class LedgerEntry:
    at: datetime
    kind: str
    text: str
    target: str = ""
    due: datetime | None = None


@dataclass(frozen=True)
class Ledger:
    entries: list[LedgerEntry]
    due: dict[str, datetime | None]  # target -> due instant the replay arrives at
    at_risk: dict[str, datetime | None]
    has_sla: bool


def _label(target: str) -> str:
    return _("First response") if target == FIRST_RESPONSE else _("Resolution")


def _when(instant: datetime, spec: calendars.CalendarSpec) -> str:
    return instant.astimezone(ZoneInfo(spec.timezone)).strftime("%d/%m/%Y %H:%M")


def build_ledger(
    *,
    spec: calendars.CalendarSpec,
    opened_at: datetime,
    priority: str,
    targets: dict[str, tuple[int, int]],
    at_risk_share: float,
    events: list[EventFact],
) -> Ledger:
    """`targets`: priority -> (first response minutes, resolution minutes) of the version."""
    entries: list[LedgerEntry] = []
    due: dict[str, datetime | None] = dict.fromkeys(TARGETS)
    at_risk: dict[str, datetime | None] = dict.fromkeys(TARGETS)
    frozen: set[str] = set()
    paused_minutes = 0.0
    paused_at: datetime | None = None

    def recompute(current: str, at: datetime, why: str) -> None:
        minutes = targets.get(current)
        if minutes is None:
            for target in TARGETS:
                if target not in frozen:
                    due[target] = at_risk[target] = None
            entries.append(
                LedgerEntry(at, "no_sla", _("No SLA target for priority %(p)s.") % {"p": current})
            )
            return
        found = clock.deadlines(
            spec,
            opened_at=opened_at,
            first_response_minutes=minutes[0],
            resolution_minutes=minutes[1],
            at_risk_share=at_risk_share,
            paused_minutes=paused_minutes,
        )
        values = {
            FIRST_RESPONSE: (found.first_response_due_at, found.first_response_at_risk_at),
            RESOLUTION: (found.resolution_due_at, found.resolution_at_risk_at),
        }
        for target in TARGETS:
            if target in frozen:
                continue
            due[target], at_risk[target] = values[target]
            entries.append(
                LedgerEntry(
                    at,
                    "due",
                    _("%(target)s due %(due)s (%(why)s).")
                    % {
                        "target": _label(target),
                        "due": _when(due[target], spec),
                        "why": why,
                    },
                    target=target,
                    due=due[target],
                )
            )

    opened = _utc(opened_at)
    entries.append(LedgerEntry(opened, "opened", _("Case opened.")))
    try:
        started = _utc(calendars.next_opening(spec, opened_at))
    except calendars.NoOpeningError:
        started = opened
    if started > opened:
        entries.append(
            LedgerEntry(
                started,
                "clock_started",
                _("Opened outside the service hours: the clock started at the next opening."),
            )
        )
    current = priority
    for event in events:
        at = _utc(event.at)
        if event.kind == "opened":
            current = event.detail.get("priority", current)
            recompute(current, at, _("priority %(p)s") % {"p": current})
        elif event.kind == "priority_changed":
            current = event.to_value
            entries.append(
                LedgerEntry(
                    at,
                    "priority_changed",
                    _("Priority changed from %(old)s to %(new)s.")
                    % {"old": event.from_value, "new": current},
                )
            )
            recompute(current, at, _("priority %(p)s") % {"p": current})
        elif event.kind == "clock_paused":
            paused_at = event.at
            entries.append(
                LedgerEntry(at, "paused", _("Clock paused: the case waits for the customer."))
            )
        elif event.kind == "clock_resumed":
            paused = (
                calendars.business_minutes_between(spec, paused_at, event.at) if paused_at else 0
            )
            paused_minutes += paused
            paused_at = None
            entries.append(
                LedgerEntry(
                    at,
                    "resumed",
                    _("Clock resumed after %(minutes)s business minutes of pause.")
                    % {"minutes": round(paused, 1)},
                )
            )
            recompute(current, at, _("pauses added"))
        elif event.kind == "deadlines_moved":
            after = event.detail.get("after", {})
            for target in TARGETS:
                if f"{target}_at_risk_at" in after:
                    at_risk[target] = datetime.fromisoformat(after[f"{target}_at_risk_at"])
                if f"{target}_due_at" in after:
                    due[target] = datetime.fromisoformat(after[f"{target}_due_at"])
                    entries.append(
                        LedgerEntry(
                            at,
                            "deadlines_moved",
                            _("%(target)s due moved to %(due)s by a calendar change.")
                            % {"target": _label(target), "due": _when(due[target], spec)},
                            target=target,
                            due=due[target],
                        )
                    )
        elif event.kind in ("sla_at_risk", "sla_breached"):
            target = event.detail.get("target", "")
            breached = event.kind == "sla_breached"
            if breached:
                frozen.add(target)
            entries.append(
                LedgerEntry(
                    at,
                    "breached" if breached else "at_risk",
                    (_("%(target)s breached.") if breached else _("%(target)s at risk."))
                    % {"target": _label(target)},
                    target=target,
                )
            )
        elif event.kind == "first_response":
            frozen.add(FIRST_RESPONSE)
            entries.append(_outcome(at, FIRST_RESPONSE, event.to_value))
        elif event.kind == "status_changed" and event.to_value == "resolved":
            frozen.add(RESOLUTION)
            state = "met" if due[RESOLUTION] is None or at <= due[RESOLUTION] else "breached"
            if due[RESOLUTION] is not None:
                entries.append(_outcome(at, RESOLUTION, state))
    entries += _closed_days(spec, opened_at, [d for d in due.values() if d is not None])
    entries.sort(key=lambda entry: (entry.at, entry.kind != "opened"))
    return Ledger(
        entries=entries,
        due=due,
        at_risk=at_risk,
        has_sla=any(d is not None for d in due.values()),
    )


def _outcome(at: datetime, target: str, state: str) -> LedgerEntry:
    if state == "met":
        text = _("%(target)s met.")
    elif state == "breached":
        text = _("%(target)s given late (breached).")
    else:
        text = _("%(target)s given (no SLA).")
    return LedgerEntry(
        at,
        state if state in ("met", "breached") else "given",
        text % {"target": _label(target)},
        target=target,
    )


def _closed_days(
    spec: calendars.CalendarSpec, opened_at: datetime, dues: list[datetime]
) -> list[LedgerEntry]:
    """Holidays and closures on working weekdays between the opening and the last due."""
    if spec.always_open or not dues:
        return []
    zone = ZoneInfo(spec.timezone)
    first: date = opened_at.astimezone(zone).date()
    last: date = max(dues).astimezone(zone).date()
    entries = []
    # Holiday names in the reader's language (the page's, or the API caller's).
    holiday_language = calendars.holiday_language(get_language())
    for offset in range(min((last - first).days + 1, MAX_CLOSED_DAYS)):
        day = first + timedelta(days=offset)
        if not spec.weekly_hours[day.weekday()]:
            continue  # a day the calendar never opens is not skipped, it is just closed
        reason = calendars.closed_day_reason(spec, day, language=holiday_language)
        if reason == calendars.CLOSURE_REASON:
            reason = _("closure")
        if reason is not None:
            entries.append(
                LedgerEntry(
                    datetime.combine(day, datetime.min.time(), tzinfo=zone).astimezone(UTC),
                    "closed_day",
                    _("%(day)s closed (%(reason)s): skipped by the clock.")
                    % {"day": day.strftime("%d/%m/%Y"), "reason": reason},
                )
            )
    return entries


def _utc(instant: datetime) -> datetime:
    return instant.astimezone(UTC)


# --- A stored case --------------------------------------------------------------------------


def case_ledger(case) -> Ledger:
    """The ledger of a stored case (its events, version targets and contract calendar)."""

    version = case.contract_version
    spec = contract_selectors.calendar_spec(case.contract.calendar)
    targets = {
        t.priority: (t.first_response_minutes, t.resolution_minutes)
        for t in version.sla_targets.all()
    }
    events = [
        EventFact(e.kind, e.at, e.from_value, e.to_value, e.detail or {})
        for e in selectors.case_events(case)
    ]
    return build_ledger(
        spec=spec,
        opened_at=case.opened_at,
        priority=case.priority,
        targets=targets,
        at_risk_share=float(version.at_risk_share),
        events=events,
    )


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value) -> str:
    """A CSV cell a spreadsheet will not run as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def ledger_rows(ledger: Ledger) -> list[dict]:
    return [
        {
            "at": entry.at.isoformat(),
            "kind": entry.kind,
            "target": entry.target,
            "due": entry.due.isoformat() if entry.due else None,
            "text": entry.text,
        }
        for entry in ledger.entries
    ]
