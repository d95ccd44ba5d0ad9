from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RoutingConfig(AppConfig):
    """Sites, operators, presence, queues and the assignment engine.

    Plugs into care's ports (care/ports.py): the queue of a new case is
    `routing.services.queue_for`, the callers a user sees in full `routing.privacy.grants_of`,
    the queues' names a timeline shows `routing.selectors.queue_names`; the articles an operator
    reads `routing.privacy.reach_of`; and listens to care's notifications (a case opened or
    released) to offer work."""

    name = "routing"
    verbose_name = _("Routing")

    def ready(self) -> None:
        from care import ports, signals
        from routing import calls, privacy, receivers, selectors, services

        ports.use_queue_policy(services.queue_for)
        ports.use_personal_data_grants(privacy.grants_of)
        ports.use_caller_of_call(calls.caller_of_call)
        ports.use_queue_names(selectors.queue_names)
        ports.use_article_reach(privacy.reach_of)
        signals.case_opened.connect(
            receivers.offer_opened_case, dispatch_uid="routing-offer-opened-case"
        )
        signals.case_released.connect(
            receivers.offer_freed_capacity, dispatch_uid="routing-offer-freed-capacity"
        )
