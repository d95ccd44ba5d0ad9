"""Signals the routing and reports apps listen to; care imports neither.

`case_opened(case_id)` and `case_released(case_id, assignee_id)` are sent after commit:
routing puts a new case in a queue and offers it; a released case frees capacity.
"""

from django.dispatch import Signal

case_opened = Signal()
case_released = Signal()
