"""SLA alerts told to people: the case's assignee and the supervisors of its queue.

Why here: finding a queue's supervisors needs routing, and care imports nothing of routing.
Care owns the `Notification` rows and their reads (`care.notifications`); this module writes
them from the alerts and sends the supervisors' e-mail digests. Beat runs
`notify_sla_alerts_task` every minute (registered through `config.celery`).

Fan-out (`notify_sla_alerts`): set-based and once only. In one transaction it stamps the
alerts nobody was told about yet (`SlaAlert.notified_at`), then inserts the notifications of
exactly those alerts with two INSERT ... SELECT (supervisors, then the assignee), ignoring
rows that already exist (unique on recipient and alert). An alert committed meanwhile is not
stamped and goes in the next run. Overlapping runs are kept apart by an advisory lock on
PostgreSQL (SQLite transactions are IMMEDIATE anyway).

E-mail (`send_supervisor_digests`): one message per supervisor per run listing every alert
not yet e-mailed, only while the supervisor's site is open (`Site.calendar`; no site or no
calendar: Monday to Friday 8-18 Europe/Rome, national holidays closed). Alerts raised at night
wait: the first run within hours sends them all (the morning digest).
At least once: under the lock, one transaction claims the batch (`email_claimed_at`); after
commit the messages are sent and each sent row gets `emailed_at`; a message whose send fails
gives its rows back (claim cleared), so the next run retries them. Two runs never send the
same row: the second sees it claimed. A claim left by a worker that died before sending is
taken again after `EMAIL_CLAIM_TIMEOUT`; a worker that dies between the send and `emailed_at`
makes that digest go twice (a duplicate e-mail rather than a lost breach). The notifications
stay in the in-app centre either way.
"""

import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from care.models import Case, Notification, SlaAlert
from config.db import try_advisory_xact_lock
from contracts import calendars
from contracts import selectors as contract_selectors
from routing.models import OperatorProfile, Queue

logger = logging.getLogger(__name__)

FAN_OUT_LOCK_KEY = 0x534C4132  # "SLA2": pg_try_advisory_xact_lock key, unique in the project
DIGEST_LOCK_KEY = 0x534C4133  # "SLA3"
# A claimed digest not sent by then was left by a dead worker: claimed again (an SMTP send
# takes seconds; its timeout is below this).
EMAIL_CLAIM_TIMEOUT = timedelta(minutes=10)
# No site or no working hours: Monday to Friday 8:00-18:00 in Rome.
OFFICE_HOURS = calendars.CalendarSpec(
    weekly_hours=tuple(
        (calendars.Interval(8 * 60, 18 * 60),) if weekday < 5 else () for weekday in range(7)
    ),
)


# --- Fan-out --------------------------------------------------------------------------------


@dataclass(frozen=True)
class FanOutResult:
    alerts: int  # alerts told in this run
    notifications: int  # notifications created
    skipped: bool = False


def notify_sla_alerts(*, now: datetime) -> FanOutResult:
    """Notifications for every alert nobody was told about yet; three statements."""
    notification = Notification._meta.db_table
    alert = SlaAlert._meta.db_table
    case = Case._meta.db_table
    queue = Queue._meta.db_table
    through = Queue.supervisors.through._meta
    queue_column = through.get_field("queue").column
    user_column = through.get_field("user").column
    stamp = connection.ops.adapt_datetimefield_value(now)
    columns = "recipient_id, alert_id, case_id, kind, target, created_at, by_email"
    with transaction.atomic(durable=True):
        if not try_advisory_xact_lock(FAN_OUT_LOCK_KEY):
            return FanOutResult(alerts=0, notifications=0, skipped=True)
        alerts = SlaAlert.objects.filter(notified_at__isnull=True).update(notified_at=now)
        if not alerts:
            return FanOutResult(alerts=0, notifications=0)
        with connection.cursor() as cursor:
            # Supervisors first: someone who is both assignee and supervisor gets the e-mail.
            cursor.execute(
                f"""
                INSERT INTO {notification} ({columns})
                SELECT DISTINCT s.{user_column}, a.id, a.case_id, a.level, a.target, %s, %s
                FROM {alert} a
                JOIN {case} c ON c.id = a.case_id
                JOIN {queue} q ON q.code = c.queue_code
                JOIN {through.db_table} s ON s.{queue_column} = q.id
                WHERE a.notified_at = %s
                ON CONFLICT DO NOTHING
                """,  # noqa: S608 - table names from the models, values bound
                [stamp, True, stamp],
            )
            created = cursor.rowcount
            cursor.execute(
                f"""
                INSERT INTO {notification} ({columns})
                SELECT c.assignee_id, a.id, a.case_id, a.level, a.target, %s, %s
                FROM {alert} a
                JOIN {case} c ON c.id = a.case_id
                WHERE a.notified_at = %s AND c.assignee_id IS NOT NULL
                ON CONFLICT DO NOTHING
                """,  # noqa: S608
                [stamp, False, stamp],
            )
            created += cursor.rowcount
    return FanOutResult(alerts=alerts, notifications=created)


# --- E-mail digests -------------------------------------------------------------------------


@dataclass(frozen=True)
class DigestResult:
    sent: int  # messages sent
    notifications: int  # notifications e-mailed
    waiting: int  # supervisors outside their hours: their alerts wait for the morning
    failed: int  # messages whose send failed: retried next run
    skipped: bool = False


def working_hours_of(user_ids) -> dict[int, calendars.CalendarSpec]:
    """Each user's site working hours (office hours when there is no site or calendar)."""
    profiles = (
        OperatorProfile.objects.filter(user_id__in=user_ids, site__calendar__isnull=False)
        .select_related("site__calendar")
        .prefetch_related("site__calendar__intervals", "site__calendar__closures")
    )
    specs = {p.user_id: contract_selectors.calendar_spec(p.site.calendar) for p in profiles}
    return {user_id: specs.get(user_id, OFFICE_HOURS) for user_id in user_ids}


def _within_hours(spec: calendars.CalendarSpec, now: datetime) -> bool:
    return calendars.is_open(spec, now)


def send_supervisor_digests(*, now: datetime) -> DigestResult:
    """Claim, then send after commit; a failed send gives its rows back for the next run."""
    with transaction.atomic(durable=True):
        if not try_advisory_xact_lock(DIGEST_LOCK_KEY):
            return DigestResult(sent=0, notifications=0, waiting=0, failed=0, skipped=True)
        pending = list(
            _unclaimed(now)
            .exclude(recipient__email="")
            .select_related("case", "recipient")
            .order_by("recipient_id", "created_at", "id")
        )
        by_recipient: dict[int, list[Notification]] = defaultdict(list)
        for item in pending:
            by_recipient[item.recipient_id].append(item)
        hours = working_hours_of(list(by_recipient))
        batches = {
            user_id: items
            for user_id, items in by_recipient.items()
            if _within_hours(hours[user_id], now)
        }
        claimed = [item.id for items in batches.values() for item in items]
        _unclaimed(now).filter(id__in=claimed).update(email_claimed_at=now)
    sent = failed = 0
    for items in batches.values():
        mine = Notification.objects.filter(
            id__in=[item.id for item in items], email_claimed_at=now, emailed_at__isnull=True
        )
        try:
            _send_digest(items)
        except Exception:
            failed += 1
            logger.exception("SLA digest to user %s failed: retried", items[0].recipient_id)
            mine.update(email_claimed_at=None)
        else:
            sent += 1
            mine.update(emailed_at=now)
    return DigestResult(
        sent=sent,
        notifications=sum(len(items) for items in batches.values()),
        waiting=len(by_recipient) - len(batches),
        failed=failed,
    )


def _unclaimed(now: datetime):
    """Rows to e-mail that no digest holds: never claimed, or claimed by a run that did not
    finish (its worker died) more than `EMAIL_CLAIM_TIMEOUT` ago."""
    return Notification.objects.filter(by_email=True, emailed_at__isnull=True).filter(
        Q(email_claimed_at__isnull=True) | Q(email_claimed_at__lt=now - EMAIL_CLAIM_TIMEOUT)
    )


def _send_digest(items: list[Notification]) -> None:
    recipient = items[0].recipient
    with translation.override(settings.LANGUAGE_CODE):
        subject = ngettext(
            "Presidio: %(count)d SLA alert", "Presidio: %(count)d SLA alerts", len(items)
        ) % {"count": len(items)}
        lines = [_("SLA alerts of the cases you supervise:"), ""]
        for item in items:
            due = getattr(item.case, f"{item.target}_due_at")
            lines.append(
                _("%(reference)s · %(target)s · %(kind)s · due %(due)s")
                % {
                    "reference": item.case.reference,
                    "target": SlaAlert.Target(item.target).label,
                    "kind": SlaAlert.Level(item.kind).label,
                    "due": timezone.localtime(due).strftime("%d/%m/%Y %H:%M") if due else "-",
                }
            )
    send_mail(
        subject,
        "\n".join(lines),
        settings.DEFAULT_FROM_EMAIL,
        [recipient.email],
        fail_silently=False,
    )


# --- Task -----------------------------------------------------------------------------------


@shared_task(max_retries=3)
def notify_sla_alerts_task() -> dict:
    """Beat sends this every 60 s: tell new alerts, then send the digests that are due."""
    now = timezone.now()
    fan_out = notify_sla_alerts(now=now)
    digest = send_supervisor_digests(now=now)
    logger.info(
        "SLA notifications: %d alerts told in %d notifications; %d digests sent, %d failed",
        fan_out.alerts,
        fan_out.notifications,
        digest.sent,
        digest.failed,
    )
    return {
        "alerts": fan_out.alerts,
        "notifications": fan_out.notifications,
        "digests": digest.sent,
        "failed": digest.failed,
    }
