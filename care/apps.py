from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CareConfig(AppConfig):
    """Cases, notes, hand-offs and the SLA clock of each case.

    Plugs into contracts' port (contracts/ports.py): the lookup's open cases are
    `care.selectors.open_cases_of_end_users`; listens to `calendar_changed` to move due times.
    (A new case gets the articles used at its intake in `services.open_case` itself.)
    Its own ports for routing are in care/ports.py."""

    name = "care"
    verbose_name = _("Cases")

    def ready(self) -> None:
        from care import receivers, selectors
        from care.retention import anonymise_closed_cases_nightly
        from config import access_log
        from config.nightly import nightly
        from contracts import ports, signals

        nightly.connect(anonymise_closed_cases_nightly, dispatch_uid="care-retention")
        access_log.subject_resolvers["case"] = receivers.end_users_of_case
        access_log.subject_resolvers["attachment"] = receivers.end_users_of_attachment

        ports.use_open_cases(selectors.open_cases_of_end_users)
        signals.calendar_changed.connect(
            receivers.move_deadlines_on_calendar_change, dispatch_uid="care-move-deadlines"
        )
