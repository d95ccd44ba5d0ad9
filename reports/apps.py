from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportsConfig(AppConfig):
    """Backlog snapshots, reports, exports and dashboards."""

    name = "reports"
    verbose_name = _("Reports")

    def ready(self) -> None:
        from config.nightly import nightly
        from reports import nightly as jobs

        nightly.connect(jobs.contracts_expiring_feed, dispatch_uid="contracts-expiring-feed")
