"""Notifications for the apps above care, which it imports none of: something happened, zero
or many listeners, nothing answered (what care asks of routing is in `care.ports`).

`case_opened(case_id)` and `case_released(case_id, assignee_id)` are sent after commit:
routing offers a new case to an operator; a released case frees capacity.
"""

from django.dispatch import Signal

case_opened = Signal()
case_released = Signal()

# Sent after an incident's resolution commits, with `incident_id` and `case_ids` (the cases
# it resolved). The resolution message to the end users is queued from here once the e-mail
# outbox of issue #22 exists; nothing listens yet.
incident_resolved = Signal()
