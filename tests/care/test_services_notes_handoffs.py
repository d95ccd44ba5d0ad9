"""Notes (the first response, attachments, append-only) and hand-offs to other units."""

import inspect
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, transaction
from django.test import override_settings

from care import services
from care.exceptions import InvalidCaseData, TransitionNotAllowed
from care.models import Case, CaseEvent, CaseStatus, Handoff, Note, SlaState
from contracts import calendars

pytestmark = pytest.mark.django_db

CUSTOMER = Note.Visibility.CUSTOMER
INTERNAL = Note.Visibility.INTERNAL


def reloaded(case: Case) -> Case:
    return Case.objects.get(id=case.id)


def events_of(case: Case) -> list[CaseEvent]:
    return list(CaseEvent.objects.filter(case_id=case.id).order_by("at", "id"))


def pdf(name="verbale.pdf", content=b"%PDF-1.4 test"):
    return SimpleUploadedFile(name, content, content_type="application/pdf")


# --- Notes and the first response -----------------------------------------------------------


def test_an_internal_note_is_written_but_gives_no_first_response(new_case, operator, now):
    later = now + timedelta(minutes=5)
    note = services.add_note(
        actor=operator, case=new_case, body="  Verificato IMEI  ", visibility=INTERNAL, now=later
    )
    assert (note.body, note.author, note.created_at, note.visibility) == (
        "Verificato IMEI",
        operator,
        later,
        INTERNAL,
    )
    case = reloaded(new_case)
    assert (case.first_response_at, case.first_response_state) == (None, SlaState.OK)
    assert case.row_version == 2
    last = events_of(case)[-1]
    assert (last.kind, last.actor, last.at) == (CaseEvent.Kind.NOTE_ADDED, operator, later)
    assert last.detail == {"note": note.id, "visibility": "internal", "attachments": 0}


def test_the_first_customer_note_meets_the_first_response_on_time(new_case, operator, now):
    at = now + timedelta(minutes=59)
    services.add_note(
        actor=operator, case=new_case, body="SIM bloccata", visibility=CUSTOMER, now=at
    )
    case = reloaded(new_case)
    assert (case.first_response_at, case.first_response_state) == (at, SlaState.MET)
    kinds = [(e.kind, e.to_value, e.at) for e in events_of(case)][-2:]
    assert kinds == [
        (CaseEvent.Kind.NOTE_ADDED, "", at),
        (CaseEvent.Kind.FIRST_RESPONSE, SlaState.MET, at),
    ]


@pytest.mark.parametrize(
    ("late_by", "state"), [(timedelta(0), "met"), (timedelta(seconds=1), "breached")]
)
def test_the_first_response_is_met_up_to_its_due_instant_and_breached_after(
    new_case, operator, late_by, state
):
    due = reloaded(new_case).first_response_due_at
    services.add_note(
        actor=operator, case=new_case, body="Risposta", visibility=CUSTOMER, now=due + late_by
    )
    case = reloaded(new_case)
    assert (case.first_response_at, case.first_response_state) == (due + late_by, state)


def test_a_second_customer_note_changes_nothing_of_the_first_response(new_case, operator, now):
    first = now + timedelta(minutes=10)
    services.add_note(actor=operator, case=new_case, body="Prima", visibility=CUSTOMER, now=first)
    services.add_note(
        actor=operator,
        case=new_case,
        body="Seconda",
        visibility=CUSTOMER,
        now=now + timedelta(days=5),
    )
    case = reloaded(new_case)
    assert (case.first_response_at, case.first_response_state) == (first, SlaState.MET)
    assert [e.kind for e in events_of(case)].count(CaseEvent.Kind.FIRST_RESPONSE) == 1
    assert case.notes.count() == 2


def test_an_internal_note_after_the_due_instant_does_not_breach_anything(new_case, operator, now):
    services.add_note(
        actor=operator,
        case=new_case,
        body="Interna",
        visibility=INTERNAL,
        now=now + timedelta(days=3),
    )
    assert reloaded(new_case).first_response_state == SlaState.OK


@pytest.mark.parametrize("body", ["", "   \n  ", None])
def test_an_empty_note_is_refused_and_nothing_is_written(new_case, operator, care_tables, body):
    before = care_tables()
    with pytest.raises(InvalidCaseData) as error:
        services.add_note(actor=operator, case=new_case, body=body, visibility=CUSTOMER)
    assert set(error.value.fields) == {"body"}
    assert care_tables() == before


def test_an_unknown_visibility_is_refused(new_case, operator, care_tables):
    before = care_tables()
    with pytest.raises(InvalidCaseData) as error:
        services.add_note(actor=operator, case=new_case, body="Ciao", visibility="public")
    assert set(error.value.fields) == {"visibility"}
    assert care_tables() == before


def test_notes_are_append_only_there_is_no_service_to_change_or_delete_one():
    functions = {
        name
        for name, value in vars(services).items()
        if inspect.isfunction(value) and value.__module__ == services.__name__
    }
    # add_note and its inner step (shared with add_contact) append; nothing changes or deletes.
    assert {name for name in functions if "note" in name.lower()} == {"add_note", "_append_note"}


# --- Attachments ----------------------------------------------------------------------------


def test_a_pdf_is_attached_to_the_note(new_case, operator, now):
    note = services.add_note(
        actor=operator, case=new_case, body="Denuncia allegata", attachments=[pdf()], now=now
    )
    [attachment] = note.attachments.all()
    assert (attachment.original_name, attachment.content_type, attachment.size) == (
        "verbale.pdf",
        "application/pdf",
        len(b"%PDF-1.4 test"),
    )
    with attachment.file.open("rb") as stored:
        assert stored.read() == b"%PDF-1.4 test"
    assert events_of(new_case)[-1].detail["attachments"] == 1


def test_five_attachments_are_accepted(new_case, operator):
    note = services.add_note(
        actor=operator,
        case=new_case,
        body="Cinque",
        attachments=[pdf(f"doc{n}.pdf") for n in range(5)],
    )
    assert note.attachments.count() == 5


@pytest.mark.parametrize(
    "files",
    [
        pytest.param(
            [SimpleUploadedFile("setup.exe", b"MZ\x90\x00", "application/octet-stream")], id="exe"
        ),
        pytest.param([SimpleUploadedFile("senza-estensione", b"%PDF-1.4")], id="no-extension"),
        pytest.param([pdf("finto.pdf", b"MZ\x90\x00 not a pdf")], id="pdf-that-is-not"),
        pytest.param([pdf("finto.PDF", b"<html>")], id="upper-case-pdf-that-is-not"),
        pytest.param([pdf(f"doc{n}.pdf") for n in range(6)], id="six-files"),
        pytest.param([pdf(), SimpleUploadedFile("virus.exe", b"MZ")], id="one-bad-among-good"),
    ],
)
def test_a_refused_attachment_refuses_the_note_and_nothing_is_written(
    new_case, operator, care_tables, files
):
    before = care_tables()
    with pytest.raises(InvalidCaseData) as error:
        services.add_note(
            actor=operator, case=new_case, body="Allegati", visibility=CUSTOMER, attachments=files
        )
    assert set(error.value.fields) == {"attachments"}
    assert care_tables() == before
    assert reloaded(new_case).first_response_at is None


@override_settings(MAX_ATTACHMENT_BYTES=10)
def test_an_attachment_over_the_size_limit_is_refused(new_case, operator, care_tables):
    before = care_tables()
    with pytest.raises(InvalidCaseData) as error:
        services.add_note(
            actor=operator,
            case=new_case,
            body="Grande",
            attachments=[pdf(content=b"%PDF-1.4 eleven")],
        )
    assert set(error.value.fields) == {"attachments"}
    assert care_tables() == before


@override_settings(MAX_ATTACHMENT_BYTES=10)
def test_an_attachment_exactly_at_the_size_limit_is_accepted(new_case, operator):
    note = services.add_note(
        actor=operator, case=new_case, body="Giusto", attachments=[pdf(content=b"%PDF-1.4 x")]
    )
    assert note.attachments.get().size == 10


# --- Hand-offs ------------------------------------------------------------------------------


@pytest.fixture
def forwardable_case(contract_with_handoff_units, open_case_for, end_user):
    """A new case opened under the contract version that lists the hand-off units."""
    case = open_case_for(end_user)
    assert case.contract_version.number == 2
    return case


def send(case, actor, at, unit="assurance", request="Verificare la cella di Mondello"):
    return services.send_handoff(actor=actor, case=case, unit_code=unit, request=request, now=at)


def test_sending_a_handoff_makes_the_case_wait_on_the_unit(forwardable_case, operator, now):
    handoff = send(forwardable_case, operator, now)
    assert (handoff.unit_code, handoff.unit_name, handoff.outcome) == (
        "assurance",
        "Assurance rete",
        Handoff.Outcome.PENDING,
    )
    assert (handoff.requested_by, handoff.requested_at) == (operator, now)
    case = reloaded(forwardable_case)
    assert case.status == CaseStatus.WAITING_UNIT
    last = events_of(case)[-1]
    assert (last.kind, last.actor, last.at, last.from_value, last.to_value) == (
        CaseEvent.Kind.HANDOFF_SENT,
        operator,
        now,
        CaseStatus.NEW,
        CaseStatus.WAITING_UNIT,
    )
    assert last.detail == {"handoff": handoff.id, "unit": "assurance"}


def test_the_clock_keeps_running_while_a_unit_works(forwardable_case, operator, now):
    before = reloaded(forwardable_case)
    send(forwardable_case, operator, now)
    case = reloaded(forwardable_case)
    assert (case.paused_at, case.paused_minutes) == (None, 0)
    assert case.resolution_due_at == before.resolution_due_at


@pytest.mark.parametrize("unit", ["vendite", "", "Assurance"])
def test_only_a_unit_of_the_contract_version_can_be_asked(
    forwardable_case, operator, now, care_tables, unit
):
    before = care_tables()
    with pytest.raises(InvalidCaseData) as error:
        send(forwardable_case, operator, now, unit=unit)
    assert set(error.value.fields) == {"unit"}
    assert care_tables() == before


def test_a_case_under_a_version_without_units_cannot_be_forwarded(
    new_case, operator, now, care_tables
):
    before = care_tables()
    with pytest.raises(InvalidCaseData) as error:
        send(new_case, operator, now)
    assert set(error.value.fields) == {"unit"}
    assert care_tables() == before


def test_a_handoff_needs_a_request(forwardable_case, operator, now, care_tables):
    before = care_tables()
    with pytest.raises(InvalidCaseData) as error:
        send(forwardable_case, operator, now, request="  ")
    assert set(error.value.fields) == {"request"}
    assert care_tables() == before


def test_a_case_waits_on_one_unit_at_a_time(forwardable_case, operator, now, care_tables):
    send(forwardable_case, operator, now)
    before = care_tables()
    with pytest.raises(TransitionNotAllowed):
        send(forwardable_case, operator, now, unit="billing")
    assert care_tables() == before


def test_the_database_also_keeps_one_pending_handoff_per_case(forwardable_case, operator, now):
    first = send(forwardable_case, operator, now)
    with pytest.raises(IntegrityError), transaction.atomic():
        Handoff.objects.create(
            case=first.case,
            unit_code="billing",
            unit_name="Fatturazione",
            request="Rimborso",
            requested_by=operator,
            requested_at=now,
        )
    assert Handoff.objects.filter(case=first.case).count() == 1


@pytest.mark.parametrize("status", [CaseStatus.RESOLVED, CaseStatus.CLOSED])
def test_a_resolved_or_closed_case_cannot_be_forwarded(
    case_in_status, operator, now, care_tables, status
):
    case = case_in_status(status)
    before = care_tables()
    with pytest.raises(TransitionNotAllowed):
        send(case, operator, now)
    assert care_tables() == before


@pytest.mark.usefixtures("queue_supervisor")
def test_a_sent_back_handoff_returns_the_case_to_work(forwardable_case, operator, supervisor, now):
    handoff = send(forwardable_case, operator, now)
    later = now + timedelta(hours=2)
    services.answer_handoff(
        actor=supervisor, handoff=handoff, answer=" Cella ok ", outcome="bounced", now=later
    )
    handoff.refresh_from_db()
    assert (handoff.outcome, handoff.answer, handoff.answered_at, handoff.answer_recorded_by) == (
        Handoff.Outcome.BOUNCED,
        "Cella ok",
        later,
        supervisor,
    )
    case = reloaded(forwardable_case)
    assert case.status == CaseStatus.IN_PROGRESS
    answered, changed = events_of(case)[-2:]
    assert (answered.kind, answered.actor, answered.at, answered.to_value) == (
        CaseEvent.Kind.HANDOFF_ANSWERED,
        supervisor,
        later,
        "bounced",
    )
    assert answered.detail == {
        "handoff": handoff.id,
        "unit": "assurance",
        "waited_minutes": 120,
    }
    assert (changed.kind, changed.from_value, changed.to_value) == (
        CaseEvent.Kind.STATUS_CHANGED,
        CaseStatus.WAITING_UNIT,
        CaseStatus.IN_PROGRESS,
    )


def test_a_unit_that_resolves_the_case_resolves_it_with_its_code(forwardable_case, operator, now):
    handoff = send(forwardable_case, operator, now)
    later = now + timedelta(hours=2)  # after the first response was due (11:00)
    services.answer_handoff(
        actor=operator, handoff=handoff, answer="Sostituita", outcome="resolved", now=later
    )
    case = reloaded(forwardable_case)
    assert (case.status, case.resolution_code, case.resolved_at) == (
        CaseStatus.RESOLVED,
        "risolto-da-unita",
        later,
    )
    assert case.resolution_state == SlaState.MET
    assert (case.first_response_at, case.first_response_state) == (later, SlaState.BREACHED)


def test_after_an_answer_the_case_can_be_forwarded_again(forwardable_case, operator, now):
    first = send(forwardable_case, operator, now)
    services.answer_handoff(actor=operator, handoff=first, answer="No", outcome="bounced", now=now)
    second = send(forwardable_case, operator, now, unit="billing")
    assert second.outcome == Handoff.Outcome.PENDING
    assert reloaded(forwardable_case).status == CaseStatus.WAITING_UNIT


def test_a_handoff_is_answered_only_once(forwardable_case, operator, now, care_tables):
    handoff = send(forwardable_case, operator, now)
    services.answer_handoff(
        actor=operator, handoff=handoff, answer="No", outcome="bounced", now=now
    )
    before = care_tables()
    with pytest.raises(TransitionNotAllowed):
        services.answer_handoff(
            actor=operator, handoff=handoff, answer="Sì", outcome="resolved", now=now
        )
    assert care_tables() == before


@pytest.mark.parametrize(
    ("answer", "outcome", "fields"),
    [
        ("", "bounced", {"answer"}),
        ("Fatto", "pending", {"outcome"}),
        ("Fatto", "maybe", {"outcome"}),
        (" ", "", {"answer", "outcome"}),
    ],
)
def test_an_answer_needs_a_text_and_an_outcome(
    forwardable_case, operator, now, care_tables, answer, outcome, fields
):
    handoff = send(forwardable_case, operator, now)
    before = care_tables()
    with pytest.raises(InvalidCaseData) as error:
        services.answer_handoff(actor=operator, handoff=handoff, answer=answer, outcome=outcome)
    assert set(error.value.fields) == fields
    assert care_tables() == before


def test_forwarding_a_case_waiting_on_the_customer_restarts_its_clock(
    forwardable_case, operator, now, calendar_spec
):
    services.transition_case(
        actor=operator, case=forwardable_case, to=CaseStatus.WAITING_CUSTOMER, now=now
    )
    resumed = now + timedelta(days=1)  # Thursday 10:00: 480 business minutes later
    send(forwardable_case, operator, resumed)
    case = reloaded(forwardable_case)
    assert (case.status, case.paused_at, case.paused_minutes) == (
        CaseStatus.WAITING_UNIT,
        None,
        480,
    )
    assert case.resolution_due_at == calendars.add_business_minutes(calendar_spec, now, 960 + 480)
    kinds = [e.kind for e in events_of(case) if e.at == resumed]
    assert kinds == [CaseEvent.Kind.CLOCK_RESUMED, CaseEvent.Kind.HANDOFF_SENT]
