"""The watch on unusual access: the access log's index of end users (who looked at whom),
and an operator who, in one day, looked at many more end users outside their own cases
than their colleagues is reported once to their supervisors (console and one e-mail)."""

import smtplib
from datetime import timedelta

import pytest
from django.core import mail
from django.db import connection, transaction
from django.db.utils import DatabaseError
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from care import services as care_services
from care.models import CaseStatus
from config import access_log, roles
from config.models import AccessLog, AccessLogSubject
from contracts.models import Referent
from routing import access_watch, services
from routing.access_watch import (
    EMAIL_CLAIM_TIMEOUT,
    EMAIL_MAX_ATTEMPTS,
    acknowledge,
    open_alerts_for,
    send_access_alert_emails,
    supervisors_of,
    threshold_for,
    viewed_outside_own_cases,
    watch_unusual_access,
)
from routing.models import AccessAlert, AccessAlertEmail, OperatorProfile, Site
from routing.tasks import send_access_alert_emails_task, watch_unusual_access_task
from tests.factories import CLOSING_CODE, EndUserFactory

pytestmark = pytest.mark.django_db

CONSOLE = reverse("routing:console")
STRANGERS = range(900_000, 900_100)  # end users of nobody's cases (the index has no FK)


@pytest.fixture(autouse=True)
def _thresholds(settings):
    settings.ACCESS_WATCH_MIN_END_USERS = 40
    settings.ACCESS_WATCH_PEER_FACTOR = 3


@pytest.fixture
def moment():
    """The watch looks at "today" in Rome and its supervisors at the last 30 days of the
    real clock: these tests run on the real clock."""
    return timezone.now()


@pytest.fixture
def sites(db):
    return {
        "pa": Site.objects.create(code="pa", name="Palermo", province="PA"),
        "mi": Site.objects.create(code="mi", name="Milano", province="MI"),
    }


def on_site(user, site, profile_factory, **kwargs):
    profile = profile_factory(user, **kwargs)
    OperatorProfile.objects.filter(id=profile.id).update(site=site)
    return user


@pytest.fixture
def colleagues(user_factory, sites, profile_factory):
    return [
        on_site(user_factory(f"op.c{n}", roles.OPERATOR), sites["pa"], profile_factory)
        for n in range(3)
    ]


@pytest.fixture
def site_supervisor(user_factory, sites):
    user = user_factory("sup.palermo", roles.SUPERVISOR, email="sup.palermo@presidio.example")
    sites["pa"].supervisors.add(user)
    return user


@pytest.fixture
def far_supervisor(user_factory, sites):
    """A supervisor of another site and of no queue the operator works."""
    user = user_factory("sup.milano", roles.SUPERVISOR, email="sup.milano@presidio.example")
    sites["mi"].supervisors.add(user)
    return user


@pytest.fixture
def queue_supervisor(user_factory, default_queue):
    user = user_factory("sup.coda", roles.SUPERVISOR, email="sup.coda@presidio.example")
    default_queue.supervisors.add(user)
    return user


@pytest.fixture
def watched(operator, sites, profile_factory, contract, default_queue, routed_case, moment):
    """The operator works at Palermo and took a case from the default queue today."""
    on_site(operator, sites["pa"], profile_factory, contracts=(contract,))
    routed_case(opened_at=moment - timedelta(minutes=5))
    assert services.take_next_case(operator=operator, now=moment) is not None
    return operator


def viewed(user, end_users, *, at) -> AccessLog:
    """One access-log row naming these end users, as the middleware appends it."""
    return access_log.append(
        outcome=AccessLog.Outcome.ALLOWED,
        at=at,
        user_id=user.id,
        username=user.get_username(),
        action=AccessLog.Action.VIEW,
        route="care:case-detail",
        method="GET",
        target="case:CS-2026-000001",
        purpose="",
        status_code=200,
        detail={"end_users": list(end_users)},
    )


def busy_colleagues(colleagues, moment, each: int = 5) -> None:
    for n, colleague in enumerate(colleagues):
        viewed(colleague, range(800_000 + 1000 * n, 800_000 + 1000 * n + each), at=moment)


# --- Who counts -----------------------------------------------------------------------------


def test_distinct_end_users_outside_own_cases_are_counted_per_operator(watched, colleagues, moment):
    viewed(watched, STRANGERS[:30], at=moment)
    viewed(watched, STRANGERS[20:50], at=moment)  # 10 of them again
    busy_colleagues(colleagues, moment, each=4)
    counts = viewed_outside_own_cases(since=moment - timedelta(hours=1))
    assert counts == {watched.id: 50, **{colleague.id: 4 for colleague in colleagues}}


def test_case_lists_browsed_without_a_search_do_not_count_but_a_search_does(
    watched, colleagues, moment, client, open_case_for, contract
):
    strangers = [EndUserFactory(client=contract.client) for _ in range(3)]
    for stranger in strangers:
        open_case_for(stranger, actor=colleagues[0])
    client.force_login(watched)
    assert client.get("/care/cases/").status_code == 200
    listed = AccessLog.objects.get(route="care:case-list")
    named = set(listed.subjects.values_list("end_user_id", flat=True))
    assert {s.id for s in strangers} <= named  # named, for "who consulted my data"
    since = moment - timedelta(days=1)
    assert viewed_outside_own_cases(since=since) == {}
    viewed(watched, STRANGERS[:2], at=moment)
    assert viewed_outside_own_cases(since=since) == {watched.id: 2}


def test_views_before_the_day_do_not_count(watched, moment):
    viewed(watched, STRANGERS[:50], at=moment - timedelta(days=2))
    assert viewed_outside_own_cases(since=moment - timedelta(hours=1)) == {}


def test_supervisors_and_managers_are_not_watched(supervisor, manager, moment):
    viewed(supervisor, STRANGERS[:50], at=moment)
    viewed(manager, STRANGERS[:50], at=moment)
    assert viewed_outside_own_cases(since=moment - timedelta(hours=1)) == {}


def test_own_cases_opened_held_or_once_assigned_do_not_count(
    watched,
    user_factory,
    supervisor,
    profile_factory,
    contract,
    open_case_for,
    moment,
    client,
):
    colleague = on_site(
        user_factory("op.bianchi", roles.OPERATOR),
        Site.objects.get(code="pa"),
        profile_factory,
        contracts=(contract,),
    )
    opened = EndUserFactory(client=contract.client)
    open_case_for(opened, actor=watched, now=moment - timedelta(minutes=30))
    held = EndUserFactory(client=contract.client)
    held_case = open_case_for(held, actor=colleague, now=moment - timedelta(minutes=30))
    care_services.assign_case(actor=supervisor, case=held_case, assignee=watched, now=moment)
    once = EndUserFactory(client=contract.client)
    once_case = open_case_for(once, actor=colleague, now=moment - timedelta(minutes=30))
    care_services.assign_case(actor=supervisor, case=once_case, assignee=colleague, now=moment)
    services.reassign_case(
        actor=supervisor, case=once_case, operator=watched, override_reason="Prova", now=moment
    )
    services.reassign_case(
        actor=supervisor, case=once_case, operator=colleague, override_reason="Prova", now=moment
    )
    # Real views of the three people's cases, through the pages the operator uses.
    client.force_login(watched)
    for case in (held_case, once_case):
        assert client.get(reverse("care:case-detail", args=[case.reference])).status_code == 200
    viewed(watched, [opened.id, held.id, once.id], at=moment)
    assert AccessLogSubject.objects.filter(user_id=watched.id).count() == 5
    viewed(watched, STRANGERS[:38], at=moment)
    assert viewed_outside_own_cases(since=moment - timedelta(hours=1)) == {watched.id: 38}


# --- Alerts ---------------------------------------------------------------------------------


@pytest.fixture
def prying(watched, colleagues, site_supervisor, queue_supervisor, far_supervisor, moment):
    """Today the operator viewed 47 strangers and 3 real people outside their cases; three
    colleagues 5 each (median 5: the threshold is the floor, 40)."""
    people = [
        EndUserFactory(
            client=watched.operator_profile.certifications.first().contract.client,
            first_name="Calogero",
            last_name=f"Sciascia{n}",
            phone=f"+39347555000{n}",
        )
        for n in range(3)
    ]
    viewed(watched, [*STRANGERS[:47], *(person.id for person in people)], at=moment)
    busy_colleagues(colleagues, moment)
    return people


def test_an_operator_far_above_their_peers_is_reported_to_their_supervisors(
    prying, watched, site_supervisor, queue_supervisor, moment, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        [alert] = watch_unusual_access(now=moment)
    assert (alert.operator, alert.day, alert.end_users, alert.threshold) == (
        watched,
        timezone.localdate(moment),
        50,
        40,
    )
    assert set(alert.supervisors.all()) == {site_supervisor, queue_supervisor}
    assert AccessAlert.objects.get() == alert


def test_the_threshold_is_the_floor_or_a_multiple_of_the_median():
    assert threshold_for({}) == 40
    assert threshold_for({1: 5, 2: 5, 3: 50}) == 40
    assert threshold_for({1: 20, 2: 30, 3: 100}) == 90


def test_a_day_when_everyone_is_equally_busy_raises_nothing(watched, colleagues, moment):
    viewed(watched, STRANGERS[:50], at=moment)
    busy_colleagues(colleagues, moment, each=50)
    assert watch_unusual_access(now=moment) == []
    assert not AccessAlert.objects.exists()


def test_just_at_the_floor_raises_nothing(watched, colleagues, moment):
    viewed(watched, STRANGERS[:40], at=moment)
    busy_colleagues(colleagues, moment)
    assert watch_unusual_access(now=moment) == []


def test_later_runs_keep_one_alert_and_its_count_current_and_mail_once(
    prying, watched, site_supervisor, queue_supervisor, far_supervisor, moment,
    django_capture_on_commit_callbacks,
):  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        assert len(watch_unusual_access(now=moment)) == 1
    viewed(watched, STRANGERS[47:60], at=moment)  # later the same day (never past midnight)
    with django_capture_on_commit_callbacks(execute=True):
        assert watch_unusual_access(now=moment) == []
    alert = AccessAlert.objects.get()
    assert alert.end_users == 63
    assert sorted(recipient for message in mail.outbox for recipient in message.to) == sorted(
        [site_supervisor.email, queue_supervisor.email]
    )
    assert len(mail.outbox) == 2


def test_the_email_names_the_operator_and_no_end_user(
    prying, watched, moment, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        watch_unusual_access(now=moment)
    assert mail.outbox
    for message in mail.outbox:
        text = f"{message.subject}\n{message.body}"
        assert watched.get_username() in text
        assert "50" in message.body
        for person in prying:
            assert person.last_name not in text
            assert person.first_name not in text
            assert person.phones.get().number[3:] not in text
        assert "900000" not in text


def test_the_task_runs_the_watch(prying, watched):
    assert watch_unusual_access_task() == 1
    assert watch_unusual_access_task() == 0
    assert AccessAlert.objects.get().operator == watched


def test_supervisors_of_an_operator_without_site_or_queue_are_all_supervisors(
    user_factory, supervisor, far_supervisor
):
    loner = user_factory("op.solo", roles.OPERATOR)
    assert set(supervisors_of(loner.id, now=timezone.now())) == {supervisor, far_supervisor}


def test_the_site_supervisors_are_those_the_site_names_not_those_working_there(
    user_factory, sites, profile_factory, site_supervisor, far_supervisor
):
    working_there = on_site(
        user_factory("sup.collega", roles.SUPERVISOR), sites["pa"], profile_factory
    )
    operator = on_site(user_factory("op.pa", roles.OPERATOR), sites["pa"], profile_factory)
    told = supervisors_of(operator.id, now=timezone.now())
    assert told == [site_supervisor]
    assert working_there not in told


# --- The console ----------------------------------------------------------------------------


@pytest.fixture
def alert(prying, moment):
    [alert] = watch_unusual_access(now=moment)
    return alert


def test_the_told_supervisor_sees_the_alert_in_the_console(client, alert, site_supervisor, watched):
    client.force_login(site_supervisor)
    html = client.get(CONSOLE).content.decode()
    assert html.count('data-testid="access-alert"') == 1
    assert watched.get_username() in html
    assert reverse("routing:console-access-alert-ack", args=[alert.id]) in html


def test_another_supervisor_does_not_see_it(client, alert, far_supervisor, watched):
    client.force_login(far_supervisor)
    html = client.get(CONSOLE).content.decode()
    assert 'data-testid="access-alerts"' not in html
    assert open_alerts_for(far_supervisor) == []


def test_an_administrator_sees_every_alert(alert, admin_user):
    assert open_alerts_for(admin_user) == [alert]


def test_acknowledging_removes_it_from_the_console(
    client, alert, site_supervisor, queue_supervisor
):
    client.force_login(site_supervisor)
    response = client.post(reverse("routing:console-access-alert-ack", args=[alert.id]))
    assert response.status_code == 302
    assert response["Location"] == CONSOLE
    alert.refresh_from_db()
    assert alert.acknowledged_by == site_supervisor
    assert alert.acknowledged_at is not None
    assert 'data-testid="access-alert"' not in client.get(CONSOLE).content.decode()
    assert open_alerts_for(queue_supervisor) == []  # one acknowledgement serves all told


def test_acknowledging_twice_keeps_the_first(alert, site_supervisor, queue_supervisor, moment):
    first = acknowledge(user=site_supervisor, alert_id=alert.id, now=moment)
    again = acknowledge(user=queue_supervisor, alert_id=alert.id, now=moment + timedelta(hours=1))
    assert (again.acknowledged_by, again.acknowledged_at) == (
        site_supervisor,
        first.acknowledged_at,
    )


def test_another_supervisors_acknowledgement_is_not_found(client, alert, far_supervisor):
    client.force_login(far_supervisor)
    response = client.post(reverse("routing:console-access-alert-ack", args=[alert.id]))
    assert response.status_code == 404
    assert (
        client.post(reverse("routing:console-access-alert-ack", args=[alert.id + 1000])).status_code
        == 404
    )
    alert.refresh_from_db()
    assert alert.acknowledged_at is None


def test_an_operator_cannot_acknowledge(client, alert, watched):
    client.force_login(watched)
    assert (
        client.post(reverse("routing:console-access-alert-ack", args=[alert.id])).status_code == 403
    )


def test_the_console_costs_the_same_with_more_alerts(
    client, alert, site_supervisor, user_factory, moment
):
    client.force_login(site_supervisor)
    with CaptureQueriesContext(connection) as one:
        client.get(CONSOLE)
    for n in range(4):
        other = user_factory(f"op.x{n}", roles.OPERATOR)
        extra = AccessAlert.objects.create(
            operator=other, day=alert.day, end_users=60, threshold=40, created_at=moment
        )
        extra.supervisors.add(site_supervisor)
    with CaptureQueriesContext(connection) as five:
        html = client.get(CONSOLE).content.decode()
    assert html.count('data-testid="access-alert"') == 5
    assert len(five) == len(one)


# --- The index of end users, written by real requests ---------------------------------------


def subjects_of(user) -> list[tuple[int, str]]:
    return list(
        AccessLogSubject.objects.filter(user_id=user.id)
        .order_by("id")
        .values_list("end_user_id", "entry__route")
    )


@pytest.fixture
def caller_case(open_case_for, end_user):
    return open_case_for(end_user)


def test_a_case_page_names_its_caller(client, operator, caller_case, end_user):
    client.force_login(operator)
    client.get(reverse("care:case-detail", args=[caller_case.reference]))
    assert subjects_of(operator) == [(end_user.id, "care:case-detail")]
    subject = AccessLogSubject.objects.get()
    entry = subject.entry
    assert (subject.at, subject.user_id) == (entry.at, entry.user_id)
    assert entry.detail["end_users"] == [end_user.id]


def test_the_case_api_names_its_caller(operator_api, operator, caller_case, end_user):
    assert operator_api.get(f"/api/v1/cases/{caller_case.reference}/").status_code == 200
    assert subjects_of(operator) == [(end_user.id, "api:case-detail")]


def test_a_referents_case_names_nobody(client, operator, open_case_for, contract):
    referent = Referent.objects.create(client=contract.client, first_name="A", last_name="B")
    case = open_case_for(None, referent_id=referent.id)
    client.force_login(operator)
    assert client.get(reverse("care:case-detail", args=[case.reference])).status_code == 200
    assert AccessLog.objects.filter(route="care:case-detail").count() == 1
    assert subjects_of(operator) == []


def test_a_refused_case_page_names_nobody(client, operator, end_user):
    client.force_login(operator)
    assert client.get(reverse("care:case-detail", args=["CS-2026-999999"])).status_code == 404
    assert AccessLog.objects.get().outcome == "denied"
    assert subjects_of(operator) == []


def test_the_lookup_api_names_who_it_found(operator_api, operator, end_user):
    operator_api.post("/api/v1/lookup/", {"phone": "347 123 4567"}, format="json")
    assert subjects_of(operator) == [(end_user.id, "api:lookup")]


def test_the_intake_lookup_names_who_it_found(client, operator, end_user):
    client.force_login(operator)
    client.post(reverse("care:intake"), {"action": "lookup", "query": "347 123 4567"})
    client.get(reverse("care:intake"))
    assert subjects_of(operator) == [(end_user.id, "care:intake")]


def test_choosing_a_caller_the_search_did_not_find_is_refused_and_names_nobody(
    client, operator, end_user, contract
):
    stranger = EndUserFactory(client=contract.client, phone="+393489999999")
    other = EndUserFactory(client=contract.client, phone="+393481111111")
    client.force_login(operator)
    client.post(reverse("care:intake"), {"action": "lookup", "query": "347 123 4567"})
    client.get(reverse("care:intake"))
    refused = client.post(
        reverse("care:intake-caller"), {"end_user": stranger.id, "contract": contract.code}
    )
    assert refused.status_code == 403
    row = AccessLog.objects.get(route="care:intake-caller")
    assert (row.outcome, row.status_code) == ("denied", 403)
    assert stranger.id not in {s for s, _ in subjects_of(operator)}
    assert other.id not in {s for s, _ in subjects_of(operator)}


def test_the_end_user_list_api_names_everyone_listed(manager_api, manager, contract):
    people = [EndUserFactory(client=contract.client) for _ in range(3)]
    assert manager_api.get("/api/v1/end-users/").status_code == 200
    assert sorted(subjects_of(manager)) == sorted((p.id, "api:end-user-list") for p in people)


@pytest.mark.postgres
def test_postgresql_refuses_to_change_or_remove_an_index_row(operator, moment):
    entry = viewed(operator, [1, 2], at=moment)
    subject = entry.subjects.order_by("id").first()
    for statement in (
        "UPDATE config_accesslogsubject SET end_user_id = 7 WHERE id = %s",
        "DELETE FROM config_accesslogsubject WHERE id = %s",
    ):
        with (
            pytest.raises(DatabaseError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(statement, [subject.id])
    assert AccessLogSubject.objects.filter(entry=entry).count() == 2
    assert AccessLogSubject.objects.get(id=subject.id).end_user_id == 1


def test_a_closed_case_is_still_the_operators_own(
    watched, open_case_for, contract, operator, moment
):
    """A case closed long ago still makes its caller the operator's own (not unusual)."""
    person = EndUserFactory(client=contract.client)
    case = open_case_for(person, actor=operator, now=moment - timedelta(minutes=30))
    for to in (CaseStatus.RESOLVED, CaseStatus.CLOSED):
        case = care_services.transition_case(
            actor=operator, case=case, to=to, resolution_code=CLOSING_CODE, now=moment
        )
    viewed(operator, [person.id], at=moment)
    assert viewed_outside_own_cases(since=moment - timedelta(hours=1)) == {}


def test_the_console_without_alerts_shows_no_panel(client, supervisor, default_queue):
    client.force_login(supervisor)
    assert 'data-testid="access-alerts"' not in client.get(CONSOLE).content.decode()


# --- The e-mail: an outbox row, retried with backoff ----------------------------------------


@pytest.fixture
def smtp_down(monkeypatch):
    """The mail server refuses every message until `smtp_down.up()`."""

    class Down:
        tries = 0

        def refuse(self, *args, **kwargs):
            self.tries += 1
            raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")

        def up(self):
            monkeypatch.setattr(access_watch, "send_mail", real_send_mail)

    down = Down()
    real_send_mail = access_watch.send_mail
    monkeypatch.setattr(access_watch, "send_mail", down.refuse)
    return down


def test_an_email_that_fails_is_sent_again_later_and_only_once(
    prying, watched, site_supervisor, queue_supervisor, moment, smtp_down,
    django_capture_on_commit_callbacks,
):  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        watch_unusual_access(now=moment)  # the task sent after commit meets the SMTP outage
    assert smtp_down.tries == 2
    assert mail.outbox == []
    rows = AccessAlertEmail.objects.order_by("id")
    assert [(r.attempts, r.sent_at, r.claimed_at) for r in rows] == [(1, None, None)] * 2
    assert send_access_alert_emails(now=moment + timedelta(seconds=30)).sent == 0  # backoff
    smtp_down.up()
    run = send_access_alert_emails(now=moment + timedelta(minutes=2))
    assert (run.sent, run.failed) == (2, 0)
    assert sorted(m.to[0] for m in mail.outbox) == sorted(
        [site_supervisor.email, queue_supervisor.email]
    )
    # Sent is sent: later runs (beat, a repeated task) send nothing more.
    assert send_access_alert_emails(now=moment + timedelta(hours=1)).sent == 0
    assert send_access_alert_emails_task() == 0
    assert len(mail.outbox) == 2
    assert all(r.sent_at is not None and r.attempts == 2 for r in rows.all())


def test_a_success_is_not_sent_twice(
    prying, watched, site_supervisor, queue_supervisor, moment, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        watch_unusual_access(now=moment)
    assert len(mail.outbox) == 2
    assert send_access_alert_emails(now=moment + timedelta(hours=1)).sent == 0
    assert len(mail.outbox) == 2


def test_the_retries_back_off_and_stop(
    prying, watched, site_supervisor, queue_supervisor, moment, smtp_down,
    django_capture_on_commit_callbacks,
):  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        watch_unusual_access(now=moment)
    at, delays = moment, []
    for _attempt in range(2, EMAIL_MAX_ATTEMPTS + 2):
        due = AccessAlertEmail.objects.order_by("id").first().next_attempt_at
        delays.append(round((due - at).total_seconds() / 60))
        at = due
        send_access_alert_emails(now=at)
    assert delays == [1, 2, 4, 8, 16, 32]
    assert smtp_down.tries == 2 * EMAIL_MAX_ATTEMPTS  # then given up, the alert in the console
    assert set(AccessAlertEmail.objects.values_list("attempts", "sent_at")) == {
        (EMAIL_MAX_ATTEMPTS, None)
    }


def test_a_claim_left_by_a_dead_worker_is_taken_again(
    prying, watched, moment, smtp_down, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        watch_unusual_access(now=moment)
    smtp_down.up()
    later = moment + timedelta(minutes=5)
    AccessAlertEmail.objects.update(claimed_at=later)  # a run that died before sending
    assert send_access_alert_emails(now=later).sent == 0
    assert send_access_alert_emails(now=later + EMAIL_CLAIM_TIMEOUT + timedelta(seconds=1)).sent
