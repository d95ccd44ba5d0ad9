from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RoutingConfig(AppConfig):
    """Sites, operators, presence, queues and the assignment engine."""

    name = "routing"
    verbose_name = _("Routing")
