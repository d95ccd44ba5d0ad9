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
"""

import logging
import statistics
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
from routing.models import AccessAlert, Assignment, Queue

logger = logging.getLogger(__name__)


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
    """Those who supervise the operator's site and the queues they were assigned from in the
    last 30 days; when there are none, everyone who supervises (someone must hear of it)."""
    site = get_user_model().objects.filter(id=operator_id).values("operator_profile__site_id")
    queues = Assignment.objects.filter(
        operator_id=operator_id, at__gte=now - timedelta(days=30)
    ).values("queue_code")
    supervising = roles.users_with("supervise")
    found = list(
        supervising.filter(
            Q(operator_profile__site_id__in=site)
            | Q(supervised_queues__in=Queue.objects.filter(code__in=queues))
        )
    )
    return found or list(supervising)


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
                alert.supervisors.set(supervisors_of(operator_id, now=now))
        except IntegrityError:  # another run raised it a moment ago
            continue
        raised.append(alert)
        transaction.on_commit(lambda alert=alert: _tell_supervisors(alert))
    return raised


def _tell_supervisors(alert: AccessAlert) -> None:
    operator = alert.operator
    for supervisor in alert.supervisors.exclude(email=""):
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
        try:
            send_mail(subject, body, None, [supervisor.email])
        except Exception:  # the alert stays in the console either way
            logger.exception("access watch: e-mail to supervisor %s failed", supervisor.id)


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
