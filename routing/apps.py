from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RoutingConfig(AppConfig):
    """Sites, operators, presence, queues and the assignment engine."""

    name = "routing"
    verbose_name = _("Routing")

    def ready(self) -> None:
        from care import signals
        from routing import receivers

        signals.queue_requested.connect(
            receivers.queue_for_new_case, dispatch_uid="routing-queue-for-new-case"
        )
