from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CareConfig(AppConfig):
    """Cases, notes, hand-offs and the SLA clock of each case."""

    name = "care"
    verbose_name = _("Cases")

    def ready(self) -> None:
        from care import receivers
        from contracts import signals

        signals.open_cases_requested.connect(
            receivers.open_cases_for_lookup, dispatch_uid="care-open-cases"
        )
        signals.calendar_changed.connect(
            receivers.move_deadlines_on_calendar_change, dispatch_uid="care-move-deadlines"
        )
