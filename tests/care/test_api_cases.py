"""The cases API with the payload shapes of DESIGN.md §7.

Cases opened through the API use the test's clock, which starts at `now`; cases a test only
needs to exist are opened through the real service at that `now`. The API names only a caller
the user looked up (the `end_user` fixture of this module is looked up by the operator).
Messages are translated and the Italian catalogue may lag: tests match codes and fields.
"""

import re
from datetime import datetime, timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from rest_framework.test import APIClient

from care import services
from care.models import Attachment, Case, CaseStatus, Handoff, Note
from config.models import AccessLog
from tests.conftest import look_up
from tests.factories import EndUserFactory

pytestmark = pytest.mark.django_db

CASES = "/api/v1/cases/"
DESCRIPTION = "Numero coinvolto: 3471234567\nDenuncia presentata: sì"
# The user's permissions (two), the count and the page, the user's need-to-know scope
# (certifications, supervised queues: care.privacy), and the access-log row of the list
# (chain-head lock, insert, head update, the page's end users in one insert, savepoints in
# tests): never one per row.
LIST_QUERIES = 11
# The same, then the case with its notes, attachments, events, hand-offs and phones, and the
# access-log row of the view (chain-head lock, insert, head update, and savepoints in tests).
DETAIL_QUERIES = 18  # with the access log row and its end-user index row


def payload(caller, /, **changes) -> dict:
    """The DESIGN.md §7 body of `POST /api/v1/cases/` for the end user `caller`."""
    body = {
        "contract": "RSIC-MOB-2026",
        "end_user": caller.id,
        "category": "sim-lost",
        "priority": "P2",
        "channel": "phone",
        "subject": "SIM rubata",
        "description": DESCRIPTION,
    }
    body.update(changes)
    return body


def url(reference: str, action: str = "") -> str:
    return f"{CASES}{reference}/" + (f"{action}/" if action else "")


def aware(value: str) -> datetime:
    """An API time: ISO 8601 with its offset."""
    parsed = datetime.fromisoformat(value)
    assert parsed.utcoffset() is not None, value
    return parsed


@pytest.fixture
def end_user(end_user, operator_api):
    """The caller, found by the operator's lookup as a case opened through the API needs."""
    look_up(operator_api, end_user)
    return end_user


@pytest.fixture
def opened(operator_api, end_user):
    """A `sim-lost` P2 case opened through the API now, as its detail."""
    response = operator_api.post(CASES, payload(end_user), format="json")
    assert response.status_code == 201, response.json()
    return response.json()


def detail(api, reference: str) -> dict:
    response = api.get(url(reference))
    assert response.status_code == 200, response.json()
    return response.json()


def references(response) -> list[str]:
    assert response.status_code == 200, response.json()
    return [row["reference"] for row in response.json()["results"]]


# --- Opening --------------------------------------------------------------------------------


def test_operator_opens_a_case_with_the_design_payload(operator_api, operator, end_user):
    response = operator_api.post(CASES, payload(end_user), format="json")

    assert response.status_code == 201, response.json()
    case = response.json()
    year = timezone.localdate().year
    assert re.fullmatch(rf"CS-{year}-\d{{6}}", case["reference"])
    assert case["status"] == "new"
    assert case["priority"] == "P2"
    assert case["channel"] == "phone"
    assert case["contract"] == "RSIC-MOB-2026"
    assert case["contract_version"] == 1
    assert case["category"]["code"] == "sim-lost"
    assert case["client"]["id"] == end_user.client_id
    assert case["end_user"] == {
        "id": end_user.id,
        "first_name": end_user.first_name,
        "last_name": end_user.last_name,
        "masked": False,
    }
    assert case["opened_by"] == operator.username
    assert case["row_version"] == 1
    assert case["first_response_state"] == case["resolution_state"] == "ok"
    opened_at = aware(case["opened_at"])
    assert aware(case["clock_started_at"]) >= opened_at
    assert opened_at < aware(case["first_response_due_at"]) < aware(case["resolution_due_at"])
    assert [event["kind"] for event in case["events"]] == ["opened"]
    assert Case.objects.get(reference=case["reference"]).opened_by == operator


def test_without_a_priority_the_case_takes_the_categorys_default(operator_api, end_user):
    body = payload(end_user, category="roaming", description="Nessun servizio in Francia")
    del body["priority"]

    response = operator_api.post(CASES, body, format="json")

    assert response.status_code == 201, response.json()
    assert response.json()["priority"] == "P3"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"contract": "NON-ESISTE-2026"}, "contract"),
        ({"category": "fibra-guasta"}, "category"),
        ({"priority": "P9"}, "priority"),
        ({"description": ""}, "description"),
        ({"description": "Numero coinvolto: …\nDenuncia presentata: sì/no"}, "description"),
        ({"end_user": None}, "end_user"),
        ({"end_user": "other client"}, "end_user"),
        ({"channel": "fax"}, "channel"),
        ({"subject": "   "}, "subject"),
    ],
)
def test_bad_input_is_refused_on_its_field_and_nothing_is_written(
    request, operator_api, end_user, care_tables, changes, field
):
    if changes.get("end_user") == "other client":
        other = request.getfixturevalue("other_client_end_user")
        look_up(operator_api, other)
        changes = {"end_user": other.id}
    before = care_tables()

    response = operator_api.post(CASES, payload(end_user, **changes), format="json")

    assert response.status_code == 400, response.json()
    assert field in response.json()["fields"]
    assert care_tables() == before


def test_a_similar_case_is_proposed_and_a_reason_opens_a_new_one(
    operator_api, end_user, opened, care_tables
):
    before = care_tables()

    again = operator_api.post(CASES, payload(end_user), format="json")

    assert again.status_code == 409
    assert again.json()["code"] == "duplicate_suspected"
    assert [c["reference"] for c in again.json()["similar_cases"]] == [opened["reference"]]
    assert care_tables() == before

    reason = "Seconda SIM dello stesso utente"
    forced = operator_api.post(
        CASES, payload(end_user, duplicate_override_reason=reason), format="json"
    )

    assert forced.status_code == 201, forced.json()
    assert forced.json()["reference"] != opened["reference"]
    assert forced.json()["opening_reason"] == reason
    assert "duplicate_override" in [event["kind"] for event in forced.json()["events"]]


# --- List -----------------------------------------------------------------------------------


@pytest.fixture
def listed(open_case_for, end_user, contract, operator, now):
    """Four cases, opened from `now` (Wednesday 2 December 2026, 10:00) on:
    - `new`: sim-lost P2 of the caller reachable on 347 123 4567, untouched;
    - `late`: roaming P3 of another caller opened on Thursday, still new, first answered at
      16:00, an hour after its first response fell due;
    - `resolved`: sim-lost P2 of a third caller, resolved at 10:30;
    - `other`: roaming P3 of a fourth caller opened on Friday, in progress."""
    second, third, fourth = (
        EndUserFactory(client=contract.client, phone=phone)
        for phone in ("+393331112233", "+393351112233", "+393391112233")
    )
    new = open_case_for(end_user)
    late = open_case_for(
        second, category_code="roaming", description="Nessun servizio", now=now + timedelta(1)
    )
    services.add_note(
        actor=operator,
        case=late,
        body="La stiamo richiamando.",
        visibility=Note.Visibility.CUSTOMER,
        now=now + timedelta(days=1, hours=6),
    )
    resolved = open_case_for(third, now=now + timedelta(minutes=5))
    services.transition_case(
        actor=operator,
        case=resolved,
        to=CaseStatus.RESOLVED,
        resolution_code="blocco-sblocco-sim",
        now=now + timedelta(minutes=30),
    )
    other = open_case_for(
        fourth, category_code="roaming", description="Roaming lento", now=now + timedelta(2)
    )
    services.transition_case(
        actor=operator, case=other, to=CaseStatus.IN_PROGRESS, now=now + timedelta(2)
    )
    return {
        "new": new.reference,
        "late": late.reference,
        "resolved": resolved.reference,
        "other": other.reference,
    }


def test_list_shows_the_newest_first_with_what_a_row_needs(operator_api, listed, end_user):
    response = operator_api.get(CASES)

    assert references(response) == [
        listed["other"],
        listed["late"],
        listed["resolved"],
        listed["new"],
    ]
    row = response.json()["results"][-1]
    assert response.json()["count"] == 4
    assert row["contract"] == "RSIC-MOB-2026"
    assert row["category"] == {"code": "sim-lost", "name": "SIM smarrita o rubata"}
    assert row["end_user"]["id"] == end_user.id
    assert row["client"]["name"] == "Regione Siciliana"
    assert row["assignee"] is None
    assert {"first_response_due_at", "resolution_due_at", "reopen_count", "queue_code"} <= set(row)
    aware(row["opened_at"])


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"status": "new"}, ["late", "new"]),
        ({"status": ["in_progress", "resolved"]}, ["other", "resolved"]),
        ({"status": "in_progress"}, ["other"]),
        ({"priority": "P3"}, ["other", "late"]),
        ({"open": "true"}, ["other", "late", "new"]),
        ({"sla": "breached"}, ["late"]),
        ({"sla": "met"}, ["resolved"]),
    ],
)
def test_list_filters(operator_api, listed, query, expected):
    assert references(operator_api.get(CASES, query)) == [listed[n] for n in expected]


SEARCH = "/api/v1/cases/search/"


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"q": "347 123 4567"}, ["new"]),
        ({"q": "+39 347-1234567"}, ["new"]),
        ({"q": "0039 3471234567"}, ["new"]),
        ({"q": "333.111.2233"}, ["late"]),
        ({"q": "333.111.2233", "status": ["in_progress"]}, []),
        ({"status": ["in_progress", "resolved"]}, ["other", "resolved"]),
    ],
)
def test_search_in_the_body(operator_api, listed, body, expected):
    response = operator_api.post(SEARCH, body, format="json")
    assert response.status_code == 200, response.json()
    assert references(response) == [listed[n] for n in expected]


def test_search_by_reference_in_any_case(operator_api, listed):
    reference = listed["resolved"]

    response = operator_api.post(SEARCH, {"q": reference.lower()}, format="json")
    assert references(response) == [reference]


def test_a_search_in_the_address_is_refused_with_the_way_to_do_it(operator_api, listed):
    """Personal data never travels in a URL: `?q=` answers 400 pointing to the body search."""
    response = operator_api.get(CASES, {"q": "347 123 4567"})

    assert response.status_code == 400
    assert "cases/search/" in response.json()["message"]
    assert "q" in response.json()["fields"]


def test_a_bad_search_body_is_a_400_on_that_field(operator_api, listed):
    response = operator_api.post(SEARCH, {"status": ["archived"]}, format="json")

    assert response.status_code == 400
    assert "status" in response.json()["fields"]
    response = operator_api.post(SEARCH, {"q": "x" * 500}, format="json")
    assert response.status_code == 400
    assert "q" in response.json()["fields"]


def test_an_unknown_filter_value_is_a_400_on_that_parameter(operator_api, listed):
    response = operator_api.get(CASES, {"status": "archived"})

    assert response.status_code == 400
    assert "status" in response.json()["fields"]


def test_list_pages_by_fifty(operator_api, open_case_for, end_user, now):
    for minutes in range(51):
        open_case_for(end_user, now=now + timedelta(minutes=minutes), duplicate_override_reason="x")
    newest = Case.objects.order_by("-opened_at").first()

    first = operator_api.get(CASES)
    second = operator_api.get(CASES, {"page": 2})

    assert first.json()["count"] == 51
    assert len(first.json()["results"]) == 50
    assert first.json()["results"][0]["reference"] == newest.reference
    assert first.json()["next"] is not None
    assert len(second.json()["results"]) == 1
    assert second.json()["next"] is None


def test_list_queries_do_not_grow_with_the_rows_of_the_page(
    django_assert_max_num_queries, open_case_for, end_user, operator, contract, now
):
    def opened(count: int) -> None:
        for minutes in range(count):
            caller = EndUserFactory(client=contract.client)
            case = open_case_for(caller, now=now + timedelta(minutes=minutes))
            services.assign_case(actor=operator, case=case, assignee=operator, now=now)

    def list_queries(rows: int) -> int:
        api = APIClient()  # a fresh user object: its permission cache starts empty
        api.force_authenticate(get_user_model().objects.get(id=operator.id))
        with django_assert_max_num_queries(LIST_QUERIES) as captured:
            response = api.get(CASES)
        assert len(response.json()["results"]) == rows
        return len(captured)

    opened(3)
    with_three = list_queries(3)
    opened(27)

    assert list_queries(30) == with_three


# --- Detail and priority --------------------------------------------------------------------


def test_an_unknown_reference_is_a_404(operator_api):
    response = operator_api.get(url("CS-2026-999999"))

    assert response.status_code == 404
    assert response.json()["code"] == "case_not_found"


def test_detail_is_found_by_reference_in_any_case(operator_api, opened):
    case = detail(operator_api, opened["reference"].lower())

    assert case["reference"] == opened["reference"]
    assert case["description"] == DESCRIPTION
    assert case["notes"] == case["handoffs"] == []


def test_detail_queries_do_not_grow_with_notes_and_attachments(
    django_assert_max_num_queries, operator, opened
):
    case = Case.objects.get(reference=opened["reference"])

    def detail_queries() -> int:
        api = APIClient()
        api.force_authenticate(get_user_model().objects.get(id=operator.id))
        with django_assert_max_num_queries(DETAIL_QUERIES) as captured:
            assert api.get(url(case.reference)).status_code == 200
        return len(captured)

    def add_notes(count: int) -> None:
        for n in range(count):
            pdf = SimpleUploadedFile(f"doc{n}.pdf", b"%PDF-1.4\n", content_type="application/pdf")
            services.add_note(actor=operator, case=case, body=f"Nota {n}", attachments=[pdf])

    detail_queries()  # the first view of all also creates the access log's chain head
    add_notes(1)
    with_one = detail_queries()
    add_notes(4)

    assert detail_queries() == with_one


def test_changing_the_priority_moves_the_due_times(operator_api, opened):
    response = operator_api.patch(
        url(opened["reference"]), {"priority": "P1", "row_version": 1}, format="json"
    )

    assert response.status_code == 200, response.json()
    case = response.json()
    assert case["priority"] == "P1"
    assert case["row_version"] == 2
    assert aware(case["resolution_due_at"]) < aware(opened["resolution_due_at"])
    assert case["events"][-1]["kind"] == "priority_changed"
    assert (case["events"][-1]["from_value"], case["events"][-1]["to_value"]) == ("P2", "P1")


def test_a_stale_row_version_is_a_conflict_and_changes_nothing(operator_api, opened, care_tables):
    reference = opened["reference"]
    operator_api.patch(url(reference), {"priority": "P1"}, format="json")
    before = care_tables()

    response = operator_api.patch(
        url(reference), {"priority": "P3", "row_version": 1}, format="json"
    )

    assert response.status_code == 409
    assert response.json()["code"] == "case_changed_meanwhile"
    assert care_tables() == before


@pytest.mark.parametrize(
    ("body", "field"),
    [({"priority": "P9"}, "priority"), ({"priority": "P1", "status": "closed"}, "status")],
)
def test_only_a_valid_priority_changes_in_place(operator_api, opened, care_tables, body, field):
    before = care_tables()

    response = operator_api.patch(url(opened["reference"]), body, format="json")

    assert response.status_code == 400
    assert field in response.json()["fields"]
    assert care_tables() == before


# --- Notes ----------------------------------------------------------------------------------


def test_an_internal_note_is_added_and_listed(operator_api, operator, opened):
    reference = opened["reference"]

    response = operator_api.post(
        url(reference, "notes"),
        {"body": "Verificato IMEI.", "visibility": "internal", "row_version": 1},
        format="json",
    )

    assert response.status_code == 201, response.json()
    note = response.json()
    assert (note["author"], note["visibility"], note["attachments"]) == (
        operator.username,
        "internal",
        [],
    )
    aware(note["created_at"])
    listed = operator_api.get(url(reference, "notes"))
    assert [n["id"] for n in listed.json()] == [note["id"]]
    assert detail(operator_api, reference)["first_response_at"] is None


def test_the_first_customer_note_is_the_first_response(operator_api, opened):
    reference = opened["reference"]

    response = operator_api.post(
        url(reference, "notes"),
        {"body": "Abbiamo bloccato la SIM.", "visibility": "customer"},
        format="json",
    )

    assert response.status_code == 201, response.json()
    case = detail(operator_api, reference)
    assert case["first_response_at"] is not None
    assert case["first_response_state"] == "met"


def test_a_pdf_is_attached_to_a_multipart_note(operator_api, opened):
    pdf = SimpleUploadedFile(
        "denuncia.pdf", b"%PDF-1.4\n%minimal\n", content_type="application/pdf"
    )

    response = operator_api.post(
        url(opened["reference"], "notes"),
        {"body": "Denuncia allegata.", "visibility": "internal", "attachments": [pdf]},
        format="multipart",
    )

    assert response.status_code == 201, response.json()
    (attachment,) = response.json()["attachments"]
    assert attachment["name"] == "denuncia.pdf"
    assert attachment["content_type"] == "application/pdf"
    assert attachment["size"] == len(b"%PDF-1.4\n%minimal\n")
    assert Attachment.objects.get(id=attachment["id"]).note_id == response.json()["id"]
    assert [n["attachments"] for n in detail(operator_api, opened["reference"])["notes"]] == [
        [attachment]
    ]


def test_an_executable_is_refused_and_nothing_is_written(operator_api, opened, care_tables):
    before = care_tables()
    program = SimpleUploadedFile(
        "fattura.exe", b"MZ\x90\x00", content_type="application/octet-stream"
    )

    response = operator_api.post(
        url(opened["reference"], "notes"),
        {"body": "Allegato", "attachments": [program]},
        format="multipart",
    )

    assert response.status_code == 400
    assert "attachments" in response.json()["fields"]
    assert care_tables() == before


def test_an_empty_note_is_refused(operator_api, opened, care_tables):
    before = care_tables()

    response = operator_api.post(url(opened["reference"], "notes"), {"body": " "}, format="json")

    assert response.status_code == 400
    assert "body" in response.json()["fields"]
    assert care_tables() == before


# --- Transitions ----------------------------------------------------------------------------


def test_an_allowed_transition_answers_the_case(operator_api, opened):
    response = operator_api.post(
        url(opened["reference"], "transition"), {"to": "in_progress"}, format="json"
    )

    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "in_progress"
    assert response.json()["row_version"] == 2
    event = response.json()["events"][-1]
    assert (event["kind"], event["from_value"], event["to_value"]) == (
        "status_changed",
        "new",
        "in_progress",
    )


def test_a_transition_that_is_not_allowed_is_a_conflict(operator_api, opened, care_tables):
    before = care_tables()

    response = operator_api.post(
        url(opened["reference"], "transition"), {"to": "closed"}, format="json"
    )

    assert response.status_code == 409
    assert response.json()["code"] == "transition_not_allowed"
    assert care_tables() == before


def test_resolving_needs_a_closing_code_of_the_contract(operator_api, opened, care_tables):
    transition = url(opened["reference"], "transition")
    before = care_tables()

    refused = operator_api.post(transition, {"to": "resolved"}, format="json")
    unknown = operator_api.post(
        transition, {"to": "resolved", "closing_code": "boh"}, format="json"
    )

    assert refused.status_code == unknown.status_code == 400
    assert refused.json()["code"] == "closing_code_required"
    assert "closing_code" in refused.json()["fields"]
    assert unknown.json()["code"] == "unknown_closing_code"
    assert "guasto-rete" in unknown.json()["allowed"]
    assert care_tables() == before

    resolved = operator_api.post(
        transition,
        {"to": "resolved", "closing_code": "blocco-sblocco-sim", "first_contact_resolution": True},
        format="json",
    )

    assert resolved.status_code == 200, resolved.json()
    case = resolved.json()
    assert case["status"] == "resolved"
    assert case["resolution_code"] == case["closing_code"] == "blocco-sblocco-sim"
    assert case["first_contact_resolution"] is True
    assert case["resolution_state"] == "met"
    aware(case["resolved_at"])


def test_a_transition_with_a_stale_row_version_is_a_conflict(operator_api, opened):
    transition = url(opened["reference"], "transition")
    operator_api.post(transition, {"to": "in_progress", "row_version": 1}, format="json")

    response = operator_api.post(
        transition, {"to": "waiting_customer", "row_version": 1}, format="json"
    )

    assert response.status_code == 409
    assert response.json()["code"] == "case_changed_meanwhile"


def test_a_case_naming_a_caller_the_user_did_not_look_up_is_refused_and_logged(
    operator_api, operator, contract, care_tables
):
    stranger = EndUserFactory(client=contract.client)
    before = care_tables()

    response = operator_api.post(CASES, payload(stranger), format="json")

    assert response.status_code == 403
    assert response.json()["code"] == "caller_not_looked_up"
    assert str(stranger.last_name) not in response.content.decode()
    assert care_tables() == before
    entry = AccessLog.objects.get(route="api:case-list")
    assert entry.outcome == AccessLog.Outcome.DENIED
    assert list(entry.subjects.values_list("end_user_id", flat=True)) == [stranger.id]


def test_a_lookup_by_a_colleague_or_over_half_an_hour_old_does_not_count(
    operator_api, user_factory, contract, time_machine
):
    caller = EndUserFactory(client=contract.client)
    colleague = user_factory("op.bianchi")
    colleague_api = APIClient()
    colleague_api.force_authenticate(colleague)
    look_up(colleague_api, caller)
    assert operator_api.post(CASES, payload(caller), format="json").status_code == 403

    look_up(operator_api, caller)
    time_machine.move_to(timezone.now() + timedelta(minutes=31))
    assert operator_api.post(CASES, payload(caller), format="json").status_code == 403
    look_up(operator_api, caller)
    assert operator_api.post(CASES, payload(caller), format="json").status_code == 201


def test_opening_a_case_through_the_api_is_in_the_access_log(operator_api, operator, opened):
    entry = AccessLog.objects.get(route="api:case-list")
    assert (entry.outcome, entry.user_id) == (AccessLog.Outcome.ALLOWED, operator.id)
    assert list(entry.subjects.values_list("end_user_id", flat=True)) == [opened["end_user"]["id"]]


# --- Hand-offs ------------------------------------------------------------------------------


@pytest.fixture
def forwardable(contract_with_handoff_units, operator_api, end_user):
    """A case opened now under the contract version with the units "assurance" and
    "billing", moved to in progress."""
    response = operator_api.post(CASES, payload(end_user), format="json")
    assert response.status_code == 201, response.json()
    reference = response.json()["reference"]
    operator_api.post(url(reference, "transition"), {"to": "in_progress"}, format="json")
    return reference


def forward(api, reference: str, unit: str = "assurance"):
    return api.post(
        url(reference, "handoff"), {"unit": unit, "request": "Verifica la cella."}, format="json"
    )


def test_a_hand_off_sent_back_returns_the_case_to_work(operator_api, operator, forwardable):
    sent = forward(operator_api, forwardable)

    assert sent.status_code == 201, sent.json()
    handoff = sent.json()
    assert (handoff["unit_code"], handoff["unit_name"], handoff["outcome"]) == (
        "assurance",
        "Assurance rete",
        "pending",
    )
    assert handoff["requested_by"] == operator.username
    assert detail(operator_api, forwardable)["status"] == "waiting_unit"

    answered = operator_api.post(
        url(forwardable, f"handoff/{handoff['id']}/answer"),
        {"answer": "Manca il documento d'identità.", "outcome": "bounced"},
        format="json",
    )

    assert answered.status_code == 200, answered.json()
    assert answered.json()["outcome"] == "bounced"
    aware(answered.json()["answered_at"])
    case = detail(operator_api, forwardable)
    assert case["status"] == "in_progress"
    assert [h["outcome"] for h in case["handoffs"]] == ["bounced"]


def test_a_hand_off_answered_resolved_resolves_the_case(operator_api, forwardable):
    handoff = forward(operator_api, forwardable).json()

    answered = operator_api.post(
        url(forwardable, f"handoff/{handoff['id']}/answer"),
        {"answer": "Cella riparata.", "outcome": "resolved"},
        format="json",
    )

    assert answered.status_code == 200, answered.json()
    case = detail(operator_api, forwardable)
    assert case["status"] == "resolved"
    assert case["resolution_code"] == "risolto-da-unita"


def test_a_unit_outside_the_contract_is_refused(operator_api, forwardable, care_tables):
    before = care_tables()

    response = forward(operator_api, forwardable, unit="ufficio-legale")

    assert response.status_code == 400
    assert "unit" in response.json()["fields"]
    assert care_tables() == before


def test_the_hand_off_of_another_case_is_not_found(
    operator_api, forwardable, open_case_for, contract, care_tables
):
    handoff = forward(operator_api, forwardable).json()
    other = open_case_for(EndUserFactory(client=contract.client), now=timezone.now())
    before = care_tables()

    response = operator_api.post(
        url(other.reference, f"handoff/{handoff['id']}/answer"),
        {"answer": "Fatto.", "outcome": "resolved"},
        format="json",
    )

    assert response.status_code == 404
    assert care_tables() == before
    assert Handoff.objects.get(id=handoff["id"]).outcome == Handoff.Outcome.PENDING


# --- First-contact resolution and a new contact about an existing case -------------------


def test_a_case_resolved_during_the_call_is_opened_and_resolved_in_one_request(
    operator_api, end_user
):
    response = operator_api.post(CASES, payload(end_user, resolved_during_call=True), format="json")

    assert response.status_code == 201, response.json()
    case = response.json()
    assert (case["status"], case["first_contact_resolution"]) == ("resolved", True)
    assert case["resolution_code"] == services.FIRST_CONTACT_CODE
    assert [e["kind"] for e in case["events"]] == ["opened", "first_response", "status_changed"]


def test_a_new_contact_about_a_resolved_case_reopens_it_with_a_note(operator_api, opened):
    reference = opened["reference"]
    operator_api.post(
        url(reference, "transition"),
        {"to": "resolved", "resolution_code": "blocco-sblocco-sim"},
        format="json",
    )
    contact = {
        "end_user": opened["end_user"]["id"],
        "subject": "Di nuovo senza linea",
        "description": "La SIM sostitutiva non funziona.",
    }

    response = operator_api.post(url(reference, "contacts"), contact, format="json")

    assert response.status_code == 200, response.json()
    case = response.json()
    assert (case["status"], case["reopen_count"]) == ("in_progress", 1)
    assert [e["kind"] for e in case["events"]][-2:] == ["reopened", "note_added"]
    note = Note.objects.get(case__reference=reference)
    assert note.body == "Di nuovo senza linea\n\nLa SIM sostitutiva non funziona."
    assert note.visibility == Note.Visibility.INTERNAL


def test_a_new_contact_on_an_open_case_is_a_note_and_another_caller_is_refused(
    operator_api, opened, other_client_end_user, care_tables
):
    reference = opened["reference"]
    contact = {"subject": "Richiama", "description": "Chiede notizie."}
    before = care_tables()

    stranger = operator_api.post(
        url(reference, "contacts"),
        {**contact, "end_user": other_client_end_user.id},
        format="json",
    )

    assert stranger.status_code == 400
    assert care_tables() == before
    same = operator_api.post(
        url(reference, "contacts"), {**contact, "end_user": opened["end_user"]["id"]}, format="json"
    )
    assert same.status_code == 200, same.json()
    assert same.json()["status"] == "new"
    assert same.json()["reopen_count"] == 0
    assert Note.objects.filter(case__reference=reference).count() == 1


# --- Re-opening -----------------------------------------------------------------------------


def test_a_resolved_case_is_reopened_with_a_reason(operator_api, opened):
    reference = opened["reference"]
    operator_api.post(
        url(reference, "transition"),
        {"to": "resolved", "resolution_code": "blocco-sblocco-sim"},
        format="json",
    )

    response = operator_api.post(
        url(reference, "reopen"), {"reason": "La nuova SIM non funziona."}, format="json"
    )

    assert response.status_code == 200, response.json()
    case = response.json()
    assert (case["status"], case["reopen_count"], case["resolved_at"]) == ("in_progress", 1, None)
    assert case["events"][-1]["kind"] == "reopened"


def test_reopening_needs_a_reason_and_a_resolved_case(operator_api, opened, care_tables):
    reopen = url(opened["reference"], "reopen")
    before = care_tables()

    without_reason = operator_api.post(reopen, {"reason": ""}, format="json")
    still_open = operator_api.post(reopen, {"reason": "Richiamato"}, format="json")

    assert without_reason.status_code == 400
    assert "reason" in without_reason.json()["fields"]
    assert still_open.status_code == 409
    assert still_open.json()["code"] == "transition_not_allowed"
    assert care_tables() == before


# --- Permissions ----------------------------------------------------------------------------


def test_anonymous_calls_are_unauthenticated(anonymous_api, end_user):
    assert anonymous_api.get(CASES).status_code == 401
    assert anonymous_api.post(CASES, payload(end_user), format="json").status_code == 401


def test_a_manager_sees_aggregates_not_cases(manager_api, opened, end_user, care_tables):
    """Managers work with reports: case reads and writes are both refused."""
    before = care_tables()

    assert manager_api.get(CASES).status_code == 403
    assert manager_api.get(url(opened["reference"])).status_code == 403
    writes = [
        manager_api.post(CASES, payload(end_user, duplicate_override_reason="x"), format="json"),
        manager_api.patch(url(opened["reference"]), {"priority": "P1"}, format="json"),
        manager_api.post(url(opened["reference"], "transition"), {"to": "in_progress"}),
        manager_api.post(url(opened["reference"], "notes"), {"body": "Nota"}, format="json"),
    ]

    assert [w.status_code for w in writes] == [403] * 4
    assert {w.json()["code"] for w in writes} == {"permission_denied"}
    assert care_tables() == before


@pytest.mark.usefixtures("queue_supervisor")
def test_a_supervisor_works_cases_too(supervisor_api, opened):
    response = supervisor_api.post(
        url(opened["reference"], "transition"), {"to": "in_progress"}, format="json"
    )

    assert response.status_code == 200, response.json()


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"opened_after": "2026-12-03"}, ["other", "late"]),
        ({"opened_before": "2026-12-02"}, ["resolved", "new"]),
        ({"opened_after": "2026-12-03", "opened_before": "2026-12-03"}, ["late"]),
    ],
)
def test_list_filters_by_opening_date(operator_api, listed, query, expected):
    assert references(operator_api.get(CASES, query)) == [listed[n] for n in expected]


def test_list_filters_by_client_and_queue(operator_api, listed, contract, operator):
    everyone = references(operator_api.get(CASES, {"client": contract.client.id}))
    assert sorted(everyone) == sorted(listed.values())
    assert references(operator_api.get(CASES, {"client": contract.client.id + 1000})) == []
    services.set_queue(
        actor=operator, case=Case.objects.get(reference=listed["late"]), queue_code="roaming-pa"
    )
    assert references(operator_api.get(CASES, {"queue": "roaming-pa"})) == [listed["late"]]


def test_search_by_text_and_by_last_name(operator_api, listed, end_user):
    def found(text):
        return references(operator_api.post(SEARCH, {"q": text}, format="json"))

    assert found("Roaming lento") == [listed["other"]]
    assert found("nessun servizio") == [listed["late"]]
    assert found(end_user.last_name) == [listed["new"]]
