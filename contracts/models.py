"""Clients, their contracts and the end users who call on their behalf.

Writes go through `contracts.services`; these classes hold fields, choices and the database
constraints that keep bad data out whatever the caller.
"""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Upper
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from contracts.calendars import UNIT_TIME_ZONE


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
    # The language mail to them is written in.
    language = models.CharField(
        _("language"), max_length=2, choices=[("it", "Italiano"), ("en", "English")], default="it"
    )
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
        # A case search by the caller's surname (`last_name__iexact`: UPPER on both sides).
        indexes = [models.Index(Upper("last_name"), name="end_user_last_name_upper")]

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
    timezone = models.CharField(_("time zone"), max_length=64, default=UNIT_TIME_ZONE)
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
    # Retention: callers' personal data on cases closed longer ago than this is anonymised
    # nightly (care.retention); the client's agreement decides, 24 months unless it says.
    retention_months = models.PositiveSmallIntegerField(
        _("keep callers' data on closed cases (months)"),
        default=24,
        validators=[MinValueValidator(1), MaxValueValidator(120)],
    )
    # Mail to this contract's end users (care.outbox): the signature under every message,
    # and whether a case opened by phone is acknowledged by mail too.
    mail_signature = models.TextField(_("e-mail signature"), max_length=1000, blank=True)
    acknowledge_phone_cases = models.BooleanField(
        _("acknowledge cases opened by phone by e-mail"), default=False
    )
    # Four eyes on contract orders (contracts.orders.services): whoever submitted an order
    # cannot validate it, unless a manager allowed single-person validation for this
    # contract (a client who needs it), with a reason kept in the audit trail.
    single_person_order_validation = models.BooleanField(
        _("single-person validation of orders allowed"), default=False
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
            models.CheckConstraint(
                condition=Q(retention_months__gte=1, retention_months__lte=120),
                name="contract_retention_months_1_120",
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


class ClosingCode(models.Model):
    """A resolution code a case of the version can be resolved with ("why did people call").

    A version that defines none uses the national default list (the rows without a version).
    `system` codes are set by the portal itself (first-contact resolution at intake, a unit's
    answer, a major incident) and are accepted on every contract.
    """

    version = models.ForeignKey(
        ContractVersion,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="closing_codes",
        verbose_name=_("contract version"),
    )
    code = models.SlugField(_("code"), max_length=50)
    name_it = models.CharField(_("Italian name"), max_length=150)
    name_en = models.CharField(_("English name"), max_length=150, blank=True)
    category_code = models.SlugField(
        _("only for the category"),
        max_length=50,
        blank=True,
        help_text=_("Leave empty for every category."),
    )
    system = models.BooleanField(_("set by the portal"), default=False)

    class Meta:
        ordering = ["version", "code"]
        verbose_name = _("closing code")
        verbose_name_plural = _("closing codes")
        constraints = [
            models.UniqueConstraint(fields=["version", "code"], name="closing_code_unique"),
            models.UniqueConstraint(
                fields=["code"],
                condition=Q(version__isnull=True),
                name="closing_code_default_unique",
            ),
        ]

    def __str__(self) -> str:
        return self.code

    def name_in(self, language: str) -> str:
        if (language or "").startswith("en") and self.name_en:
            return self.name_en
        return self.name_it


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
        ORDER_VALIDATION_CHANGED = (
            "order_validation_changed",
            _("Validation of contract orders changed"),
        )

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


# --- Contract orders and loyalty (back-office) -----------------------------------------------


class OrderKind(models.TextChoices):
    ACTIVATION = "activation", _("Activation")
    CHANGE = "change", _("Change")
    TERMINATION = "termination", _("Termination")
    RENEWAL = "renewal", _("Renewal")


class OrderState(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted")
    VALIDATED = "validated", _("Validated")
    PROVISIONING = "provisioning", _("Provisioning")
    COMPLETED = "completed", pgettext_lazy("state of one order", "Completed")
    REJECTED = "rejected", _("Rejected")
    CANCELLED = "cancelled", _("Cancelled")


CLOSED_ORDER_STATES = (OrderState.COMPLETED, OrderState.REJECTED, OrderState.CANCELLED)
OPEN_ORDER_STATES = tuple(s for s in OrderState if s not in CLOSED_ORDER_STATES)


class OrderSequence(models.Model):
    """The last order number given in a year: OR-2026-000045."""

    year = models.PositiveSmallIntegerField(primary_key=True)
    last = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("order sequence")
        verbose_name_plural = _("order sequences")

    def __str__(self) -> str:
        return f"{self.year}: {self.last}"


class ContractOrder(models.Model):
    """An activation, change, termination or renewal asked on a contract, worked by the
    back-office through its states; each state has a due instant in business time."""

    reference = models.CharField(_("reference"), max_length=20, unique=True)
    kind = models.CharField(_("kind"), max_length=12, choices=OrderKind.choices)
    client = models.ForeignKey(
        Client, on_delete=models.PROTECT, related_name="orders", verbose_name=_("client")
    )
    contract = models.ForeignKey(
        Contract, on_delete=models.PROTECT, related_name="orders", verbose_name=_("contract")
    )
    # Referents are rewritten when a client is edited: the name is kept beside the link.
    requester = models.ForeignKey(
        Referent,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="orders",
        verbose_name=_("requester"),
    )
    requester_name = models.CharField(_("requester"), max_length=200, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="contract_orders",
        verbose_name=_("owner"),
    )
    summary = models.CharField(_("summary"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    state = models.CharField(
        _("state"), max_length=12, choices=OrderState.choices, default=OrderState.DRAFT
    )
    state_reason = models.TextField(_("reason"), blank=True)
    state_entered_at = models.DateTimeField(_("in this state since"))
    state_due_at = models.DateTimeField(_("due in this state by"), null=True, blank=True)
    is_late = models.BooleanField(_("late"), default=False)
    case_reference = models.CharField(_("case"), max_length=20, blank=True, db_index=True)
    row_version = models.PositiveIntegerField(_("row version"), default=1)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created at"))
    updated_at = models.DateTimeField(_("updated at"))
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("contract order")
        verbose_name_plural = _("contract orders")
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=OrderKind.values), name="order_kind_valid"),
            models.CheckConstraint(
                condition=Q(state__in=OrderState.values), name="order_state_valid"
            ),
        ]
        indexes = [
            models.Index(fields=["state", "state_due_at"], name="order_state_due"),
            models.Index(fields=["owner", "state"], name="order_owner_state"),
        ]

    def __str__(self) -> str:
        return self.reference

    @property
    def is_open(self) -> bool:
        return self.state not in CLOSED_ORDER_STATES


class OrderLine(models.Model):
    order = models.ForeignKey(
        ContractOrder, on_delete=models.CASCADE, related_name="lines", verbose_name=_("order")
    )
    service = models.CharField(_("service"), max_length=20, choices=Service.choices)
    quantity = models.PositiveIntegerField(_("quantity"))
    target_date = models.DateField(_("target date"), null=True, blank=True)
    description = models.CharField(_("description"), max_length=200, blank=True)

    class Meta:
        ordering = ["order", "id"]
        verbose_name = _("order line")
        verbose_name_plural = _("order lines")
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity__gt=0), name="order_line_quantity_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} x {self.service}"


class OrderEvent(models.Model):
    """Append-only timeline of an order."""

    class Kind(models.TextChoices):
        CREATED = "created", _("Order created")
        STATE_CHANGED = "state_changed", _("State changed")
        OWNER_CHANGED = "owner_changed", _("Owner changed")
        NOTE_ADDED = "note_added", _("Note added")
        DOCUMENT_ATTACHED = "document_attached", _("Document attached")
        LATE = "late", _("Late")

    order = models.ForeignKey(
        ContractOrder, on_delete=models.PROTECT, related_name="events", verbose_name=_("order")
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    from_state = models.CharField(_("from"), max_length=12, blank=True)
    to_state = models.CharField(_("to"), max_length=12, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
    )
    at = models.DateTimeField(_("at"))
    detail = models.JSONField(_("detail"), default=dict, blank=True)

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("order event")
        verbose_name_plural = _("order events")
        indexes = [models.Index(fields=["order", "at"], name="order_event_order_at")]

    def __str__(self) -> str:
        return f"{self.order_id} {self.kind}"


class OrderNote(models.Model):
    class Visibility(models.TextChoices):
        INTERNAL = "internal", _("Internal")
        CLIENT = "client", _("For the client")

    order = models.ForeignKey(
        ContractOrder, on_delete=models.PROTECT, related_name="notes", verbose_name=_("order")
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("by")
    )
    at = models.DateTimeField(_("at"))
    visibility = models.CharField(
        _("visibility"), max_length=10, choices=Visibility.choices, default=Visibility.INTERNAL
    )
    body = models.TextField(_("text"))

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("order note")
        verbose_name_plural = _("order notes")

    def __str__(self) -> str:
        return f"{self.order_id} {self.at:%Y-%m-%d %H:%M}"


class OrderDocument(models.Model):
    order = models.ForeignKey(
        ContractOrder, on_delete=models.PROTECT, related_name="documents", verbose_name=_("order")
    )
    file = models.FileField(_("file"), upload_to="orders/%Y/%m/")
    original_name = models.CharField(_("file name"), max_length=200)
    content_type = models.CharField(_("type"), max_length=100)
    size = models.PositiveIntegerField(_("size (bytes)"))
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("by")
    )
    at = models.DateTimeField(_("at"))

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("order document")
        verbose_name_plural = _("order documents")

    def __str__(self) -> str:
        return self.original_name


class LoyaltyOutcome(models.TextChoices):
    PENDING = "pending", _("Pending")
    RENEWED = "renewed", _("Renewed")
    RENEGOTIATED = "renegotiated", _("Renegotiated")
    LOST = "lost", _("Lost")


class LoyaltyItem(models.Model):
    """A contract nearing its expiry on the loyalty worklist: one per (contract, expiry)."""

    contract = models.ForeignKey(
        Contract,
        on_delete=models.PROTECT,
        related_name="loyalty_items",
        verbose_name=_("contract"),
    )
    client = models.ForeignKey(
        Client, on_delete=models.PROTECT, related_name="loyalty_items", verbose_name=_("client")
    )
    valid_to = models.DateField(_("expires on"))
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="loyalty_items",
        verbose_name=_("owner"),
    )
    outcome = models.CharField(
        _("outcome"),
        max_length=12,
        choices=LoyaltyOutcome.choices,
        default=LoyaltyOutcome.PENDING,
    )
    outcome_note = models.TextField(_("outcome note"), blank=True)
    renewal_order = models.ForeignKey(
        ContractOrder,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="loyalty_items",
        verbose_name=_("renewal order"),
    )
    created_at = models.DateTimeField(_("created at"))
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("closed by"),
    )

    class Meta:
        ordering = ["valid_to", "id"]
        verbose_name = _("loyalty item")
        verbose_name_plural = _("loyalty items")
        constraints = [
            models.UniqueConstraint(
                fields=["contract", "valid_to"], name="loyalty_item_unique_per_expiry"
            ),
            models.CheckConstraint(
                condition=Q(outcome__in=LoyaltyOutcome.values), name="loyalty_outcome_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.contract} {self.valid_to}"

    @property
    def is_open(self) -> bool:
        return self.outcome == LoyaltyOutcome.PENDING


class LoyaltyAction(models.Model):
    class Kind(models.TextChoices):
        CALL = "call", _("Call")
        OFFER = "offer", _("Offer")
        MEETING = "meeting", _("Meeting")

    item = models.ForeignKey(
        LoyaltyItem, on_delete=models.PROTECT, related_name="actions", verbose_name=_("item")
    )
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    at = models.DateTimeField(_("at"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("by")
    )
    note = models.TextField(_("note"), blank=True)

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("loyalty action")
        verbose_name_plural = _("loyalty actions")

    def __str__(self) -> str:
        return f"{self.item_id} {self.kind}"
