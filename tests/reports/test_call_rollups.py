"""The calls rollup (#25): the `calls` report read from it gives the rows of its live
definition, kept incrementally it holds the rows rebuilt from scratch, a threshold change and
a late event on an old call are followed.

The history is random but seeded: calls over six days across the end of summer time (25
October 2026, when 02:00-03:00 happens twice in Rome), answered by operators of two sites
and one without a site, abandoned (some within 5 s), missed, in two queues with different
thresholds, from callers of one client, of two clients and unknown; all through the
telephony service (`routing.calls.receive_event`), the rollups refreshed as the clock moves."""

import random
from datetime import UTC, date, datetime, timedelta

import pytest

from config.bench import data as bench_data
from config.bench import rollups as rollups_step
from reports import call_rollups, definitions, rollups
from reports.forms import ReportFilters
from reports.models import CallRollup
from routing import calls
from routing.call_facts import Event
from routing.models import DEFAULT_QUEUE, Call, Queue, Site
from tests.factories import ClientFactory, EndUserFactory
from tests.routing.conftest import make_profile

pytestmark = pytest.mark.django_db

ZONE = call_rollups.ZONE
START = datetime(2026, 10, 22, 0, 0, tzinfo=UTC)  # Thursday; summer time ends on Sunday 25
END = datetime(2026, 10, 27, 11, 0, tzinfo=UTC)  # "today": Tuesday 27
TODAY = date(2026, 10, 27)
# Both 02:10 of 25 October (CEST, then CET) and the half hours around them.
TWICE = [datetime(2026, 10, 25, h, m, tzinfo=UTC) for h in (0, 1) for m in (10, 40)]
ONE_CLIENT, TWO_CLIENTS, UNKNOWN = "+393471110001", "+393471110002", "+393471110009"


@pytest.fixture
def world(user_factory, time_machine):
    """Two clients (a number of each, one number of both), two queues, operators of Milano,
    Palermo and of no site."""
    time_machine.move_to(START - timedelta(days=1))
    default_queue, _created = Queue.objects.get_or_create(
        code=DEFAULT_QUEUE, defaults={"name": "Generale"}
    )
    comune, regione, other = (ClientFactory(name=n) for n in ("Comune", "Regione", "Altro"))
    EndUserFactory(client=comune, phone=ONE_CLIENT)
    EndUserFactory(client=comune, phone=TWO_CLIENTS)
    EndUserFactory(client=regione, phone=TWO_CLIENTS)
    Queue.objects.filter(code=default_queue.code).update(service_level_seconds=20)
    Queue.objects.create(code="mobile", name="Mobile", service_level_seconds=30)
    milano = Site.objects.create(code="mi", name="Milano", province="MI")
    palermo = Site.objects.create(code="pa", name="Palermo", province="PA")
    operators = []
    for name, site in (("op.mi", milano), ("op.pa", palermo), ("op.none", None)):
        user = user_factory(name)
        make_profile(user, site=site, now=START - timedelta(days=1))
        operators.append(user.username)
    return {
        "clients": (comune, regione, other),
        "sites": (milano, palermo),
        "operators": operators,
        "queues": [default_queue.code, "mobile"],
    }


def send(call_id: str, event: Event, time_machine) -> None:
    time_machine.move_to(event.at)
    calls.receive_event(event, call_id=call_id, now=event.at)


def place_call(rng, n: int, at: datetime, world, time_machine) -> None:
    """One call through the telephony service: offered at `at`, then answered, abandoned or
    missed (or left waiting, to end later)."""
    call_id = f"c-{n}"
    number = rng.choice([ONE_CLIENT, TWO_CLIENTS, UNKNOWN, ""])
    queue = rng.choice(world["queues"])
    send(call_id, Event("newCall", at, caller_number=number, queue=queue), time_machine)
    wait = rng.choice([1, 3, 8, 15, 25, 40, 90])
    roll = rng.random()
    if roll < 0.55:
        operator = rng.choice(world["operators"])
        send(
            call_id, Event("answer", at + timedelta(seconds=wait), operator=operator), time_machine
        )
        talk = timedelta(seconds=wait + rng.randint(20, 400))
        send(call_id, Event("hangup", at + talk, cause="normal"), time_machine)
    elif roll < 0.8:
        send(call_id, Event("hangup", at + timedelta(seconds=wait), cause="normal"), time_machine)
    elif roll < 0.95:
        cause = "no_answer"
        send(call_id, Event("hangup", at + timedelta(seconds=wait), cause=cause), time_machine)
    # else: still waiting (the test may end it days later)


def run_history(seed: int, world, time_machine, *, refresh: bool = True) -> None:
    rng = random.Random(seed)
    minutes = int((END - START).total_seconds() // 60)
    instants = sorted(
        [START + timedelta(minutes=rng.randrange(minutes)) for _ in range(140)] + TWICE
    )
    for n, at in enumerate(instants):
        place_call(rng, n, at, world, time_machine)
        if refresh and n % 15 == 0:
            time_machine.move_to(at + timedelta(minutes=1))
            rollups.refresh_rollups(now=at + timedelta(minutes=1))
    time_machine.move_to(END)
    if refresh:
        rollups.refresh_rollups(now=END)


def filter_sets(world) -> list[ReportFilters]:
    comune, regione, other = world["clients"]
    milano, palermo = world["sites"]
    mobile = Queue.objects.get(code="mobile")
    whole = {"date_from": START.date() - timedelta(days=1), "date_to": TODAY}
    return [
        ReportFilters(**whole),
        ReportFilters(**whole, client=comune),
        ReportFilters(**whole, client=regione),
        ReportFilters(**whole, client=other),  # no call
        ReportFilters(**whole, site=milano),
        ReportFilters(**whole, queue=mobile),
        ReportFilters(**whole, client=comune, site=palermo, queue=mobile),
        ReportFilters(date_from=date(2026, 10, 24), date_to=date(2026, 10, 25)),
        ReportFilters(date_from=date(2026, 10, 25), date_to=TODAY, client=regione),
    ]


def assert_same_as_live(filters: ReportFilters, manager) -> None:
    read = definitions.call_rows(filters, manager, END)
    live = list(definitions.live_call_rows(filters, manager, END))
    assert list(read) == live, filters
    assert read.count() == len(live)
    assert read.page(3, 7) == live[3:10]
    tail = max(len(live) - 2, 0)
    assert read[tail : len(live) + 5] == live[tail:]


def stored_rows() -> set[tuple]:
    fields = ("day", "half_hour", "queue_code", "site_id", "client_id", "all_sites", "threshold")
    return set(CallRollup.objects.values_list(*fields, *call_rollups.COUNTS))


def stored_count(filters: ReportFilters) -> int:
    return call_rollups.call_groups(filters, rollups.final_through()).stored_count()


@pytest.mark.parametrize("seed", [3, 8])
def test_the_calls_report_on_the_rollup_gives_the_live_rows(
    seed, world, time_machine, manager, django_assert_max_num_queries
):
    run_history(seed, world, time_machine)
    assert rollups.final_through() == TODAY - timedelta(days=1)
    offered = Call.objects.filter(offered_at__gte=START).count()
    every_call = CallRollup.objects.filter(client=None, day__lt=TODAY, all_sites=True)
    by_site = CallRollup.objects.filter(client=None, day__lt=TODAY, all_sites=False)
    assert sum(by_site.values_list("offered", flat=True)) == sum(
        every_call.values_list("offered", flat=True)
    )
    assert sum(every_call.values_list("offered", flat=True)) == (
        Call.objects.filter(offered_at__lt=datetime(2026, 10, 26, 23, 0, tzinfo=UTC)).count()
    )
    assert offered > 100
    assert CallRollup.objects.filter(day=TODAY).exists()  # written, but read live
    for filters in filter_sets(world):
        assert_same_as_live(filters, manager)
    assert stored_count(filter_sets(world)[0]) > 0  # the past days came from the rollup
    # A page costs the same few statements whatever the period: the rows are read a page at
    # a time (the count, then the page's rows).
    with django_assert_max_num_queries(10):
        read = definitions.call_rows(filter_sets(world)[0], manager, END)
        assert read.count() > 50
        assert len(read.page(0, 50)) == 50
    # The hour that happens twice is one half-hour row per queue, as the live report has it.
    twice = [
        row
        for row in definitions.call_rows(filter_sets(world)[0], manager, END)
        if row["half_hour"].date() == date(2026, 10, 25) and row["half_hour"].hour == 2
    ]
    in_both = Call.objects.filter(offered_at__gte=TWICE[0].replace(minute=0), offered_at__lt=END)
    in_both = in_both.filter(offered_at__lt=TWICE[-1].replace(hour=2, minute=0))
    assert sum(row["offered"] for row in twice) == in_both.count() >= len(TWICE)
    assert len({(row["half_hour"], row["queue_code"]) for row in twice}) == len(twice)


@pytest.mark.parametrize("seed", [4, 9])
def test_the_calls_rollup_kept_incrementally_equals_the_rollup_rebuilt(seed, world, time_machine):
    run_history(seed, world, time_machine)
    incremental = stored_rows()
    assert incremental
    CallRollup.objects.all().delete()
    rollups.rebuild_rollups(now=END)
    assert stored_rows() == incremental


def test_a_threshold_change_is_read_live_then_written_again(world, time_machine, manager):
    run_history(5, world, time_machine)
    whole = filter_sets(world)[0]
    before = list(definitions.call_rows(whole, manager, END))
    Queue.objects.filter(code="mobile").update(service_level_seconds=10)
    after = list(definitions.call_rows(whole, manager, END))
    assert after != before  # the service level of the mobile queue moved at once
    assert stored_count(whole) == 0  # read live until the rollup is written again
    for filters in filter_sets(world):
        assert_same_as_live(filters, manager)
    later = END + timedelta(minutes=5)
    time_machine.move_to(later)
    rollups.refresh_rollups(now=later)
    assert not CallRollup.objects.filter(queue_code="mobile").exclude(threshold=10).exists()
    assert stored_count(whole) > 0
    for filters in filter_sets(world):
        assert_same_as_live(filters, manager)
    rebuilt = stored_rows()
    CallRollup.objects.all().delete()
    rollups.rebuild_rollups(now=later)
    assert stored_rows() == rebuilt


def test_a_late_event_on_an_old_call_corrects_its_day(world, time_machine, manager):
    run_history(6, world, time_machine)
    old = datetime(2026, 10, 23, 9, 0, tzinfo=UTC)
    time_machine.move_to(END + timedelta(minutes=1))
    offered = Event("newCall", old, caller_number=TWO_CLIENTS, queue="mobile")
    calls.receive_event(offered, call_id="late-1", now=END)  # a lost event, sent again
    rollups.refresh_rollups(now=END + timedelta(minutes=1))
    whole = filter_sets(world)[0]
    assert_same_as_live(whole, manager)
    # Four days later the PBX's answer and hang-up of that call arrive.
    answered = Event("answer", old + timedelta(seconds=12), operator="op.pa")
    calls.receive_event(answered, call_id="late-1", now=END + timedelta(minutes=2))
    ended = Event("hangup", old + timedelta(seconds=200), cause="normal")
    calls.receive_event(ended, call_id="late-1", now=END + timedelta(minutes=2))
    # A call first known by its answer just after midnight (Rome, 24 October)...
    midnight = datetime(2026, 10, 23, 22, 0, tzinfo=UTC)
    answered = Event("answer", midnight + timedelta(seconds=2), operator="op.mi")
    calls.receive_event(answered, call_id="late-2", now=END + timedelta(minutes=2))
    time_machine.move_to(END + timedelta(minutes=6))
    rollups.refresh_rollups(now=END + timedelta(minutes=6))
    assert Call.objects.get(call_id="late-2").offered_at.astimezone(ZONE).day == 24
    for filters in filter_sets(world):
        assert_same_as_live(filters, manager)
    # ... then its new-call event, from before midnight: it moves to the 23rd.
    offered = Event("newCall", midnight - timedelta(seconds=10), queue="mobile")
    calls.receive_event(offered, call_id="late-2", now=END + timedelta(minutes=7))
    time_machine.move_to(END + timedelta(minutes=11))
    rollups.refresh_rollups(now=END + timedelta(minutes=11))
    assert Call.objects.get(call_id="late-2").offered_at.astimezone(ZONE).day == 23
    for filters in filter_sets(world):
        assert_same_as_live(filters, manager)
    incremental = stored_rows()
    CallRollup.objects.all().delete()
    rollups.rebuild_rollups(now=END + timedelta(minutes=11))
    assert stored_rows() == incremental


def test_a_call_counts_once_per_client_and_once_in_all(world, time_machine, manager):
    comune, regione, other = world["clients"]
    at = datetime(2026, 10, 23, 8, 5, tzinfo=UTC)
    for call_id, number in (("two", TWO_CLIENTS), ("none", UNKNOWN), ("one", ONE_CLIENT)):
        send(call_id, Event("newCall", at, caller_number=number, queue="mobile"), time_machine)
        send(call_id, Event("hangup", at + timedelta(seconds=30), cause="normal"), time_machine)
    # A second end user of the same client on one call still counts the call once for it.
    Call.objects.get(call_id="one").end_users.add(EndUserFactory(client=comune))
    time_machine.move_to(END)
    rollups.refresh_rollups(now=END)

    def offered(client) -> int:
        rows = CallRollup.objects.filter(client=client, day=at.date(), all_sites=True)
        return sum(rows.values_list("offered", flat=True))

    assert (offered(None), offered(comune), offered(regione), offered(other)) == (3, 2, 1, 0)
    for filters in filter_sets(world):
        assert_same_as_live(filters, manager)
    by_client = ReportFilters(date_from=at.date(), date_to=at.date(), client=comune)
    assert [row["abandoned"] for row in definitions.call_rows(by_client, manager, END)] == [2]


@pytest.mark.postgres
def test_the_bench_rollups_step_writes_the_calls_rollup(world, time_machine):
    """`config.bench.rollups` (version 2) writes the calls rollup of the data set too: the
    rows `rebuild_rollups` writes."""
    run_history(2, world, time_machine, refresh=False)
    bench_data._write_marker(scale="bench-small", seed=1, as_of=END, seconds=1.0, counts={})

    counts = rollups_step.build_rollups(progress=bench_data.Progress(quiet=True))

    assert counts["reports.CallRollup"] == CallRollup.objects.count() > 0
    assert bench_data.read_marker()["counts"]["reports.CallRollup"] == counts["reports.CallRollup"]
    written = stored_rows()
    CallRollup.objects.all().delete()
    rollups.rebuild_rollups(now=END)
    assert stored_rows() == written
