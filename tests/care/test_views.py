"""The case pages: lists, the case page and its actions, as operators use them."""

import re
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from care import services, sla_display
from care.models import Attachment, Case, CaseEvent, CaseStatus, Handoff, Note
from config.models import AccessLog
from contracts import services as contract_services
from tests.contract_terms import terms
from tests.factories import BusinessCalendarFactory, ClientFactory, EndUserFactory

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4 a tiny document\n%%EOF"
# Cases open on a fixed Monday morning, within every contract's validity and before any run.
OPENED = datetime(2026, 3, 2, 10, 0, tzinfo=ZoneInfo("Europe/Rome"))


@pytest.fixture
def caller(contract):
    return EndUserFactory(
        client=contract.client, first_name="Rosalia", last_name="Amato", phone="+393471234567"
    )


def open_case(actor, end_user, *, contract_code="RSIC-MOB-2026", category="roaming", **extra):
    request = services.CaseRequest(
        contract_code=contract_code,
        category_code=category,
        channel="phone",
        subject=extra.pop("subject", "Roaming in Francia"),
        description=extra.pop("description", "Nessun servizio dati a Parigi."),
        end_user_id=end_user.id,
        duplicate_override_reason=extra.pop("reason", ""),
        **extra,
    )
    return services.open_case(actor=actor, request=request, now=OPENED)


def many_cases(actor, contract, count: int) -> list[Case]:
    return [
        open_case(actor, EndUserFactory(client=contract.client), subject=f"Caso {n}")
        for n in range(count)
    ]


def references_in(page) -> list[str]:
    return re.findall(r'data-testid="case-row" data-reference="([^"]+)"', page.content.decode())


def detail(client, case):
    return client.get(reverse("care:case-detail", args=[case.reference]))


def fresh(case) -> Case:
    return Case.objects.get(id=case.id)


# --- Lists ----------------------------------------------------------------------------------


def test_my_cases_shows_only_the_open_cases_assigned_to_me(
    client, operator, supervisor, user_factory, contract, caller
):
    other = user_factory("op.bianchi")
    mine = open_case(operator, caller)
    services.assign_case(actor=supervisor, case=mine, assignee=operator)
    theirs = open_case(operator, EndUserFactory(client=contract.client))
    services.assign_case(actor=supervisor, case=theirs, assignee=other)
    unassigned = open_case(operator, EndUserFactory(client=contract.client))
    done = open_case(operator, EndUserFactory(client=contract.client))
    services.assign_case(actor=supervisor, case=done, assignee=operator)
    services.transition_case(
        actor=operator, case=done, to="resolved", resolution_code="risolto-informazioni"
    )
    client.force_login(operator)

    page = client.get(reverse("care:my-cases"))

    assert page.status_code == 200
    assert references_in(page) == [mine.reference]
    everything = references_in(client.get(reverse("care:case-list")))
    assert set(everything) == {c.reference for c in (mine, theirs, unassigned, done)}


def test_case_list_filters_by_status_priority_and_sla_state(client, operator, contract, caller):
    roaming = open_case(operator, caller)
    sim = open_case(operator, EndUserFactory(client=contract.client), category="sim-lost")
    resolved = open_case(operator, EndUserFactory(client=contract.client))
    services.transition_case(
        actor=operator, case=resolved, to="resolved", resolution_code="risolto-informazioni"
    )
    client.force_login(operator)
    url = reverse("care:case-list")

    assert references_in(client.get(url, {"status": "resolved"})) == [resolved.reference]
    assert set(references_in(client.get(url, {"status": ["new", "resolved"]}))) == {
        roaming.reference,
        sim.reference,
        resolved.reference,
    }
    assert references_in(client.get(url, {"priority": "P2"})) == [sim.reference]
    assert set(references_in(client.get(url, {"open": "on"}))) == {
        roaming.reference,
        sim.reference,
    }
    assert references_in(client.get(url, {"sla": "breached"})) == [resolved.reference]
    assert references_in(client.get(url, {"contract": "rsic-mob-2026", "status": "new"})) in (
        [sim.reference, roaming.reference],
        [roaming.reference, sim.reference],
    )


def test_search_finds_a_case_by_reference_and_by_phone(client, operator, contract, caller):
    wanted = open_case(operator, caller)
    other = open_case(operator, EndUserFactory(client=contract.client, phone="+393339876543"))
    client.force_login(operator)
    url = reverse("care:case-list")

    def search(text):
        return client.post(url, {"q": text}, follow=True)

    assert references_in(search(wanted.reference.lower())) == [wanted.reference]
    assert references_in(search("347 123 4567")) == [wanted.reference]
    assert references_in(search("+39 333 987 6543")) == [other.reference]
    assert references_in(search("CS-1999-000001")) == []


def test_a_search_never_leaves_the_number_in_the_address(client, operator, caller):
    """The text searched goes into the session; the address carries a token, pages and
    reloads still work, and the search is in the access log with what was searched."""
    wanted = open_case(operator, caller)
    client.force_login(operator)
    url = reverse("care:case-list")

    response = client.post(url, {"q": "347 123 4567", "open": "on"})
    assert response.status_code == 302
    address = response["Location"]
    assert "347" not in address
    assert "search=" in address
    assert "open=on" in address
    assert references_in(client.get(address)) == [wanted.reference]
    assert references_in(client.get(address + "&page=1")) == [wanted.reference]
    # An old link with ?q= is moved the same way.
    legacy = client.get(url, {"q": "347 123 4567"})
    assert legacy.status_code == 302
    assert "347" not in legacy["Location"]
    rows = AccessLog.objects.filter(route="care:case-list", status_code=200)
    assert rows.count() == 2  # two pages shown with the search: each is a search
    assert all(row.detail["searched"] == {"q": "347 123 4567"} for row in rows)
    assert all(row.detail["end_users"] == [caller.id] for row in rows)


def test_the_search_box_comes_first_and_has_the_focus(client, operator):
    client.force_login(operator)
    html = client.get(reverse("care:case-list")).content.decode()
    form = html[html.index('data-testid="case-filters"') :]
    first_input = re.search(r'<(input|select)(?![^>]*type="hidden")[^>]*>', form).group(0)
    assert 'name="q"' in first_input
    assert "autofocus" in first_input


def test_case_list_pages_by_fifty_and_the_page_links_keep_the_filters(client, operator, contract):
    cases = many_cases(operator, contract, 52)
    client.force_login(operator)
    url = reverse("care:case-list")

    first = client.get(url, {"priority": "P3"})
    second = client.get(url, {"priority": "P3", "page": 2})

    assert len(references_in(first)) == 50
    assert len(references_in(second)) == 2
    assert set(references_in(first) + references_in(second)) == {c.reference for c in cases}
    assert 'href="?priority=P3&amp;page=2"' in first.content.decode()
    assert 'href="?priority=P3&amp;page=1"' in second.content.decode()


@pytest.mark.parametrize("count", [3, 40])
def test_list_pages_take_the_same_few_queries_whatever_the_number_of_rows(
    client, operator, supervisor, contract, count, django_assert_max_num_queries
):
    for case in many_cases(operator, contract, count):
        services.assign_case(actor=supervisor, case=case, assignee=operator)
    client.force_login(operator)
    # session read and write (3 with the test's savepoint), user, permissions, count, rows,
    # the user's need-to-know scope (certifications and supervised queues), the unread count,
    # the clients of the filter; the access-log row of the page (chain head, row, its end
    # users in one insert: 6 with savepoints); a search adds its session read, and a text
    # search its own statements (care.search: on PostgreSQL the planner settings and back,
    # up to two windows of matches with their filter, the snippets), none per row
    address = client.post(reverse("care:case-list"), {"q": "Caso", "open": "on"})["Location"]
    with django_assert_max_num_queries(30):
        page = client.get(address)
    assert len(references_in(page)) == count
    with django_assert_max_num_queries(17):
        page = client.get(reverse("care:my-cases"))
    assert len(references_in(page)) == count


def test_list_shows_the_sla_state_of_each_case(client, operator, contract, caller):
    late = open_case(operator, caller)  # opened months ago, never answered
    answered = open_case(operator, EndUserFactory(client=contract.client))
    services.transition_case(
        actor=operator, case=answered, to="resolved", resolution_code="risolto-informazioni"
    )
    client.force_login(operator)
    html = client.get(reverse("care:case-list")).content.decode()
    rows = dict(
        re.findall(r'data-reference="([^"]+)">.*?data-sla-state="([a-z_]+)"', html, flags=re.DOTALL)
    )
    assert rows == {late.reference: "breached", answered.reference: "breached"}


def test_the_sla_summary_follows_the_next_target_as_time_passes(operator, caller):
    case = open_case(operator, caller)  # P3: first response in 240 business minutes
    assert sla_display.summary(case, OPENED + timedelta(minutes=5))["state"] == "ok"
    assert sla_display.summary(case, case.first_response_at_risk_at)["state"] == "at_risk"
    late = sla_display.summary(case, case.first_response_due_at + timedelta(minutes=90))
    assert (late["state"], late["late"], late["due"]) == (
        "breached",
        True,
        case.first_response_due_at,
    )
    services.add_note(
        actor=operator, case=case, body="Risposta.", visibility="customer", now=OPENED
    )
    case = Case.objects.get(id=case.id)
    assert sla_display.summary(case, OPENED)["due"] == case.resolution_due_at
    paused = services.transition_case(actor=operator, case=case, to="waiting_customer", now=OPENED)
    assert sla_display.summary(paused, OPENED + timedelta(days=60))["paused"] is True


def test_a_manager_cannot_open_the_case_pages(client, operator, manager, caller):
    case = open_case(operator, caller)
    client.force_login(manager)
    assert client.get(reverse("care:case-list")).status_code == 403
    assert client.get(reverse("care:my-cases")).status_code == 403
    assert detail(client, case).status_code == 403
    response = client.post(
        reverse("care:case-add-note", args=[case.reference]),
        {"body": "x", "visibility": "internal", "row_version": case.row_version},
    )
    assert response.status_code == 403
    assert not Note.objects.exists()


def test_a_supervisor_reads_the_case_pages(client, operator, supervisor, caller):
    case = open_case(operator, caller)
    client.force_login(supervisor)
    assert client.get(reverse("care:case-list")).status_code == 200
    assert detail(client, case).status_code == 200


# --- The case page --------------------------------------------------------------------------


def test_case_page_shows_caller_contract_sla_and_a_timeline_of_events_and_notes(
    client, operator, caller
):
    case = open_case(operator, caller)
    services.add_note(actor=operator, case=case, body="Verificato APN dell'utente.")
    services.transition_case(actor=operator, case=case, to="in_progress")
    client.force_login(operator)

    page = detail(client, case)
    html = page.content.decode()

    assert page.status_code == 200
    assert "Rosalia Amato" in html
    assert "+39 347 123 4567" in html
    assert reverse("contracts:contract-detail", args=["RSIC-MOB-2026"]) in html
    assert 'data-testid="sla-first_response"' in html
    assert 'data-testid="sla-resolution"' in html
    assert html.count('data-testid="timeline-note"') == 1
    assert "Verificato APN dell&#x27;utente." in html
    assert 'data-kind="opened"' in html
    assert 'data-kind="status_changed"' in html
    assert 'class="contract-card"' in html
    assert 'src="/static/js/case.js"' in html
    assert 'enctype="multipart/form-data"' in html
    assert 'type="file" name="attachments" multiple' in html


def test_the_status_buttons_offer_only_the_allowed_destinations(client, operator, caller):
    case = open_case(operator, caller)
    services.transition_case(actor=operator, case=case, to="in_progress")
    client.force_login(operator)
    html = detail(client, case).content.decode()
    offered = set(re.findall(r'data-testid="move-([a-z_]+)"', html))
    assert offered == {str(s) for s in services.TRANSITIONS[CaseStatus.IN_PROGRESS]}


def test_unknown_case_is_a_404(client, operator):
    client.force_login(operator)
    assert client.get(reverse("care:case-detail", args=["CS-2026-999999"])).status_code == 404


@pytest.mark.parametrize("notes", [2, 20])
def test_case_page_queries_do_not_grow_with_notes_and_events(
    client, operator, caller, notes, django_assert_max_num_queries
):
    case = open_case(operator, caller)
    for n in range(notes):
        services.add_note(
            actor=operator,
            case=case,
            body=f"Nota {n}",
            attachments=[SimpleUploadedFile(f"n{n}.pdf", PDF, content_type="application/pdf")],
        )
    client.force_login(operator)
    detail(client, case)  # the first view of all also creates the access log's chain head
    # session (read, write: 3 with the test's savepoint), user, permissions, the case, its
    # notes, attachments, events, hand-offs and phones, the SLA targets (the card's client joined),
    # the need-to-know scope (1), the calendar for the SLA ledger (2), the linked orders, the
    # unread count, the access-log row and its end-user index row (6 with the test's savepoint),
    # the SLA transitions (their one record, #25), the closing codes of the resolve form (#24)
    # and the queue's name (#19)
    with django_assert_max_num_queries(24):
        page = detail(client, case)
    assert page.content.decode().count('data-testid="timeline-note"') == notes


# --- Notes and attachments ------------------------------------------------------------------


def test_operator_adds_an_internal_note(client, operator, caller):
    case = open_case(operator, caller)
    client.force_login(operator)
    response = client.post(
        reverse("care:case-add-note", args=[case.reference]),
        {"body": "Richiamato, non risponde.", "visibility": "internal", "row_version": 1},
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("care:case-detail", args=[case.reference])
    note = Note.objects.get()
    assert (note.body, note.visibility, note.author) == (
        "Richiamato, non risponde.",
        "internal",
        operator,
    )
    assert fresh(case).first_response_at is None
    assert fresh(case).row_version == 2


def test_a_customer_note_gives_the_first_response(client, operator, caller):
    case = open_case(operator, caller)
    client.force_login(operator)
    response = client.post(
        reverse("care:case-add-note", args=[case.reference]),
        {"body": "Abbiamo attivato il roaming.", "visibility": "customer", "row_version": 1},
    )
    assert response.status_code == 302
    case = fresh(case)
    assert case.first_response_at is not None
    assert case.first_response_state == "breached"  # answered months after OPENED
    assert CaseEvent.objects.filter(case=case, kind="first_response").exists()


def test_an_empty_note_is_refused(client, operator, caller):
    case = open_case(operator, caller)
    client.force_login(operator)
    response = client.post(
        reverse("care:case-add-note", args=[case.reference]),
        {"body": "   ", "visibility": "internal", "row_version": 1},
    )
    assert response.status_code == 200
    assert 'data-testid="case-errors"' in response.content.decode()
    assert not Note.objects.exists()


def test_a_pdf_attachment_is_stored_and_downloadable(client, operator, caller):
    case = open_case(operator, caller)
    client.force_login(operator)
    response = client.post(
        reverse("care:case-add-note", args=[case.reference]),
        {
            "body": "Denuncia allegata.",
            "visibility": "internal",
            "row_version": 1,
            "attachments": [
                SimpleUploadedFile("denuncia.pdf", PDF, content_type="application/pdf"),
                SimpleUploadedFile("note.txt", b"testo", content_type="text/plain"),
            ],
        },
    )
    assert response.status_code == 302
    attachment = Attachment.objects.get(original_name="denuncia.pdf")
    assert Attachment.objects.count() == 2
    html = detail(client, case).content.decode()
    url = reverse("care:attachment-download", args=[attachment.id])
    assert url in html

    download = client.get(url)

    assert download.status_code == 200
    assert b"".join(download.streaming_content) == PDF
    assert download["Content-Type"] == "application/pdf"
    assert 'attachment; filename="denuncia.pdf"' in download["Content-Disposition"]


def test_an_executable_is_refused_and_nothing_is_written(client, operator, caller):
    case = open_case(operator, caller)
    client.force_login(operator)
    response = client.post(
        reverse("care:case-add-note", args=[case.reference]),
        {
            "body": "Programma dell'utente.",
            "visibility": "internal",
            "row_version": 1,
            "attachments": [SimpleUploadedFile("setup.exe", b"MZ\x90\x00", "application/x-msdos")],
        },
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-testid="case-errors"' in html
    assert "setup.exe" in html  # the service's message names the refused file
    assert not Note.objects.exists()
    assert not Attachment.objects.exists()
    assert fresh(case).row_version == case.row_version


def test_attachments_are_not_found_for_users_without_access_to_the_case(
    client, operator, manager, caller
):
    case = open_case(operator, caller)
    note = services.add_note(
        actor=operator,
        case=case,
        body="Allegato.",
        attachments=[SimpleUploadedFile("a.pdf", PDF, content_type="application/pdf")],
    )
    attachment = note.attachments.get()
    url = reverse("care:attachment-download", args=[attachment.id])
    client.force_login(manager)
    assert client.get(url).status_code == 404
    client.force_login(operator)
    assert client.get(url).status_code == 200
    assert (
        client.get(reverse("care:attachment-download", args=[attachment.id + 1000])).status_code
        == 404
    )


# --- Status ---------------------------------------------------------------------------------


def test_an_allowed_transition_redirects_back_to_the_case(client, operator, caller):
    case = open_case(operator, caller)
    client.force_login(operator)
    response = client.post(
        reverse("care:case-transition", args=[case.reference]),
        {"to": "waiting_customer", "row_version": case.row_version},
    )
    assert response.status_code == 302
    case = fresh(case)
    assert case.status == CaseStatus.WAITING_CUSTOMER
    assert case.paused_at is not None


def test_a_transition_that_is_not_allowed_is_refused_on_the_page(client, operator, caller):
    case = open_case(operator, caller)
    client.force_login(operator)
    response = client.post(
        reverse("care:case-transition", args=[case.reference]),
        {"to": "closed", "row_version": case.row_version},
    )
    assert response.status_code == 200
    assert 'data-testid="case-error"' in response.content.decode()
    assert fresh(case).status == CaseStatus.NEW
    assert not CaseEvent.objects.filter(case=case, kind="status_changed").exists()


def test_resolving_needs_a_closing_code(client, operator, caller):
    case = open_case(operator, caller)
    client.force_login(operator)
    url = reverse("care:case-transition", args=[case.reference])

    refused = client.post(url, {"to": "resolved", "row_version": 1, "closing_code": " "})
    unknown = client.post(url, {"to": "resolved", "row_version": 1, "closing_code": "solved"})

    assert refused.status_code == unknown.status_code == 200
    assert 'aria-invalid="true"' in refused.content.decode()
    assert "non è nell&#x27;elenco del contratto" in unknown.content.decode()
    assert fresh(case).status == CaseStatus.NEW

    resolved = client.post(
        url,
        {
            "to": "resolved",
            "row_version": 1,
            "closing_code": "risolto-informazioni",
            "first_contact_resolution": "on",
        },
    )

    assert resolved.status_code == 302
    case = fresh(case)
    assert (case.status, case.resolution_code, case.first_contact_resolution) == (
        CaseStatus.RESOLVED,
        "risolto-informazioni",
        True,
    )
    assert case.resolution_state == "breached"  # resolved months after OPENED


def test_a_stale_row_version_shows_the_conflict_and_writes_nothing(client, operator, caller):
    case = open_case(operator, caller)
    services.add_note(actor=operator, case=case, body="Qualcun altro scrive.")  # version 2
    client.force_login(operator)

    note = client.post(
        reverse("care:case-add-note", args=[case.reference]),
        {"body": "La mia nota.", "visibility": "customer", "row_version": 1},
    )
    move = client.post(
        reverse("care:case-transition", args=[case.reference]),
        {"to": "in_progress", "row_version": 1},
    )

    for response in (note, move):
        assert response.status_code == 200
        html = response.content.decode()
        assert 'data-testid="case-error"' in html
        # The page offers the current version, so sending again works.
        assert 'name="row_version" value="2"' in html
    assert "La mia nota." in note.content.decode()  # what was typed is kept
    case = fresh(case)
    assert Note.objects.count() == 1
    assert case.status == CaseStatus.NEW
    assert case.first_response_at is None
    assert case.row_version == 2


# --- Hand-offs ------------------------------------------------------------------------------


@pytest.fixture
def handoff_contract(manager):
    return contract_services.create_contract(
        actor=manager,
        code="COMO-MOB-2026",
        client=ClientFactory(name="Comune di Como", province="CO"),
        calendar=BusinessCalendarFactory(name="Como uffici", province="CO"),
        services=["mobile"],
        valid_from=date(2026, 1, 1),
        valid_to=date(2028, 12, 31),
        terms=terms(
            handoff_units=[{"code": "assurance", "name": "Assurance rete", "email": "a@b.it"}]
        ),
    )


@pytest.fixture
def handoff_case(operator, handoff_contract):
    end_user = EndUserFactory(client=handoff_contract.client, phone="+393401112233")
    return open_case(operator, end_user, contract_code=handoff_contract.code)


def test_operator_forwards_a_case_and_records_the_answer(client, operator, handoff_case):
    client.force_login(operator)
    case = handoff_case
    form = detail(client, case).content.decode()
    assert 'data-testid="handoff-form"' in form
    assert 'value="assurance"' in form

    sent = client.post(
        reverse("care:case-handoff", args=[case.reference]),
        {"unit": "assurance", "request": "Verificare la cella di Como centro.", "row_version": 1},
    )

    assert sent.status_code == 302
    handoff = Handoff.objects.get()
    assert (handoff.unit_code, handoff.outcome) == ("assurance", "pending")
    assert fresh(case).status == CaseStatus.WAITING_UNIT
    page = detail(client, case).content.decode()
    assert 'data-testid="pending-handoff"' in page
    assert reverse("care:case-handoff-answer", args=[case.reference, handoff.id]) in page

    answered = client.post(
        reverse("care:case-handoff-answer", args=[case.reference, handoff.id]),
        {"answer": "Cella riparata.", "outcome": "resolved", "row_version": 2},
    )

    assert answered.status_code == 302
    handoff.refresh_from_db()
    assert (handoff.outcome, handoff.answer) == ("resolved", "Cella riparata.")
    assert fresh(case).status == CaseStatus.RESOLVED


def test_a_case_cannot_be_forwarded_to_a_unit_outside_the_contract(client, operator, handoff_case):
    client.force_login(operator)
    response = client.post(
        reverse("care:case-handoff", args=[handoff_case.reference]),
        {"unit": "billing", "request": "Rimborso.", "row_version": 1},
    )
    assert response.status_code == 200
    assert not Handoff.objects.exists()


def test_a_sent_back_hand_off_returns_the_case_to_work(client, operator, handoff_case):
    handoff = services.send_handoff(
        actor=operator, case=handoff_case, unit_code="assurance", request="Controllo."
    )
    client.force_login(operator)
    response = client.post(
        reverse("care:case-handoff-answer", args=[handoff_case.reference, handoff.id]),
        {"answer": "Manca il numero.", "outcome": "bounced"},
    )
    assert response.status_code == 302
    assert fresh(handoff_case).status == CaseStatus.IN_PROGRESS


def test_the_timeline_names_the_hand_off_unit_and_the_api_says_it_too(
    client, operator, operator_api, handoff_case
):
    services.send_handoff(
        actor=operator, case=handoff_case, unit_code="assurance", request="Controllo."
    )
    client.force_login(operator)
    page = detail(client, handoff_case).content.decode()
    sent = re.search(r'data-kind="handoff_sent">(.*?)</li>', page, re.DOTALL).group(1)
    assert "· Assurance rete" in sent
    assert "assurance<" not in sent
    events = operator_api.get(
        f"/api/v1/cases/{handoff_case.reference}/", HTTP_ACCEPT_LANGUAGE="en"
    ).json()["events"]
    said = next(e for e in events if e["kind"] == "handoff_sent")
    assert said["detail"]["unit"] == "assurance"  # the fact stays a code
    assert said["text"] == "Forwarded to a unit: New → Waiting for another unit · Assurance rete"


def test_the_answer_of_another_cases_hand_off_is_not_found(client, operator, handoff_case, caller):
    handoff = services.send_handoff(
        actor=operator, case=handoff_case, unit_code="assurance", request="Controllo."
    )
    other = open_case(operator, caller)
    client.force_login(operator)
    response = client.post(
        reverse("care:case-handoff-answer", args=[other.reference, handoff.id]),
        {"answer": "x", "outcome": "resolved"},
    )
    assert response.status_code == 404
    handoff.refresh_from_db()
    assert handoff.outcome == "pending"


# --- Reopen and merge -----------------------------------------------------------------------


def test_a_resolved_case_is_reopened_with_a_reason(client, operator, caller):
    case = open_case(operator, caller)
    case = services.transition_case(
        actor=operator, case=case, to="resolved", resolution_code="risolto-informazioni"
    )
    client.force_login(operator)
    assert 'data-testid="reopen-form"' in detail(client, case).content.decode()

    refused = client.post(
        reverse("care:case-reopen", args=[case.reference]),
        {"reason": "", "row_version": case.row_version},
    )
    assert refused.status_code == 200
    assert fresh(case).status == CaseStatus.RESOLVED

    response = client.post(
        reverse("care:case-reopen", args=[case.reference]),
        {"reason": "Il problema si ripresenta.", "row_version": case.row_version},
    )

    assert response.status_code == 302
    case = fresh(case)
    assert (case.status, case.reopen_count) == (CaseStatus.IN_PROGRESS, 1)
    assert CaseEvent.objects.get(case=case, kind="reopened").detail["reason"] == (
        "Il problema si ripresenta."
    )


def test_a_duplicate_is_merged_into_the_case_that_carries_on(client, operator, contract, caller):
    keep = open_case(operator, caller)
    duplicate = open_case(operator, caller, reason="Richiamato da un altro numero")
    client.force_login(operator)

    response = client.post(
        reverse("care:case-merge", args=[duplicate.reference]),
        {"into": keep.reference.lower(), "row_version": duplicate.row_version},
    )

    assert response.status_code == 302
    duplicate = fresh(duplicate)
    assert duplicate.merged_into == keep
    assert duplicate.status == CaseStatus.CLOSED
    assert CaseEvent.objects.filter(case=keep, kind="merged").exists()
    page = detail(client, duplicate).content.decode()
    assert 'data-testid="merged-into"' in page


def test_merging_into_an_unknown_or_the_same_case_is_refused(client, operator, caller):
    case = open_case(operator, caller)
    client.force_login(operator)
    url = reverse("care:case-merge", args=[case.reference])
    for into in ("CS-2026-999999", case.reference):
        response = client.post(url, {"into": into, "row_version": case.row_version})
        assert response.status_code == 200
        assert 'aria-invalid="true"' in response.content.decode()
    assert fresh(case).merged_into is None


def test_a_related_case_is_linked_and_both_stay_open(client, operator, caller):
    first = open_case(operator, caller)
    second = open_case(operator, caller, reason="Stesso guasto, altra sede")
    client.force_login(operator)

    response = client.post(
        reverse("care:case-link", args=[second.reference]), {"other": first.reference.lower()}
    )

    assert response.status_code == 302
    second = fresh(second)
    assert second.linked_to == first
    assert second.status == fresh(first).status == CaseStatus.NEW
    assert CaseEvent.objects.filter(case=second, kind="linked", to_value=first.reference).exists()
    assert 'data-testid="linked-to"' in detail(client, second).content.decode()


def test_linking_to_an_unknown_or_the_same_case_is_refused(client, operator, caller):
    case = open_case(operator, caller)
    client.force_login(operator)
    url = reverse("care:case-link", args=[case.reference])
    for other in ("CS-2026-999999", case.reference, ""):
        response = client.post(url, {"other": other})
        assert response.status_code == 200
        assert 'aria-invalid="true"' in response.content.decode()
    assert fresh(case).linked_to is None


def test_the_client_filter_lists_clients_by_name(client, operator, contract, caller):
    case = open_case(operator, caller)
    client.force_login(operator)
    page = client.get(reverse("care:case-list")).content.decode()
    assert f'<option value="{contract.client.id}">{contract.client.name}</option>' in page
    filtered = client.get(reverse("care:case-list"), {"client": contract.client.id})
    assert references_in(filtered) == [case.reference]
    assert references_in(client.get(reverse("care:case-list"), {"client": 999999})) == []


def test_a_long_list_counts_up_to_the_cap_and_says_more_than(
    client, operator, contract, monkeypatch
):
    """A national list is not counted to the last of a million rows: past the cap the page
    says "more than" and invites to filter."""
    monkeypatch.setattr("care.views.CASE_COUNT_CAP", 3)
    many_cases(operator, contract, 5)
    client.force_login(operator)
    page = client.get(reverse("care:case-list"))
    assert page.context["page"].paginator.capped
    assert "Più di 3 pratiche" in page.content.decode()
    assert len(references_in(page)) == 5  # the rows of the page are all there
    few = client.get(reverse("care:case-list"), {"priority": "P1"})
    assert not few.context["page"].paginator.capped


def test_a_target_answered_after_its_due_time_reads_late_not_met(client, operator, caller):
    case = open_case(operator, caller)
    services.add_note(
        actor=operator, case=case, body="Abbiamo attivato il roaming.", visibility="customer"
    )
    case = fresh(case)
    assert case.first_response_state == "breached"  # answered months after OPENED
    client.force_login(operator)
    page = client.get(reverse("care:case-detail", args=[case.reference])).content.decode()
    row = page.split('data-testid="sla-first_response"')[1].split("</tr>")[0]
    outcome = re.sub(
        r"\s+", " ", re.sub(r"<[^>]+>", " ", row.split('data-testid="sla-outcome"')[1])
    )
    assert "Violato" in row
    assert "Risposto il" in outcome
    assert "in ritardo" in outcome
    assert "Rispettato" not in outcome
    assert "Rispettato" not in page.split('data-testid="sla-panel"')[1].split("</thead>")[0]
