from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ContractsConfig(AppConfig):
    """Clients, contracts, SLA targets, business calendars and the end-user directory."""

    name = "contracts"
    verbose_name = _("Contracts")

    def ready(self) -> None:
        from config.nightly import nightly
        from contracts.tasks import feed_loyalty_worklist_nightly

        nightly.connect(feed_loyalty_worklist_nightly, dispatch_uid="contracts.loyalty_feed")
