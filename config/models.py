from django.db import models
from django.utils.translation import gettext_lazy as _


class Capability(models.Model):
    """Holds the portal's role permissions (no table): `config.<codename>` in has_perm()."""

    class Meta:
        managed = False
        default_permissions = ()
        verbose_name = _("capacità")
        verbose_name_plural = _("capacità")
        permissions = [
            ("handle_cases", _("Rispondere alle chiamate e lavorare le pratiche")),
            ("work_backoffice", _("Lavorare ordini contrattuali e fidelizzazione")),
            ("supervise", _("Gestire code, presenze, riassegnazioni ed emergenze")),
            ("view_reports", _("Vedere report e cruscotti")),
            ("export_reports", _("Esportare report")),
            ("manage_contracts", _("Configurare contratti, SLA e calendari")),
            ("view_unmasked_personal_data", _("Vedere ed esportare dati personali in chiaro")),
            ("administer", _("Gestire utenti, ruoli e impostazioni di sistema")),
        ]

    def __str__(self) -> str:
        return str(self._meta.verbose_name)


class Heartbeat(models.Model):
    """The last time a background job proved it ran; read by /healthz."""

    WORKER = "worker"
    SLA_RECOMPUTE = "sla_recompute"

    name = models.CharField(_("nome"), max_length=50, primary_key=True)
    beat_at = models.DateTimeField(_("ultimo segnale"))
    detail = models.JSONField(_("dettaglio"), default=dict, blank=True)

    class Meta:
        verbose_name = _("segnale di vita")
        verbose_name_plural = _("segnali di vita")

    def __str__(self) -> str:
        return f"{self.name} @ {self.beat_at:%Y-%m-%d %H:%M:%S}"
