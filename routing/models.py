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
    # Set by telephony events, never taken by routing: speaking to a caller, then the
    # after-call work (post-chiamata) until `presence_until`.
    ON_CALL = "on_call", _("On a call")
    WRAP_UP = "wrap_up", _("After-call work")


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
    # Who runs the site: they see and act on its operators (DESIGN §2, routing.scope).
    supervisors = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        blank=True,
        related_name="supervised_sites",
        verbose_name=_("supervisors"),
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
    # When after-call work ends by itself (the beat and the operator's own page end it).
    presence_until = models.DateTimeField(_("presence until"), null=True, blank=True)
    # The PBX names the operator who answers by username or by this extension.
    extension = models.CharField(_("phone extension"), max_length=20, blank=True)

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
            models.UniqueConstraint(
                fields=["extension"], condition=~Q(extension=""), name="operator_extension_unique"
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
    # Calls (the wallboard's thresholds and the after-call work allowed).
    service_level_seconds = models.PositiveIntegerField(
        _("answered within (seconds) counts for the service level"), default=20
    )
    service_level_target = models.PositiveSmallIntegerField(
        _("service level target (%)"), default=80, validators=[MaxValueValidator(100)]
    )
    longest_wait_alarm_seconds = models.PositiveIntegerField(
        _("alarm when a caller waits longer than (seconds)"), default=120
    )
    wrap_up_seconds = models.PositiveIntegerField(
        _("after-call work allowed (seconds)"),
        default=60,
        validators=[MaxValueValidator(3600)],
    )
    callback_minutes = models.PositiveIntegerField(
        _("call back an abandoned caller within (business minutes)"),
        default=120,
        validators=[MaxValueValidator(7 * 24 * 60)],
    )
    # Routing offers the queue's cases only to operators who speak it (blank: any operator).
    language = models.CharField(_("language asked for"), max_length=8, blank=True)
    # Archived: kept with its history, no longer chosen by intake, nor shown in the console
    # and the forms (`routing.administration`).
    archived_at = models.DateTimeField(_("archived at"), null=True, blank=True)

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
    # How the case came (`care.wording`: take_next, auto_assign, reassigned, override): the
    # facts are the kind, level, queue and `at` minus the case's opening; the sentence is said
    # in the reader's language. Rows recorded before kept an English sentence.
    reason = models.TextField(_("reason"))
    # [{"who": "...", "rule": "...", <facts>}]: candidates (cases for a pull, operators for
    # a push or a manual assignment) that came before this choice in order, and why they
    # were passed: the rule with its facts (`engine.Why`), from which `routing.wording` says
    # it in the reader's language (entries recorded before kept an English "why" too).
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
            # Reports and their daily rollups: the assignments made on a day (today's, live).
            models.Index(fields=["at"], name="assignment_at"),
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


# --- Calls ----------------------------------------------------------------------------------


class TelephonyLine(models.Model):
    """A number of the unit's PBX: calls to it wait in its queue."""

    number = models.CharField(_("number or line name"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=120)
    queue = models.ForeignKey(
        Queue, on_delete=models.PROTECT, related_name="lines", verbose_name=_("queue")
    )

    class Meta:
        ordering = ["number"]
        verbose_name = _("telephone line")
        verbose_name_plural = _("telephone lines")

    def __str__(self) -> str:
        return self.name


class CallOutcome(models.TextChoices):
    WAITING = "waiting", _("Waiting")
    TALKING = "talking", _("In conversation")
    ANSWERED = "answered", _("Answered")
    TRANSFERRED = "transferred", _("Transferred")
    ABANDONED = "abandoned", _("Abandoned by the caller")
    MISSED = "missed", _("Missed")


ENDED_OUTCOMES = (
    CallOutcome.ANSWERED,
    CallOutcome.TRANSFERRED,
    CallOutcome.ABANDONED,
    CallOutcome.MISSED,
)


class Call(models.Model):
    """One call as the PBX told it: recomputed from all its events each time one arrives
    (`routing.call_facts`), so events that come twice, late or out of order end in the same
    record."""

    call_id = models.CharField(_("call id"), max_length=100, unique=True)
    direction = models.CharField(_("direction"), max_length=10, default="inbound")
    caller_number = models.CharField(_("caller's number"), max_length=20, blank=True)
    line = models.CharField(_("line"), max_length=40, blank=True)
    queue_code = models.CharField(_("queue"), max_length=50, blank=True, db_index=True)
    operator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="calls",
        verbose_name=_("operator"),
    )
    operator_ref = models.CharField(_("operator as named by the PBX"), max_length=150, blank=True)
    end_users = models.ManyToManyField(
        "contracts.EndUser", blank=True, related_name="calls", verbose_name=_("matching end users")
    )
    offered_at = models.DateTimeField(_("offered at"))
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)
    wrap_up_ended_at = models.DateTimeField(_("after-call work ended at"), null=True, blank=True)
    wait_seconds = models.PositiveIntegerField(_("wait (s)"), default=0)
    talk_seconds = models.PositiveIntegerField(_("talk (s)"), default=0)
    after_call_seconds = models.PositiveIntegerField(_("after-call work (s)"), default=0)
    outcome = models.CharField(
        _("outcome"), max_length=12, choices=CallOutcome.choices, default=CallOutcome.WAITING
    )
    hangup_cause = models.CharField(_("hang-up cause"), max_length=12, blank=True)
    transfers = models.PositiveSmallIntegerField(_("transfers"), default=0)
    recording_ref = models.CharField(_("recording"), max_length=300, blank=True)
    # What the PBX sent that Presidio could not place: ["unknown_line", "unknown_operator", ...]
    problems = models.JSONField(_("problems"), default=list, blank=True)
    updated_at = models.DateTimeField(_("updated at"))

    class Meta:
        ordering = ["-offered_at", "-id"]
        verbose_name = _("call")
        verbose_name_plural = _("calls")
        constraints = [
            models.CheckConstraint(
                condition=Q(outcome__in=CallOutcome.values), name="call_outcome_valid"
            ),
        ]
        indexes = [
            models.Index(fields=["offered_at"], name="call_offered_at"),
            models.Index(fields=["queue_code", "offered_at"], name="call_queue_offered"),
            models.Index(fields=["operator", "answered_at"], name="call_operator_answered"),
            models.Index(
                fields=["queue_code", "offered_at"],
                condition=Q(outcome="waiting"),
                name="call_waiting",
            ),
            # The sweep of calls whose hang-up never came reads only the open ones.
            models.Index(fields=["updated_at"], condition=Q(ended_at=None), name="call_open"),
            # The calls rollup rewrites the days of the calls changed since its last run.
            models.Index(fields=["updated_at"], name="call_updated"),
        ]

    def __str__(self) -> str:
        return self.call_id


class CallEvent(models.Model):
    """Append-only: each telephony event once (`key`: the event, and its instant for a
    transfer, which may happen more than once in a call)."""

    call = models.ForeignKey(Call, on_delete=models.CASCADE, related_name="events")
    key = models.CharField(max_length=60)
    event = models.CharField(max_length=10)
    at = models.DateTimeField()
    received_at = models.DateTimeField()
    # The event's fields but the caller's number (kept once, on the call).
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["call", "key"], name="call_event_once"),
        ]

    def __str__(self) -> str:
        return f"{self.call_id} {self.key}"


class Callback(models.Model):
    """A known end user whose call was abandoned or missed: one per caller and day, however
    often they tried, due in the contract's business minutes; served from the worklist."""

    class Status(models.TextChoices):
        WAITING = "waiting", _("To call back")
        TAKEN = "taken", _("Being called back")
        REACHED = "reached", _("Reached")
        UNREACHED = "unreached", _("Not reached")

    end_user = models.ForeignKey(
        "contracts.EndUser", on_delete=models.CASCADE, related_name="+", verbose_name=_("end user")
    )
    client = models.ForeignKey(
        Client, on_delete=models.PROTECT, related_name="+", verbose_name=_("client")
    )
    contract = models.ForeignKey(
        Contract,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("contract"),
    )
    day = models.DateField(_("day"))
    queue_code = models.CharField(_("queue"), max_length=50, blank=True)
    calls = models.ManyToManyField(Call, related_name="callbacks", verbose_name=_("calls"))
    attempts_by_caller = models.PositiveSmallIntegerField(_("calls from the caller"), default=1)
    created_at = models.DateTimeField(_("created at"))
    due_at = models.DateTimeField(_("due at"))
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.WAITING
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("operator"),
    )
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)
    case_reference = models.CharField(_("case"), max_length=20, blank=True)
    # [{"at": iso, "by": username, "reached": bool, "note": "..."}]
    tries = models.JSONField(_("call-back attempts"), default=list, blank=True)

    class Meta:
        ordering = ["due_at", "id"]
        verbose_name = _("callback")
        verbose_name_plural = _("callbacks")
        constraints = [
            models.UniqueConstraint(fields=["end_user", "day"], name="callback_once_a_day"),
            models.CheckConstraint(
                condition=Q(status__in=["waiting", "taken", "reached", "unreached"]),
                name="callback_status_valid",
            ),
        ]
        indexes = [
            models.Index(
                fields=["due_at"], condition=Q(status="waiting"), name="callback_waiting_due"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.end_user_id} {self.day}"
