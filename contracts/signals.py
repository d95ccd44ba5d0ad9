"""Signals other apps listen to; contracts imports none of them (DESIGN.md §4).

`calendar_changed(calendar_id, effective_at, previous_state[, contract_id])`: the opening
hours that a calendar (or a contract's choice of calendar) gives have changed from
`effective_at` on; `previous_state` is the calendar as it was (`services.calendar_state`).
The care app moves the due times of its open cases in response; sent after commit.
"""

from django.dispatch import Signal

calendar_changed = Signal()

# `open_cases_requested(end_user_ids)`: receivers return {end_user_id: [case summary, ...]}
# so the caller lookup can show open cases without contracts importing care.
open_cases_requested = Signal()
