"""The in-app notification centre: what a person was told about SLA alerts, and marking it read.

Notifications are created by the fan-out in `routing.notifications` (it needs the queues'
supervisors, which care does not know); care owns the rows, the reads and the "read" writes.
"""

from datetime import datetime

from django.db import transaction
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from care.models import Notification
from config.errors import NotFound


class NotificationNotFound(NotFound):
    code = "notification_not_found"
    default_message = _("Notification not found.")


def notifications_of(user) -> QuerySet[Notification]:
    """The user's own notifications, newest first, with what a list shows of the case."""
    return (
        Notification.objects.filter(recipient=user)
        .select_related("case")
        .order_by("-created_at", "-id")
    )


def unread_count(user) -> int:
    """One query on the (recipient, read_at) index."""
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()


def mark_notification_read(*, user, notification_id: int, now: datetime) -> Notification:
    """Idempotent: a notification already read keeps its first reading time. Someone else's
    notification is "not found", like a missing one."""
    with transaction.atomic(durable=True):
        notification = (
            Notification.objects.select_for_update()
            .filter(id=notification_id, recipient=user)
            .first()
        )
        if notification is None:
            raise NotificationNotFound
        if notification.read_at is None:
            notification.read_at = now
            notification.save(update_fields=["read_at"])
    return notification


def mark_all_notifications_read(*, user, now: datetime) -> int:
    """Marks every unread notification of the user read; returns how many."""
    with transaction.atomic(durable=True):
        return Notification.objects.filter(recipient=user, read_at__isnull=True).update(read_at=now)
