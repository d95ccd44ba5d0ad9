"""Cases, their notes, hand-offs and the append-only trail of everything that happened.

Writes go through `care.services`. Cases are never deleted; notes and events are never
changed (a correction is a new note).
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from contracts.models import (
    Category,
    Client,
    Contract,
    ContractVersion,
    EndUser,
    Priority,
    Referent,
)


class Channel(models.TextChoices):
    PHONE = "phone", _("Phone")
    EMAIL = "email", _("E-mail")
    PORTAL = "portal", _("Web portal")
    CHAT = "chat", _("Chat")
    REFERENT = "referent", _("Referent request")


class CaseStatus(models.TextChoices):
    NEW = "new", _("New")
    ASSIGNED = "assigned", _("Assigned")
    IN_PROGRESS = "in_progress", _("In progress")
    WAITING_CUSTOMER = "waiting_customer", _("Waiting for the customer")
    WAITING_UNIT = "waiting_unit", _("Waiting for another unit")
    RESOLVED = "resolved", _("Resolved")
    CLOSED = "closed", _("Closed")


OPEN_STATUSES = (
    CaseStatus.NEW,
    CaseStatus.ASSIGNED,
    CaseStatus.IN_PROGRESS,
    CaseStatus.WAITING_CUSTOMER,
    CaseStatus.WAITING_UNIT,
)


class SlaState(models.TextChoices):
    OK = "ok", _("On time")
    AT_RISK = "at_risk", _("At risk")
    BREACHED = "breached", _("Breached")
    MET = "met", _("Met")
    NONE = "none", _("No SLA")


class CaseSequence(models.Model):
    """The last reference number given in a year: CS-2026-000123."""

    year = models.PositiveSmallIntegerField(primary_key=True)
    last = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("case sequence")
        verbose_name_plural = _("case sequences")

    def __str__(self) -> str:
        return f"{self.year}: {self.last}"


class Case(models.Model):
    reference = models.CharField(_("reference"), max_length=20, unique=True)
    # db_index=False where an index of Meta.indexes starts with the column: a second index
    # would only cost every write and every plan of this million-row table.
    client = models.ForeignKey(
        Client,
        on_delete=models.PROTECT,
        related_name="cases",
        verbose_name=_("client"),
        db_index=False,  # case_client_status
    )
    contract = models.ForeignKey(
        Contract, on_delete=models.PROTECT, related_name="cases", verbose_name=_("contract")
    )
    contract_version = models.ForeignKey(
        ContractVersion,
        on_delete=models.PROTECT,
        related_name="cases",
        verbose_name=_("contract version"),
    )
    end_user = models.ForeignKey(
        EndUser,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="cases",
        verbose_name=_("end user"),
        db_index=False,  # case_end_user_status
    )
    referent = models.ForeignKey(
        Referent,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="cases",
        verbose_name=_("referent"),
    )
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    category = models.ForeignKey(
        Category, on_delete=models.PROTECT, related_name="cases", verbose_name=_("category")
    )
    priority = models.CharField(_("priority"), max_length=2, choices=Priority.choices)
    subject = models.CharField(_("subject"), max_length=200)
    description = models.TextField(_("description"))
    status = models.CharField(
        _("status"), max_length=20, choices=CaseStatus.choices, default=CaseStatus.NEW
    )
    queue_code = models.CharField(_("queue"), max_length=50, blank=True)  # case_queue_code_order
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="assigned_cases",
        verbose_name=_("assignee"),
        db_index=False,  # case_assignee_status
    )
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="opened_cases",
        verbose_name=_("opened by"),
    )
    opened_at = models.DateTimeField(_("opened at"))
    opening_reason = models.CharField(
        _("why a new case"),
        max_length=300,
        blank=True,
        help_text=_("Recorded when a new case was opened although a similar one existed."),
    )
    # SLA clock: due instants are computed whenever the clock changes and stored, so
    # reading or recomputing states is a comparison with now.
    clock_started_at = models.DateTimeField(_("clock started at"), null=True, blank=True)
    first_response_due_at = models.DateTimeField(_("first response due"), null=True, blank=True)
    first_response_at_risk_at = models.DateTimeField(null=True, blank=True, editable=False)
    resolution_due_at = models.DateTimeField(_("resolution due"), null=True, blank=True)
    resolution_at_risk_at = models.DateTimeField(null=True, blank=True, editable=False)
    first_response_at = models.DateTimeField(_("first response at"), null=True, blank=True)
    first_response_state = models.CharField(
        max_length=10, choices=SlaState.choices, default=SlaState.OK
    )
    resolution_state = models.CharField(
        max_length=10, choices=SlaState.choices, default=SlaState.OK
    )
    paused_at = models.DateTimeField(_("paused since"), null=True, blank=True)
    paused_minutes = models.FloatField(_("paused business minutes"), default=0)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    resolution_code = models.CharField(_("resolution code"), max_length=50, blank=True)
    first_contact_resolution = models.BooleanField(_("resolved at first contact"), default=False)
    reopen_count = models.PositiveSmallIntegerField(_("re-openings"), default=0)
    merged_into = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="merged_cases",
        verbose_name=_("merged into"),
    )
    linked_to = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="linked_cases",
        verbose_name=_("linked to"),
    )
    row_version = models.PositiveIntegerField(default=1, editable=False)  # optimistic lock
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    # Set when retention or an erasure request removed the caller's identity from the case.
    anonymised_at = models.DateTimeField(_("anonymised at"), null=True, blank=True)

    class Meta:
        ordering = ["-opened_at"]
        verbose_name = _("case")
        verbose_name_plural = _("cases")
        constraints = [
            models.CheckConstraint(
                condition=Q(end_user__isnull=False)
                | Q(referent__isnull=False)
                | Q(anonymised_at__isnull=False),
                name="case_has_a_caller_unless_anonymised",
            ),
            models.CheckConstraint(
                condition=Q(status__in=CaseStatus.values), name="case_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(priority__in=Priority.values), name="case_priority_valid"
            ),
        ]
        indexes = [
            # Queue pages and take-next: open cases by priority, then earliest due, oldest.
            models.Index(
                fields=["status", "priority", "resolution_due_at", "opened_at"],
                name="case_queue_order",
            ),
            models.Index(
                fields=["queue_code", "status", "priority", "resolution_due_at"],
                name="case_queue_code_order",
            ),
            # Take-next and auto-assign: the waiting cases nobody holds, in take order (a small
            # partial index; measured 39-78 ms -> 10 ms on the national data set).
            models.Index(
                fields=["priority", "resolution_due_at", "opened_at", "id"],
                condition=Q(status="new", assignee__isnull=True),
                name="case_takeable",
            ),
            models.Index(fields=["assignee", "status"], name="case_assignee_status"),
            models.Index(fields=["end_user", "status"], name="case_end_user_status"),
            models.Index(fields=["client", "status"], name="case_client_status"),
            models.Index(fields=["opened_at"], name="case_opened_at"),
            # Reports and their daily rollups: the cases resolved on a day (today's, live).
            models.Index(
                fields=["resolved_at"],
                condition=Q(resolved_at__isnull=False),
                name="case_resolved_at",
            ),
            # The reports dashboard and workload: the open cases counted by state, site and
            # queue, and the most urgent at risk, read from this index alone (an index-only
            # scan: 50,000 open cases of a million in 5-10 ms instead of 45-200 ms).
            models.Index(
                fields=["resolution_due_at", "opened_at"],
                include=[
                    "id",
                    "reference",
                    "priority",
                    "queue_code",
                    "assignee",
                    "client",
                    "contract",
                    "first_response_state",
                    "resolution_state",
                ],
                condition=Q(status__in=OPEN_STATUSES),
                name="case_open_board",
            ),
            # The integrity report: the distinct callers (end users, referents) of each
            # contract over a period, an index-only scan in (contract, caller) order: two
            # years of the national data set in 150 ms instead of 640 ms.
            *[
                models.Index(
                    fields=["contract", caller, "opened_at"],
                    condition=Q(**{f"{caller}__isnull": False}),
                    name=f"case_contract_{caller}",
                )
                for caller in ("end_user", "referent")
            ],
            # Retention: per contract, the closed cases still naming an end user, oldest first.
            models.Index(
                fields=["contract", "closed_at"],
                condition=Q(status="closed", end_user__isnull=False),
                name="case_retention_due",
            ),
            # The SLA recompute: running open cases whose target may still change state.
            *[
                models.Index(
                    fields=[field],
                    condition=Q(
                        status__in=OPEN_STATUSES,
                        paused_at__isnull=True,
                        **{f"{target}_state__in": states},
                    ),
                    name=f"case_sla_{short}",
                )
                for target, field, states, short in (
                    ("first_response", "first_response_due_at", ["ok", "at_risk"], "fr_due"),
                    ("first_response", "first_response_at_risk_at", ["ok"], "fr_risk"),
                    ("resolution", "resolution_due_at", ["ok", "at_risk"], "res_due"),
                    ("resolution", "resolution_at_risk_at", ["ok"], "res_risk"),
                )
            ],
        ]

    def __str__(self) -> str:
        return self.reference

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


class Note(models.Model):
    class Visibility(models.TextChoices):
        INTERNAL = "internal", _("Internal")
        CUSTOMER = "customer", _("Visible to the customer")
        # Written by the end user (an e-mail), shown as theirs; never chosen by staff.
        FROM_CUSTOMER = "inbound", _("From the customer")

    case = models.ForeignKey(
        Case, on_delete=models.PROTECT, related_name="notes", verbose_name=_("case")
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("author"),
    )
    created_at = models.DateTimeField(_("written at"))
    visibility = models.CharField(
        _("visibility"), max_length=10, choices=Visibility.choices, default=Visibility.INTERNAL
    )
    body = models.TextField(_("text"))

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("note")
        verbose_name_plural = _("notes")
        indexes = [models.Index(fields=["case", "created_at"], name="note_case_time")]

    def __str__(self) -> str:
        return f"{self.case} {self.created_at:%Y-%m-%d %H:%M}"


# What staff write: internal, or for the customer (notes from the customer come by mail).
WRITTEN_VISIBILITIES = [
    (Note.Visibility.INTERNAL.value, Note.Visibility.INTERNAL.label),
    (Note.Visibility.CUSTOMER.value, Note.Visibility.CUSTOMER.label),
]


class Attachment(models.Model):
    note = models.ForeignKey(
        Note, on_delete=models.PROTECT, related_name="attachments", verbose_name=_("note")
    )
    file = models.FileField(_("file"), upload_to="attachments/%Y/%m/")
    original_name = models.CharField(_("file name"), max_length=200)
    content_type = models.CharField(_("type"), max_length=100)
    size = models.PositiveIntegerField(_("size (bytes)"))

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")

    def __str__(self) -> str:
        return self.original_name


class Handoff(models.Model):
    """A question sent to another operational unit, with its own clock and outcome."""

    class Outcome(models.TextChoices):
        PENDING = "pending", _("Waiting for the answer")
        RESOLVED = "resolved", _("Resolved by the unit")
        BOUNCED = "bounced", _("Sent back")

    case = models.ForeignKey(
        Case, on_delete=models.PROTECT, related_name="handoffs", verbose_name=_("case")
    )
    unit_code = models.CharField(_("unit"), max_length=50)
    unit_name = models.CharField(_("unit name"), max_length=150)
    request = models.TextField(_("what was asked"))
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("sent by"),
    )
    requested_at = models.DateTimeField(_("sent at"))
    answer = models.TextField(_("answer"), blank=True)
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    answer_recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    outcome = models.CharField(
        _("outcome"), max_length=10, choices=Outcome.choices, default=Outcome.PENDING
    )

    class Meta:
        ordering = ["requested_at", "id"]
        verbose_name = _("hand-off")
        verbose_name_plural = _("hand-offs")
        constraints = [
            # One question at a time per case: a case waits on one unit, never on a pile.
            models.UniqueConstraint(
                fields=["case"], condition=Q(outcome="pending"), name="handoff_one_pending_per_case"
            ),
        ]
        indexes = [models.Index(fields=["unit_code", "outcome"], name="handoff_unit_outcome")]

    def __str__(self) -> str:
        return f"{self.case} → {self.unit_code}"


class CaseEvent(models.Model):
    """Append-only: every change of a case, who made it and when."""

    class Kind(models.TextChoices):
        OPENED = "opened", _("Opened")
        STATUS_CHANGED = "status_changed", _("Status changed")
        ASSIGNED = "assigned", _("Assigned")
        PRIORITY_CHANGED = "priority_changed", _("Priority changed")
        QUEUE_CHANGED = "queue_changed", _("Queue changed")
        NOTE_ADDED = "note_added", _("Note added")
        FIRST_RESPONSE = "first_response", _("First response given")
        HANDOFF_SENT = "handoff_sent", _("Forwarded to a unit")
        HANDOFF_ANSWERED = "handoff_answered", _("A unit answered")
        REOPENED = "reopened", _("Reopened")
        MERGED = "merged", _("Merged")
        LINKED = "linked", _("Linked")
        DUPLICATE_OVERRIDE = "duplicate_override", _("Opened despite a similar case")
        CLOCK_PAUSED = "clock_paused", _("SLA clock paused")
        CLOCK_RESUMED = "clock_resumed", _("SLA clock resumed")
        DEADLINES_MOVED = "deadlines_moved", _("Due times moved by a calendar change")
        SLA_AT_RISK = "sla_at_risk", _("SLA at risk")
        SLA_BREACHED = "sla_breached", _("SLA breached")
        ANONYMISED = "anonymised", _("Caller's identity removed")
        ON_CALL = "on_call", _("Handled on a call")
        MAIL_RECEIVED = "mail_in", _("E-mail received")
        MAIL_SENT = "mail_out", _("E-mail sent")
        MAIL_FAILED = "mail_failed", _("E-mail not delivered")
        WORK_OVERRIDE = "work_override", _("Changed by someone not working the case")
        INCIDENT_LINKED = "incident_linked", _("Linked to a major incident")
        INCIDENT_UNLINKED = "incident_unlinked", _("Unlinked from a major incident")

    case = models.ForeignKey(
        Case,
        on_delete=models.PROTECT,
        related_name="events",
        verbose_name=_("case"),
        db_index=False,  # event_case_time starts with the case: a second index only costs writes
    )
    kind = models.CharField(_("kind"), max_length=30, choices=Kind.choices)
    at = models.DateTimeField(_("at"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
    )
    from_value = models.CharField(max_length=100, blank=True)
    to_value = models.CharField(max_length=100, blank=True)
    detail = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("case event")
        verbose_name_plural = _("case events")
        indexes = [
            models.Index(fields=["case", "at"], name="event_case_time"),
            models.Index(fields=["kind", "at"], name="event_kind_time"),
        ]

    def __str__(self) -> str:
        return f"{self.case} {self.kind}"


class SlaAlert(models.Model):
    """Once per case, target and level: the recompute writes an alert only when it inserts
    the row, however often or concurrently it runs. The alert is the one record of the SLA
    transition: the case timeline, the SLA ledger and the API tell it as a case event of kind
    `sla_at_risk`/`sla_breached` (`care.selectors.case_events`), the notifications fan out
    from it. An alert written before migration `slaalert_facts` has no facts (`from_state`
    empty): its transition is told by the case event written with it, which stays where it
    is."""

    class Target(models.TextChoices):
        FIRST_RESPONSE = "first_response", _("First response")
        RESOLUTION = "resolution", _("Resolution")

    class Level(models.TextChoices):
        AT_RISK = "at_risk", _("At risk")
        BREACHED = "breached", _("Breached")

    case = models.ForeignKey(
        Case,
        on_delete=models.PROTECT,
        related_name="sla_alerts",
        verbose_name=_("case"),
        db_index=False,  # the unique (case, target, level) serves lookups by case
    )
    target = models.CharField(_("target"), max_length=20, choices=Target.choices)
    level = models.CharField(_("level"), max_length=10, choices=Level.choices)
    at = models.DateTimeField(_("at"))
    # The facts of the transition: the state it left and the instants it was judged on.
    from_state = models.CharField(_("from state"), max_length=10, blank=True, db_default="")
    due_at = models.DateTimeField(_("due"), null=True, blank=True)
    at_risk_at = models.DateTimeField(_("at risk from"), null=True, blank=True)
    # Set by the notification fan-out when it has told the assignee and supervisors.
    notified_at = models.DateTimeField(_("notified at"), null=True, blank=True)

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("SLA alert")
        verbose_name_plural = _("SLA alerts")
        constraints = [
            models.UniqueConstraint(
                fields=["case", "target", "level"], name="sla_alert_once_per_case_target_level"
            ),
        ]
        indexes = [
            models.Index(
                fields=["id"],
                condition=Q(notified_at__isnull=True),
                name="sla_alert_to_notify",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.case} {self.target} {self.level}"


class Notification(models.Model):
    """An SLA alert told to one person (the case's assignee or a supervisor of its queue), in
    the in-app notification centre and, for supervisors, by e-mail in a batched digest.

    Once per recipient and alert (unique constraint), however often the fan-out runs.
    A digest claims its rows (`email_claimed_at`), sends, then sets `emailed_at`; a failed
    send gives them back, and a claim left by a worker that died is taken again after
    `routing.notifications.EMAIL_CLAIM_TIMEOUT` (at least once by e-mail).
    """

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="notifications",
        verbose_name=_("recipient"),
    )
    alert = models.ForeignKey(
        SlaAlert, on_delete=models.PROTECT, related_name="notifications", verbose_name=_("alert")
    )
    case = models.ForeignKey(
        Case, on_delete=models.PROTECT, related_name="notifications", verbose_name=_("case")
    )
    kind = models.CharField(_("kind"), max_length=10, choices=SlaAlert.Level.choices)
    target = models.CharField(_("target"), max_length=20, choices=SlaAlert.Target.choices)
    created_at = models.DateTimeField(_("created at"))
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)
    by_email = models.BooleanField(_("by e-mail"), default=False)
    emailed_at = models.DateTimeField(_("e-mailed at"), null=True, blank=True)
    email_claimed_at = models.DateTimeField(_("e-mail claimed at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        constraints = [
            models.UniqueConstraint(
                fields=["recipient", "alert"], name="notification_once_per_recipient_alert"
            ),
        ]
        indexes = [
            models.Index(fields=["recipient", "read_at"], name="notification_recipient_read"),
            models.Index(
                fields=["recipient"],
                condition=Q(by_email=True, emailed_at__isnull=True),
                name="notification_email_pending",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.recipient} {self.case} {self.target} {self.kind}"


class RetentionRun(models.Model):
    """One pass of the retention (nightly, or started by a manager): how far it got, so the
    page can show progress and the history of what was anonymised, when and by whom."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("requested by"),  # nobody: the nightly run
    )
    requested_at = models.DateTimeField(_("requested at"))
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    # Set at the start and after each batch: a run whose worker died stops beating, and
    # beat's sweep closes it (`care.retention.heal_retention_runs`).
    heartbeat_at = models.DateTimeField(_("last progress at"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.QUEUED
    )
    total = models.PositiveIntegerField(_("cases due"), default=0)
    done = models.PositiveIntegerField(_("cases anonymised"), default=0)
    error = models.CharField(_("error"), max_length=300, blank=True)

    class Meta:
        ordering = ["-requested_at", "-id"]
        verbose_name = _("retention run")
        verbose_name_plural = _("retention runs")

    def __str__(self) -> str:
        return f"{self.requested_at:%Y-%m-%d %H:%M} {self.status}"

    @property
    def percent(self) -> int:
        return 100 if not self.total else min(100, round(100 * self.done / self.total))


class CaseCall(models.Model):
    """A case opened or updated while its operator spoke to the caller. The call itself is
    routing's (`routing.models.Call`); care keeps only its id, as it would any channel's."""

    case = models.ForeignKey(
        Case, on_delete=models.CASCADE, related_name="calls", verbose_name=_("case")
    )
    call_id = models.CharField(_("call id"), max_length=100, db_index=True)
    opened = models.BooleanField(_("opened during the call"), default=False)
    at = models.DateTimeField(_("at"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("by")
    )

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("case handled on a call")
        verbose_name_plural = _("cases handled on calls")
        constraints = [
            models.UniqueConstraint(fields=["case", "call_id"], name="case_call_once"),
        ]

    def __str__(self) -> str:
        return f"{self.case} ← {self.call_id}"


class InboundMail(models.Model):
    """Every message the mailboxes received, processed once (`message_id`): what became of
    it (a new case, a note on a case, triage, ignored or refused), and the message itself."""

    class Outcome(models.TextChoices):
        PROCESSING = "processing", _("Being processed")
        CASE_OPENED = "case_opened", _("Case opened")
        NOTE_ADDED = "note_added", _("Added to a case")
        TRIAGE = "triage", _("To triage")
        IGNORED = "ignored", _("Ignored (automatic mail)")
        REFUSED = "refused", _("Refused")

    class Triage(models.TextChoices):
        OPEN = "open", _("To triage")
        ASSIGNED = "assigned", _("Given to a caller")
        DISCARDED = "discarded", _("Discarded")

    message_id = models.CharField(_("Message-ID"), max_length=300, unique=True)
    mailbox = models.CharField(_("mailbox"), max_length=100)
    received_at = models.DateTimeField(_("received at"))
    sender = models.CharField(_("sender"), max_length=254, blank=True, db_index=True)
    sender_name = models.CharField(_("sender's name"), max_length=200, blank=True)
    subject = models.CharField(_("subject"), max_length=300, blank=True)
    text = models.TextField(_("text"), blank=True)
    reply = models.TextField(_("reply (without the quoted history)"), blank=True)
    raw = models.BinaryField(_("message as received"), blank=True)
    size = models.PositiveIntegerField(_("size (bytes)"), default=0)
    outcome = models.CharField(_("outcome"), max_length=12, choices=Outcome.choices)
    reason = models.CharField(_("why"), max_length=100, blank=True)
    case = models.ForeignKey(
        Case,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="inbound_mail",
        verbose_name=_("case"),
    )
    triage = models.CharField(
        _("triage"), max_length=10, choices=Triage.choices, blank=True, db_index=True
    )
    triaged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("triaged by"),
    )
    triaged_at = models.DateTimeField(_("triaged at"), null=True, blank=True)
    triage_note = models.CharField(_("triage note"), max_length=300, blank=True)
    claimed_at = models.DateTimeField(_("claimed at"), null=True, blank=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        verbose_name = _("inbound e-mail")
        verbose_name_plural = _("inbound e-mails")

    def __str__(self) -> str:
        return self.message_id


class OutboundMail(models.Model):
    """The outbox: written in the transaction of what it tells (a case opened by mail, a
    note for the customer, the resolution), sent by a worker with retries, never in the
    request. A permanent failure shows on the case."""

    class Kind(models.TextChoices):
        ACKNOWLEDGEMENT = "ack", _("Acknowledgement")
        NOTE = "note", _("Reply to the customer")
        RESOLUTION = "resolution", _("Resolution notice")
        REFUSAL = "refusal", _("Message refused")

    class Status(models.TextChoices):
        PENDING = "pending", _("To send")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Not delivered")

    case = models.ForeignKey(
        Case,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="outbound_mail",
        verbose_name=_("case"),
    )
    note = models.ForeignKey(
        Note, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    to_address = models.CharField(_("to"), max_length=254)
    subject = models.CharField(_("subject"), max_length=300)
    body = models.TextField(_("text"))
    message_id = models.CharField(_("Message-ID"), max_length=300, unique=True)
    in_reply_to = models.CharField(_("in reply to"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("written at"))
    status = models.CharField(
        _("status"), max_length=8, choices=Status.choices, default=Status.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt at"))
    claimed_at = models.DateTimeField(_("claimed at"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    last_error = models.CharField(_("last error"), max_length=300, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("outbound e-mail")
        verbose_name_plural = _("outbound e-mails")
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                condition=models.Q(status="pending"),
                name="outbound_mail_due",
            ),
        ]

    def __str__(self) -> str:
        return self.message_id


class IncidentStatus(models.TextChoices):
    SUSPECTED = "suspected", _("Suspected")
    CONFIRMED = "confirmed", _("Confirmed")
    RESOLVED = "resolved", pgettext_lazy("incident", "Resolved")


ACTIVE_INCIDENT_STATUSES = (IncidentStatus.SUSPECTED, IncidentStatus.CONFIRMED)


class Incident(models.Model):
    """A major incident (disservizio esteso): one fault, many callers, one answer.

    The scope is three short value lists read in one query at intake (`care.incidents`):
    services (at least one), client ids (empty: every client) and province codes (empty: the
    whole country); `lines` optionally names the lines or cells affected, as text. Writes go
    through `care.incidents`; every change is a row of `IncidentEvent`.
    """

    title = models.CharField(_("title"), max_length=200)
    status = models.CharField(
        _("status"),
        max_length=10,
        choices=IncidentStatus.choices,
        default=IncidentStatus.CONFIRMED,
    )
    services = models.JSONField(_("services"), default=list)
    client_ids = models.JSONField(_("clients (empty: all)"), default=list, blank=True)
    provinces = models.JSONField(_("provinces (empty: whole country)"), default=list, blank=True)
    lines = models.TextField(_("lines or cells affected"), blank=True)
    started_at = models.DateTimeField(_("started at"))
    expected_end_at = models.DateTimeField(_("expected end"), null=True, blank=True)
    public_message = models.TextField(_("public message"), blank=True)
    category_code = models.SlugField(_("category of the cases"), max_length=50, blank=True)
    priority = models.CharField(
        _("priority of the cases"), max_length=2, choices=Priority.choices, blank=True
    )
    resolution_code = models.CharField(
        _("resolution code"), max_length=50, default="incidente-risolto"
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="owned_incidents",
        verbose_name=_("internal owner"),
    )
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("opened by"),  # nobody: the surge detection
    )
    opened_at = models.DateTimeField(_("opened at"))
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    # The surge detection's key ("service:province:category") and what it saw.
    detection_key = models.CharField(max_length=120, blank=True, editable=False)
    evidence = models.JSONField(_("evidence"), default=dict, blank=True)
    row_version = models.PositiveIntegerField(default=1, editable=False)

    class Meta:
        ordering = ["-started_at", "-id"]
        verbose_name = _("major incident")
        verbose_name_plural = _("major incidents")
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=IncidentStatus.values), name="incident_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(expected_end_at__isnull=True)
                | Q(expected_end_at__gte=models.F("started_at")),
                name="incident_ends_after_start",
            ),
            # The detection raises one alert per surge, however often it runs.
            models.UniqueConstraint(
                fields=["detection_key"],
                condition=Q(status__in=["suspected", "confirmed"]) & ~Q(detection_key=""),
                name="incident_one_active_per_detection_key",
            ),
        ]
        indexes = [models.Index(fields=["status", "started_at"], name="incident_status_start")]

    def __str__(self) -> str:
        return f"INC-{self.pk} {self.title}"

    @property
    def reference(self) -> str:
        return f"INC-{self.pk}"

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_INCIDENT_STATUSES


class IncidentEvent(models.Model):
    """Append-only: the incident's timeline (who changed what, when)."""

    class Kind(models.TextChoices):
        OPENED = "opened", _("Opened")
        SUSPECTED = "suspected", _("Raised by the surge detection")
        UPDATED = "updated", _("Updated")
        CONFIRMED = "confirmed", _("Confirmed")
        CASES_LINKED = "cases_linked", _("Cases linked")
        CASE_UNLINKED = "case_unlinked", _("Case unlinked")
        RESOLVED = "resolved", _("Resolved")

    incident = models.ForeignKey(
        Incident, on_delete=models.PROTECT, related_name="events", verbose_name=_("incident")
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    at = models.DateTimeField(_("at"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
    )
    detail = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("incident event")
        verbose_name_plural = _("incident events")

    def __str__(self) -> str:
        return f"{self.incident_id} {self.kind}"


class IncidentCase(models.Model):
    """A case linked to an incident. Unlinking keeps the row (`unlinked_at`); a case is in
    at most one incident at a time."""

    incident = models.ForeignKey(
        Incident, on_delete=models.PROTECT, related_name="links", verbose_name=_("incident")
    )
    case = models.ForeignKey(
        Case,
        on_delete=models.PROTECT,
        related_name="incident_links",
        verbose_name=_("case"),
        db_index=False,  # incident_case_once_linked
    )
    linked_at = models.DateTimeField(_("linked at"))
    linked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("linked by"),
    )
    unlinked_at = models.DateTimeField(_("unlinked at"), null=True, blank=True)

    class Meta:
        ordering = ["linked_at", "id"]
        verbose_name = _("case of an incident")
        verbose_name_plural = _("cases of incidents")
        constraints = [
            models.UniqueConstraint(
                fields=["case"],
                condition=Q(unlinked_at__isnull=True),
                name="incident_case_once_linked",
            ),
        ]
        indexes = [
            models.Index(
                fields=["incident", "case"],
                condition=Q(unlinked_at__isnull=True),
                name="incident_case_current",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.incident_id} ← {self.case_id}"


class IncidentContact(models.Model):
    """A caller who only wanted to know ("solo informazione"): counted against the incident,
    no case opened. Only the client and the call are kept, not who called."""

    incident = models.ForeignKey(
        Incident, on_delete=models.PROTECT, related_name="contacts", verbose_name=_("incident")
    )
    client = models.ForeignKey(
        Client, on_delete=models.PROTECT, related_name="+", verbose_name=_("client")
    )
    call_id = models.CharField(_("call id"), max_length=100, blank=True)
    at = models.DateTimeField(_("at"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("by")
    )

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("information contact")
        verbose_name_plural = _("information contacts")
        indexes = [models.Index(fields=["incident", "at"], name="incident_contact_time")]

    def __str__(self) -> str:
        return f"{self.incident_id} {self.at:%Y-%m-%d %H:%M}"


class IncidentNotice(models.Model):
    """A suspected incident told to one supervisor, once (unique), in the notification
    centre."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="incident_notices",
        verbose_name=_("recipient"),
    )
    incident = models.ForeignKey(
        Incident, on_delete=models.PROTECT, related_name="notices", verbose_name=_("incident")
    )
    created_at = models.DateTimeField(_("created at"))
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("incident notice")
        verbose_name_plural = _("incident notices")
        constraints = [
            models.UniqueConstraint(
                fields=["recipient", "incident"], name="incident_notice_once_per_recipient"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.recipient} {self.incident_id}"


# --- Knowledge base (care.articles) -----------------------------------------------------------


class ArticleScope(models.TextChoices):
    ALL = "all", _("Everyone")
    SERVICE = "service", _("One service")
    CLIENT = "client", _("One client")
    CONTRACT = "contract", _("One contract")


class ArticleStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    IN_REVIEW = "in_review", _("In review")
    PUBLISHED = "published", _("Published")
    ARCHIVED = "archived", _("Archived")


class Article(models.Model):
    """An answer operators look up, scoped like the contracts. Its text lives in versions;
    the row carries the face of the version in force (copied at publication) so search and
    suggestions read one table. A published article changes only through a new version a
    second person approves (care.articles)."""

    status = models.CharField(
        _("status"), max_length=10, choices=ArticleStatus.choices, default=ArticleStatus.DRAFT
    )
    # The face shown and searched: the published version's, else the latest draft's.
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("text (Markdown)"))
    body_html = models.TextField(_("text (HTML)"), editable=False)
    tags = models.CharField(_("category tags"), max_length=500, blank=True)  # "code code"
    scope = models.CharField(_("scope"), max_length=10, choices=ArticleScope.choices)
    service = models.CharField(_("service"), max_length=20, blank=True)
    # Set for client and contract scopes (a contract's client), so "certified on the client"
    # needs no join.
    client = models.ForeignKey(
        Client,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="articles",
        verbose_name=_("client"),
    )
    contract = models.ForeignKey(
        Contract,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="articles",
        verbose_name=_("contract"),
    )
    published_version = models.ForeignKey(
        "ArticleVersion",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("version in force"),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created at"))
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)
    updated_at = models.DateTimeField(_("updated at"))

    class Meta:
        ordering = ["title", "id"]
        verbose_name = _("article")
        verbose_name_plural = _("articles")
        indexes = [
            models.Index(fields=["status", "scope"], name="article_status_scope"),
            models.Index(fields=["contract", "status"], name="article_contract_status"),
            models.Index(fields=["client", "status"], name="article_client_status"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(scope="all", service="", client__isnull=True, contract__isnull=True)
                | Q(scope="service", client__isnull=True, contract__isnull=True) & ~Q(service="")
                | Q(scope="client", service="", client__isnull=False, contract__isnull=True)
                | Q(scope="contract", service="", client__isnull=False, contract__isnull=False),
                name="article_scope_target",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def tag_list(self) -> list[str]:
        return self.tags.split()


class ArticleVersion(models.Model):
    """One wording of an article, numbered from 1. Append-only: a change is a new version;
    a version leaves draft/in review once, to published or archived (superseded)."""

    article = models.ForeignKey(
        Article, on_delete=models.PROTECT, related_name="versions", verbose_name=_("article")
    )
    number = models.PositiveIntegerField(_("version"))
    status = models.CharField(
        _("status"), max_length=10, choices=ArticleStatus.choices, default=ArticleStatus.DRAFT
    )
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("text (Markdown)"))
    body_html = models.TextField(_("text (HTML)"), editable=False)
    tags = models.CharField(_("category tags"), max_length=500, blank=True)
    scope = models.CharField(_("scope"), max_length=10, choices=ArticleScope.choices)
    service = models.CharField(_("service"), max_length=20, blank=True)
    client = models.ForeignKey(
        Client, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    contract = models.ForeignKey(
        Contract, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    change_note = models.CharField(_("what changed"), max_length=300, blank=True)
    source_case = models.ForeignKey(
        Case,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("proposed from case"),
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("author"),
    )
    created_at = models.DateTimeField(_("written at"))
    submitted_at = models.DateTimeField(_("sent for review at"), null=True, blank=True)
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("reviewer"),
    )
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)

    class Meta:
        ordering = ["article", "-number"]
        verbose_name = _("article version")
        verbose_name_plural = _("article versions")
        constraints = [
            models.UniqueConstraint(fields=["article", "number"], name="article_version_number"),
        ]
        indexes = [models.Index(fields=["status", "submitted_at"], name="article_version_queue")]

    def __str__(self) -> str:
        return f"{self.article_id} v{self.number}"


class CaseArticleUse(models.Model):
    """An article opened or inserted into a note from the suggestions of a case or of the
    intake page: what tells managers which articles solve cases (report `articles`)."""

    class Kind(models.TextChoices):
        OPENED = "opened", _("Opened")
        INSERTED = "inserted", _("Inserted into a note")

    # None while the case is being opened (intake); the intake's uses join the case it opens.
    case = models.ForeignKey(
        Case,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="article_uses",
        verbose_name=_("case"),
    )
    contract = models.ForeignKey(
        Contract, on_delete=models.PROTECT, related_name="+", verbose_name=_("contract")
    )
    category_code = models.CharField(_("category"), max_length=50, blank=True)
    article = models.ForeignKey(
        Article, on_delete=models.PROTECT, related_name="uses", verbose_name=_("article")
    )
    article_version = models.ForeignKey(
        ArticleVersion, on_delete=models.PROTECT, related_name="+", verbose_name=_("version")
    )
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("by")
    )
    at = models.DateTimeField(_("at"))

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("article used on a case")
        verbose_name_plural = _("articles used on cases")
        indexes = [
            models.Index(fields=["article", "at"], name="article_use_article_time"),
            models.Index(fields=["case", "at"], name="article_use_case_time"),
        ]

    def __str__(self) -> str:
        return f"{self.case_id} {self.kind} {self.article_id}"


# --- Saved replies (care.replies) ------------------------------------------------------------


class SavedReply(models.Model):
    """A text an operator inserts into a note or an e-mail reply, with variables filled in
    for the case (care.reply_text). Personal, for a team (the supervisors' queue) or for
    everyone working a contract."""

    class Scope(models.TextChoices):
        PERSONAL = "personal", _("Personal")
        TEAM = "team", _("Team (queue)")
        CONTRACT = "contract", _("Contract")

    scope = models.CharField(_("for"), max_length=10, choices=Scope.choices)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="saved_replies",
        verbose_name=_("owner"),
    )
    queue_code = models.SlugField(_("queue"), max_length=40, blank=True)
    contract = models.ForeignKey(
        Contract,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="saved_replies",
        verbose_name=_("contract"),
    )
    title = models.CharField(_("title"), max_length=120)
    body = models.TextField(_("text"), max_length=4000)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("written by"),
    )
    created_at = models.DateTimeField(_("created at"))
    updated_at = models.DateTimeField(_("updated at"))

    class Meta:
        ordering = ["title", "id"]
        verbose_name = _("saved reply")
        verbose_name_plural = _("saved replies")
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(scope="personal", owner__isnull=False, contract__isnull=True, queue_code="")
                    | Q(scope="team", owner__isnull=True, contract__isnull=True) & ~Q(queue_code="")
                    | Q(scope="contract", owner__isnull=True, contract__isnull=False, queue_code="")
                ),
                name="saved_reply_scope_target",
            ),
        ]
        indexes = [models.Index(fields=["queue_code"], name="saved_reply_queue")]

    def __str__(self) -> str:
        return self.title
