"""Signals the routing and reports apps listen to; care imports neither.

`queue_requested(case)` is sent inside `open_case`, before the case is saved: a receiver
answers the code of the queue the case enters, so a case is never visible without one.
`personal_data_scope(user)` asks which cases a user works beyond their own (routing answers
with the contracts and clients they are certified on and the queues they supervise).
`case_opened(case_id)` and `case_released(case_id, assignee_id)` are sent after commit:
routing offers a new case to an operator; a released case frees capacity.
"""

from django.dispatch import Signal

queue_requested = Signal()
personal_data_scope = Signal()
case_opened = Signal()
case_released = Signal()
