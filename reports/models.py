"""Models of the reports app: the backlog time series, and the nightly jobs' ledger."""

from django.conf import settings
from django.db import models
from django.db.models import Value
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _

from care.models import CaseStatus
from contracts.models import Client, Contract, Priority


class AgeBucket(models.TextChoices):
    UNDER_1H = "lt_1h", _("Under 1 hour")
    H1_4 = "1h_4h", _("1 to 4 hours")
    H4_24 = "4h_24h", _("4 to 24 hours")
    D1_3 = "1d_3d", _("1 to 3 days")
    D3_7 = "3d_7d", _("3 to 7 days")
    OVER_7D = "gt_7d", _("Over 7 days")


class BacklogSnapshot(models.Model):
    """The open cases at one 5-minute slot, with the flow since the previous snapshot.

    One per slot (unique): taking it twice in the same slot changes nothing."""

    slot = models.DateTimeField(_("slot"), unique=True)
    taken_at = models.DateTimeField(_("taken at"))
    since = models.DateTimeField(_("flow counted since"))
    open_cases = models.PositiveIntegerField(_("open cases"))
    inflow = models.PositiveIntegerField(_("opened since the previous snapshot"))
    outflow = models.PositiveIntegerField(_("resolved or closed since the previous snapshot"))
    flow_by_queue = models.JSONField(_("flow by queue"), default=dict, blank=True)
    seconds = models.FloatField(_("seconds taken"), default=0)

    class Meta:
        ordering = ["-slot"]
        verbose_name = _("backlog snapshot")
        verbose_name_plural = _("backlog snapshots")

    def __str__(self) -> str:
        return f"{self.slot:%Y-%m-%d %H:%M}: {self.open_cases}"


class BacklogRow(models.Model):
    """How many open cases share one queue, client, contract, priority, status and age."""

    snapshot = models.ForeignKey(
        BacklogSnapshot, on_delete=models.CASCADE, related_name="rows", verbose_name=_("snapshot")
    )
    queue_code = models.CharField(_("queue"), max_length=50, blank=True)
    client = models.ForeignKey(
        Client, on_delete=models.PROTECT, related_name="+", verbose_name=_("client")
    )
    contract = models.ForeignKey(
        Contract, on_delete=models.PROTECT, related_name="+", verbose_name=_("contract")
    )
    priority = models.CharField(_("priority"), max_length=2, choices=Priority.choices)
    status = models.CharField(_("status"), max_length=20, choices=CaseStatus.choices)
    age_bucket = models.CharField(_("age"), max_length=10, choices=AgeBucket.choices)
    count = models.PositiveIntegerField(_("cases"))

    class Meta:
        ordering = ["snapshot", "id"]
        verbose_name = _("backlog row")
        verbose_name_plural = _("backlog rows")
        constraints = [
            models.UniqueConstraint(
                fields=[
                    "snapshot",
                    "queue_code",
                    "client",
                    "contract",
                    "priority",
                    "status",
                    "age_bucket",
                ],
                name="backlog_row_once_per_group",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.snapshot_id} {self.queue_code} {self.priority} {self.status}: {self.count}"


class NightlyRun(models.Model):
    """A nightly job ran (or is running) for a date: once per job and date."""

    job = models.CharField(_("job"), max_length=50)
    date = models.DateField(_("date"))
    started_at = models.DateTimeField(_("started at"))
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    detail = models.JSONField(_("detail"), default=dict, blank=True)

    class Meta:
        ordering = ["-date", "job"]
        verbose_name = _("nightly run")
        verbose_name_plural = _("nightly runs")
        constraints = [
            models.UniqueConstraint(fields=["job", "date"], name="nightly_run_once_per_job_date"),
        ]

    def __str__(self) -> str:
        return f"{self.job} {self.date}"


class ExportLog(models.Model):
    """Append-only: every export, who made it, of which report, with which filters."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="report_exports",
        verbose_name=_("user"),
    )
    report = models.CharField(_("report"), max_length=40)
    filters = models.JSONField(_("filters"), default=dict, blank=True)
    format = models.CharField(_("format"), max_length=10)
    row_count = models.PositiveIntegerField(_("rows"))
    at = models.DateTimeField(_("at"))

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("export log entry")
        verbose_name_plural = _("export log")
        indexes = [models.Index(fields=["user", "at"], name="export_log_user_at")]

    def __str__(self) -> str:
        return f"{self.user} {self.report}.{self.format} ({self.row_count})"


class ExportJob(models.Model):
    """A big export written by a worker; its owner polls the progress and downloads the file,
    which expires after a day."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting")
        RUNNING = "running", _("Running")
        READY = "ready", _("Ready")
        FAILED = "failed", _("Failed")
        EXPIRED = "expired", _("Expired")

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="export_jobs",
        verbose_name=_("owner"),
    )
    report = models.CharField(_("report"), max_length=40)
    filters = models.JSONField(_("filters"), default=dict, blank=True)
    format = models.CharField(_("format"), max_length=10)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    rows_total = models.PositiveIntegerField(_("rows in all"), default=0)
    rows_done = models.PositiveIntegerField(_("rows written"), default=0)
    file_name = models.CharField(_("file"), max_length=200, blank=True)
    error = models.CharField(_("error"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("created at"))
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    expires_at = models.DateTimeField(_("expires at"), null=True, blank=True)
    # The worker writing the file stamps this when it starts and at every progress report;
    # a running job whose stamp is old was left by a worker that died.
    heartbeat_at = models.DateTimeField(_("last progress"), null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    # The delivery writing it (the Celery task id): the same task delivered again means the
    # worker that had it died (a task is redelivered only then: the broker's visibility
    # timeout, 1 h, outlasts the task's 31-minute hard limit), so it takes the job over at
    # once instead of waiting for the heartbeat to grow old.
    run_id = models.CharField(_("run"), max_length=64, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("export job")
        verbose_name_plural = _("export jobs")
        indexes = [models.Index(fields=["status", "expires_at"], name="export_job_status_expiry")]

    def __str__(self) -> str:
        return f"{self.owner} {self.report}.{self.format} {self.status}"

    @property
    def percent(self) -> int:
        if self.status == self.Status.READY:
            return 100
        return int(100 * self.rows_done / self.rows_total) if self.rows_total else 0


class ReportSubscription(models.Model):
    """A standing order: a report, with its filters, by e-mail every week or every month,
    covering the period just ended."""

    class Frequency(models.TextChoices):
        WEEKLY = "weekly", _("Every week (the week before)")
        MONTHLY = "monthly", _("Every month (the month before)")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="report_subscriptions",
        verbose_name=_("user"),
    )
    report = models.CharField(_("report"), max_length=40)
    frequency = models.CharField(_("frequency"), max_length=10, choices=Frequency.choices)
    format = models.CharField(_("format"), max_length=10, default="xlsx")
    filters = models.JSONField(_("filters"), default=dict, blank=True)  # without the period
    created_at = models.DateTimeField(_("created at"))

    class Meta:
        ordering = ["report", "frequency"]
        verbose_name = _("report subscription")
        verbose_name_plural = _("report subscriptions")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "report", "frequency"], name="subscription_once_per_frequency"
            ),
            models.CheckConstraint(
                condition=models.Q(frequency__in=["weekly", "monthly"]),
                name="subscription_frequency_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} {self.report} {self.frequency}"


class ReportDelivery(models.Model):
    """One e-mail of a subscription: unique per period, so a period is sent once."""

    subscription = models.ForeignKey(
        ReportSubscription,
        on_delete=models.CASCADE,
        related_name="deliveries",
        verbose_name=_("subscription"),
    )
    period_start = models.DateField(_("from"))
    period_end = models.DateField(_("to"))
    sent_at = models.DateTimeField(_("sent at"))
    row_count = models.PositiveIntegerField(_("rows"), default=0)

    class Meta:
        ordering = ["-period_start"]
        verbose_name = _("report delivery")
        verbose_name_plural = _("report deliveries")
        constraints = [
            models.UniqueConstraint(
                fields=["subscription", "period_start"], name="delivery_once_per_period"
            )
        ]

    def __str__(self) -> str:
        return f"{self.subscription} {self.period_start}"


class DailyRollup(models.Model):
    """The counted facts of one Rome calendar day for one client, contract, queue, site and
    priority (`reports.rollups` writes and reads them).

    Facts of the cases opened that day (their state now): opened, resolved, met, breached
    and running per SLA target, duplicates, re-openings, merges, first-contact resolutions,
    hand-offs and their turnaround, calls and mails. Facts dated otherwise: the cases
    resolved that day (`resolved_on_day`) and the assignments made that day (`assigned`). The
    site is the assignee's for the case facts and the assigning operator's for the
    assignments (what the live reports count); no site: not assigned. Rows marked
    `whole_month` add up the days of their month."""

    day = models.DateField(_("day"))
    client = models.ForeignKey(
        Client, on_delete=models.PROTECT, related_name="+", verbose_name=_("client")
    )
    contract = models.ForeignKey(
        Contract,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("contract"),
        db_index=False,  # rollup_contract_day
    )
    queue_code = models.CharField(_("queue"), max_length=50, blank=True)
    site = models.ForeignKey(
        "routing.Site",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("site"),
        db_index=False,  # rollup_site_day
    )
    priority = models.CharField(_("priority"), max_length=2, choices=Priority.choices)
    # The sum of the month's days (`day` is the 1st): a two-year report reads 24 of these per
    # group instead of 730 days.
    whole_month = models.BooleanField(_("whole month"), default=False)
    opened = models.PositiveIntegerField(default=0)
    resolved = models.PositiveIntegerField(default=0)
    fcr = models.PositiveIntegerField(default=0)
    fr_met = models.PositiveIntegerField(default=0)
    fr_breached = models.PositiveIntegerField(default=0)
    fr_open = models.PositiveIntegerField(default=0)
    res_met = models.PositiveIntegerField(default=0)
    res_breached = models.PositiveIntegerField(default=0)
    res_open = models.PositiveIntegerField(default=0)
    duplicates = models.PositiveIntegerField(default=0)
    reopened = models.PositiveIntegerField(default=0)
    reopenings = models.PositiveIntegerField(default=0)
    merged = models.PositiveIntegerField(default=0)
    handoffs = models.PositiveIntegerField(default=0)
    handoff_cases = models.PositiveIntegerField(default=0)
    handoffs_answered = models.PositiveIntegerField(default=0)
    handoff_seconds = models.FloatField(default=0)  # sum over the answered ones
    calls = models.PositiveIntegerField(default=0)
    cases_on_calls = models.PositiveIntegerField(default=0)
    mails = models.PositiveIntegerField(default=0)
    resolved_on_day = models.PositiveIntegerField(default=0)
    assigned = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["day", "id"]
        verbose_name = _("daily rollup")
        verbose_name_plural = _("daily rollups")
        constraints = [
            models.UniqueConstraint(
                "day",
                "client",
                "contract",
                "queue_code",
                Coalesce("site", Value(0)),
                "priority",
                "whole_month",
                name="rollup_once_per_group",
            ),
        ]
        indexes = [
            models.Index(fields=["day"], name="rollup_day"),
            models.Index(fields=["client", "day"], name="rollup_client_day"),
            models.Index(fields=["contract", "day"], name="rollup_contract_day"),
            models.Index(fields=["site", "day"], name="rollup_site_day"),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.contract_id} {self.queue_code} {self.priority}"


class CallRollup(models.Model):
    """The calls of one Rome half hour (the calls report's `half_hour`) for one queue and
    site, counted once for every call (`client` empty) and once more for each client whose
    end users the caller matched (`reports.call_rollups` writes and reads them).

    The counts and sums give every column of the report: averages are sums over counts. The
    site is the answering operator's at the time of writing (no site: not answered by a
    known operator); rows marked `all_sites` add up the sites' rows of their half hour.
    `threshold` is the queue's service-level threshold the `in_time` count used: rows whose
    queue has another threshold now are written again."""

    day = models.DateField(_("day"))
    half_hour = models.DateTimeField(_("half hour"))
    queue_code = models.CharField(_("queue"), max_length=50, blank=True)
    site = models.ForeignKey(
        "routing.Site",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("site"),
        db_index=False,  # call_rollup_client_time
    )
    client = models.ForeignKey(
        Client,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("client"),
        db_index=False,  # call_rollup_client_time
    )
    # The sum of the half hour's rows of every site (`site` empty): what a report not
    # filtered by site reads, a tenth of the rows.
    all_sites = models.BooleanField(_("all sites"), default=False)
    threshold = models.PositiveIntegerField(_("service-level threshold (s)"), null=True)
    offered = models.PositiveIntegerField(default=0)
    answered = models.PositiveIntegerField(default=0)
    abandoned = models.PositiveIntegerField(default=0)
    short_abandoned = models.PositiveIntegerField(default=0)
    missed = models.PositiveIntegerField(default=0)
    in_time = models.PositiveIntegerField(default=0)
    wait_sum = models.PositiveBigIntegerField(default=0)
    wait_count = models.PositiveIntegerField(default=0)
    handle_sum = models.PositiveBigIntegerField(default=0)
    handle_count = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["half_hour", "id"]
        verbose_name = _("calls rollup")
        verbose_name_plural = _("calls rollups")
        indexes = [
            # The report reads every call (client empty) or one client's, in its order.
            models.Index(
                fields=["client", "all_sites", "half_hour", "queue_code"],
                name="call_rollup_client_time",
            ),
            models.Index(fields=["day"], name="call_rollup_day"),
            # Rows counted with a threshold their queue no longer has.
            models.Index(fields=["queue_code", "threshold"], name="call_rollup_threshold"),
        ]

    def __str__(self) -> str:
        return f"{self.half_hour:%Y-%m-%d %H:%M} {self.queue_code}"


class RollupRefresh(models.Model):
    """A run of the rollup maintenance: the days it wrote. The latest run's `at` is the
    watermark: cases changed after it mark their days to be counted again."""

    at = models.DateTimeField(_("at"), db_index=True)
    kind = models.CharField(_("kind"), max_length=10)  # "refresh" or "rebuild"
    days = models.PositiveIntegerField(_("days written"), default=0)
    rows = models.PositiveIntegerField(_("rows written"), default=0)
    seconds = models.FloatField(_("seconds taken"), default=0)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("rollup refresh")
        verbose_name_plural = _("rollup refreshes")

    def __str__(self) -> str:
        return f"{self.kind} {self.at:%Y-%m-%d %H:%M}: {self.days} days"
