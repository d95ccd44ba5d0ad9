"""Notifications for the apps above contracts, which it imports none of (DESIGN.md §4); what
contracts asks of them is in `contracts.ports`.

`calendar_changed(calendar_id, effective_at, previous_state[, contract_id])`: the opening
hours that a calendar (or a contract's choice of calendar) gives have changed from
`effective_at` on; `previous_state` is the calendar as it was (`services.calendar_state`).
The care app moves the due times of its open cases in response; sent after commit.
"""

from django.dispatch import Signal

calendar_changed = Signal()
