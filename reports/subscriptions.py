"""Scheduled reports: a manager subscribes to a report and receives it by e-mail every week
(Monday to Sunday just ended) or every month (the calendar month just ended).

Beat runs `send_due_reports` every hour. A delivery row, unique per subscription and period,
is written before the e-mail goes out and removed again if sending fails: each period is sent
once, and a failed send is retried by the next run. Sent reports are exports: the user needs
`export_reports`, personal data is masked as in every export, and each is in the export log.
"""

import io
import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from config.errors import InvalidInput, PermissionDenied
from reports import definitions, exports, formats
from reports.forms import ReportFilterForm
from reports.models import ReportDelivery, ReportSubscription

logger = logging.getLogger(__name__)

Frequency = ReportSubscription.Frequency
FORMATS = ("csv", "xlsx")
FILTER_KEYS = ("client", "contract", "site", "queue", "priority")


def period_before(frequency: str, today: date) -> tuple[date, date]:
    """The last complete week (Monday-Sunday) or calendar month before `today`."""
    if frequency == Frequency.WEEKLY:
        this_monday = today - timedelta(days=today.weekday())
        return this_monday - timedelta(days=7), this_monday - timedelta(days=1)
    first_of_month = today.replace(day=1)
    last_month_end = first_of_month - timedelta(days=1)
    return last_month_end.replace(day=1), last_month_end


def subscribe(
    *, user, report: str, frequency: str, fmt: str = "xlsx", filters: dict | None = None
) -> ReportSubscription:
    """Subscribe (or change the format and filters of an existing subscription)."""
    if not (user.has_perm("config.view_reports") and user.has_perm("config.export_reports")):
        raise PermissionDenied(_("You may not receive reports by e-mail."))
    errors: dict[str, list[str]] = {}
    if definitions.get(report) is None:
        errors["report"] = [_("There is no report with this name.")]
    if frequency not in Frequency.values:
        errors["frequency"] = [_("Choose every week or every month.")]
    if fmt not in FORMATS:
        errors["format"] = [_("Choose CSV or XLSX.")]
    if not user.email:
        errors["user"] = [_("Your account has no e-mail address: ask an administrator.")]
    kept = {
        key: str(value) for key, value in (filters or {}).items() if key in FILTER_KEYS and value
    }
    form = ReportFilterForm(kept)
    if not form.is_valid():
        errors["filters"] = [form.error_message()]
    if errors:
        raise InvalidInput(_("The subscription was not saved."), fields=errors)
    subscription, _created = ReportSubscription.objects.update_or_create(
        user=user,
        report=report,
        frequency=frequency,
        defaults={"format": fmt, "filters": kept, "created_at": timezone.now()},
    )
    return subscription


def described_filters(subscription: ReportSubscription) -> list[tuple[str, str]]:
    """A subscription's filters as the reader says them: [("Cliente", "Regione Siciliana"),
    ("Priorità", "P2 – alta")], the filter's label and the name of what it points to."""
    form = ReportFilterForm(subscription.filters)
    if not form.is_valid():  # a client or queue since removed: show what was stored
        return [(str(key), str(value)) for key, value in subscription.filters.items()]
    described = []
    for key in FILTER_KEYS:
        value = form.cleaned_data.get(key)
        if not value:
            continue
        if key == "priority":
            shown = dict(form.fields[key].choices).get(value, value)
        else:
            shown = getattr(value, "name", None) or str(value)
        described.append((str(form.fields[key].label), str(shown)))
    return described


def unsubscribe(*, user, subscription_id: int) -> bool:
    deleted, _detail = ReportSubscription.objects.filter(id=subscription_id, user=user).delete()
    return bool(deleted)


@dataclass(frozen=True)
class SendResult:
    sent: int
    failed: int


def send_due_reports(*, now: datetime | None = None) -> SendResult:
    """Send every subscription's report for its last complete period, once."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    sent = failed = 0
    for subscription in ReportSubscription.objects.select_related("user").order_by("id"):
        start, end = period_before(subscription.frequency, today)
        if ReportDelivery.objects.filter(subscription=subscription, period_start=start).exists():
            continue
        try:
            with transaction.atomic():
                delivery = ReportDelivery.objects.create(
                    subscription=subscription, period_start=start, period_end=end, sent_at=now
                )
        except IntegrityError:  # another run took this period
            continue
        try:
            delivery.row_count = _send(subscription, start, end, now)
            delivery.save(update_fields=["row_count"])
            sent += 1
        except Exception:
            logger.exception(
                "report subscription %s not sent; the next run retries", subscription.id
            )
            delivery.delete()
            failed += 1
    return SendResult(sent=sent, failed=failed)


def _send(subscription: ReportSubscription, start: date, end: date, now: datetime) -> int:
    user = subscription.user
    definition = definitions.get(subscription.report)
    if definition is None or not user.is_active or not user.has_perm("config.export_reports"):
        raise PermissionError("the subscription no longer applies")
    form = ReportFilterForm({**subscription.filters, "from": start, "to": end})
    if not form.is_valid():
        raise ValueError(form.error_message())
    filters = form.filters()
    rows = definition.rows(filters, user, now)
    columns = list(definition.columns)
    if subscription.format == "csv":
        dialect = formats.dialect_for(None, get_language())  # Italian unless English is on
        content = "".join(formats.csv_lines(columns, rows, dialect)).encode("utf-8")
        count = max(content.count(b"\r\n") - 1, 0)
        mimetype = formats.CONTENT_TYPES["csv"]
    else:
        buffer = io.BytesIO()
        count = formats.write_xlsx(buffer, columns, rows, title=str(definition.title))
        content, mimetype = buffer.getvalue(), formats.CONTENT_TYPES["xlsx"]
    period = f"{start:%d/%m/%Y} – {end:%d/%m/%Y}"
    message = EmailMessage(
        subject=_("Presidio: %(report)s, %(period)s")
        % {"report": definition.title, "period": period},
        body=_(
            "The report «%(report)s» for %(period)s is attached (%(rows)s rows).\n"
            "You receive it because you subscribed to it in Presidio; you can stop it on the "
            "report's page."
        )
        % {"report": definition.title, "period": period, "rows": count},
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[user.email],
    )
    message.attach(formats.filename(definition.name, subscription.format, now), content, mimetype)
    message.send()
    exports.log_export(
        user=user,
        report=definition.name,
        filters={**filters.as_query(), "subscription": subscription.id},
        fmt=subscription.format,
        row_count=count,
        now=now,
    )
    return count
