"""Calls from the PBX's signed events: the signature and replay guard, the call record from
events in any order, presence on a call and in after-call work, the case opened during a
call, callbacks, the wallboard's figures, the call log API."""

import itertools
import json
from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from care.exceptions import InvalidCaseData
from care.models import CaseCall, CaseEvent, CaseStatus
from config.models import AccessLog
from routing import call_facts, call_selectors, calls, signatures
from routing.call_facts import Event
from routing.models import Call, Callback, CallEvent, PresenceState, Queue, TelephonyLine
from tests.conftest import look_up
from tests.routing.conftest import make_profile

EVENTS_URL = "/api/v1/telephony/events/"
SECRET, PREVIOUS = "current-telephony-secret", "previous-telephony-secret"
CALLER = "+393471234567"  # the `end_user` fixture's number


@pytest.fixture(autouse=True)
def _secrets(settings):
    settings.TELEPHONY_SECRETS = [SECRET, PREVIOUS]


@pytest.fixture
def line(default_queue):
    queue = Queue.objects.create(code="mobile-utenti", name="Mobile utenti", wrap_up_seconds=60)
    return TelephonyLine.objects.create(number="800100200", name="Numero verde", queue=queue)


@pytest.fixture
def on_duty(operator, now, pull_only):
    profile = make_profile(operator, now=now - timedelta(hours=1))
    profile.extension = "2041"
    profile.save(update_fields=["extension"])
    return profile


def signed_post(client, payload, *, now, secret=SECRET, timestamp=None, raw=None):
    body = raw if raw is not None else json.dumps(payload).encode()
    stamp = timestamp if timestamp is not None else str(int(now.timestamp()))
    return client.post(
        EVENTS_URL,
        body,
        content_type="application/json",
        HTTP_X_PRESIDIO_TIMESTAMP=stamp,
        HTTP_X_PRESIDIO_SIGNATURE=signatures.sign(secret, stamp, body),
    )


def event(kind, call_id, at, **fields):
    return {"event": kind, "call_id": call_id, "at": at.isoformat(), **fields}


# --- Signature and replay ---------------------------------------------------------------------


@pytest.mark.django_db
def test_a_signed_new_call_is_accepted_and_recorded(anonymous_api, now, line):
    response = signed_post(
        anonymous_api,
        event("newCall", "c-1", now, **{"from": "347 123 4567", "to": "800100200"}),
        now=now,
    )
    assert response.status_code == 202, response.content
    assert response.json() == {"call": "c-1", "state": "waiting", "duplicate": False}
    call = Call.objects.get(call_id="c-1")
    assert (call.caller_number, call.queue_code, call.outcome) == (
        CALLER,
        "mobile-utenti",
        "waiting",
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("change", "code", "status"),
    [
        ({"secret": "someone-elses-secret"}, "bad_signature", 401),
        ({"timestamp": ""}, "bad_signature", 401),
        ({"timestamp": "abc"}, "bad_signature", 401),
        ({"replay_seconds": 301}, "stale_event", 401),
        ({"replay_seconds": -301}, "stale_event", 401),
    ],
)
def test_unsigned_wrongly_signed_or_replayed_events_write_nothing(
    anonymous_api, now, change, code, status
):
    stamp = change.get("timestamp")
    if "replay_seconds" in change:
        stamp = str(int(now.timestamp()) - change["replay_seconds"])
    response = signed_post(
        anonymous_api,
        event("newCall", "c-1", now, **{"from": CALLER}),
        now=now,
        secret=change.get("secret", SECRET),
        timestamp=stamp,
    )
    assert response.status_code == status
    assert response.json()["code"] == code
    assert not Call.objects.exists()
    assert not CallEvent.objects.exists()


@pytest.mark.django_db
def test_a_body_changed_after_signing_is_refused(anonymous_api, now):
    stamp = str(int(now.timestamp()))
    body = json.dumps(event("newCall", "c-1", now)).encode()
    response = anonymous_api.post(
        EVENTS_URL,
        body.replace(b"c-1", b"c-2"),
        content_type="application/json",
        HTTP_X_PRESIDIO_TIMESTAMP=stamp,
        HTTP_X_PRESIDIO_SIGNATURE=signatures.sign(SECRET, stamp, body),
    )
    assert response.status_code == 401
    assert not Call.objects.exists()


@pytest.mark.django_db
def test_the_previous_secret_is_accepted_during_a_rotation(anonymous_api, now):
    response = signed_post(anonymous_api, event("newCall", "c-1", now), now=now, secret=PREVIOUS)
    assert response.status_code == 202


@pytest.mark.django_db
def test_without_a_configured_secret_events_are_refused_with_503(anonymous_api, now, settings):
    settings.TELEPHONY_SECRETS = ["", ""]
    response = signed_post(anonymous_api, event("newCall", "c-1", now), now=now, secret="")
    assert response.status_code == 503
    assert response.json()["code"] == "telephony_not_configured"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "payload",
    [
        {"event": "ring", "call_id": "c-1", "at": "2026-12-02T10:00:00+01:00"},
        {"event": "newCall", "call_id": "", "at": "2026-12-02T10:00:00+01:00"},
        {"event": "newCall", "call_id": "c 1; drop", "at": "2026-12-02T10:00:00+01:00"},
        {"event": "newCall", "call_id": "c-1", "at": "not a time"},
        {"event": "newCall", "call_id": "c-1", "at": "9999-12-31T23:59:59+01:00"},
        {"event": "answer", "call_id": "c-1", "at": "2026-12-02T10:00:00+01:00"},
        {"event": "hangup", "call_id": "c-1", "at": "2026-12-02T10:00:00+01:00", "cause": "x"},
        ["not", "an", "object"],
    ],
)
def test_malformed_events_get_a_400_with_a_message_and_write_nothing(anonymous_api, now, payload):
    response = signed_post(anonymous_api, payload, now=now)
    assert response.status_code == 400, response.content
    assert response.json()["message"]
    assert not Call.objects.exists()


@pytest.mark.django_db
def test_unknown_operator_line_and_a_malformed_number_are_said_on_the_call(anonymous_api, now):
    signed_post(
        anonymous_api,
        event("newCall", "c-1", now, **{"from": "12", "to": "899000000"}),
        now=now,
    )
    signed_post(anonymous_api, event("answer", "c-1", now, operator="nobody"), now=now)
    call = Call.objects.get(call_id="c-1")
    assert call.problems == ["malformed_number", "unknown_line", "unknown_operator"]
    assert call.caller_number == ""
    assert call.operator is None
    assert call.operator_ref == "nobody"
    assert call.outcome == "talking"


# --- The call from its events --------------------------------------------------------------


@pytest.mark.django_db
def test_a_call_answered_and_ended_puts_its_operator_on_a_call_then_in_after_call_work(
    anonymous_api, now, line, on_duty, end_user
):
    signed_post(
        anonymous_api, event("newCall", "c-1", now, **{"from": CALLER, "to": line.number}), now=now
    )
    answered = now + timedelta(seconds=12)
    signed_post(anonymous_api, event("answer", "c-1", answered, operator="2041"), now=now)
    on_duty.refresh_from_db()
    assert on_duty.presence == PresenceState.ON_CALL
    ended = answered + timedelta(seconds=200)
    response = signed_post(anonymous_api, event("hangup", "c-1", ended, cause="normal"), now=ended)
    assert response.json()["state"] == "answered"
    call = Call.objects.get(call_id="c-1")
    assert (call.operator_id, call.wait_seconds, call.talk_seconds) == (on_duty.user_id, 12, 200)
    assert list(call.end_users.all()) == [end_user]
    on_duty.refresh_from_db()
    assert on_duty.presence == PresenceState.WRAP_UP
    assert on_duty.presence_until == ended + timedelta(seconds=60)
    # Routing takes no one in after-call work; it ends by itself when the allowance runs out.
    assert calls.end_expired_wrap_ups(now=ended + timedelta(seconds=59)) == 0
    assert calls.end_expired_wrap_ups(now=ended + timedelta(seconds=60)) == 1
    on_duty.refresh_from_db()
    call.refresh_from_db()
    assert on_duty.presence == PresenceState.AVAILABLE
    assert call.after_call_seconds == 60


@pytest.mark.django_db
def test_an_operator_ends_after_call_work_early(on_duty, now, line):
    from routing import services

    _receive(
        ("newCall", now),
        ("answer", now + timedelta(seconds=5)),
        ("hangup", now + timedelta(seconds=65)),
    )
    on_duty.refresh_from_db()
    assert on_duty.presence == PresenceState.WRAP_UP
    services.set_presence(
        actor=on_duty.user,
        profile=on_duty,
        state=PresenceState.AVAILABLE,
        now=now + timedelta(seconds=80),
    )
    call = Call.objects.get(call_id="c-1")
    assert call.after_call_seconds == 15


@pytest.mark.django_db
def test_nobody_chooses_on_a_call_or_after_call_work_by_hand(operator_api, on_duty):
    for state in ("on_call", "wrap_up"):
        response = operator_api.put("/api/v1/routing/presence/", {"state": state}, format="json")
        assert response.status_code == 400


def _receive(*steps, call_id="c-1", operator="2041", number=CALLER, cause="normal"):
    results = []
    for kind, at in steps:
        results.append(
            calls.receive_event(
                Event(
                    event=kind,
                    at=at,
                    caller_number=number if kind == "newCall" else "",
                    line="800100200" if kind == "newCall" else "",
                    operator=operator if kind in ("answer", "transfer") else "",
                    cause=cause if kind == "hangup" else "",
                ),
                call_id=call_id,
                now=at,
            )
        )
    return results


def _record(call_id="c-1") -> tuple:
    call = Call.objects.get(call_id=call_id)
    return (
        call.outcome,
        call.offered_at,
        call.answered_at,
        call.ended_at,
        call.wait_seconds,
        call.talk_seconds,
        call.operator_id,
        call.caller_number,
        call.queue_code,
        call.events.count(),
    )


@pytest.mark.django_db
def test_events_twice_late_or_out_of_order_end_in_the_same_call(now, line, on_duty):
    steps = [
        ("newCall", now),
        ("answer", now + timedelta(seconds=9)),
        ("hangup", now + timedelta(seconds=99)),
    ]
    _receive(*steps, call_id="in-order")
    expected = _record("in-order")
    for number, order in enumerate(itertools.permutations(steps)):
        call_id = f"perm-{number}"
        results = _receive(*order, *order[:1], call_id=call_id)  # and the first one again
        assert results[-1].duplicate
        assert _record(call_id)[:1] + _record(call_id)[1:] == expected, order


@pytest.mark.django_db
def test_a_hangup_for_a_call_never_seen_is_an_abandoned_call(anonymous_api, now):
    response = signed_post(anonymous_api, event("hangup", "c-9", now, cause="abandoned"), now=now)
    assert response.status_code == 202
    assert response.json()["state"] == "abandoned"


@pytest.mark.django_db
def test_a_burst_of_duplicates_counts_the_call_once(anonymous_api, now, line):
    payload = event("newCall", "c-1", now, **{"from": CALLER, "to": line.number})
    answers = [signed_post(anonymous_api, payload, now=now).json() for _ in range(5)]
    assert [a["duplicate"] for a in answers] == [False, True, True, True, True]
    assert Call.objects.count() == 1
    assert CallEvent.objects.count() == 1


_instants = st.integers(min_value=0, max_value=600)


@st.composite
def call_events(draw):
    """A call's events as a PBX may send them: some of newCall/answer/transfer/hangup."""
    start = draw(_instants)
    kinds = draw(st.sets(st.sampled_from(call_facts.EVENTS), min_size=1))
    events = []
    for kind in kinds:
        at = call_facts_time(start + (draw(_instants) if kind != "newCall" else 0))
        events.append(
            Event(
                event=kind,
                at=at,
                caller_number=CALLER if kind == "newCall" else "",
                queue="q" if kind == "newCall" else "",
                operator=draw(st.sampled_from(["anna", "bruno"]))
                if kind in ("answer", "transfer")
                else "",
                cause=draw(st.sampled_from(call_facts.CAUSES)) if kind == "hangup" else "",
            )
        )
    return events


def call_facts_time(seconds: int):
    from datetime import UTC, datetime

    return datetime(2026, 12, 2, 9, 0, tzinfo=UTC) + timedelta(seconds=seconds)


@settings(max_examples=300, deadline=None)
@given(events=call_events(), data=st.data())
def test_any_order_and_duplication_of_a_calls_events_folds_to_the_same_call(events, data):
    shuffled = data.draw(st.permutations(events))
    repeated = shuffled + data.draw(st.lists(st.sampled_from(events), max_size=4))
    assert call_facts.fold(repeated) == call_facts.fold(events)
    facts = call_facts.fold(events)
    ended = any(e.event == "hangup" for e in events)
    assert (facts.ended_at is not None) == ended
    assert facts.wait_seconds >= 0
    assert facts.talk_seconds >= 0
    if facts.state in ("answered", "transferred", "talking"):
        assert facts.answered_at is not None
        assert facts.operator
    if not ended:
        assert facts.state in ("waiting", "talking")


# --- A case opened during the call ------------------------------------------------------------


@pytest.mark.django_db
def test_the_operator_who_took_the_call_owns_the_case_opened_during_it(
    now, line, on_duty, end_user, open_case_for, operator
):
    _receive(("newCall", now), ("answer", now + timedelta(seconds=5)))
    case = open_case_for(end_user, call_id="c-1", now=now + timedelta(seconds=60))
    assert case.assignee == operator
    assert case.status == CaseStatus.ASSIGNED
    assert case.first_response_at == now + timedelta(seconds=60)
    first = case.events.get(kind=CaseEvent.Kind.FIRST_RESPONSE)
    assert first.detail == {"by": "call"}
    assert CaseCall.objects.get(case=case).call_id == "c-1"
    call = call_selectors.with_case_references([Call.objects.get(call_id="c-1")])[0]
    assert call.case_references == [case.reference]


@pytest.mark.django_db
def test_sending_the_case_to_a_queue_instead_is_a_choice_with_a_reason(
    now, line, on_duty, end_user, open_case_for
):
    _receive(("newCall", now), ("answer", now + timedelta(seconds=5)))
    case = open_case_for(
        end_user, call_id="c-1", to_queue_reason="serve un tecnico", now=now + timedelta(minutes=1)
    )
    assert case.assignee is None
    assert case.status == CaseStatus.NEW
    assert case.first_response_at is not None
    on_call = case.events.get(kind=CaseEvent.Kind.ON_CALL)
    assert on_call.detail["to_queue_reason"] == "serve un tecnico"


@pytest.mark.django_db
def test_a_case_cannot_name_a_call_someone_else_answered(
    now, line, on_duty, end_user, open_case_for, user_factory
):
    _receive(("newCall", now), ("answer", now + timedelta(seconds=5)))
    other = user_factory("altro")
    with pytest.raises(InvalidCaseData) as raised:
        open_case_for(end_user, actor=other, call_id="c-1", now=now + timedelta(minutes=1))
    assert "call" in raised.value.fields
    assert not CaseCall.objects.exists()


@pytest.mark.django_db
def test_the_answer_pops_the_caller_on_the_operators_intake(
    client, operator, now, line, on_duty, end_user
):
    _receive(("newCall", now), ("answer", now + timedelta(seconds=5)))
    client.force_login(operator)
    polled = client.get("/routing/my-call/").json()
    assert polled["call"] == "c-1"
    assert CALLER not in json.dumps(polled)
    response = client.get(polled["intake_url"])
    assert response.status_code == 302
    assert response.url == "/care/intake/"
    page = client.get("/care/intake/")
    assert page.context["on_call"] == "c-1"
    assert page.context["caller"]["end_user"] == end_user
    assert b'data-testid="on-call-banner"' in page.content


@pytest.mark.django_db
def test_another_operator_cannot_pop_someone_elses_call(client, user_factory, now, line, on_duty):
    _receive(("newCall", now), ("answer", now + timedelta(seconds=5)))
    other = user_factory("altro")
    client.force_login(other)
    client.get("/care/intake/?call=c-1")
    page = client.get("/care/intake/")
    assert page.context["on_call"] == ""
    assert page.context["caller"] is None


# --- Callbacks ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_one_callback_per_caller_per_day_however_often_they_gave_up(now, line, end_user):
    _receive(
        ("newCall", now), ("hangup", now + timedelta(seconds=40)), call_id="a", cause="abandoned"
    )
    later = now + timedelta(hours=1)
    _receive(
        ("newCall", later),
        ("hangup", later + timedelta(seconds=90)),
        call_id="b",
        cause="no_answer",
    )
    callback = Callback.objects.get()
    assert callback.end_user == end_user
    assert callback.attempts_by_caller == 2
    assert callback.calls.count() == 2
    # Due in the contract's business minutes from the first call (queue default: 120).
    assert callback.due_at > now


@pytest.mark.django_db
def test_an_unknown_caller_gets_no_callback(now, line):
    _receive(
        ("newCall", now),
        ("hangup", now + timedelta(seconds=40)),
        number="+393330000000",
        cause="abandoned",
    )
    assert not Callback.objects.exists()


@pytest.mark.django_db
def test_a_caller_who_gets_through_later_needs_no_callback(now, line, end_user, on_duty):
    _receive(
        ("newCall", now), ("hangup", now + timedelta(seconds=40)), call_id="a", cause="abandoned"
    )
    later = now + timedelta(minutes=10)
    _receive(("newCall", later), ("answer", later + timedelta(seconds=3)), call_id="b")
    assert Callback.objects.get().status == Callback.Status.REACHED


@pytest.mark.django_db
def test_a_callback_is_taken_once_and_its_outcome_recorded(
    now, line, end_user, operator, user_factory
):
    _receive(("newCall", now), ("hangup", now + timedelta(seconds=40)), cause="abandoned")
    callback = Callback.objects.get()
    calls.take_callback(operator=operator, callback_id=callback.id, now=now)
    other = user_factory("altro")
    with pytest.raises(calls.CallbackNotAvailable):
        calls.take_callback(operator=other, callback_id=callback.id, now=now)
    done = calls.record_callback_attempt(
        operator=operator, callback=callback, reached=True, case_reference="CS-2026-000001", now=now
    )
    assert done.status == Callback.Status.REACHED
    assert done.case_reference == "CS-2026-000001"


@pytest.mark.django_db
def test_the_callbacks_page_shows_the_taken_callers_number_and_logs_it(
    client, now, line, end_user, operator
):
    _receive(("newCall", now), ("hangup", now + timedelta(seconds=40)), cause="abandoned")
    client.force_login(operator)
    page = client.get("/routing/callbacks/")
    assert b"347 123 4567" not in page.content
    client.post(f"/routing/callbacks/{Callback.objects.get().id}/take/")
    page = client.get("/routing/callbacks/")
    assert b"+39 347 123 4567" in page.content
    logged = AccessLog.objects.filter(route="routing:callbacks").order_by("id")
    assert [row.detail["end_users"] for row in logged] == [[end_user.id], [end_user.id]]


# --- Wallboard and the call log ---------------------------------------------------------------


@pytest.mark.django_db
def test_the_wallboard_figures_match_a_hand_computed_call_set(now, line, on_duty):
    line.queue.service_level_seconds = 20
    line.queue.service_level_target = 80
    line.queue.save()
    t = now - timedelta(minutes=20)
    # answered in 10 s (talk 100), answered in 30 s (talk 200), abandoned after 40 s,
    # abandoned after 3 s (a short abandon: not counted), one waiting for 50 s now, one
    # answered in 4 s still talking.
    _receive(
        ("newCall", t),
        ("answer", t + timedelta(seconds=10)),
        ("hangup", t + timedelta(seconds=110)),
        call_id="a",
    )
    _receive(
        ("newCall", t),
        ("answer", t + timedelta(seconds=30)),
        ("hangup", t + timedelta(seconds=230)),
        call_id="b",
    )
    _receive(("newCall", t), ("hangup", t + timedelta(seconds=40)), call_id="c", cause="abandoned")
    _receive(("newCall", t), ("hangup", t + timedelta(seconds=3)), call_id="d", cause="abandoned")
    _receive(("newCall", now - timedelta(seconds=50)), call_id="e")
    # Talking now, answered in 4 s: answered in time, no handle time yet.
    _receive(
        ("newCall", now - timedelta(seconds=30)),
        ("answer", now - timedelta(seconds=26)),
        call_id="f",
    )
    _receive(
        ("newCall", now - timedelta(hours=2)), ("hangup", now - timedelta(hours=2)), call_id="old"
    )
    Call.objects.filter(call_id__in=["a", "b"]).update(after_call_seconds=20)
    board = call_selectors.wallboard(now=now)
    queue = next(q for q in board.queues if q.code == "mobile-utenti")
    assert (queue.waiting, queue.longest_wait_seconds) == (1, 50)
    assert (queue.answered, queue.abandoned) == (3, 1)
    assert queue.service_level == pytest.approx(100 * 2 / 4, abs=0.1)  # a and f of a, b, c, f
    assert queue.average_handle_seconds == 170  # (100 + 20 + 200 + 20) / 2
    assert queue.alarms == ["service_level"]


@pytest.mark.django_db
def test_an_archived_queue_leaves_the_wallboard_once_its_calls_are_done(now, line, on_duty):
    quiet = Queue.objects.create(code="archiviata", name="Archiviata", archived_at=now)
    line.queue.archived_at = now
    line.queue.save(update_fields=["archived_at"])
    _receive(("newCall", now - timedelta(seconds=50)), call_id="still-waiting")
    codes = {q.code for q in call_selectors.wallboard(now=now).queues}
    assert line.queue.code in codes  # a call still waits there
    assert quiet.code not in codes
    later = now + timedelta(hours=5)  # past the window; the waiting call is too old to count
    assert line.queue.code not in {q.code for q in call_selectors.wallboard(now=later).queues}


@pytest.mark.django_db
def test_the_wallboard_page_is_for_supervisors(client, supervisor, operator, line):
    client.force_login(operator)
    assert client.get("/routing/wallboard/").status_code == 403
    client.force_login(supervisor)
    page = client.get("/routing/wallboard/")
    assert page.status_code == 200
    assert b'data-testid="wallboard-queue"' in page.content


@pytest.mark.django_db
def test_the_call_log_masks_numbers_for_supervisors_and_is_access_logged(
    supervisor_api, operator_api, now, line, on_duty
):
    _receive(("newCall", now), ("answer", now + timedelta(seconds=5)))
    _receive(("newCall", now), call_id="c-2")
    listed = supervisor_api.get("/api/v1/telephony/calls/").json()["results"]
    assert {c["call_id"] for c in listed} == {"c-1", "c-2"}
    assert all(CALLER not in c["caller_number"] for c in listed)
    own = operator_api.get("/api/v1/telephony/calls/").json()["results"]
    assert [c["call_id"] for c in own] == ["c-1"]
    assert own[0]["caller_number"] == CALLER
    assert operator_api.get("/api/v1/telephony/calls/c-2/").status_code == 404
    assert AccessLog.objects.filter(route="api:telephony-call-list").count() == 2


@pytest.mark.django_db
def test_the_api_opens_a_case_on_the_call_the_user_answered(
    operator_api, now, line, on_duty, end_user, contract, operator
):
    _receive(("newCall", now), ("answer", now + timedelta(seconds=5)))
    look_up(operator_api, end_user)
    body = {
        "contract": contract.code,
        "end_user": end_user.id,
        "category": "sim-lost",
        "channel": "phone",
        "subject": "SIM rubata",
        "description": "SIM rubata ieri sera, denuncia presentata ai carabinieri.",
        "call": "c-1",
    }
    response = operator_api.post("/api/v1/cases/", body, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["assignee"] == operator.get_username()
    refused = operator_api.post("/api/v1/cases/", {**body, "call": "c-404"}, format="json")
    assert refused.status_code == 400
    assert "call" in refused.json()["fields"]


# --- Reports: the same definitions as the wallboard -----------------------------------------


@pytest.mark.django_db
def test_the_calls_report_counts_per_half_hour_as_the_wallboard(now, line, on_duty):
    from reports.definitions import get
    from reports.forms import ReportFilters

    t = now - timedelta(minutes=20)  # 9:40 in Rome: the 9:30 half hour
    _receive(
        ("newCall", t),
        ("answer", t + timedelta(seconds=10)),
        ("hangup", t + timedelta(seconds=110)),
        call_id="a",
    )
    _receive(("newCall", t), ("hangup", t + timedelta(seconds=40)), call_id="c", cause="abandoned")
    _receive(("newCall", t), ("hangup", t + timedelta(seconds=3)), call_id="d", cause="abandoned")
    _receive(
        ("newCall", now + timedelta(minutes=5)),
        ("hangup", now + timedelta(minutes=6)),
        call_id="e",
        cause="busy",
    )
    filters = ReportFilters(date_from=now.date(), date_to=now.date())
    rows = list(get("calls").rows(filters, on_duty.user, now))
    assert [(r["half_hour"].strftime("%H:%M"), r["queue"], r["queue_code"]) for r in rows] == [
        ("09:30", "Mobile utenti", "mobile-utenti"),
        ("10:00", "Mobile utenti", "mobile-utenti"),
    ]
    first, second = rows
    assert (first["offered"], first["answered"], first["abandoned"]) == (3, 1, 1)
    assert first["short_abandoned"] == 1
    assert first["service_level"] == 50.0  # a in 10 s, of a and c
    assert first["average_handle"] == 100
    assert (second["missed"], second["service_level"]) == (1, 0.0)
    board = call_selectors.wallboard(now=now + timedelta(minutes=1))
    wall = next(q for q in board.queues if q.code == "mobile-utenti")
    assert wall.service_level == first["service_level"]


@pytest.mark.django_db
def test_the_callbacks_report_says_which_were_met_in_time(now, line, end_user, operator):
    from reports.definitions import get
    from reports.forms import ReportFilters

    _receive(("newCall", now), ("hangup", now + timedelta(seconds=40)), cause="abandoned")
    callback = Callback.objects.get()
    calls.take_callback(operator=operator, callback_id=callback.id, now=now)
    calls.record_callback_attempt(
        operator=operator, callback=callback, reached=True, now=now + timedelta(minutes=30)
    )
    rows = list(
        get("callbacks").rows(
            ReportFilters(date_from=now.date(), date_to=now.date()), operator, now
        )
    )
    assert [(r["callbacks"], r["reached_in_time"], r["met_rate"]) for r in rows] == [(1, 1, 100.0)]


@pytest.mark.django_db
def test_a_transfer_hands_the_call_over_and_ends_it_for_who_passed_it_on(
    now, line, on_duty, user_factory
):
    colleague = user_factory("op.bianchi")
    other = make_profile(colleague, now=now - timedelta(hours=1))
    other.extension = "2042"
    other.save(update_fields=["extension"])
    _receive(("newCall", now), ("answer", now + timedelta(seconds=5)))
    calls.receive_event(
        Event(event="transfer", at=now + timedelta(seconds=60), operator="2042"),
        call_id="c-1",
        now=now + timedelta(seconds=60),
    )
    on_duty.refresh_from_db()
    other.refresh_from_db()
    assert on_duty.presence == PresenceState.WRAP_UP
    assert other.presence == PresenceState.ON_CALL
    _receive(("hangup", now + timedelta(seconds=200)))
    call = Call.objects.get(call_id="c-1")
    assert (call.outcome, call.operator, call.transfers) == ("transferred", colleague, 1)
    other.refresh_from_db()
    assert other.presence == PresenceState.WRAP_UP


@pytest.mark.django_db
def test_the_fcr_report_counts_the_calls_a_case_took(now, line, on_duty, end_user, open_case_for):
    from reports.definitions import get
    from reports.forms import ReportFilters

    _receive(("newCall", now), ("answer", now + timedelta(seconds=5)), call_id="first")
    case = open_case_for(end_user, call_id="first", now=now + timedelta(minutes=1))
    later = now + timedelta(hours=1)
    _receive(("newCall", later), ("answer", later + timedelta(seconds=5)), call_id="again")
    from care import services as care_services

    care_services.add_contact(
        actor=on_duty.user,
        case=case,
        end_user_id=end_user.id,
        subject="Richiama",
        description="Chiede a che punto siamo",
        call_id="again",
        now=later + timedelta(minutes=1),
    )
    filters = ReportFilters(date_from=now.date(), date_to=now.date())
    (row,) = get("first-contact-resolution").rows(filters, on_duty.user, later)
    assert (row["cases"], row["calls"], row["calls_per_case"]) == (1, 2, 2.0)


@pytest.mark.django_db
def test_the_next_callback_is_the_most_overdue_and_goes_to_one_operator(
    now, line, end_user, operator, user_factory, contract
):
    from tests.factories import EndUserFactory

    later_caller = EndUserFactory(client=contract.client, phone="+393471234599")
    _receive(
        ("newCall", now), ("hangup", now + timedelta(seconds=40)), call_id="a", cause="abandoned"
    )
    later = now + timedelta(minutes=30)
    _receive(
        ("newCall", later),
        ("hangup", later + timedelta(seconds=40)),
        call_id="b",
        number="+393471234599",
        cause="abandoned",
    )
    first = calls.take_next_callback(operator=operator, now=later)
    second = calls.take_next_callback(operator=user_factory("altro"), now=later)
    assert (first.end_user, second.end_user) == (end_user, later_caller)
    assert calls.take_next_callback(operator=operator, now=later) is None


@pytest.mark.django_db
def test_the_workspace_offers_the_callbacks_waiting(client, now, line, end_user, operator):
    _receive(("newCall", now), ("hangup", now + timedelta(seconds=40)), cause="abandoned")
    make_profile(operator, now=now - timedelta(hours=1))
    client.force_login(operator)
    page = client.get("/routing/")
    assert b'data-testid="workspace-callback-next"' in page.content
    client.post("/routing/callbacks/next/")
    assert Callback.objects.get().assignee == operator


# --- Calls whose hang-up never came -----------------------------------------------------------


@pytest.mark.django_db
def test_a_call_never_hung_up_is_ended_where_it_stood_and_frees_its_operator(now, line, on_duty):
    _receive(("newCall", now), ("answer", now + timedelta(seconds=8)))
    on_duty.refresh_from_db()
    assert on_duty.presence == PresenceState.ON_CALL
    assert calls.end_stale_calls(now=now + calls.STALE_CALL_AFTER) == 0  # not yet
    later = now + calls.STALE_CALL_AFTER + timedelta(minutes=1)
    assert calls.end_stale_calls(now=later) == 1
    call = Call.objects.get(call_id="c-1")
    assert (call.outcome, call.ended_at, call.talk_seconds) == (
        "answered",
        now + timedelta(seconds=8),
        0,
    )
    assert call.problems == [calls.HANGUP_MISSING]
    on_duty.refresh_from_db()
    assert on_duty.presence == PresenceState.AVAILABLE  # its after-call work ran out long ago
    # The real hang-up, when it comes at last, changes nothing; the sweep has nothing left.
    assert _receive(("hangup", later + timedelta(minutes=5)))[0].duplicate
    assert calls.end_stale_calls(now=later + timedelta(hours=5)) == 0


@pytest.mark.django_db
def test_a_caller_left_waiting_by_a_lost_hangup_gets_a_callback(now, line, end_user):
    _receive(("newCall", now))
    calls.end_stale_calls(now=now + timedelta(hours=5))
    call = Call.objects.get(call_id="c-1")
    assert (call.outcome, call.problems) == ("abandoned", [calls.HANGUP_MISSING])
    assert Callback.objects.get().end_user == end_user


@pytest.mark.django_db
def test_a_late_hangup_does_not_take_an_operator_off_the_call_they_are_on(now, line, on_duty):
    _receive(("newCall", now), ("answer", now + timedelta(seconds=5)), call_id="lost")
    later = now + timedelta(hours=5)
    _receive(("newCall", later), ("answer", later + timedelta(seconds=5)), call_id="current")
    assert calls.end_stale_calls(now=later + timedelta(seconds=30)) == 1
    on_duty.refresh_from_db()
    assert on_duty.presence == PresenceState.ON_CALL
    assert Call.objects.get(call_id="current").outcome == "talking"
