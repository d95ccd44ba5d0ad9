"""Data-subject requests (administrators): find the person, export everything held on them
(with when and why their data was consulted, never by whom), and erase them."""

import json
from datetime import datetime, timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from care import services
from care.models import Attachment, Case, CaseEvent, CaseStatus, Handoff
from care.retention import REMOVED
from care.subject_requests import PURPOSES, consultations_of, find_subjects
from config.models import AccessLog, AccessLogSubject
from contracts.models import EndUser, EndUserPhone
from tests.factories import CLOSING_CODE, EndUserFactory

pytestmark = pytest.mark.django_db

PHONE = "+393471234567"
CODICE_FISCALE = "TRPRSL80A41G273T"
EMAIL = "rosalia.trapanese@regione.example.it"
EMPLOYEE_CODE = "PA-77123"
PDF = b"%PDF-1.4 carta d'identita\n%%EOF"
REFERENCE = "PROT-2026-0042"
SEARCH = reverse("care:subject-search")


@pytest.fixture
def caller(contract):
    return EndUserFactory(
        client=contract.client,
        first_name="Rosalia",
        last_name="Trapanese",
        email=EMAIL,
        employee_code=EMPLOYEE_CODE,
        codice_fiscale=CODICE_FISCALE,
        phone=PHONE,
    )


@pytest.fixture
def someone_else(contract):
    return EndUserFactory(
        client=contract.client, first_name="Giuseppe", last_name="Bellomo", phone="+393489876543"
    )


@pytest.fixture
def closed_case(contract_with_handoff_units, caller, open_case_for, operator, now):
    """A closed case of the caller with a note, an attachment and an answered hand-off."""
    case = open_case_for(caller, subject="SIM rubata a Rosalia Trapanese")
    services.add_note(
        actor=operator,
        case=case,
        body="Richiamata allo 0039 347 1234567. Cliente soddisfatta.",
        attachments=[SimpleUploadedFile("denuncia.pdf", PDF, content_type="application/pdf")],
        now=now + timedelta(minutes=5),
    )
    handoff = services.send_handoff(
        actor=operator,
        case=case,
        unit_code="assurance",
        request="Bloccare la SIM 347 123 4567",
        now=now + timedelta(minutes=10),
    )
    services.answer_handoff(
        actor=operator,
        handoff=handoff,
        answer="SIM bloccata.",
        outcome=Handoff.Outcome.RESOLVED,
        now=now + timedelta(minutes=20),
    )
    return services.transition_case(
        actor=operator,
        case=Case.objects.get(id=case.id),
        to=CaseStatus.CLOSED,
        resolution_code=CLOSING_CODE,
        now=now + timedelta(hours=1),
    )


@pytest.fixture
def consulted(closed_case, operator, operator_api):
    """The operator looked the caller up and opened their case page (two access-log rows
    naming the caller), in a browser of their own."""
    assert operator_api.post("/api/v1/lookup/", {"phone": PHONE}, format="json").status_code == 200
    browser = Client()
    browser.force_login(operator)
    assert browser.get(reverse("care:case-detail", args=[closed_case.reference])).status_code == 200
    return closed_case


@pytest.fixture
def as_admin(client, admin_user):
    client.force_login(admin_user)
    return client


def request_url(person) -> str:
    return reverse("care:subject-request", args=[person.id])


def export_url(person, fmt: str = "json") -> str:
    return f"{reverse('care:subject-export', args=[person.id])}?format={fmt}"


def erase_url(person) -> str:
    return reverse("care:subject-erase", args=[person.id])


def erasure(**changes) -> dict:
    return {"mode": "anonymise", "request_reference": REFERENCE, "confirm": "on", **changes}


def held_on(person) -> dict:
    """What the person's entry, phones and cases hold: to show a refusal changed nothing."""
    return {
        "entry": list(EndUser.objects.filter(id=person.id).values()),
        "phones": list(EndUserPhone.objects.filter(end_user_id=person.id).values_list("number")),
        "cases": list(
            Case.objects.order_by("id").values_list(
                "id", "end_user_id", "anonymised_at", "subject", "row_version"
            )
        ),
        "events": CaseEvent.objects.count(),
        "attachments": list(Attachment.objects.values_list("original_name", "file")),
    }


# --- Search ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        "+39 347 123 4567",
        "347 1234567",
        "0039 347 123 4567",
        "347-123-4567",
        "3471234567",
        EMAIL,
        "Rosalia.Trapanese@Regione.Example.it",
        EMPLOYEE_CODE,
        CODICE_FISCALE,
        CODICE_FISCALE.lower(),
    ],
)
def test_an_administrator_finds_the_person_by_any_identifier(as_admin, caller, someone_else, query):
    response = as_admin.post(SEARCH, {"query": query})
    assert response.status_code == 200
    assert response.context["found"] == [caller]
    html = response.content.decode()
    assert 'data-testid="subjects-found"' in html
    assert request_url(caller) in html
    assert request_url(someone_else) not in html


def test_the_search_is_logged_with_the_people_it_found(as_admin, caller, admin_user):
    as_admin.post(SEARCH, {"query": "347 123 4567"})
    row = AccessLog.objects.get(route="care:subject-search")
    assert (row.action, row.outcome, row.user_id) == ("search", "allowed", admin_user.id)
    assert row.detail["end_users"] == [caller.id]
    assert list(row.subjects.values_list("end_user_id", flat=True)) == [caller.id]


def test_a_search_finding_nobody_says_so(as_admin, caller):
    response = as_admin.post(SEARCH, {"query": "+39 333 000 0000"})
    assert response.context["found"] == []
    assert 'data-testid="subjects-none"' in response.content.decode()


def test_an_empty_search_is_a_form_error_and_searches_nothing(as_admin, caller):
    assert as_admin.get(SEARCH).status_code == 200
    response = as_admin.post(SEARCH, {"query": "   "})
    assert response.status_code == 200
    assert response.context["found"] is None
    assert response.context["form"].errors
    assert not AccessLogSubject.objects.exists()


def test_find_subjects_does_not_match_other_clients_people_by_accident(
    caller, other_client_end_user
):
    assert find_subjects(query="+39 348 987 6543") == [other_client_end_user]
    assert find_subjects(query=EMPLOYEE_CODE) == [caller]


# --- The record and its export --------------------------------------------------------------


def test_the_record_shows_person_cases_and_consultations(as_admin, consulted, caller):
    response = as_admin.get(request_url(caller))
    assert response.status_code == 200
    html = response.content.decode()
    for shown in ("Trapanese", EMAIL, EMPLOYEE_CODE, CODICE_FISCALE, PHONE):
        assert shown in html
    assert consulted.reference in html
    assert "denuncia.pdf" in html
    assert "Bloccare la SIM" in html
    assert 'data-testid="subject-consultations"' in html
    assert 'data-testid="subject-erase"' in html
    assert "op.rossi" not in html


def test_the_json_export_holds_everything_and_no_operator(
    as_admin, consulted, caller, operator, now
):
    response = as_admin.get(export_url(caller, "json"))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response["Content-Disposition"].startswith(
        f'attachment; filename="interessato-{caller.id}-'
    )
    assert response["Content-Disposition"].endswith('.json"')
    text = response.content.decode()
    data = json.loads(text)
    assert set(data) == {"generated_at", "person", "cases", "consultations"}
    person = data["person"]
    assert (person["id"], person["first_name"], person["last_name"]) == (
        caller.id,
        "Rosalia",
        "Trapanese",
    )
    assert (person["email"], person["employee_code"], person["codice_fiscale"]) == (
        EMAIL,
        EMPLOYEE_CODE,
        CODICE_FISCALE,
    )
    assert person["phones"] == [PHONE]
    [case] = data["cases"]
    assert (case["reference"], case["status"], case["subject"]) == (
        consulted.reference,
        "closed",
        "SIM rubata a Rosalia Trapanese",
    )
    [note] = case["notes"]
    assert note["attachments"] == ["denuncia.pdf"]
    assert "Cliente soddisfatta." in note["text"]
    [handoff] = case["handoffs"]
    assert (handoff["request"], handoff["answer"]) == (
        "Bloccare la SIM 347 123 4567",
        "SIM bloccata.",
    )
    with translation.override("it"):
        purposes = {
            "search": str(PURPOSES["api:lookup"]),
            "view": str(PURPOSES["care:case-detail"]),
        }
    consultations = data["consultations"]
    assert len(consultations) == 2
    assert [row["purpose"] for row in consultations] == [purposes["search"], purposes["view"]]
    for row in consultations:
        assert set(row) == {"at", "action", "purpose", "stated_reason", "refused"}
        assert datetime.fromisoformat(row["at"]).tzinfo is not None
        assert row["refused"] is False
    for who in (operator.get_username(), operator.first_name, operator.last_name, "adm.blu"):
        assert who not in text


def test_the_html_export_is_a_standalone_attachment_without_operators(
    as_admin, consulted, caller, operator
):
    response = as_admin.get(export_url(caller, "html"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    assert response["Content-Disposition"].startswith("attachment; ")
    assert response["Content-Disposition"].endswith('.html"')
    html = response.content.decode()
    assert html.startswith("<!doctype html>")
    for shown in ("Trapanese", consulted.reference, "denuncia.pdf"):
        assert shown in html
    with translation.override("it"):
        assert str(PURPOSES["care:case-detail"]) in html
    for who in (operator.get_username(), operator.first_name, operator.last_name, "adm.blu"):
        assert who not in html


def test_consultations_say_when_and_why_but_not_who(consulted, caller, operator):
    rows = consultations_of(caller.id)
    assert [(row["action"], row["refused"]) for row in rows] == [
        (str(AccessLog.Action.SEARCH.label), False),
        (str(AccessLog.Action.VIEW.label), False),
    ]
    assert all(operator.get_username() not in str(row) for row in rows)
    assert rows[0]["at"] <= rows[1]["at"]


def test_the_export_is_itself_logged(as_admin, caller, admin_user):
    as_admin.get(export_url(caller))
    row = AccessLog.objects.get(route="care:subject-export")
    assert (row.action, row.outcome, row.detail["end_users"]) == ("export", "allowed", [caller.id])


def test_an_unknown_person_is_not_found(as_admin, caller):
    missing = EndUser(id=caller.id + 1000)
    assert as_admin.get(request_url(missing)).status_code == 404
    assert as_admin.get(export_url(missing)).status_code == 404
    assert as_admin.post(erase_url(missing), erasure()).status_code == 404


# --- Erasure --------------------------------------------------------------------------------


def test_anonymise_blanks_the_entry_and_anonymises_the_cases(
    as_admin, closed_case, caller, admin_user, django_capture_on_commit_callbacks
):
    attachment = Attachment.objects.get()
    name, storage = attachment.file.name, attachment.file.storage
    with django_capture_on_commit_callbacks(execute=True):
        response = as_admin.post(erase_url(caller), erasure(mode="anonymise"))
    assert response.status_code == 302
    assert response["Location"] == SEARCH
    entry = EndUser.objects.get(id=caller.id)
    assert (entry.first_name, entry.last_name, entry.is_active) == ("—", f"#{caller.id}", False)
    assert (entry.email, entry.employee_code, entry.codice_fiscale) == ("", "", "")
    assert not EndUserPhone.objects.filter(end_user_id=caller.id).exists()
    case = Case.objects.get(id=closed_case.id)
    assert (case.end_user_id, case.anonymised_at is not None) == (None, True)
    assert "Trapanese" not in case.subject
    assert REMOVED in case.subject
    [event] = CaseEvent.objects.filter(case=case, kind=CaseEvent.Kind.ANONYMISED)
    assert (event.actor, event.to_value) == (admin_user, "erasure")
    assert not storage.exists(name)
    assert find_subjects(query=PHONE) == []
    assert find_subjects(query=EMAIL) == []


def test_erase_deletes_the_entry_and_keeps_the_anonymised_cases(as_admin, closed_case, caller):
    response = as_admin.post(erase_url(caller), erasure(mode="erase"))
    assert response.status_code == 302
    assert not EndUser.objects.filter(id=caller.id).exists()
    assert not EndUserPhone.objects.filter(number=PHONE).exists()
    case = Case.objects.get(id=closed_case.id)
    assert (case.end_user_id, case.status) == (None, "closed")
    assert as_admin.get(request_url(caller)).status_code == 404


def test_a_person_without_cases_is_erased_too(as_admin, someone_else):
    assert as_admin.post(erase_url(someone_else), erasure(mode="erase")).status_code == 302
    assert not EndUser.objects.filter(id=someone_else.id).exists()


def test_the_erasure_is_in_the_access_log_with_the_request_reference(
    as_admin, closed_case, caller, admin_user
):
    as_admin.post(erase_url(caller), erasure(mode="erase"))
    row = AccessLog.objects.get(route="care:subject-erase")
    assert (row.action, row.outcome, row.purpose, row.user_id) == (
        "erase",
        "allowed",
        REFERENCE,
        admin_user.id,
    )
    assert row.detail["end_users"] == [caller.id]
    assert (row.detail["cases_anonymised"], row.detail["entry"]) == (1, "deleted")
    assert AccessLogSubject.objects.filter(entry=row, end_user_id=caller.id).exists()
    # The person's own record of consultations outlives their entry.
    assert any(c["stated_reason"] == REFERENCE for c in consultations_of(caller.id))


def test_erasure_is_refused_while_a_case_is_open(as_admin, closed_case, caller, open_case_for, now):
    still_open = open_case_for(
        caller, category_code="sim-lost", duplicate_override_reason="Nuova SIM rubata"
    )
    before = held_on(caller)
    response = as_admin.post(erase_url(caller), erasure(mode="erase"))
    assert response.status_code == 400
    errors = response.context["erasure_form"].non_field_errors()
    assert any(still_open.reference in error for error in errors)
    assert still_open.reference in response.content.decode()
    assert held_on(caller) == before
    row = AccessLog.objects.get(route="care:subject-erase")
    assert (row.outcome, row.purpose) == ("denied", REFERENCE)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"confirm": ""}, "confirm"),
        ({"request_reference": ""}, "request_reference"),
        ({"request_reference": "   "}, "request_reference"),
        ({"mode": "shred"}, "mode"),
    ],
)
def test_erasure_without_confirmation_or_reference_is_refused(
    as_admin, closed_case, caller, changes, field
):
    before = held_on(caller)
    data = {key: value for key, value in erasure(**changes).items() if value != ""}
    response = as_admin.post(erase_url(caller), data)
    assert response.status_code == 400
    assert list(response.context["erasure_form"].errors) == [field]
    assert held_on(caller) == before
    assert AccessLog.objects.get(route="care:subject-erase").outcome == "denied"


# --- Administrators only --------------------------------------------------------------------


@pytest.mark.parametrize("role", ["operator", "backoffice_user", "supervisor", "manager"])
def test_every_subject_route_is_for_administrators_only(client, request, role, closed_case, caller):
    client.force_login(request.getfixturevalue(role))
    before = held_on(caller)
    assert client.get(SEARCH).status_code == 403
    assert client.post(SEARCH, {"query": PHONE}).status_code == 403
    assert client.get(request_url(caller)).status_code == 403
    assert client.get(export_url(caller, "json")).status_code == 403
    assert client.get(export_url(caller, "html")).status_code == 403
    assert client.post(erase_url(caller), erasure(mode="erase")).status_code == 403
    assert held_on(caller) == before
    assert set(AccessLog.objects.values_list("outcome", flat=True)) == {"denied"}


def test_the_navigation_offers_the_page_to_administrators_only(client, admin_user, manager):
    client.force_login(manager)
    assert SEARCH not in client.get("/").content.decode()
    client.force_login(admin_user)
    assert SEARCH in client.get("/").content.decode()


def test_the_record_costs_the_same_queries_however_many_cases(
    as_admin, closed_case, caller, open_case_for, operator, now
):
    as_admin.get(export_url(caller))  # the session's first request warms its caches
    with CaptureQueriesContext(connection) as one:
        assert as_admin.get(export_url(caller)).status_code == 200
    for n in range(3):
        case = open_case_for(caller, duplicate_override_reason=f"Altra SIM {n}")
        services.add_note(
            actor=operator,
            case=case,
            body=f"Nota {n}",
            attachments=[SimpleUploadedFile(f"d{n}.pdf", PDF, content_type="application/pdf")],
            now=now + timedelta(minutes=n),
        )
    with CaptureQueriesContext(connection) as four:
        response = as_admin.get(export_url(caller))
    assert len(json.loads(response.content)["cases"]) == 4
    assert len(four) == len(one)
    with CaptureQueriesContext(connection) as page:
        assert as_admin.get(request_url(caller)).status_code == 200
    assert len(page) <= len(one) + 12  # the page's layout, session and navigation


def test_a_refused_attempt_on_the_persons_case_is_listed_as_refused(
    closed_case, caller, user_factory
):
    """Someone who may not see cases (a manager: aggregates only) asks for the case page:
    403, and the person's record says an attempt was refused (refused requests are indexed
    too)."""
    outsider = user_factory("mgr.estraneo", "manager")
    browser = Client()
    browser.force_login(outsider)
    response = browser.get(reverse("care:case-detail", args=[closed_case.reference]))
    assert response.status_code == 403
    [row] = consultations_of(caller.id)
    assert row["refused"] is True
    assert "mgr.estraneo" not in str(row)
