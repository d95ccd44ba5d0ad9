from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RoutingConfig(AppConfig):
    """Sites, operators, presence, queues and the assignment engine."""

    name = "routing"
    verbose_name = _("Routing")

    def ready(self) -> None:
        from care import signals
        from routing import privacy, receivers

        signals.queue_requested.connect(
            receivers.queue_for_new_case, dispatch_uid="routing-queue-for-new-case"
        )
        signals.case_opened.connect(
            receivers.offer_opened_case, dispatch_uid="routing-offer-opened-case"
        )
        signals.case_released.connect(
            receivers.offer_freed_capacity, dispatch_uid="routing-offer-freed-capacity"
        )
        signals.personal_data_scope.connect(
            privacy.personal_data_scope, dispatch_uid="routing-personal-data-scope"
        )
