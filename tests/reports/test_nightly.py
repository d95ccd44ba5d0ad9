"""The nightly hook: sent once per date, whatever how often beat or a person triggers it; the
contracts expiring within 90 days are its first feed."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from config.nightly import nightly
from contracts import services as contract_services
from contracts.selectors import contracts_expiring
from reports.models import NightlyRun
from reports.nightly import STALE_AFTER, run_nightly_jobs, run_nightly_jobs_when_due
from tests.contract_terms import terms
from tests.factories import ClientFactory

ROME = ZoneInfo("Europe/Rome")
NIGHT = datetime(2026, 12, 3, 2, 0, tzinfo=ROME)
TODAY = date(2026, 12, 3)


@pytest.fixture
def calls():
    seen = []

    def hook(sender, date, now, **kwargs):
        seen.append(date)
        return len(seen)

    nightly.connect(hook, dispatch_uid="test-hook")
    yield seen
    nightly.disconnect(dispatch_uid="test-hook")


@pytest.fixture
def expiring(manager, office_calendar):
    """Contracts ending in 30, 90 and 91 days from TODAY, and one already ended."""

    def make(code: str, valid_to: date):
        return contract_services.create_contract(
            actor=manager,
            code=code,
            client=ClientFactory(),
            calendar=office_calendar,
            services=["mobile"],
            valid_from=date(2026, 1, 1),
            valid_to=valid_to,
            terms=terms(),
        )

    return [
        make("IN-30", TODAY + timedelta(days=30)),
        make("IN-90", TODAY + timedelta(days=90)),
        make("IN-91", TODAY + timedelta(days=91)),
        make("ENDED", TODAY - timedelta(days=1)),
    ]


def test_contracts_expiring_within_90_days_are_listed_soonest_first(expiring):
    found = contracts_expiring(today=TODAY, within_days=90)
    assert [c.code for c in found] == ["IN-30", "IN-90"]


def test_the_nightly_hooks_run_once_per_date(db, calls, expiring):
    first = run_nightly_jobs(today=TODAY, now=NIGHT)
    assert first.ran
    assert calls == [TODAY]
    loyalty_feed = first.hooks["contracts.tasks.feed_loyalty_worklist_nightly"]
    assert loyalty_feed == {"result": {"loyalty_items": 2}}
    again = run_nightly_jobs(today=TODAY, now=NIGHT + timedelta(minutes=5))
    assert not again.ran
    assert calls == [TODAY]
    assert NightlyRun.objects.filter(date=TODAY).count() == 1
    assert NightlyRun.objects.get(date=TODAY).finished_at == NIGHT
    assert run_nightly_jobs(today=TODAY + timedelta(days=1), now=NIGHT + timedelta(days=1)).ran
    assert calls == [TODAY, TODAY + timedelta(days=1)]


def test_a_failing_hook_is_recorded_and_does_not_stop_the_others(db, calls):
    def broken(sender, **kwargs):
        raise RuntimeError("boom")

    nightly.connect(broken, dispatch_uid="test-broken")
    try:
        result = run_nightly_jobs(today=TODAY, now=NIGHT)
    finally:
        nightly.disconnect(dispatch_uid="test-broken")
    assert calls == [TODAY]
    assert {"error": "RuntimeError"} in result.hooks.values()


def test_a_run_that_died_is_taken_over_once_it_is_stale(db, calls):
    NightlyRun.objects.create(job="nightly", date=TODAY, started_at=NIGHT)
    assert not run_nightly_jobs(today=TODAY, now=NIGHT + timedelta(minutes=10)).ran
    assert run_nightly_jobs(today=TODAY, now=NIGHT + STALE_AFTER + timedelta(seconds=1)).ran
    assert calls == [TODAY]


def test_the_hourly_trigger_runs_the_date_once_from_two_in_the_morning(db, calls):
    assert run_nightly_jobs_when_due(now=datetime(2026, 12, 3, 1, 59, tzinfo=ROME)) is None
    assert calls == []
    assert run_nightly_jobs_when_due(now=datetime(2026, 12, 3, 2, 0, tzinfo=ROME)).ran
    assert not run_nightly_jobs_when_due(now=datetime(2026, 12, 3, 3, 0, tzinfo=ROME)).ran
    assert calls == [TODAY]
