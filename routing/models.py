"""Sites, operators and their presence, queues and the log of every assignment.

Writes go through `routing.services`.
"""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from care.models import Case
from contracts.models import Client, Contract, Segment, Service

DEFAULT_QUEUE = "generale"


class PresenceState(models.TextChoices):
    AVAILABLE = "available", _("Available")
    BUSY = "busy", _("Busy")
    AWAY = "away", _("Away")
    OFFLINE = "offline", _("Offline")


class AssignmentLevel(models.TextChoices):
    CONTRACT = "contract", _("Certified on the contract")
    CLIENT = "client", _("Certified on the client")
    NATIONAL = "national", _("National, by skill")
    OVERRIDE = "override", _("Supervisor override")


class Site(models.Model):
    code = models.SlugField(_("code"), max_length=20, unique=True)
    name = models.CharField(_("name"), max_length=120)
    province = models.CharField(_("province"), max_length=2)
    # The site's working hours: when its supervisors are sent e-mail (else the morning digest).
    calendar = models.ForeignKey(
        "contracts.BusinessCalendar",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("working hours"),
    )

    class Meta:
        ordering = ["code"]
        verbose_name = _("site")
        verbose_name_plural = _("sites")

    def __str__(self) -> str:
        return self.name


class OperatorProfile(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="operator_profile",
        verbose_name=_("user"),
    )
    site = models.ForeignKey(
        Site,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="operators",
        verbose_name=_("site"),
    )
    remote = models.BooleanField(_("works remotely"), default=False)
    capacity = models.PositiveSmallIntegerField(_("capacity (cases at once)"), default=5)
    backoffice_share = models.DecimalField(
        _("back-office share of capacity"),
        max_digits=3,
        decimal_places=2,
        default=Decimal("0.40"),
        validators=[MinValueValidator(0), MaxValueValidator(1)],
    )
    skills = models.JSONField(_("service skills"), default=list, blank=True)
    languages = models.JSONField(_("languages"), default=list, blank=True)
    presence = models.CharField(
        _("presence"),
        max_length=10,
        choices=PresenceState.choices,
        default=PresenceState.OFFLINE,
    )
    presence_since = models.DateTimeField(_("presence since"), null=True, blank=True)

    class Meta:
        ordering = ["user__username"]
        verbose_name = _("operator profile")
        verbose_name_plural = _("operator profiles")
        constraints = [
            models.CheckConstraint(
                condition=Q(backoffice_share__gte=0, backoffice_share__lte=1),
                name="operator_backoffice_share_0_1",
            ),
            models.CheckConstraint(
                condition=Q(presence__in=PresenceState.values), name="operator_presence_valid"
            ),
        ]
        indexes = [models.Index(fields=["presence"], name="operator_presence")]

    def __str__(self) -> str:
        return str(self.user)


class Certification(models.Model):
    """An operator is trained on one contract, or on every contract of one client."""

    profile = models.ForeignKey(
        OperatorProfile,
        on_delete=models.CASCADE,
        related_name="certifications",
        verbose_name=_("operator"),
    )
    client = models.ForeignKey(
        Client,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("client"),
    )
    contract = models.ForeignKey(
        Contract,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("contract"),
    )

    class Meta:
        ordering = ["profile", "id"]
        verbose_name = _("certification")
        verbose_name_plural = _("certifications")
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(client__isnull=False, contract__isnull=True)
                    | Q(client__isnull=True, contract__isnull=False)
                ),
                name="certification_client_xor_contract",
            ),
            models.UniqueConstraint(
                fields=["profile", "client"],
                condition=Q(client__isnull=False),
                name="certification_unique_client",
            ),
            models.UniqueConstraint(
                fields=["profile", "contract"],
                condition=Q(contract__isnull=False),
                name="certification_unique_contract",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.profile}: {self.contract or self.client}"


class PresenceChange(models.Model):
    """Append-only history of presence."""

    profile = models.ForeignKey(
        OperatorProfile,
        on_delete=models.CASCADE,
        related_name="presence_changes",
        verbose_name=_("operator"),
    )
    from_state = models.CharField(_("from"), max_length=10, choices=PresenceState.choices)
    to_state = models.CharField(_("to"), max_length=10, choices=PresenceState.choices)
    at = models.DateTimeField(_("at"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
    )

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("presence change")
        verbose_name_plural = _("presence changes")
        indexes = [models.Index(fields=["profile", "at"], name="presence_change_profile_at")]

    def __str__(self) -> str:
        return f"{self.profile} {self.from_state}→{self.to_state}"


class Queue(models.Model):
    """Where intake files a case. Every criterion left blank matches anything; the queue
    with most criteria matching wins."""

    code = models.SlugField(_("code"), max_length=50, unique=True)
    name = models.CharField(_("name"), max_length=120)
    segment = models.CharField(_("segment"), max_length=5, choices=Segment.choices, blank=True)
    service = models.CharField(_("service"), max_length=20, choices=Service.choices, blank=True)
    category_codes = models.JSONField(_("categories"), default=list, blank=True)
    client = models.ForeignKey(
        Client,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("client"),
    )
    overflow_client_minutes = models.PositiveIntegerField(
        _("to the client's operators after (minutes)"), default=10
    )
    overflow_national_minutes = models.PositiveIntegerField(
        _("to skilled operators nationally after (minutes)"), default=30
    )
    supervisors = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        blank=True,
        related_name="supervised_queues",
        verbose_name=_("supervisors"),
    )
    emergency_until = models.DateTimeField(_("emergency until"), null=True, blank=True)
    emergency_reason = models.CharField(_("emergency reason"), max_length=300, blank=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("queue")
        verbose_name_plural = _("queues")
        constraints = [
            models.CheckConstraint(
                condition=Q(overflow_client_minutes__lte=models.F("overflow_national_minutes")),
                name="queue_overflow_thresholds_ordered",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def in_emergency(self, now) -> bool:
        return self.emergency_until is not None and self.emergency_until > now


class QueueEvent(models.Model):
    """Append-only: emergencies switched on and off, by whom and why."""

    class Kind(models.TextChoices):
        EMERGENCY_ON = "emergency_on", _("Emergency switched on")
        EMERGENCY_OFF = "emergency_off", _("Emergency switched off")

    queue = models.ForeignKey(
        Queue, on_delete=models.PROTECT, related_name="events", verbose_name=_("queue")
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("by")
    )
    at = models.DateTimeField(_("at"))
    until = models.DateTimeField(_("until"), null=True, blank=True)
    reason = models.CharField(_("reason"), max_length=300, blank=True)

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("queue event")
        verbose_name_plural = _("queue events")

    def __str__(self) -> str:
        return f"{self.queue} {self.kind}"


class AssignmentKind(models.TextChoices):
    PULL = "pull", _("Taken by the operator")
    PUSH = "push", _("Offered automatically")
    MANUAL = "manual", _("Assigned by a supervisor")


class Assignment(models.Model):
    """Append-only log: every case given to an operator, at which level and why (the
    decision record the case page shows as "why me?")."""

    case = models.ForeignKey(
        Case, on_delete=models.PROTECT, related_name="assignments", verbose_name=_("case")
    )
    operator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="routing_assignments",
        verbose_name=_("operator"),
    )
    queue_code = models.CharField(_("queue"), max_length=50, blank=True)
    at = models.DateTimeField(_("at"))
    level = models.CharField(_("level"), max_length=10, choices=AssignmentLevel.choices)
    kind = models.CharField(
        _("kind"), max_length=10, choices=AssignmentKind.choices, default=AssignmentKind.PULL
    )
    reason = models.TextField(_("reason"))
    # [{"who": "...", "why": "...", "rule": "...", <facts>}]: candidates (cases for a pull,
    # operators for a push or a manual assignment) that came before this choice in order,
    # and why they were passed: an English sentence, and the rule with its facts
    # (`engine.Why`) from which `routing.wording` says it in the reader's language.
    passed_over = models.JSONField(_("passed over"), default=list, blank=True)
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("assigned by"),
    )
    override_reason = models.CharField(_("override reason"), max_length=300, blank=True)

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("assignment")
        verbose_name_plural = _("assignments")
        constraints = [
            models.CheckConstraint(
                condition=Q(level__in=AssignmentLevel.values), name="assignment_level_valid"
            ),
            models.CheckConstraint(condition=~Q(reason=""), name="assignment_has_reason"),
        ]
        indexes = [
            models.Index(fields=["case", "at"], name="assignment_case_at"),
            models.Index(fields=["operator", "at"], name="assignment_operator_at"),
        ]

    def __str__(self) -> str:
        return f"{self.case} → {self.operator} ({self.level})"


class AccessAlert(models.Model):
    """An operator looked at an unusual number of end users outside their own cases in one
    day (routing.access_watch): told once per operator and day to the supervisors of their
    site and of the queues they work, who acknowledge it in the console."""

    operator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="access_alerts",
        verbose_name=_("operator"),
    )
    day = models.DateField(_("day"))
    end_users = models.PositiveIntegerField(_("end users viewed outside their cases"))
    threshold = models.PositiveIntegerField(_("usual at most"))
    created_at = models.DateTimeField(_("raised at"))
    supervisors = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="+", verbose_name=_("told to")
    )
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("acknowledged by"),
    )
    acknowledged_at = models.DateTimeField(_("acknowledged at"), null=True, blank=True)

    class Meta:
        ordering = ["-day", "-end_users"]
        verbose_name = _("unusual access alert")
        verbose_name_plural = _("unusual access alerts")
        constraints = [
            models.UniqueConstraint(fields=["operator", "day"], name="access_alert_once_a_day"),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.operator}: {self.end_users}"


class AccessAlertEmail(models.Model):
    """The e-mail of an unusual-access alert to one supervisor: an outbox row, sent after the
    alert commits and again by beat with backoff until it goes (routing.access_watch)."""

    alert = models.ForeignKey(
        AccessAlert, on_delete=models.CASCADE, related_name="emails", verbose_name=_("alert")
    )
    supervisor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("supervisor"),
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt at"))
    claimed_at = models.DateTimeField(_("claimed at"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)

    class Meta:
        verbose_name = _("unusual access e-mail")
        verbose_name_plural = _("unusual access e-mails")
        constraints = [
            models.UniqueConstraint(fields=["alert", "supervisor"], name="access_alert_email_once"),
        ]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                name="access_alert_email_due",
                condition=models.Q(sent_at__isnull=True),
            )
        ]

    def __str__(self) -> str:
        return f"{self.alert_id} -> {self.supervisor_id}"
