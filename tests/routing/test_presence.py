"""Presence and adherence: the day's time per state from a hand-written history (a change
spanning midnight split between its days, the open interval counted to now), the
supervisor's "who is signed in" limited to their sites, the operator's own days, and the
managers' report (per site, per queue; per operator only for supervisors and admins)."""

import random
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from reports import definitions
from reports.forms import ReportFilterForm
from routing import presence
from routing.models import Assignment, OperatorProfile, PresenceChange, PresenceState, Site
from routing.scope import supervisor_scope

pytestmark = pytest.mark.django_db

ROME = ZoneInfo("Europe/Rome")
TUESDAY = date(2026, 12, 1)  # the day before `now` (Wednesday 2 December, 10:00)
S = PresenceState


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 12 if day < 30 else 11, day, hour, minute, tzinfo=ROME)


# Monday 30/11 22:00 available; Tuesday by hand; Wednesday 00:15 offline, 09:00 available
# (still, at 10:00: the open interval).
HISTORY = [
    (at(30, 22), S.OFFLINE, S.AVAILABLE),
    (at(1, 0, 30), S.AVAILABLE, S.OFFLINE),
    (at(1, 8), S.OFFLINE, S.AVAILABLE),
    (at(1, 9), S.AVAILABLE, S.ON_CALL),
    (at(1, 9, 20), S.ON_CALL, S.WRAP_UP),
    (at(1, 9, 25), S.WRAP_UP, S.AVAILABLE),
    (at(1, 12), S.AVAILABLE, S.AWAY),
    (at(1, 13), S.AWAY, S.AVAILABLE),
    (at(1, 17), S.AVAILABLE, S.BUSY),
    (at(1, 18), S.BUSY, S.OFFLINE),
    (at(1, 23), S.OFFLINE, S.AWAY),  # away across midnight
    (at(2, 0, 15), S.AWAY, S.OFFLINE),
    (at(2, 9), S.OFFLINE, S.AVAILABLE),
]
# Tuesday, by hand (minutes): available 30 + 60 + 155 + 240; busy 20 + 5 + 60 (on a call,
# after-call work, busy); away 60 + 60 (lunch, 23:00-24:00); offline 450 + 300.
TUESDAY_MINUTES = {"available": 485, "busy": 85, "away": 120, "offline": 750}
# Wednesday to 10:00: away 15 (the rest of the night's interval), offline 525, available 60.
WEDNESDAY_MINUTES = {"available": 60, "busy": 0, "away": 15, "offline": 525}


def write_history(profile: OperatorProfile, history=HISTORY, shift=timedelta(0)) -> None:
    PresenceChange.objects.bulk_create(
        PresenceChange(profile=profile, at=when + shift, from_state=old, to_state=new)
        for when, old, new in history
    )
    last_at, _old, last = history[-1]
    OperatorProfile.objects.filter(id=profile.id).update(
        presence=last, presence_since=last_at + shift
    )


def minutes(totals: presence.Totals) -> dict:
    return {bucket: round(totals.seconds[bucket] / 60) for bucket in presence.BUCKETS}


@pytest.fixture
def milano(db):
    return Site.objects.create(code="mi", name="Milano", province="MI")


@pytest.fixture
def palermo(db):
    return Site.objects.create(code="pa", name="Palermo", province="PA")


@pytest.fixture
def mario(user_factory, milano):
    user = user_factory("mario", first_name="Mario", last_name="Rossi")
    profile = OperatorProfile.objects.create(user=user, site=milano, remote=True)
    write_history(profile)
    return profile


@pytest.fixture
def rosa(user_factory, palermo):
    """A Palermo operator with the same history an hour later."""
    user = user_factory("rosa", first_name="Rosa", last_name="Lo Cascio")
    profile = OperatorProfile.objects.create(user=user, site=palermo)
    write_history(profile, shift=timedelta(hours=-1))
    return profile


@pytest.fixture
def milano_supervisor(supervisor, milano):
    milano.supervisors.add(supervisor)
    return supervisor


def test_a_hand_written_day_is_split_at_midnight_and_counted_to_now(mario, now):
    days = presence.presence_by_day(
        OperatorProfile.objects.all(), date_from=TUESDAY, date_to=now.date(), now=now
    )[mario.id]
    assert minutes(days[TUESDAY]) == TUESDAY_MINUTES
    assert minutes(days[now.date()]) == WEDNESDAY_MINUTES
    assert set(days) == {TUESDAY, now.date()}


def test_the_state_before_the_period_comes_from_the_last_earlier_change(mario, now):
    monday = date(2026, 11, 30)
    days = presence.presence_by_day(
        OperatorProfile.objects.filter(id=mario.id), date_from=monday, date_to=monday, now=now
    )[mario.id]
    assert minutes(days[monday]) == {"available": 120, "busy": 0, "away": 0, "offline": 1320}


def test_occupancy_is_busy_over_available_and_busy(mario, now):
    days = presence.presence_by_day(
        OperatorProfile.objects.all(), date_from=TUESDAY, date_to=TUESDAY, now=now
    )
    tuesday = days[mario.id][TUESDAY]
    assert tuesday.occupancy == round(100 * 85 / (485 + 85), 1)
    assert tuesday.clock["available"] == "8:05"
    assert tuesday.clock["logged_in"] == "11:30"


def test_the_reading_takes_a_fixed_number_of_queries(mario, rosa, now, django_assert_num_queries):
    with django_assert_num_queries(2):
        presence.presence_by_day(
            OperatorProfile.objects.all(), date_from=TUESDAY, date_to=now.date(), now=now
        )


def test_a_milano_supervisor_sees_milano_operators_and_not_palermo(
    client, milano_supervisor, mario, rosa, django_assert_max_num_queries
):
    client.force_login(milano_supervisor)
    with django_assert_max_num_queries(12):
        response = client.get(reverse("routing:presence-board"), {"day": TUESDAY.isoformat()})
    assert response.status_code == 200
    body = response.content.decode()
    assert 'data-username="mario"' in body
    assert 'data-username="rosa"' not in body
    assert "Lo Cascio" not in body
    row = next(r for r in response.context["rows"] if r.username == "mario")
    assert minutes(row.totals) == TUESDAY_MINUTES


def test_who_is_signed_in_now_says_since_when_where_and_the_cases_in_hand(
    client, milano_supervisor, mario, now
):
    client.force_login(milano_supervisor)
    response = client.get(reverse("routing:presence-board"))
    assert response.status_code == 200
    (online,) = response.context["online"]
    assert online.username == "mario"
    assert online.presence == S.AVAILABLE
    assert online.since == at(2, 9)
    assert online.remote is True
    assert online.held == 0
    assert minutes(online.totals) == WEDNESDAY_MINUTES


def test_a_supervisor_with_no_site_is_told_so_and_sees_nobody(client, unplaced_supervisor, mario):
    client.force_login(unplaced_supervisor)
    response = client.get(reverse("routing:presence-board"))
    assert response.status_code == 200
    assert response.context["scope_empty"] is True
    assert 'data-username="mario"' not in response.content.decode()
    assert supervisor_scope(unplaced_supervisor).empty


def test_the_board_refuses_operators_and_a_bad_day_is_a_form_error(
    client, operator, milano_supervisor
):
    client.force_login(operator)
    assert client.get(reverse("routing:presence-board")).status_code == 403
    client.force_login(milano_supervisor)
    response = client.get(reverse("routing:presence-board"), {"day": "31/31/2026"})
    assert response.status_code == 400
    assert response.context["form"].errors


def test_an_operator_sees_their_own_days(client, mario, now):
    client.force_login(mario.user)
    response = client.get(
        reverse("routing:presence-history"),
        {"date_from": TUESDAY.isoformat(), "date_to": "2026-12-05"},
    )
    assert response.status_code == 200
    days = dict(response.context["days"])
    assert list(days) == [now.date(), TUESDAY]  # days to come are left out, newest first
    assert minutes(days[TUESDAY]) == TUESDAY_MINUTES
    total = response.context["total"]
    assert round(total.seconds["available"] / 60) == 485 + 60


def test_an_operators_history_refuses_a_reversed_or_too_long_period(client, mario):
    client.force_login(mario.user)
    url = reverse("routing:presence-history")
    reversed_period = client.get(url, {"date_from": "2026-12-02", "date_to": "2026-12-01"})
    assert reversed_period.status_code == 400
    too_long = client.get(url, {"date_from": "2026-01-01", "date_to": "2026-12-01"})
    assert too_long.status_code == 400


# --- The managers' report --------------------------------------------------------------------


def report_rows(user, now, **query) -> list[dict]:
    form = ReportFilterForm({"from": "2026-12-01", "to": "2026-12-01", **query})
    assert form.is_valid(), form.errors
    return list(definitions.get("presence").rows(form.filters(), user, now))


@pytest.fixture
def queue_taken_by_mario(mario, open_case_for, end_user, now):
    case = open_case_for(end_user)
    Assignment.objects.create(
        case=case,
        operator=mario.user,
        queue_code="generale",
        at=at(1, 11),
        level="contract",
        reason="test",
    )
    return "generale"


def test_the_report_adds_up_sites_and_queues_as_computed_by_hand(
    manager, mario, rosa, queue_taken_by_mario, now
):
    rows = report_rows(manager, now)
    by_site = {r["site"]: r for r in rows if r["site"] and not r["operator"]}
    assert by_site["Milano"]["available_h"] == round(485 / 60, 2)
    assert by_site["Milano"]["busy_h"] == round(85 / 60, 2)
    assert by_site["Milano"]["away_h"] == 2.0
    assert by_site["Milano"]["offline_h"] == 12.5
    assert by_site["Milano"]["operators"] == 1
    assert by_site["Milano"]["occupancy"] == round(100 * 85 / 570, 1)
    # Rosa's day is Mario's an hour earlier: Monday 21:00 available runs to 23:30 Monday,
    # her Tuesday ends at 22:00 away until 23:15: the same minutes but distributed.
    assert by_site["Palermo"]["operators"] == 1
    palermo = by_site["Palermo"]
    hours = palermo["available_h"] + palermo["busy_h"] + palermo["away_h"] + palermo["offline_h"]
    assert hours == pytest.approx(24, abs=0.02)
    (queue,) = [r for r in rows if r["queue_code"]]
    assert queue["queue_code"] == queue_taken_by_mario
    assert queue["operators"] == 1
    assert queue["available_h"] == by_site["Milano"]["available_h"]
    # A manager sees sites and queues, never one operator.
    assert not [r for r in rows if r["operator"]]


def test_per_operator_rows_only_for_the_operators_supervisors_and_admins(
    milano_supervisor, admin_user, mario, rosa, now
):
    supervised = [r["operator"] for r in report_rows(milano_supervisor, now) if r["operator"]]
    assert supervised == ["Mario Rossi"]
    everyone = [r["operator"] for r in report_rows(admin_user, now) if r["operator"]]
    assert sorted(everyone) == ["Mario Rossi", "Rosa Lo Cascio"]


def test_the_site_filter_narrows_the_operators(manager, mario, rosa, now):
    rows = report_rows(manager, now, site="pa")
    assert {r["site"] for r in rows} == {"Palermo"}


def test_the_report_page_and_its_export(client, manager, mario, now):
    client.force_login(manager)
    url = reverse("reports:report", args=["presence"])
    page = client.get(url, {"from": "2026-12-01", "to": "2026-12-01"})
    assert page.status_code == 200
    export = client.get(url, {"from": "2026-12-01", "to": "2026-12-01", "export": "csv"})
    assert export.status_code == 200
    body = b"".join(export.streaming_content).decode("utf-8-sig")
    assert "Milano" in body


def test_the_report_in_the_api_has_the_same_numbers(manager_api, mario, now):
    response = manager_api.get(
        "/api/v1/reports/presence/", {"from": "2026-12-01", "to": "2026-12-01"}
    )
    assert response.status_code == 200
    (milano,) = [r for r in response.json()["rows"] if r["site"] == "Milano"]
    assert milano["available_h"] == round(485 / 60, 2)
    assert milano["occupancy"] == round(100 * 85 / 570, 1)


def test_the_report_page_takes_a_bounded_number_of_queries(
    client, admin_user, mario, rosa, queue_taken_by_mario, django_assert_max_num_queries
):
    client.force_login(admin_user)
    url = reverse("reports:report", args=["presence"])
    with django_assert_max_num_queries(30):
        response = client.get(url, {"from": "2026-11-25", "to": "2026-12-02"})
    assert response.status_code == 200
    assert len(response.context["table"]) == 2 + 1 + 2  # sites, the queue, the operators


# --- The SQL totals against a plain reference over random histories ------------------------


def midnight(day: date) -> datetime:
    """The instant (UTC) a Rome day begins: aware arithmetic in UTC counts real seconds."""
    return datetime.combine(day, datetime.min.time(), tzinfo=ROME).astimezone(UTC)


def reference_by_day(profile_ids, *, date_from, date_to, now) -> dict:
    """The totals the plain way: every change of each operator in order, each interval walked
    day by day over Rome's midnights (zoneinfo), seconds added as they come."""
    start = midnight(date_from)
    end = min(midnight(date_to + timedelta(days=1)), now.astimezone(UTC))
    result: dict = {}
    for profile_id in profile_ids:
        changes = list(
            PresenceChange.objects.filter(profile_id=profile_id)
            .order_by("at", "id")
            .values_list("at", "to_state")
        )
        state = S.OFFLINE
        points = []
        for when, new in changes:
            if when < start:
                state = new
            elif when < end:
                points.append((when, new))
        intervals = [(start, points[0][0] if points else end, state)]
        for i, (when, new) in enumerate(points):
            intervals.append((when, points[i + 1][0] if i + 1 < len(points) else end, new))
        by_day: dict = {}
        for begin, finish, new in intervals:
            while begin < finish:
                day = begin.astimezone(ROME).date()
                piece = min(finish, midnight(day + timedelta(days=1)))
                seconds = by_day.setdefault(day, dict.fromkeys(presence.BUCKETS, 0.0))
                seconds[presence.BUCKET_OF[new]] += (piece - begin).total_seconds()
                begin = piece
        result[profile_id] = by_day
    return result


# Periods around Rome's DST changes (a 25-hour and a 23-hour day) and an ordinary week.
PERIODS = [
    (date(2026, 10, 23), date(2026, 10, 27)),
    (date(2027, 3, 26), date(2027, 3, 29)),
    (date(2026, 11, 24), date(2026, 12, 1)),
]


def random_history(rng: random.Random, date_from: date, date_to: date) -> list:
    """Changes from two days before the period to a day after it: random instants (with
    microseconds, some at a second's very end), some exactly at a Rome midnight, some at the
    same instant as the last."""
    low = midnight(date_from - timedelta(days=2))
    span = (date_to - date_from).days + 4
    states = [choice for choice, _label in S.choices]
    history, when = [], None
    for _ in range(rng.randint(0, 80)):
        pick = rng.random()
        if pick < 0.1:
            when = midnight(date_from + timedelta(days=rng.randint(-1, span - 2)))
        elif pick > 0.95 and when is not None:
            pass  # two changes at the same instant: their order is the id's
        else:
            when = low + timedelta(seconds=rng.uniform(0, span * 86400))
            if pick < 0.3:  # a fraction that rounds up to the next second in milliseconds
                when = when.replace(microsecond=rng.choice([999_999, 999_500, 500, 1]))
        history.append((when, S.OFFLINE, rng.choice(states)))
    return history


@pytest.mark.parametrize("seed", range(12))
def test_the_sql_totals_equal_a_plain_reference_over_random_histories(
    seed, user_factory, django_assert_num_queries
):
    rng = random.Random(seed)
    date_from, date_to = PERIODS[seed % len(PERIODS)]
    profiles = []
    for i in range(4):
        profile = OperatorProfile.objects.create(user=user_factory(f"op{i}"))
        PresenceChange.objects.bulk_create(
            PresenceChange(profile=profile, at=when, from_state=old, to_state=new)
            for when, old, new in random_history(rng, date_from, date_to)
        )
        profiles.append(profile.id)
    # `now` inside the last day (its figures run up to now) or after the period.
    now = midnight(date_to) + timedelta(seconds=rng.uniform(0, 2 * 86400))
    with django_assert_num_queries(2):  # the state before the period, then the intervals
        got = presence.presence_by_day(
            OperatorProfile.objects.filter(id__in=profiles),
            date_from=date_from,
            date_to=date_to,
            now=now,
        )
    expected = reference_by_day(profiles, date_from=date_from, date_to=date_to, now=now)
    assert set(got) == set(profiles)
    for profile_id in profiles:
        days = {day: totals.seconds for day, totals in got[profile_id].items()}
        expected_days = expected[profile_id]
        assert set(days) == set(expected_days)
        for day, seconds in expected_days.items():
            assert days[day] == pytest.approx(seconds, abs=1e-6), (profile_id, day)
        # A whole day adds up to its length (23 or 25 hours on a DST change), today to now.
        for day, seconds in days.items():
            ran = min(now, midnight(day + timedelta(days=1))) - midnight(day)
            assert sum(seconds.values()) == pytest.approx(ran.total_seconds(), abs=1e-6)
    # The period's totals (what the report reads) are the days added up.
    with django_assert_num_queries(2):
        totals = presence.presence_totals(
            OperatorProfile.objects.filter(id__in=profiles),
            date_from=date_from,
            date_to=date_to,
            now=now,
        )
    for profile_id in profiles:
        expected_total = dict.fromkeys(presence.BUCKETS, 0.0)
        for seconds in expected[profile_id].values():
            for bucket, value in seconds.items():
                expected_total[bucket] += value
        assert totals[profile_id].seconds == pytest.approx(expected_total, abs=1e-6)
