"""Scheduled reports: subscribe on the report page, receive each week's or month's report by
e-mail exactly once; a failed send is retried by the next run."""

import io
from datetime import date, datetime
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook

from config import roles
from config.errors import InvalidInput, PermissionDenied
from reports import subscriptions
from reports.models import ExportLog, ReportDelivery, ReportSubscription
from tests.reports import known_data

pytestmark = pytest.mark.django_db

known = known_data.known
contract_with_handoff_units = known_data.contract_with_handoff_units
other_client_contract = known_data.other_client_contract

ROME = ZoneInfo("Europe/Rome")
# Monday 4 January 2027, 07:00: the week of 28 Dec - 3 Jan and December 2026 have ended.
MONDAY = datetime(2027, 1, 4, 7, 0, tzinfo=ROME)


@pytest.fixture
def reader(user_factory):
    return user_factory("man.lettore", roles.MANAGER, email="lettore@presidio.example.it")


@pytest.mark.parametrize(
    ("frequency", "today", "period"),
    [
        ("weekly", date(2027, 1, 4), (date(2026, 12, 28), date(2027, 1, 3))),
        ("weekly", date(2027, 1, 10), (date(2026, 12, 28), date(2027, 1, 3))),
        ("monthly", date(2027, 1, 4), (date(2026, 12, 1), date(2026, 12, 31))),
        ("monthly", date(2026, 3, 1), (date(2026, 2, 1), date(2026, 2, 28))),
    ],
)
def test_the_period_is_the_last_complete_week_or_month(frequency, today, period):
    assert subscriptions.period_before(frequency, today) == period


def test_a_monthly_report_is_sent_once_with_its_rows_attached(known, reader, mailoutbox):
    subscriptions.subscribe(user=reader, report="sla-compliance", frequency="monthly")
    assert subscriptions.send_due_reports(now=MONDAY).sent == 1
    assert subscriptions.send_due_reports(now=MONDAY).sent == 0  # the period is done
    [mail] = mailoutbox
    assert mail.to == ["lettore@presidio.example.it"]
    assert "01/12/2026 – 31/12/2026" in mail.subject
    [(name, content, _mimetype)] = mail.attachments
    assert name.endswith(".xlsx")
    sheet = load_workbook(io.BytesIO(content)).active
    assert sheet.max_row >= 2  # the header and the clients of the known data
    delivery = ReportDelivery.objects.get()
    assert (delivery.period_start, delivery.period_end) == (date(2026, 12, 1), date(2026, 12, 31))
    assert ExportLog.objects.filter(user=reader, report="sla-compliance").count() == 1


def test_a_weekly_csv_keeps_its_filters(known, reader, mailoutbox):
    subscriptions.subscribe(
        user=reader, report="cases", frequency="weekly", fmt="csv", filters={"priority": "P1"}
    )
    subscriptions.send_due_reports(now=MONDAY)
    [(name, content, _mimetype)] = mailoutbox[0].attachments
    assert name.endswith(".csv")
    text = content if isinstance(content, str) else content.decode()  # text/* comes back as str
    assert text.startswith("\ufeff")
    assert ReportSubscription.objects.get().filters == {"priority": "P1"}


def test_a_failed_send_is_retried_by_the_next_run(known, reader, mailoutbox):
    subscriptions.subscribe(user=reader, report="breaches", frequency="weekly")
    with mock.patch("django.core.mail.EmailMessage.send", side_effect=OSError("smtp down")):
        assert subscriptions.send_due_reports(now=MONDAY).failed == 1
    assert not ReportDelivery.objects.exists()
    assert subscriptions.send_due_reports(now=MONDAY).sent == 1
    assert len(mailoutbox) == 1


def test_subscribing_again_changes_the_format_not_the_count(reader):
    subscriptions.subscribe(user=reader, report="cases", frequency="weekly", fmt="csv")
    subscriptions.subscribe(user=reader, report="cases", frequency="weekly", fmt="xlsx")
    assert list(ReportSubscription.objects.values_list("format", flat=True)) == ["xlsx"]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"report": "nope"}, "report"),
        ({"frequency": "daily"}, "frequency"),
        ({"fmt": "pdf"}, "format"),
        ({"filters": {"priority": "P9"}}, "filters"),
    ],
)
def test_bad_subscriptions_are_refused_and_nothing_is_saved(reader, changes, field):
    values = {"report": "cases", "frequency": "weekly", "fmt": "xlsx", **changes}
    with pytest.raises(InvalidInput) as refused:
        subscriptions.subscribe(user=reader, **values)
    assert field in refused.value.fields
    assert not ReportSubscription.objects.exists()


def test_who_may_not_export_may_not_subscribe(supervisor):
    with pytest.raises(PermissionDenied):
        subscriptions.subscribe(user=supervisor, report="cases", frequency="weekly")


def test_the_report_page_subscribes_and_stops(client, reader):
    client.force_login(reader)
    page = client.get("/reports/sla-compliance/")
    assert 'data-testid="subscribe-form"' in page.content.decode()
    response = client.post(
        "/reports/sla-compliance/subscribe/", {"frequency": "monthly", "format": "csv"}
    )
    assert response.status_code == 302
    subscription = ReportSubscription.objects.get(user=reader)
    assert (subscription.frequency, subscription.format) == ("monthly", "csv")
    client.post(f"/reports/subscriptions/{subscription.id}/stop/")
    assert not ReportSubscription.objects.exists()


def test_nobody_stops_someone_elses_subscription(client, reader, user_factory):
    subscription = subscriptions.subscribe(user=reader, report="cases", frequency="weekly")
    other = user_factory("man.altro", roles.MANAGER, email="altro@presidio.example.it")
    client.force_login(other)
    assert client.post(f"/reports/subscriptions/{subscription.id}/stop/").status_code == 404
    assert ReportSubscription.objects.filter(id=subscription.id).exists()
