"""An emergency that runs out ends by itself, on record: its "ended" queue event and its
configuration change (target "emergency", by the system, reason "expired") land in the
expiry's transaction, exactly once however often or however concurrently the job runs."""

from datetime import UTC, timedelta

import pytest

from config.models import ConfigChange
from routing import services, tasks
from routing.models import Queue, QueueEvent
from tests.routing.test_concurrency import run_together


@pytest.fixture
def other_queue(supervisor):
    queue = Queue.objects.create(code="roaming", name="Roaming", service="roaming")
    queue.supervisors.add(supervisor)
    return queue


def expiry_changes():
    return list(
        ConfigChange.objects.filter(target_type="emergency", reason="expired").values(
            "actor", "at", "target_id", "action", "before", "after"
        )
    )


@pytest.mark.django_db
def test_an_emergency_that_runs_out_writes_one_configuration_change_by_the_system(
    supervisor, default_queue, now
):
    services.set_emergency(
        actor=supervisor, queue=default_queue, minutes=30, reason="Guasto", now=now
    )
    until = now + timedelta(minutes=30)
    assert services.end_expired_emergencies(now=now + timedelta(minutes=29)) == 0
    assert expiry_changes() == []
    assert services.end_expired_emergencies(now=now + timedelta(minutes=31)) == 1
    assert services.end_expired_emergencies(now=now + timedelta(minutes=32)) == 0
    assert expiry_changes() == [
        {
            "actor": None,
            "at": until,
            "target_id": default_queue.code,
            "action": ConfigChange.Action.CHANGED,
            "before": {
                "emergency_until": until.astimezone(UTC).isoformat(),
                "emergency_reason": "Guasto",
            },
            "after": {"emergency_until": None, "emergency_reason": ""},
        }
    ]


@pytest.mark.django_db
def test_the_expiry_job_run_twice_records_the_end_once(
    supervisor, default_queue, now, time_machine
):
    services.set_emergency(actor=supervisor, queue=default_queue, minutes=10, reason="a", now=now)
    time_machine.move_to(now + timedelta(minutes=11))
    assert tasks.end_expired_emergencies_task() == 1
    assert tasks.end_expired_emergencies_task() == 0
    assert len(expiry_changes()) == 1
    assert QueueEvent.objects.filter(kind="emergency_off").count() == 1


@pytest.mark.django_db
def test_a_new_emergency_after_an_unrecorded_expiry_records_the_expiry_then_the_switch(
    supervisor, default_queue, now
):
    services.set_emergency(actor=supervisor, queue=default_queue, minutes=10, reason="a", now=now)
    later = now + timedelta(hours=1)
    services.set_emergency(actor=supervisor, queue=default_queue, minutes=10, reason="b", now=later)
    rows = list(
        ConfigChange.objects.filter(target_type="emergency")
        .order_by("at", "id")
        .values_list("actor", "reason", "at")
    )
    assert rows == [
        (supervisor.id, "a", now),
        (None, "expired", now + timedelta(minutes=10)),
        (supervisor.id, "b", later),
    ]


@pytest.mark.django_db
def test_the_expiry_rolls_back_with_its_configuration_change(
    supervisor, default_queue, now, monkeypatch
):
    """Same transaction: a failure writing the record leaves the emergency running, and the
    next run ends it on record."""
    services.set_emergency(actor=supervisor, queue=default_queue, minutes=10, reason="a", now=now)

    def broken(**kwargs):
        raise RuntimeError("audit store down")

    monkeypatch.setattr(services.audit, "record_change", broken)
    with pytest.raises(RuntimeError):
        services.end_expired_emergencies(now=now + timedelta(minutes=11))
    default_queue.refresh_from_db()
    assert default_queue.emergency_until == now + timedelta(minutes=10)
    assert QueueEvent.objects.filter(kind="emergency_off").count() == 0
    monkeypatch.undo()
    assert services.end_expired_emergencies(now=now + timedelta(minutes=12)) == 1
    assert len(expiry_changes()) == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_four_workers_racing_on_an_expired_emergency_end_it_once(
    supervisor, default_queue, other_queue, now
):
    for queue in (default_queue, other_queue):
        services.set_emergency(actor=supervisor, queue=queue, minutes=5, reason="x", now=now)
    later = now + timedelta(minutes=6)
    results = run_together([lambda: services.end_expired_emergencies(now=later)] * 4)
    assert not [r for r in results if isinstance(r, Exception)], results
    assert sum(results) == 2
    assert sorted(c["target_id"] for c in expiry_changes()) == sorted(
        [default_queue.code, other_queue.code]
    )
    assert QueueEvent.objects.filter(kind="emergency_off").count() == 2
