"""The nightly hook: `nightly` is sent once a night with the local `date` and `now`.

Any app connects a receiver (with a `dispatch_uid`) to plug its nightly job in without
touching the engine: the loyalty worklist fed by the contracts expiring within 90 days, the
retention of personal data. The engine (`reports.nightly.run_nightly_jobs`, beat at night)
sends it at most once per date (`reports.NightlyRun`), so receivers should be state-based and
idempotent: a run taken over after a crash sends it again for the same date.
Receivers return a short JSON-able summary (a count); an exception is logged and recorded,
and does not stop the other receivers.
"""

from django.dispatch import Signal

nightly = Signal()
