from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportsConfig(AppConfig):
    """Backlog snapshots, reports, exports and dashboards."""

    name = "reports"
    verbose_name = _("Reports")
