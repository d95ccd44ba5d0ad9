from django.db import models
from django.utils.translation import gettext_lazy as _


class Capability(models.Model):
    """Holds the portal's role permissions (no table): `config.<codename>` in has_perm()."""

    class Meta:
        managed = False
        default_permissions = ()
        verbose_name = _("capability")
        verbose_name_plural = _("capabilities")
        permissions = [
            ("handle_cases", _("Answer calls and work cases")),
            ("work_backoffice", _("Work contract orders and loyalty")),
            ("supervise", _("Run queues, presence, reassignments and emergencies")),
            ("view_reports", _("See reports and dashboards")),
            ("export_reports", _("Export reports")),
            ("manage_contracts", _("Configure contracts, SLA and calendars")),
            ("view_unmasked_personal_data", _("See and export unmasked personal data")),
            ("administer", _("Manage users, roles and system settings")),
        ]

    def __str__(self) -> str:
        return str(self._meta.verbose_name)


class Heartbeat(models.Model):
    """The last time a background job proved it ran; read by /healthz."""

    WORKER = "worker"
    SLA_RECOMPUTE = "sla_recompute"

    name = models.CharField(_("name"), max_length=50, primary_key=True)
    beat_at = models.DateTimeField(_("last beat"))
    detail = models.JSONField(_("detail"), default=dict, blank=True)

    class Meta:
        verbose_name = _("heartbeat")
        verbose_name_plural = _("heartbeats")

    def __str__(self) -> str:
        return f"{self.name} @ {self.beat_at:%Y-%m-%d %H:%M:%S}"
