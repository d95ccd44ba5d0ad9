"""Clients, their contracts and the end users who call on their behalf.

Writes go through `contracts.services`; these classes hold fields, choices and the database
constraints that keep bad data out whatever the caller.
"""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _


class Segment(models.TextChoices):
    TOP = "TOP", _("TOP")
    LARGE = "LARGE", _("Large")
    PA = "PA", _("Public administration")


class Service(models.TextChoices):
    MOBILE = "mobile", _("Mobile")
    FIXED = "fixed", _("Fixed line")
    DATA = "data", _("Data and connectivity")
    CLOUD = "cloud", _("Cloud")
    IOT = "iot", _("IoT")
    SECURITY = "security", _("Security")


class Priority(models.TextChoices):
    P1 = "P1", _("P1 – critical")
    P2 = "P2", _("P2 – high")
    P3 = "P3", _("P3 – medium")
    P4 = "P4", _("P4 – low")


class ContractStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    SUSPENDED = "suspended", _("Suspended")
    TERMINATED = "terminated", _("Terminated")


class Client(models.Model):
    name = models.CharField(_("name"), max_length=200, unique=True)
    segment = models.CharField(_("segment"), max_length=5, choices=Segment.choices)
    vat_number = models.CharField(_("VAT number"), max_length=11, unique=True)
    province = models.CharField(_("province"), max_length=2)
    account_team = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        blank=True,
        related_name="account_clients",
        verbose_name=_("account team"),
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("client")
        verbose_name_plural = _("clients")
        constraints = [
            models.CheckConstraint(
                condition=Q(segment__in=Segment.values), name="client_segment_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Referent(models.Model):
    """The client's own contact person (not an end user)."""

    client = models.ForeignKey(
        Client, on_delete=models.CASCADE, related_name="referents", verbose_name=_("client")
    )
    first_name = models.CharField(_("first name"), max_length=100)
    last_name = models.CharField(_("last name"), max_length=100)
    role = models.CharField(_("role"), max_length=150, blank=True)
    phone = models.CharField(_("phone"), max_length=16, blank=True)  # E.164
    email = models.EmailField(_("e-mail"), blank=True)
    is_primary = models.BooleanField(_("primary contact"), default=False)

    class Meta:
        ordering = ["client", "-is_primary", "last_name"]
        verbose_name = _("referent")
        verbose_name_plural = _("referents")

    def __str__(self) -> str:
        return f"{self.first_name} {self.last_name} ({self.client})"


class EndUser(models.Model):
    """An employee or member of a client who may call the unit."""

    client = models.ForeignKey(
        Client, on_delete=models.PROTECT, related_name="end_users", verbose_name=_("client")
    )
    first_name = models.CharField(_("first name"), max_length=100)
    last_name = models.CharField(_("last name"), max_length=100)
    email = models.EmailField(_("e-mail"), blank=True, db_index=True)  # stored lower-case
    employee_code = models.CharField(_("employee code"), max_length=40, blank=True, db_index=True)
    codice_fiscale = models.CharField(_("codice fiscale"), max_length=16, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["last_name", "first_name"]
        verbose_name = _("end user")
        verbose_name_plural = _("end users")
        constraints = [
            models.UniqueConstraint(
                fields=["client", "employee_code"],
                condition=~Q(employee_code=""),
                name="end_user_employee_code_unique_per_client",
            ),
            models.UniqueConstraint(
                fields=["client", "codice_fiscale"],
                condition=~Q(codice_fiscale=""),
                name="end_user_codice_fiscale_unique_per_client",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.first_name} {self.last_name}"


class EndUserPhone(models.Model):
    """One mobile number of an end user, in E.164; unique within the client."""

    end_user = models.ForeignKey(
        EndUser, on_delete=models.CASCADE, related_name="phones", verbose_name=_("end user")
    )
    client = models.ForeignKey(
        Client, on_delete=models.PROTECT, related_name="+", verbose_name=_("client")
    )
    number = models.CharField(_("number"), max_length=16)

    class Meta:
        ordering = ["id"]
        verbose_name = _("phone number")
        verbose_name_plural = _("phone numbers")
        constraints = [
            models.UniqueConstraint(
                fields=["client", "number"], name="end_user_phone_unique_per_client"
            ),
        ]
        indexes = [models.Index(fields=["number"], name="end_user_phone_number_idx")]

    def __str__(self) -> str:
        return self.number


class BusinessCalendar(models.Model):
    """Opening hours, holidays and closures that SLA minutes are counted in."""

    name = models.CharField(_("name"), max_length=120, unique=True)
    timezone = models.CharField(_("time zone"), max_length=64, default="Europe/Rome")
    province = models.CharField(
        _("province"), max_length=2, blank=True, help_text=_("Its patron saint's day is a holiday.")
    )
    always_open = models.BooleanField(_("open 24x7"), default=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("business calendar")
        verbose_name_plural = _("business calendars")

    def __str__(self) -> str:
        return self.name


class OpeningInterval(models.Model):
    """An opening on one weekday, in minutes from local midnight (1440 = 24:00)."""

    calendar = models.ForeignKey(
        BusinessCalendar,
        on_delete=models.CASCADE,
        related_name="intervals",
        verbose_name=_("calendar"),
    )
    weekday = models.PositiveSmallIntegerField(_("weekday"))  # Monday = 0
    start_minute = models.PositiveSmallIntegerField(_("opens at"))
    end_minute = models.PositiveSmallIntegerField(_("closes at"))

    class Meta:
        ordering = ["calendar", "weekday", "start_minute"]
        verbose_name = _("opening interval")
        verbose_name_plural = _("opening intervals")
        constraints = [
            models.CheckConstraint(condition=Q(weekday__lte=6), name="interval_weekday_valid"),
            models.CheckConstraint(
                condition=Q(start_minute__lt=F("end_minute"), end_minute__lte=1440),
                name="interval_ends_after_start",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.weekday} {self.start_minute}-{self.end_minute}"


class ClosureDay(models.Model):
    calendar = models.ForeignKey(
        BusinessCalendar,
        on_delete=models.CASCADE,
        related_name="closures",
        verbose_name=_("calendar"),
    )
    day = models.DateField(_("day"))
    reason = models.CharField(_("reason"), max_length=200, blank=True)

    class Meta:
        ordering = ["calendar", "day"]
        verbose_name = _("closure day")
        verbose_name_plural = _("closure days")
        constraints = [
            models.UniqueConstraint(fields=["calendar", "day"], name="closure_unique_per_day"),
        ]

    def __str__(self) -> str:
        return f"{self.calendar}: {self.day}"


class Contract(models.Model):
    code = models.CharField(_("code"), max_length=40, unique=True)
    client = models.ForeignKey(
        Client, on_delete=models.PROTECT, related_name="contracts", verbose_name=_("client")
    )
    calendar = models.ForeignKey(
        BusinessCalendar,
        on_delete=models.PROTECT,
        related_name="contracts",
        verbose_name=_("business calendar"),
    )
    services = models.JSONField(_("services in scope"), default=list)
    valid_from = models.DateField(_("valid from"))
    valid_to = models.DateField(_("valid to"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=12, choices=ContractStatus.choices, default=ContractStatus.ACTIVE
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("contract")
        verbose_name_plural = _("contracts")
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gte=F("valid_from")),
                name="contract_validity_ordered",
            ),
            models.CheckConstraint(
                condition=Q(status__in=ContractStatus.values), name="contract_status_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.code


class ContractVersion(models.Model):
    """The terms in force from a date: an amendment adds a version, never rewrites one."""

    contract = models.ForeignKey(
        Contract, on_delete=models.CASCADE, related_name="versions", verbose_name=_("contract")
    )
    number = models.PositiveSmallIntegerField(_("version"))
    effective_from = models.DateField(_("effective from"))
    effective_to = models.DateField(_("effective to"), null=True, blank=True)
    at_risk_share = models.DecimalField(
        _("at-risk warning share"),
        max_digits=3,
        decimal_places=2,
        default=0.20,
        help_text=_("A target is at risk when the time left is at most this share of it."),
    )
    card_markdown = models.TextField(_("contract card (Markdown)"), blank=True)
    card_html = models.TextField(_("contract card (rendered)"), blank=True, editable=False)
    entitlements = models.JSONField(_("entitlements"), default=dict, blank=True)
    handoff_units = models.JSONField(_("hand-off units"), default=list, blank=True)
    escalation_contacts = models.JSONField(_("escalation contacts"), default=list, blank=True)
    change_summary = models.CharField(_("what changed"), max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["contract", "number"]
        verbose_name = _("contract version")
        verbose_name_plural = _("contract versions")
        constraints = [
            models.UniqueConstraint(fields=["contract", "number"], name="version_number_unique"),
            models.UniqueConstraint(
                fields=["contract", "effective_from"], name="version_start_unique"
            ),
            models.CheckConstraint(
                condition=Q(at_risk_share__gt=0, at_risk_share__lt=1),
                name="version_at_risk_share_range",
            ),
            models.CheckConstraint(
                condition=Q(effective_to__isnull=True) | Q(effective_to__gte=F("effective_from")),
                name="version_range_ordered",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.contract.code} v{self.number}"


class SlaTarget(models.Model):
    """First-response and resolution targets of one priority, in business minutes."""

    version = models.ForeignKey(
        ContractVersion,
        on_delete=models.CASCADE,
        related_name="sla_targets",
        verbose_name=_("contract version"),
    )
    priority = models.CharField(_("priority"), max_length=2, choices=Priority.choices)
    first_response_minutes = models.PositiveIntegerField(_("first response (business minutes)"))
    resolution_minutes = models.PositiveIntegerField(_("resolution (business minutes)"))

    class Meta:
        ordering = ["version", "priority"]
        verbose_name = _("SLA target")
        verbose_name_plural = _("SLA targets")
        constraints = [
            models.UniqueConstraint(fields=["version", "priority"], name="target_unique_priority"),
            models.CheckConstraint(
                condition=Q(first_response_minutes__gt=0, resolution_minutes__gt=0),
                name="target_minutes_positive",
            ),
            models.CheckConstraint(
                condition=Q(first_response_minutes__lte=F("resolution_minutes")),
                name="target_response_before_resolution",
            ),
            models.CheckConstraint(
                condition=Q(priority__in=Priority.values), name="target_priority_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.version} {self.priority}"


class Category(models.Model):
    """A kind of request the contract covers, with the template operators document it by."""

    version = models.ForeignKey(
        ContractVersion,
        on_delete=models.CASCADE,
        related_name="categories",
        verbose_name=_("contract version"),
    )
    code = models.SlugField(_("code"), max_length=50)
    name = models.CharField(_("name"), max_length=150)
    default_priority = models.CharField(
        _("default priority"), max_length=2, choices=Priority.choices, default=Priority.P3
    )
    template = models.TextField(_("documentation template"), blank=True)

    class Meta:
        ordering = ["version", "name"]
        verbose_name = _("category")
        verbose_name_plural = _("categories")
        constraints = [
            models.UniqueConstraint(fields=["version", "code"], name="category_code_unique"),
        ]

    def __str__(self) -> str:
        return self.name


class AuditEvent(models.Model):
    """Append-only trail of every write of this app (who, when, what)."""

    class Kind(models.TextChoices):
        CLIENT_CREATED = "client_created", _("Client created")
        CLIENT_UPDATED = "client_updated", _("Client updated")
        CALENDAR_CREATED = "calendar_created", _("Calendar created")
        CALENDAR_CHANGED = "calendar_changed", _("Calendar changed")
        CONTRACT_CREATED = "contract_created", _("Contract created")
        CONTRACT_UPDATED = "contract_updated", _("Contract updated")
        CONTRACT_AMENDED = "contract_amended", _("Contract amended")
        END_USER_CREATED = "end_user_created", _("End user created")
        END_USER_UPDATED = "end_user_updated", _("End user updated")
        END_USERS_IMPORTED = "end_users_imported", _("End users imported")

    kind = models.CharField(_("kind"), max_length=30, choices=Kind.choices)
    at = models.DateTimeField(_("at"), db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
    )
    client = models.ForeignKey(
        Client, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    calendar = models.ForeignKey(
        BusinessCalendar,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="audit_events",
    )
    contract = models.ForeignKey(
        Contract, on_delete=models.PROTECT, null=True, blank=True, related_name="audit_events"
    )
    summary = models.CharField(_("summary"), max_length=300)
    detail = models.JSONField(_("detail"), default=dict, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        indexes = [models.Index(fields=["kind", "at"], name="contracts_audit_kind_at")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.kind}"
