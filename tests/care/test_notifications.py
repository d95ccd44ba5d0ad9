"""SLA notifications: told once to the assignee and the queue's supervisors, read in the
notification centre (page, header count, API), and e-mailed to supervisors in one digest per
run, within their site's working hours only, exactly once even when a send fails."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.urls import reverse

from care import services
from care.models import Notification, SlaAlert
from care.sla import recompute_sla_states
from config import roles
from routing.models import OperatorProfile, Queue, Site
from routing.notifications import EMAIL_CLAIM_TIMEOUT, notify_sla_alerts, send_supervisor_digests
from tests.factories import BusinessCalendarFactory, EndUserFactory

ROME = ZoneInfo("Europe/Rome")
SECOND = timedelta(seconds=1)


class FailingBackend(BaseEmailBackend):
    def send_messages(self, email_messages):
        raise ConnectionRefusedError("SMTP server down")


@pytest.fixture
def boss(user_factory):
    """A supervisor of the default queue, with an e-mail address and no site."""
    user = user_factory("sup.bianchi", roles.SUPERVISOR, email="bianchi@example.test")
    Queue.objects.get(code="generale").supervisors.add(user)
    return user


@pytest.fixture
def breached_cases(open_case_for, contract, operator, now):
    """Three cases opened at `now`, assigned to the operator, first response breached at
    12:00 on Wednesday (within office hours): three alerts."""
    cases = [
        open_case_for(EndUserFactory(client=contract.client), now=now + timedelta(minutes=i))
        for i in range(3)
    ]
    for case in cases:
        services.assign_case(actor=operator, case=case, assignee=operator, now=now)
    recompute_sla_states(now=max(c.first_response_due_at for c in cases) + SECOND)
    return cases


def recipients() -> list[tuple[str, str, bool]]:
    return sorted(
        Notification.objects.values_list("recipient__username", "case__reference", "by_email")
    )


def test_an_alert_is_told_once_to_the_assignee_and_each_supervisor(
    boss, breached_cases, operator, now
):
    result = notify_sla_alerts(now=now + timedelta(hours=3))
    assert (result.alerts, result.notifications) == (3, 6)
    references = sorted(c.reference for c in breached_cases)
    assert recipients() == sorted(
        [(operator.username, r, False) for r in references]
        + [(boss.username, r, True) for r in references]
    )
    again = notify_sla_alerts(now=now + timedelta(hours=3, minutes=1))
    assert (again.alerts, again.notifications) == (0, 0)
    assert Notification.objects.count() == 6
    assert not SlaAlert.objects.filter(notified_at__isnull=True).exists()


def test_the_fan_out_is_set_based(boss, breached_cases, now, django_assert_max_num_queries):
    with django_assert_max_num_queries(6):  # lock, stamp, two inserts, savepoints
        notify_sla_alerts(now=now + timedelta(hours=3))


def test_an_alert_nobody_can_be_told_is_stamped_and_not_scanned_again(new_case, now):
    recompute_sla_states(now=new_case.first_response_due_at + SECOND)
    result = notify_sla_alerts(now=now + timedelta(hours=3))
    assert (result.alerts, result.notifications) == (1, 0)
    assert notify_sla_alerts(now=now + timedelta(hours=4)).alerts == 0


def test_an_assignee_who_supervises_the_queue_is_told_once_with_the_e_mail(boss, new_case, now):
    services.assign_case(actor=boss, case=new_case, assignee=boss, now=now)
    recompute_sla_states(now=new_case.first_response_due_at + SECOND)
    notify_sla_alerts(now=now + timedelta(hours=3))
    assert recipients() == [(boss.username, new_case.reference, True)]


# --- E-mail digests -------------------------------------------------------------------------


def test_a_storm_of_breaches_becomes_one_message_per_supervisor(boss, breached_cases, now):
    at = now + timedelta(hours=3)  # Wednesday 13:00 in Rome
    notify_sla_alerts(now=at)
    result = send_supervisor_digests(now=at)
    assert (result.sent, result.notifications, result.failed) == (1, 3, 0)
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [boss.email]
    for case in breached_cases:
        assert case.reference in message.body
    assert send_supervisor_digests(now=at + timedelta(minutes=1)).sent == 0
    assert len(mail.outbox) == 1
    assert not Notification.objects.filter(by_email=True, emailed_at__isnull=True).exists()


def test_alerts_at_night_wait_for_the_morning_digest(boss, open_case_for, end_user, now):
    # Opened Wednesday 17:00: first response due Thursday 9:00 (Palermo office calendar).
    case = open_case_for(end_user, now=datetime(2026, 12, 2, 17, 0, tzinfo=ROME))
    night = datetime(2026, 12, 3, 6, 0, tzinfo=ROME)
    recompute_sla_states(now=case.first_response_at_risk_at)
    notify_sla_alerts(now=night)
    assert send_supervisor_digests(now=night).waiting == 1
    assert mail.outbox == []

    morning = datetime(2026, 12, 3, 8, 0, tzinfo=ROME)  # office hours open at 8
    recompute_sla_states(now=case.first_response_due_at + SECOND)
    notify_sla_alerts(now=morning)
    assert send_supervisor_digests(now=morning).sent == 1
    assert len(mail.outbox) == 1
    assert mail.outbox[0].body.count(case.reference) == 2  # at risk at night, then breached


def test_a_supervisor_whose_site_is_open_at_night_is_e_mailed_at_night(
    boss, open_case_for, end_user
):
    always = BusinessCalendarFactory(name="H24", always_open=True, office_hours=False)
    site = Site.objects.create(code="pa", name="Palermo", province="PA", calendar=always)
    OperatorProfile.objects.create(user=boss, site=site)
    case = open_case_for(end_user, now=datetime(2026, 12, 2, 17, 0, tzinfo=ROME))
    night = datetime(2026, 12, 3, 2, 0, tzinfo=ROME)
    recompute_sla_states(now=case.first_response_at_risk_at)
    notify_sla_alerts(now=night)
    assert send_supervisor_digests(now=night).sent == 1


def test_holidays_of_the_default_office_hours_hold_the_e_mail(boss, breached_cases, now):
    immacolata = datetime(2026, 12, 8, 10, 0, tzinfo=ROME)
    notify_sla_alerts(now=immacolata)
    assert send_supervisor_digests(now=immacolata).waiting == 1
    assert mail.outbox == []


def test_a_failed_send_gives_the_alerts_back_for_the_next_run(boss, breached_cases, now, settings):
    at = now + timedelta(hours=3)
    notify_sla_alerts(now=at)
    settings.EMAIL_BACKEND = "tests.care.test_notifications.FailingBackend"
    failed = send_supervisor_digests(now=at)
    assert (failed.sent, failed.failed) == (0, 1)
    assert Notification.objects.filter(by_email=True, emailed_at__isnull=True).count() == 3

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    retried = send_supervisor_digests(now=at + timedelta(minutes=1))
    assert (retried.sent, retried.notifications) == (1, 3)
    assert len(mail.outbox) == 1


def test_a_second_run_while_a_digest_is_being_sent_sends_nothing_again(
    boss, breached_cases, now, monkeypatch
):
    """Deterministic overlap: a second run starts after the first claimed its batch and
    before the first has sent it."""
    from routing import notifications as engine

    at = now + timedelta(hours=3)
    notify_sla_alerts(now=at)
    real_send = engine._send_digest
    second = []

    def send_after_a_second_run(items):
        second.append(send_supervisor_digests(now=at + timedelta(seconds=30)))
        real_send(items)

    monkeypatch.setattr(engine, "_send_digest", send_after_a_second_run)
    first = send_supervisor_digests(now=at)
    assert first.sent == 1
    assert (second[0].sent, second[0].notifications) == (0, 0)
    assert len(mail.outbox) == 1


# --- Notification centre --------------------------------------------------------------------


@pytest.fixture
def told(boss, breached_cases, now):
    notify_sla_alerts(now=now + timedelta(hours=3))
    return breached_cases


def test_the_header_shows_the_unread_count(client, operator, told):
    client.force_login(operator)
    page = client.get(reverse("home")).content.decode()
    assert 'data-testid="unread-badge">3<' in page


def test_the_page_lists_the_notifications_and_marks_one_read(
    client, operator, told, django_assert_max_num_queries
):
    client.force_login(operator)
    with django_assert_max_num_queries(12):
        page = client.get(reverse("care:notifications"))
    assert page.status_code == 200
    assert page.content.decode().count('data-testid="notification"') == 3
    first = Notification.objects.filter(recipient=operator).first()
    response = client.post(reverse("care:notification-read", args=[first.id]))
    assert response.status_code == 302
    assert Notification.objects.filter(recipient=operator, read_at__isnull=True).count() == 2


def test_mark_all_read_reads_only_ones_own(client, operator, boss, told):
    client.force_login(operator)
    client.post(reverse("care:notifications-read-all"))
    assert not Notification.objects.filter(recipient=operator, read_at__isnull=True).exists()
    assert Notification.objects.filter(recipient=boss, read_at__isnull=True).count() == 3


def test_someone_elses_notification_cannot_be_marked(client, operator, boss, told):
    client.force_login(operator)
    theirs = Notification.objects.filter(recipient=boss).first()
    assert client.post(reverse("care:notification-read", args=[theirs.id])).status_code == 404
    assert Notification.objects.get(id=theirs.id).read_at is None


def test_the_api_lists_and_marks_notifications(
    operator_api, operator, boss, told, django_assert_max_num_queries
):
    with django_assert_max_num_queries(6):
        body = operator_api.get("/api/v1/notifications/").json()
    assert body["count"] == 3
    assert {row["reference"] for row in body["results"]} == {c.reference for c in told}
    one = body["results"][0]["id"]
    marked = operator_api.post(f"/api/v1/notifications/{one}/read/")
    assert marked.status_code == 200
    assert marked.json()["read_at"] is not None
    assert operator_api.get("/api/v1/notifications/?unread=1").json()["count"] == 2
    assert operator_api.post("/api/v1/notifications/read-all/").json() == {"marked": 2}
    theirs = Notification.objects.filter(recipient=boss).first()
    missing = operator_api.post(f"/api/v1/notifications/{theirs.id}/read/")
    assert missing.status_code == 404
    assert missing.json()["code"] == "notification_not_found"


def test_a_digest_claimed_by_a_worker_that_died_is_sent_by_a_later_run(boss, breached_cases, now):
    at = now + timedelta(hours=3)
    notify_sla_alerts(now=at)
    # A run claimed the three rows, then its worker died before sending.
    Notification.objects.filter(by_email=True).update(email_claimed_at=at)
    assert send_supervisor_digests(now=at + timedelta(minutes=5)).sent == 0  # still held
    assert mail.outbox == []
    later = at + EMAIL_CLAIM_TIMEOUT + timedelta(minutes=1)
    result = send_supervisor_digests(now=later)
    assert (result.sent, result.notifications) == (1, 3)
    assert len(mail.outbox) == 1
    assert set(
        Notification.objects.filter(by_email=True).values_list("emailed_at", "email_claimed_at")
    ) == {(later, later)}
    assert send_supervisor_digests(now=later + EMAIL_CLAIM_TIMEOUT * 2).sent == 0  # sent once
