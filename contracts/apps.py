from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ContractsConfig(AppConfig):
    """Clients, contracts, SLA targets, business calendars and the end-user directory."""

    name = "contracts"
    verbose_name = _("Contracts")
