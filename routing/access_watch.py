"""The watch on unusual access: an operator who, in one day, looked at many more end users
outside their own cases than usual is reported to their supervisors.

"Looked at" is the access log's index of end users (`config.AccessLogSubject`: searches,
case pages, directory views; not the case lists browsed without a search, whose masked
rows are everyone's daily work). "Their own cases" are the cases of that end user the operator
opened, holds or was ever assigned (routing's assignment log). "Many more than usual" is
more than `ACCESS_WATCH_MIN_END_USERS` and more than `ACCESS_WATCH_PEER_FACTOR` times the
median of their colleagues the same day, so a busy day for everyone raises nothing.

Beat runs it every 15 minutes over the day so far (Europe/Rome); each operator is reported
at most once a day (unique constraint), the count kept current on later runs. Supervisors
see it in the console and get one e-mail; no personal data of the end users goes into it.

The e-mail is an outbox row per supervisor (`AccessAlertEmail`, unique per alert and
supervisor), written with the alert and sent after commit by a task; a send that fails (SMTP
down) is tried again by beat every minute with backoff (1, 2, 4, 8, 16 minutes), at most
`EMAIL_MAX_ATTEMPTS` times, then given up with an error in the log (the alert stays in the
console). A sent row is never sent again; a claim left by a worker that died is taken again
after `EMAIL_CLAIM_TIMEOUT` (a worker dying between the send and `sent_at` sends it twice:
a duplicate rather than a lost alert).
"""

import logging
import statistics
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import Count, Exists, OuterRef, Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from care.models import Case
from config import roles
from config.access_routes import LIST_ROUTES
from config.errors import NotFound
from config.models import AccessLog, AccessLogSubject
from config.roles import BACKOFFICE, OPERATOR
from config.tasks import enqueue_after_commit
from routing.models import AccessAlert, AccessAlertEmail, Assignment, Queue, Site

logger = logging.getLogger(__name__)

SEND_TASK = "routing.tasks.send_access_alert_emails_task"  # by name: the tasks import this
EMAIL_MAX_ATTEMPTS = 6
EMAIL_CLAIM_TIMEOUT = timedelta(minutes=10)  # an SMTP send takes seconds
EMAIL_BATCH = 100


def viewed_outside_own_cases(*, since: datetime) -> dict[int, int]:
    """Per operator (and back-office user): distinct end users viewed since `since` with no
    case of theirs the user opened, holds or was assigned. One query."""
    own_case = Case.objects.filter(end_user_id=OuterRef("end_user_id")).filter(
        Q(assignee_id=OuterRef("user_id")) | Q(opened_by_id=OuterRef("user_id"))
    )
    once_assigned = Assignment.objects.filter(
        operator_id=OuterRef("user_id"), case__end_user_id=OuterRef("end_user_id")
    )
    staff = get_user_model().objects.filter(
        groups__name__in=[OPERATOR, BACKOFFICE], is_superuser=False
    )
    rows = (
        AccessLogSubject.objects.filter(at__gte=since, user_id__in=staff.values("id"))
        .exclude(entry__route__in=LIST_ROUTES, entry__action=AccessLog.Action.VIEW)
        .exclude(Exists(own_case))
        .exclude(Exists(once_assigned))
        .values("user_id")
        .annotate(end_users=Count("end_user_id", distinct=True))
    )
    return {row["user_id"]: row["end_users"] for row in rows}


def threshold_for(counts: dict[int, int]) -> int:
    peers = statistics.median(counts.values()) if counts else 0
    return max(settings.ACCESS_WATCH_MIN_END_USERS, int(settings.ACCESS_WATCH_PEER_FACTOR * peers))


def supervisors_of(operator_id: int, *, now: datetime) -> list:
    """Those who supervise the operator's site (`Site.supervisors`) and the queues they were
    assigned from in the last 30 days; when there are none, everyone who supervises
    (someone must hear of it)."""
    site = Site.objects.filter(operators__user_id=operator_id).values("id")
    queues = Assignment.objects.filter(
        operator_id=operator_id, at__gte=now - timedelta(days=30)
    ).values("queue_code")
    supervising = roles.users_with("supervise")
    found = list(
        supervising.filter(
            Q(supervised_sites__in=site)
            | Q(supervised_queues__in=Queue.objects.filter(code__in=queues))
        ).order_by("id")
    )
    return found or list(supervising.order_by("id"))


def watch_unusual_access(*, now: datetime) -> list[AccessAlert]:
    """Raise (or bring up to date) today's alerts; returns the ones raised by this run."""
    day = timezone.localdate(now)
    since = datetime.combine(day, time.min, tzinfo=timezone.get_default_timezone())
    counts = viewed_outside_own_cases(since=since)
    threshold = threshold_for(counts)
    raised = []
    for operator_id, end_users in counts.items():
        if end_users <= threshold:
            continue
        updated = AccessAlert.objects.filter(operator_id=operator_id, day=day).update(
            end_users=end_users
        )
        if updated:
            continue
        try:
            with transaction.atomic():
                alert = AccessAlert.objects.create(
                    operator_id=operator_id,
                    day=day,
                    end_users=end_users,
                    threshold=threshold,
                    created_at=now,
                )
                supervisors = supervisors_of(operator_id, now=now)
                alert.supervisors.set(supervisors)
                AccessAlertEmail.objects.bulk_create(
                    AccessAlertEmail(alert=alert, supervisor=supervisor, next_attempt_at=now)
                    for supervisor in supervisors
                    if supervisor.email
                )
                enqueue_after_commit(SEND_TASK)
        except IntegrityError:  # another run raised it a moment ago
            continue
        raised.append(alert)
    return raised


@dataclass(frozen=True)
class EmailRun:
    sent: int
    failed: int  # tried again later, or given up (`given_up`)
    given_up: int


def retry_delay(attempts: int) -> timedelta:
    """After the n-th failure: 1, 2, 4, 8, 16 minutes."""
    return timedelta(minutes=2 ** (attempts - 1))


def send_access_alert_emails(*, now: datetime) -> EmailRun:
    """Send the alert e-mails that are due: claimed in one transaction (two runs never send
    the same row), sent after it, each marked sent or given its next attempt."""
    with transaction.atomic():
        due = list(
            AccessAlertEmail.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(sent_at__isnull=True, attempts__lt=EMAIL_MAX_ATTEMPTS, next_attempt_at__lte=now)
            .filter(Q(claimed_at__isnull=True) | Q(claimed_at__lt=now - EMAIL_CLAIM_TIMEOUT))
            .select_related("alert__operator", "supervisor")
            .order_by("id")[:EMAIL_BATCH]
        )
        AccessAlertEmail.objects.filter(id__in=[email.id for email in due]).update(claimed_at=now)
    sent = failed = given_up = 0
    for email in due:
        attempts = email.attempts + 1
        try:
            _send(email)
        except Exception:  # SMTP down or refusing: the row is tried again
            failed += 1
            AccessAlertEmail.objects.filter(id=email.id).update(
                attempts=attempts, claimed_at=None, next_attempt_at=now + retry_delay(attempts)
            )
            if attempts >= EMAIL_MAX_ATTEMPTS:
                given_up += 1
                logger.exception(
                    "access watch: e-mail %s to supervisor %s given up after %d attempts",
                    email.id,
                    email.supervisor_id,
                    attempts,
                )
            else:
                logger.warning(
                    "access watch: e-mail %s to supervisor %s failed (attempt %d), tried again",
                    email.id,
                    email.supervisor_id,
                    attempts,
                    exc_info=True,
                )
        else:
            sent += 1
            AccessAlertEmail.objects.filter(id=email.id).update(
                attempts=attempts, claimed_at=None, sent_at=timezone.now()
            )
    return EmailRun(sent=sent, failed=failed, given_up=given_up)


def _send(email: AccessAlertEmail) -> None:
    alert, supervisor = email.alert, email.supervisor
    operator = alert.operator
    if supervisor.email:
        with translation.override(settings.LANGUAGE_CODE):
            subject = _("Presidio: unusual access by %(operator)s") % {
                "operator": operator.get_username()
            }
            body = _(
                "On %(day)s %(operator)s viewed %(n)s end users outside their own cases "
                "(usually at most %(threshold)s). Check it in the supervisor console."
            ) % {
                "day": alert.day.strftime("%d/%m/%Y"),
                "operator": operator.get_full_name() or operator.get_username(),
                "n": alert.end_users,
                "threshold": alert.threshold,
            }
        send_mail(subject, body, None, [supervisor.email])


class AccessAlertNotFound(NotFound):
    code = "access_alert_not_found"
    default_message = gettext_lazy("Alert not found.")


def _alerts_of(user):
    """The alerts this supervisor was told about (administrators: all)."""
    alerts = AccessAlert.objects.select_related("operator")
    if not user.has_perm("config.view_unmasked_personal_data"):
        alerts = alerts.filter(supervisors=user)
    return alerts


def open_alerts_for(user) -> list[AccessAlert]:
    return list(_alerts_of(user).filter(acknowledged_at__isnull=True)[:20])


def acknowledge(*, user, alert_id: int, now: datetime) -> AccessAlert:
    """Idempotent; someone else's alert is "not found", like a missing one."""
    with transaction.atomic():
        alert = _alerts_of(user).select_for_update(of=("self",)).filter(id=alert_id).first()
        if alert is None:
            raise AccessAlertNotFound
        if alert.acknowledged_at is None:
            alert.acknowledged_by, alert.acknowledged_at = user, now
            alert.save(update_fields=["acknowledged_by", "acknowledged_at"])
    return alert
