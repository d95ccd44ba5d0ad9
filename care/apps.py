from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CareConfig(AppConfig):
    """Cases, notes, hand-offs and the SLA clock of each case."""

    name = "care"
    verbose_name = _("Cases")

    def ready(self) -> None:
        from care import receivers
        from care.retention import anonymise_closed_cases_nightly
        from config import access_log
        from config.nightly import nightly
        from contracts import signals

        nightly.connect(anonymise_closed_cases_nightly, dispatch_uid="care-retention")
        access_log.subject_resolvers["case"] = receivers.end_users_of_case
        access_log.subject_resolvers["attachment"] = receivers.end_users_of_attachment

        signals.open_cases_requested.connect(
            receivers.open_cases_for_lookup, dispatch_uid="care-open-cases"
        )
        signals.calendar_changed.connect(
            receivers.move_deadlines_on_calendar_change, dispatch_uid="care-move-deadlines"
        )
