from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CareConfig(AppConfig):
    """Cases, notes, hand-offs and the SLA clock of each case."""

    name = "care"
    verbose_name = _("Cases")
