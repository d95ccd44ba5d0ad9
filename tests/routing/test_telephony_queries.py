"""Statements per telephony event through the API (DESIGN §8: ≥ 300 events/s): the view,
the middleware and the event's transaction, its savepoint or BEGIN/COMMIT included.

Before the diet → now (SQLite and PostgreSQL alike): a new call 12 → 6, an answer 12 → 9,
a transfer 17 → 13, a hang-up 12 → 10, a duplicate 4 → 4 (a duplicate new call 6), a
hang-up before its new call 10 → 6, an answer after its hang-up 9 → 7, the new call after
both 11 → 10."""

import json
from datetime import timedelta

import pytest

from routing import signatures
from routing.models import Call, Callback, PresenceState, Queue, TelephonyLine
from tests.routing.conftest import make_profile

SECRET = "telephony-queries-secret"
CALLER = "+393471234567"  # the `end_user` fixture's number
LINE = "800100200"


@pytest.fixture(autouse=True)
def _secrets(settings):
    settings.TELEPHONY_SECRETS = [SECRET]


@pytest.fixture
def desk(now, operator, user_factory, default_queue, pull_only):
    """A line to a queue, and two available operators: `op.rossi` (named by username) and
    `op.bianchi` (by extension 2042)."""
    queue = Queue.objects.create(code="mobile-utenti", name="Mobile utenti", wrap_up_seconds=60)
    TelephonyLine.objects.create(number=LINE, name="Numero verde", queue=queue)
    make_profile(operator, now=now - timedelta(hours=1))
    colleague = make_profile(user_factory("op.bianchi"), now=now - timedelta(hours=1))
    colleague.extension = "2042"
    colleague.save(update_fields=["extension"])
    return queue


def post(client, now, kind, call_id, at, **fields):
    body = json.dumps({"event": kind, "call_id": call_id, "at": at.isoformat(), **fields})
    stamp = str(int(now.timestamp()))
    response = client.post(
        "/api/v1/telephony/events/",
        body.encode(),
        content_type="application/json",
        HTTP_X_PRESIDIO_TIMESTAMP=stamp,
        HTTP_X_PRESIDIO_SIGNATURE=signatures.sign(SECRET, stamp, body.encode()),
    )
    assert response.status_code == 202, response.content
    return response.json()


def new_call(client, now, call_id, at):
    return post(client, now, "newCall", call_id, at, **{"from": CALLER, "to": LINE})


@pytest.mark.django_db
def test_a_call_in_order_new_call_answer_transfer_hangup(
    anonymous_api, now, desk, end_user, django_assert_max_num_queries
):
    with django_assert_max_num_queries(6):
        assert new_call(anonymous_api, now, "c-1", now)["state"] == "waiting"
    with django_assert_max_num_queries(9):
        answer = post(anonymous_api, now, "answer", "c-1", now, operator="op.rossi")
    assert answer["state"] == "talking"
    with django_assert_max_num_queries(13):
        post(anonymous_api, now, "transfer", "c-1", now + timedelta(seconds=30), operator="2042")
    with django_assert_max_num_queries(10):
        hangup = post(anonymous_api, now, "hangup", "c-1", now + timedelta(seconds=90))
    assert hangup == {"call": "c-1", "state": "transferred", "duplicate": False}
    call = Call.objects.get(call_id="c-1")
    assert (call.queue_code, call.operator.username, call.transfers) == (
        "mobile-utenti",
        "op.bianchi",
        1,
    )
    assert list(call.end_users.all()) == [end_user]
    assert call.operator.operator_profile.presence == PresenceState.WRAP_UP


@pytest.mark.django_db
def test_duplicates_read_the_call_and_its_events_only(
    anonymous_api, now, desk, django_assert_max_num_queries
):
    new_call(anonymous_api, now, "c-1", now)
    post(anonymous_api, now, "hangup", "c-1", now + timedelta(seconds=20), cause="abandoned")
    with django_assert_max_num_queries(4):
        again = post(anonymous_api, now, "hangup", "c-1", now + timedelta(seconds=20))
    assert again["duplicate"]
    # A new call is inserted first: its duplicate finds the call there, then reads it.
    with django_assert_max_num_queries(6):
        assert new_call(anonymous_api, now, "c-1", now)["duplicate"]


@pytest.mark.django_db
def test_events_out_of_order(anonymous_api, now, desk, django_assert_max_num_queries):
    with django_assert_max_num_queries(6):
        first = post(anonymous_api, now, "hangup", "c-2", now + timedelta(seconds=60))
    assert first["state"] == "abandoned"
    with django_assert_max_num_queries(7):
        answer = post(
            anonymous_api, now, "answer", "c-2", now + timedelta(seconds=10), operator="op.rossi"
        )
    assert answer["state"] == "answered"
    with django_assert_max_num_queries(10):
        assert new_call(anonymous_api, now, "c-2", now)["state"] == "answered"
    call = Call.objects.get(call_id="c-2")
    assert (call.caller_number, call.queue_code, call.wait_seconds) == (
        CALLER,
        "mobile-utenti",
        10,
    )


@pytest.mark.django_db
def test_a_callback_made_then_closed_by_the_caller_getting_through(
    anonymous_api, now, desk, end_user, django_assert_max_num_queries
):
    new_call(anonymous_api, now, "c-3", now)
    with django_assert_max_num_queries(16):
        post(anonymous_api, now, "hangup", "c-3", now + timedelta(seconds=40), cause="abandoned")
    assert Callback.objects.get().status == Callback.Status.WAITING
    later = now + timedelta(minutes=5)
    new_call(anonymous_api, now, "c-4", later)
    with django_assert_max_num_queries(12):
        post(anonymous_api, now, "answer", "c-4", later, operator="2042")
    assert Callback.objects.get().status == Callback.Status.REACHED
