from django.conf import settings
from django.db import models
from django.utils import formats, timezone
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


# What kind of thing an access-log row is about (`LoggedRoute.target`), as a reader says it.
ACCESS_TARGET_LABELS = {
    "admin": _("administration"),
    "attachment": _("attachment"),
    "call": _("call"),
    "callback": _("callback"),
    "caller": _("caller"),
    "case": _("case"),
    "client": _("client"),
    "end_user": _("end user"),
    "export_job": _("export"),
    "mail": _("e-mail"),
    "order": _("order"),
    "order_document": _("order document"),
    "report": _("report"),
}


class AccessLog(models.Model):
    """Who saw or searched personal data, or exported it: one row per request, denied
    attempts included. Append-only (on PostgreSQL the database refuses UPDATE and DELETE)
    and hash-chained: each row's hash covers its content and the previous row's hash, so the
    nightly check finds a row altered or removed behind the application's back. Kept at
    least 24 months; nothing in Presidio deletes it."""

    class Action(models.TextChoices):
        SEARCH = "search", _("Search by phone, name or e-mail")
        VIEW = "view", _("View personal data")
        EXPORT = "export", _("Export")
        IMPORT = "import", _("Import")
        ERASE = "erase", _("Erase or anonymise")

    class Outcome(models.TextChoices):
        ALLOWED = "allowed", _("Allowed")
        DENIED = "denied", _("Denied")

    at = models.DateTimeField(_("at"), db_index=True)
    user = models.ForeignKey(
        "auth.User",
        on_delete=models.DO_NOTHING,
        null=True,
        related_name="+",
        verbose_name=_("user"),
        db_constraint=False,  # the log outlives accounts
    )
    username = models.CharField(_("username"), max_length=150)
    action = models.CharField(_("action"), max_length=10, choices=Action.choices)
    route = models.CharField(_("page or endpoint"), max_length=100)
    method = models.CharField(_("method"), max_length=8)
    target = models.CharField(_("what"), max_length=200, blank=True)
    purpose = models.CharField(_("purpose"), max_length=300, blank=True)
    outcome = models.CharField(_("outcome"), max_length=8, choices=Outcome.choices)
    status_code = models.PositiveSmallIntegerField(_("answer"))
    detail = models.JSONField(_("detail"), default=dict, blank=True)
    previous_hash = models.CharField(_("previous hash"), max_length=64)
    row_hash = models.CharField(_("hash"), max_length=64, unique=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("access log entry")
        verbose_name_plural = _("access log")
        indexes = [models.Index(fields=["user", "at"], name="accesslog_user_at")]

    def __str__(self) -> str:
        """ "05/12/2026 14:02 · admin · Ricerca per telefono, nome o e-mail · utente finale":
        local time (the active zone, Rome by default) and words in the reader's language."""
        when = formats.date_format(timezone.localtime(self.at), "SHORT_DATETIME_FORMAT")
        parts = [when, self.username, self.get_action_display(), self.target_label]
        return " · ".join(str(part) for part in parts if part)

    @property
    def target_label(self) -> str:
        """ "case:CS-2026-000123" -> "pratica CS-2026-000123" (the kind named, the key kept)."""
        kind, _sep, key = self.target.partition(":")
        label = str(ACCESS_TARGET_LABELS.get(kind, kind))
        return f"{label} {key.replace(':', ' ')}".strip()


class AccessLogSubject(models.Model):
    """Which end users one access-log row touched, written with the row (and listed in its
    hashed detail, so the index cannot be doctored unseen). It answers a data subject's
    "who consulted my data, when and why" and feeds the watch on unusual access, without a
    scan of the log's JSON. No foreign key to the directory: the log outlives it."""

    entry = models.ForeignKey(
        AccessLog, on_delete=models.DO_NOTHING, related_name="subjects", verbose_name=_("entry")
    )
    end_user_id = models.PositiveBigIntegerField(_("end user"))
    user_id = models.IntegerField(_("user"), null=True)  # the entry's, for the watch
    at = models.DateTimeField(_("at"))  # the entry's

    class Meta:
        verbose_name = _("end user in the access log")
        verbose_name_plural = _("end users in the access log")
        indexes = [
            models.Index(fields=["end_user_id", "at"], name="accesssubject_end_user_at"),
            models.Index(fields=["user_id", "at"], name="accesssubject_user_at"),
        ]

    def __str__(self) -> str:
        return f"{self.entry_id}: {self.end_user_id}"


class AccessChainHead(models.Model):
    """The single row writers lock to append to the access-log chain one at a time."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    last_hash = models.CharField(max_length=64)

    class Meta:
        verbose_name = _("access log chain head")
        verbose_name_plural = _("access log chain head")

    def __str__(self) -> str:
        return self.last_hash


class TwoFactorEnrolmentLink(models.Model):
    """A one-time link an administrator creates for a user to enrol their authenticator app
    (config.two_factor). While the user has an unused link, or used none yet, and no device,
    enrolment on first sign-in (trust on first use) is refused: only the link opens it."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="two_factor_enrolment_links",
        verbose_name=_("user"),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created at"))
    expires_at = models.DateTimeField(_("expires at"))
    used_at = models.DateTimeField(_("used at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("two-factor enrolment link")
        verbose_name_plural = _("two-factor enrolment links")

    def __str__(self) -> str:
        return f"{self.user} {self.created_at:%Y-%m-%d %H:%M}"


class ConfigChange(models.Model):
    """One change to the unit's set-up (users and roles, operator profiles, certifications,
    sites, queues, emergencies, API tokens): who, when, and the values before and after.

    Append-only, written by `config.audit.record_change` inside the change's transaction, so
    a change and its record land together or not at all. Contracts and calendars keep their
    own trail (`contracts.AuditEvent`), which carries their versions.
    """

    class Action(models.TextChoices):
        CREATED = "created", _("created")
        CHANGED = "changed", _("changed")
        DEACTIVATED = "deactivated", _("deactivated")
        REACTIVATED = "reactivated", _("reactivated")
        ARCHIVED = "archived", _("archived")
        DELETED = "deleted", _("deleted")
        REVOKED = "revoked", _("revoked")

    at = models.DateTimeField(_("at"), db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
    )
    # What was changed: a kind from `config.audit.TARGET_LABELS`, its id and its name then.
    target_type = models.CharField(_("what"), max_length=30)
    target_id = models.CharField(_("id"), max_length=64)
    target_label = models.CharField(_("name"), max_length=200, blank=True)
    action = models.CharField(_("action"), max_length=12, choices=Action.choices)
    before = models.JSONField(_("before"), default=dict, blank=True)
    after = models.JSONField(_("after"), default=dict, blank=True)
    reason = models.CharField(_("reason"), max_length=300, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("configuration change")
        verbose_name_plural = _("configuration changes")
        indexes = [
            models.Index(fields=["target_type", "target_id", "at"], name="config_change_target"),
            models.Index(fields=["actor", "at"], name="config_change_actor"),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.target_type} {self.target_id} {self.action}"

    @property
    def changed_fields(self) -> list[str]:
        """The fields whose value differs between before and after, in a stable order."""
        keys = sorted(set(self.before) | set(self.after))
        return [key for key in keys if self.before.get(key) != self.after.get(key)]


class ApiToken(models.Model):
    """A credential an integration sends as `Authorization: Token <secret>` (or `Bearer`).

    Only the secret's SHA-256 is stored, with its first characters (`prefix`) to tell tokens
    apart: the secret is shown once, when issued (config.tokens). `scopes` name groups of API
    endpoints (`config.tokens.SCOPES`); the owner's role still decides what each call may do.
    """

    name = models.CharField(_("name"), max_length=100)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="api_tokens",
        verbose_name=_("owner"),
    )
    scopes = models.JSONField(_("scopes"), default=list)
    key_hash = models.CharField(_("secret's SHA-256"), max_length=64, unique=True)
    prefix = models.CharField(_("prefix"), max_length=12)
    created_at = models.DateTimeField(_("created at"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("issued by"),
    )
    expires_at = models.DateTimeField(_("expires at"))
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("revoked by"),
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    def status(self, now) -> str:
        if self.revoked_at is not None:
            return "revoked"
        return "expired" if self.expires_at <= now else "active"


class UserSession(models.Model):
    """What a user is shown of one of their signed-in sessions: the device, the network, when
    it started and when it was last active. One row per Django session, gone with it."""

    session = models.OneToOneField(
        "sessions.Session",
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("session"),
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="signed_in_sessions",
        verbose_name=_("user"),
    )
    user_agent = models.CharField(_("device"), max_length=300, blank=True)
    network = models.CharField(_("network"), max_length=64, blank=True)  # masked address
    signed_in_at = models.DateTimeField(_("signed in at"))
    last_seen_at = models.DateTimeField(_("last seen at"))

    class Meta:
        ordering = ["-last_seen_at", "-id"]
        verbose_name = _("signed-in session")
        verbose_name_plural = _("signed-in sessions")

    def __str__(self) -> str:
        return f"{self.user} {self.signed_in_at:%Y-%m-%d %H:%M}"
