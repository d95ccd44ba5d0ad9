"""Retention: per contract, the cases closed longer ago than the contract's retention lose
their caller's identity (the link, and names, numbers, e-mail, codes scrubbed out of every
text; attachments deleted) while the cases, their texts and the figures stay."""

import calendar
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.db.models import Count
from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st

from care import services
from care.models import (
    Attachment,
    Case,
    CaseEvent,
    CaseStatus,
    Handoff,
    Note,
    RetentionRun,
)
from care.retention import (
    REMOVED,
    RETENTION,
    RetentionAlreadyRunning,
    anonymise_cases,
    claim_queued_run,
    heal_retention_runs,
    identity_scrubber,
    months_before,
    request_retention_run,
    retention_due,
    run_retention,
)
from care.tasks import run_retention_task
from config.errors import PresidioError
from contracts import services as contract_services
from contracts.models import Contract, Referent
from reports.nightly import run_nightly_jobs
from tests.factories import CLOSING_CODE, EndUserFactory

pytestmark = pytest.mark.django_db

ROME = ZoneInfo("Europe/Rome")
PHONE = "+393471234567"
CODICE_FISCALE = "TRPRSL80A41G273T"
EMAIL = "rosalia.trapanese@regione.example.it"
EMPLOYEE_CODE = "PA-77123"
PDF = b"%PDF-1.4 carta d'identita\n%%EOF"

RETENTION_PAGE = reverse("care:retention")
RETENTION_START = reverse("care:retention-start")


def at(day: str, hour: int = 10) -> datetime:
    """A Rome instant on a day of 2026 (every contract of these tests is in force)."""
    return datetime.fromisoformat(day).replace(hour=hour, tzinfo=ROME)


@pytest.fixture
def set_retention(manager):
    def set_retention(contract: Contract, months: int) -> Contract:
        contract = Contract.objects.get(id=contract.id)
        return contract_services.update_contract(
            actor=manager,
            contract=contract,
            calendar=contract.calendar,
            services=contract.services,
            valid_to=contract.valid_to,
            status=contract.status,
            retention_months=months,
        )

    return set_retention


@pytest.fixture
def closed_case(open_case_for, operator, contract):
    """`closed_case(opened=..., closed=..., caller=...)`: a case of a new caller (unless
    given) opened and then resolved and closed through the real services."""
    main = contract

    def closed_case(*, opened, closed, caller=None, contract=None, status=CaseStatus.CLOSED):
        contract = contract or main
        caller = caller or EndUserFactory(client=contract.client)
        case = open_case_for(caller, now=opened, contract_code=contract.code)
        if status in (CaseStatus.RESOLVED, CaseStatus.CLOSED):
            case = services.transition_case(
                actor=operator,
                case=case,
                to=CaseStatus.RESOLVED,
                resolution_code=CLOSING_CODE,
                now=closed,
            )
        if status == CaseStatus.CLOSED:
            case = services.transition_case(
                actor=operator,
                case=case,
                to=CaseStatus.CLOSED,
                resolution_code=CLOSING_CODE,
                now=closed,
            )
        return case

    return closed_case


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


def reloaded(case: Case) -> Case:
    return Case.objects.get(id=case.id)


# --- months_before --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("moment", "months", "expected"),
    [
        (datetime(2026, 3, 31, 10, 0, tzinfo=ROME), 1, datetime(2026, 2, 28, 10, 0, tzinfo=ROME)),
        (
            datetime(2024, 3, 31, 10, 0, tzinfo=ROME),
            1,
            datetime(2024, 2, 29, 10, 0, tzinfo=ROME),
        ),  # leap year
        (datetime(2024, 2, 29, 10, 0, tzinfo=ROME), 12, datetime(2023, 2, 28, 10, 0, tzinfo=ROME)),
        (datetime(2028, 2, 29, 10, 0, tzinfo=ROME), 48, datetime(2024, 2, 29, 10, 0, tzinfo=ROME)),
        (datetime(2026, 5, 31, 23, 59, tzinfo=ROME), 1, datetime(2026, 4, 30, 23, 59, tzinfo=ROME)),
        (datetime(2026, 5, 31, 0, 0, tzinfo=ROME), 3, datetime(2026, 2, 28, 0, 0, tzinfo=ROME)),
        (datetime(2026, 1, 15, 8, 30, tzinfo=ROME), 1, datetime(2025, 12, 15, 8, 30, tzinfo=ROME)),
        (datetime(2026, 12, 2, 10, 0, tzinfo=ROME), 24, datetime(2024, 12, 2, 10, 0, tzinfo=ROME)),
        (datetime(2026, 12, 2, 10, 0, tzinfo=ROME), 120, datetime(2016, 12, 2, 10, 0, tzinfo=ROME)),
    ],
)
def test_months_before_keeps_the_day_or_takes_the_last_of_a_shorter_month(moment, months, expected):
    assert months_before(moment, months) == expected


def test_months_before_keeps_the_wall_clock_across_daylight_saving():
    summer = datetime(2026, 7, 15, 10, 0, tzinfo=ROME)
    winter = months_before(summer, 6)
    assert (winter.month, winter.day, winter.hour, winter.minute) == (1, 15, 10, 0)
    assert winter.utcoffset() == timedelta(hours=1)
    assert summer.utcoffset() == timedelta(hours=2)


@given(
    moment=st.datetimes(
        min_value=datetime(2001, 1, 1),  # noqa: DTZ001 (hypothesis wants naive bounds)
        max_value=datetime(2099, 12, 31),  # noqa: DTZ001
        timezones=st.just(ROME),
        allow_imaginary=False,
    ),
    months=st.integers(min_value=1, max_value=120),
)
def test_months_before_is_earlier_and_exactly_n_calendar_months_back(moment, months):
    earlier = months_before(moment, months)
    assert earlier < moment
    assert (earlier.year * 12 + earlier.month) == (moment.year * 12 + moment.month) - months
    last_day = calendar.monthrange(earlier.year, earlier.month)[1]
    assert earlier.day == min(moment.day, last_day)
    assert earlier.time() == moment.time()


# --- The dry run ----------------------------------------------------------------------------


@pytest.fixture
def cases_of_two_contracts(
    contract, other_client_contract, closed_case, open_case_for, operator, set_retention, now
):
    """At `now` (2 Dec 2026 10:00) the main contract keeps 6 months (closed before 2 June
    10:00 is due), the other 3 months (closed before 2 September 10:00 is due)."""
    main = set_retention(contract, 6)
    other = set_retention(other_client_contract, 3)
    due = [
        closed_case(opened=at("2026-02-02"), closed=at("2026-02-20")),
        closed_case(opened=at("2026-03-02"), closed=at("2026-06-02", 9)),
    ]
    not_due = [
        closed_case(opened=at("2026-03-03"), closed=at("2026-06-02")),  # exactly at the cutoff
        closed_case(opened=at("2026-07-01"), closed=at("2026-07-15")),  # due in 3, not in 6
        closed_case(opened=at("2026-02-03"), closed=None, status=CaseStatus.NEW),
        closed_case(opened=at("2026-02-04"), closed=at("2026-02-05"), status=CaseStatus.RESOLVED),
    ]
    referent = Referent.objects.create(client=main.client, first_name="Anna", last_name="Lo Bue")
    referents_case = open_case_for(None, referent_id=referent.id, now=at("2026-02-06"))
    for to in (CaseStatus.RESOLVED, CaseStatus.CLOSED):
        referents_case = services.transition_case(
            actor=operator,
            case=referents_case,
            to=to,
            resolution_code=CLOSING_CODE,
            now=at("2026-02-07"),
        )
    already = closed_case(opened=at("2026-02-08"), closed=at("2026-02-09"))
    anonymise_cases([already.id], now=at("2026-03-01"), why=RETENTION)
    not_due += [referents_case, already]
    due.append(closed_case(opened=at("2026-07-01"), closed=at("2026-07-15"), contract=other))
    not_due.append(closed_case(opened=at("2026-10-01"), closed=at("2026-10-15"), contract=other))
    return {"main": main, "other": other, "due": due, "not_due": not_due}


def test_the_dry_run_counts_per_contract_with_its_own_retention(cases_of_two_contracts, now):
    main, other = cases_of_two_contracts["main"], cases_of_two_contracts["other"]
    due = {item.code: item for item in retention_due(now=now)}
    assert {code: item.cases for code, item in due.items()} == {main.code: 2, other.code: 1}
    assert (due[main.code].retention_months, due[main.code].closed_before) == (
        6,
        at("2026-06-02"),
    )
    assert (due[other.code].retention_months, due[other.code].closed_before) == (
        3,
        at("2026-09-02"),
    )
    assert due[other.code].client == other.client.name


def test_the_dry_run_changes_nothing(cases_of_two_contracts, now, care_tables):
    before = care_tables()
    retention_due(now=now)
    assert care_tables() == before


def test_a_run_anonymises_exactly_what_the_dry_run_counted(cases_of_two_contracts, now):
    untouched = {
        case.id: (reloaded(case).end_user_id, reloaded(case).anonymised_at)
        for case in cases_of_two_contracts["not_due"]
    }
    run = run_retention(RetentionRun.objects.create(requested_at=now), now=now)
    assert (run.status, run.total, run.done, run.error) == (RetentionRun.Status.DONE, 3, 3, "")
    assert run.started_at is not None
    assert run.finished_at is not None
    for case in cases_of_two_contracts["due"]:
        case = reloaded(case)
        assert (case.end_user_id, case.anonymised_at) == (None, now)
    assert {
        case.id: (reloaded(case).end_user_id, reloaded(case).anonymised_at)
        for case in cases_of_two_contracts["not_due"]
    } == untouched
    assert sum(item.cases for item in retention_due(now=now)) == 0


def test_a_second_run_finds_nothing_and_changes_nothing(cases_of_two_contracts, now, care_tables):
    run_retention(RetentionRun.objects.create(requested_at=now), now=now)
    before = care_tables()
    texts = list(Case.objects.order_by("id").values_list("subject", "description"))
    again = run_retention(RetentionRun.objects.create(requested_at=now), now=now)
    assert (again.status, again.total, again.done) == (RetentionRun.Status.DONE, 0, 0)
    assert care_tables() == before
    assert list(Case.objects.order_by("id").values_list("subject", "description")) == texts


def test_anonymising_an_already_anonymised_case_does_nothing(closed_case, now, care_tables):
    case = closed_case(opened=at("2026-02-02"), closed=at("2026-02-20"))
    assert anonymise_cases([case.id], now=now, why=RETENTION) == 1
    before = care_tables()
    assert anonymise_cases([case.id], now=now + timedelta(days=1), why=RETENTION) == 0
    assert care_tables() == before
    assert reloaded(case).anonymised_at == now


def test_the_figures_per_client_and_category_do_not_change(cases_of_two_contracts, now):
    def figures():
        return list(
            Case.objects.values(
                "client_id",
                "contract_id",
                "category__code",
                "status",
                "priority",
                "channel",
                "first_response_state",
                "resolution_state",
            )
            .annotate(n=Count("id"))
            .order_by("client_id", "category__code", "status", "priority")
        )

    clocks = list(
        Case.objects.order_by("id").values_list(
            "opened_at", "closed_at", "resolved_at", "resolution_due_at", "first_response_due_at"
        )
    )
    before = figures()
    events = CaseEvent.objects.exclude(kind=CaseEvent.Kind.ANONYMISED).count()
    run_retention(RetentionRun.objects.create(requested_at=now), now=now)
    assert figures() == before
    assert (
        list(
            Case.objects.order_by("id").values_list(
                "opened_at",
                "closed_at",
                "resolved_at",
                "resolution_due_at",
                "first_response_due_at",
            )
        )
        == clocks
    )
    assert CaseEvent.objects.exclude(kind=CaseEvent.Kind.ANONYMISED).count() == events


# --- Anonymising one case -------------------------------------------------------------------


@pytest.fixture
def told_case(contract_with_handoff_units, caller, open_case_for, operator, now):
    """A closed case full of the caller's identity, with an attachment and a hand-off."""
    case = open_case_for(
        caller,
        subject="SIM rubata a Rosalia Trapanese",
        description=(
            "Numero coinvolto: +39 347 123 4567\n"
            "Denuncia presentata il 03/11/2026, vedi CS-2026-000123."
        ),
    )
    services.add_note(
        actor=operator,
        case=case,
        body="Richiamata la sig.ra Trapanese allo 0039 347 1234567, poi al 347-1234567.",
        now=now + timedelta(minutes=5),
    )
    services.add_note(
        actor=operator,
        case=case,
        body=(
            f"Mail a {EMAIL.upper()}; CF {CODICE_FISCALE.lower()}; matricola {EMPLOYEE_CODE}.\n"
            "Il collega del magazzino risponde al 328 765 4321. Cliente soddisfatta."
        ),
        attachments=[
            SimpleUploadedFile("documento-Trapanese.pdf", PDF, content_type="application/pdf")
        ],
        now=now + timedelta(minutes=10),
    )
    handoff = services.send_handoff(
        actor=operator,
        case=case,
        unit_code="assurance",
        request="Bloccare la SIM di Trapanese Rosalia (+393471234567), pratica CS-2026-000123.",
        now=now + timedelta(minutes=15),
    )
    services.answer_handoff(
        actor=operator,
        handoff=handoff,
        answer=f"SIM bloccata, conferma inviata a {EMAIL}. Nessun altro intervento.",
        outcome=Handoff.Outcome.RESOLVED,
        now=now + timedelta(minutes=30),
    )
    return services.transition_case(
        actor=operator,
        case=reloaded(case),
        to=CaseStatus.CLOSED,
        resolution_code=CLOSING_CODE,
        now=now + timedelta(hours=1),
    )


IDENTITY = [
    "Trapanese",
    "trapanese",
    "347 123 4567",
    "1234567",
    "347-1234567",
    "393471234567",
    "TRPRSL",
    "trprsl",
    "PA-77123",
    "regione.example.it",
    "765 4321",
]


def texts_of(case: Case) -> str:
    case = reloaded(case)
    parts = [case.subject, case.description, case.opening_reason]
    parts += list(Note.objects.filter(case=case).values_list("body", flat=True))
    for request, answer in Handoff.objects.filter(case=case).values_list("request", "answer"):
        parts += [request, answer]
    parts += list(
        Attachment.objects.filter(note__case=case).values_list("original_name", flat=True)
    )
    return "\n".join(parts)


def test_the_told_case_does_hold_the_identity_before(told_case):
    text = texts_of(told_case)
    assert all(token in text for token in ("Trapanese", "347 123 4567", "PA-77123", "765 4321"))


def test_anonymising_cuts_the_caller_and_scrubs_every_text(
    told_case, now, django_capture_on_commit_callbacks
):
    later = now + timedelta(days=1)
    with django_capture_on_commit_callbacks(execute=True):
        assert anonymise_cases([told_case.id], now=later, why=RETENTION) == 1
    case = reloaded(told_case)
    assert (case.end_user_id, case.referent_id, case.anonymised_at) == (None, None, later)
    text = texts_of(case)
    leaked = [token for token in IDENTITY if token in text]
    assert leaked == []
    assert REMOVED in case.subject
    # What is not the caller's stays: the story, a date, another case's reference.
    assert case.subject.startswith("SIM rubata a ")
    assert "Denuncia presentata il 03/11/2026, vedi CS-2026-000123." in case.description
    assert "Cliente soddisfatta." in text
    assert "Bloccare la SIM di" in text
    assert "pratica CS-2026-000123." in text
    assert "Nessun altro intervento." in text
    assert Note.objects.filter(case=case).count() == 2
    assert Handoff.objects.filter(case=case).count() == 1


def test_anonymising_writes_one_event_per_case(told_case, now, manager):
    anonymise_cases([told_case.id], now=now, why="erasure", actor=manager)
    [event] = CaseEvent.objects.filter(case=told_case, kind=CaseEvent.Kind.ANONYMISED)
    assert (event.at, event.actor, event.to_value) == (now, manager, "erasure")


def test_no_event_keeps_a_copy_of_the_identity(
    contract, caller, open_case_for, operator, now, closed_case
):
    """A duplicate override and a re-opening keep their reason in the event: scrubbed too."""
    closed_case(opened=now - timedelta(days=2), closed=now - timedelta(days=1), caller=caller)
    case = open_case_for(
        caller, duplicate_override_reason="La sig.ra Trapanese chiama dal 347 123 4567"
    )
    case = services.transition_case(
        actor=operator,
        case=case,
        to=CaseStatus.RESOLVED,
        resolution_code=CLOSING_CODE,
        now=now,
    )
    case = services.reopen_case(
        actor=operator, case=case, reason=f"Richiamata da {EMAIL}", now=now + timedelta(hours=1)
    )
    case = services.transition_case(
        actor=operator,
        case=case,
        to=CaseStatus.RESOLVED,
        resolution_code=CLOSING_CODE,
        now=now + timedelta(hours=2),
    )
    anonymise_cases([case.id], now=now + timedelta(hours=3), why=RETENTION)
    assert REMOVED in reloaded(case).opening_reason
    details = " ".join(
        str(detail)
        for detail in CaseEvent.objects.filter(case=case).values_list("detail", flat=True)
    )
    assert [token for token in IDENTITY if token in details] == []


def test_attachments_are_deleted_after_commit_and_no_longer_downloadable(
    told_case, now, client, operator, django_capture_on_commit_callbacks
):
    attachment = Attachment.objects.get(note__case=told_case)
    name, storage = attachment.file.name, attachment.file.storage
    url = reverse("care:attachment-download", args=[attachment.id])
    client.force_login(operator)
    assert client.get(url).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        anonymise_cases([told_case.id], now=now, why=RETENTION)
    attachment.refresh_from_db()
    assert (attachment.file.name, attachment.original_name) == ("", REMOVED)
    assert attachment.size == len(PDF)  # the entry stays, saying the file was removed
    assert not storage.exists(name)
    assert client.get(url).status_code == 404


def test_a_rolled_back_anonymisation_keeps_the_files(
    told_case, now, django_capture_on_commit_callbacks
):
    attachment = Attachment.objects.get(note__case=told_case)
    name, storage = attachment.file.name, attachment.file.storage

    def crash_after_the_batch():
        with transaction.atomic():
            anonymise_cases([told_case.id], now=now, why=RETENTION)
            raise RuntimeError("crash after the batch")

    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError):
        crash_after_the_batch()
    assert storage.exists(name)
    assert reloaded(told_case).end_user_id is not None


def test_the_anonymised_case_still_opens_for_the_unit(
    told_case, now, client, operator, operator_api
):
    anonymise_cases([told_case.id], now=now, why=RETENTION)
    client.force_login(operator)
    page = client.get(reverse("care:case-detail", args=[told_case.reference]))
    assert page.status_code == 200
    assert "Trapanese" not in page.content.decode()
    assert client.get(reverse("care:case-list")).status_code == 200
    api = operator_api.get(f"/api/v1/cases/{told_case.reference}/")
    assert api.status_code == 200
    assert api.json()["end_user"] is None


def test_the_scrubber_without_a_person_still_blanks_contact_data():
    scrub = identity_scrubber(None)
    assert scrub("") == ""
    assert scrub("Chiamare il 06 1234 5678 o scrivere a a.b@example.it") == (
        f"Chiamare il {REMOVED} o scrivere a {REMOVED}"
    )
    assert scrub("Pratica CS-2026-000123 del 03/11/2026, importo 300 euro") == (
        "Pratica CS-2026-000123 del 03/11/2026, importo 300 euro"
    )


# --- Runs, the task and the nightly hook ----------------------------------------------------


def test_the_nightly_hook_runs_the_retention(closed_case, contract, set_retention):
    set_retention(contract, 1)
    case = closed_case(opened=at("2026-02-02"), closed=at("2026-02-20"))
    night = datetime(2026, 12, 3, 2, 0, tzinfo=ROME)
    result = run_nightly_jobs(today=night.date(), now=night)
    run = RetentionRun.objects.get()
    assert result.hooks["care.retention.anonymise_closed_cases_nightly"] == {
        "result": {"run": run.id, "anonymised": 1, "status": "done"}
    }
    assert (run.requested_by, run.requested_at, run.done) == (None, night, 1)
    assert reloaded(case).anonymised_at == night


def test_a_second_run_is_refused_while_one_is_queued(manager, now):
    first = request_retention_run(actor=manager, now=now)  # its task waits for the commit
    with pytest.raises(RetentionAlreadyRunning) as refused:
        request_retention_run(actor=manager, now=now)
    assert refused.value.status == 409
    assert RetentionRun.objects.get() == first
    assert first.status == RetentionRun.Status.QUEUED


def test_the_task_runs_only_a_queued_run(closed_case, contract, set_retention, manager, now):
    set_retention(contract, 1)
    closed_case(opened=at("2026-02-02"), closed=at("2026-02-20"))
    run = request_retention_run(actor=manager, now=now)
    assert run_retention_task(run.id) == {"run": run.id, "anonymised": 1, "status": "done"}
    assert run_retention_task(run.id) == {"run": run.id, "skipped": True}  # redelivered
    run.refresh_from_db()
    assert (run.status, run.done) == (RetentionRun.Status.DONE, 1)
    # Once done, a new run may be asked for.
    assert request_retention_run(actor=manager, now=now).status == RetentionRun.Status.QUEUED


# --- The page -------------------------------------------------------------------------------


@pytest.fixture
def due_on_the_page(closed_case, contract, other_client_contract, set_retention):
    """Two cases due on the main contract (1 month) and none on the other (120 months), on
    the real clock of the page: closed in February 2026."""
    set_retention(contract, 1)
    set_retention(other_client_contract, 120)
    closed_case(opened=at("2026-02-02"), closed=at("2026-02-20"), contract=other_client_contract)
    return [
        closed_case(opened=at("2026-02-02"), closed=at("2026-02-20")),
        closed_case(opened=at("2026-02-03"), closed=at("2026-02-21")),
    ]


def test_a_manager_sees_the_dry_run_per_contract(
    client, manager, due_on_the_page, contract, other_client_contract, django_assert_max_num_queries
):
    client.force_login(manager)
    with django_assert_max_num_queries(20):
        response = client.get(RETENTION_PAGE)
    assert response.status_code == 200
    html = response.content.decode()
    assert f'data-testid="due-{contract.code}">2<' in html
    assert f'data-testid="due-{other_client_contract.code}">0<' in html
    assert 'data-testid="retention-start"' in html
    assert 'data-testid="active-run"' not in html
    assert response.context["total_due"] == 2


def test_starting_a_run_anonymises_and_the_progress_stops_polling(
    client, manager, due_on_the_page, django_capture_on_commit_callbacks
):
    client.force_login(manager)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(RETENTION_START)
    assert response.status_code == 302
    assert response["Location"] == RETENTION_PAGE
    run = RetentionRun.objects.get()
    assert (run.status, run.requested_by, run.total, run.done) == ("done", manager, 2, 2)
    assert all(reloaded(case).end_user_id is None for case in due_on_the_page)
    progress = client.get(reverse("care:retention-run", args=[run.id]))
    assert progress.status_code == 286
    assert 'data-status="done"' in progress.content.decode()
    page = client.get(RETENTION_PAGE)
    assert page.context["total_due"] == 0
    assert 'data-testid="retention-runs"' in page.content.decode()


def test_a_queued_run_is_polled_and_a_second_start_is_refused(client, manager, due_on_the_page):
    client.force_login(manager)
    client.post(RETENTION_START)  # the task waits for a commit that never comes in the test
    run = RetentionRun.objects.get()
    page = client.get(RETENTION_PAGE).content.decode()
    assert 'data-testid="active-run"' in page
    assert 'data-testid="retention-start"' not in page
    assert client.get(reverse("care:retention-run", args=[run.id])).status_code == 200
    refused = client.post(RETENTION_START, follow=True)
    assert [m.level_tag for m in refused.context["messages"]] == ["error"]
    assert RetentionRun.objects.count() == 1


def test_progress_of_an_unknown_run_stops_polling(client, manager):
    client.force_login(manager)
    assert client.get(reverse("care:retention-run", args=[999_999])).status_code == 286


@pytest.mark.parametrize("role", ["operator", "backoffice_user", "supervisor"])
def test_other_roles_cannot_see_or_start_the_retention(client, request, role, manager, now):
    run = request_retention_run(actor=manager, now=now)
    client.force_login(request.getfixturevalue(role))
    assert client.get(RETENTION_PAGE).status_code == 403
    assert client.post(RETENTION_START).status_code == 403
    assert client.get(reverse("care:retention-run", args=[run.id])).status_code == 403
    assert RetentionRun.objects.count() == 1


# --- The contract's retention, edited -------------------------------------------------------


def edit_form(contract: Contract, **changes) -> dict:
    values = {
        "calendar": contract.calendar_id,
        "services": contract.services,
        "valid_to": contract.valid_to.isoformat() if contract.valid_to else "",
        "status": contract.status,
        "retention_months": contract.retention_months,
    }
    return {**values, **changes}


def test_a_new_contract_keeps_24_months(contract):
    assert contract.retention_months == 24


def test_the_edit_form_changes_the_retention(client, manager, contract):
    client.force_login(manager)
    url = reverse("contracts:contract-edit", args=[contract.code])
    assert 'name="retention_months"' in client.get(url).content.decode()
    response = client.post(url, edit_form(contract, retention_months=36))
    assert response.status_code == 302
    assert Contract.objects.get(id=contract.id).retention_months == 36


@pytest.mark.parametrize("months", [0, 121, -1])
def test_the_edit_form_refuses_a_retention_out_of_range(client, manager, contract, months):
    client.force_login(manager)
    url = reverse("contracts:contract-edit", args=[contract.code])
    before = Contract.objects.filter(id=contract.id).values().get()
    response = client.post(url, edit_form(contract, retention_months=months))
    assert response.status_code == 200
    errors = response.context["form"].errors["retention_months"]
    assert any(("1" if months < 1 else "120") in error for error in errors)
    assert Contract.objects.filter(id=contract.id).values().get() == before


def test_the_api_changes_the_retention(manager_api, contract):
    response = manager_api.patch(
        f"/api/v1/contracts/{contract.code}/", {"retention_months": 60}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["retention_months"] == 60
    assert Contract.objects.get(id=contract.id).retention_months == 60


@pytest.mark.parametrize("months", [0, 121])
def test_the_api_refuses_a_retention_out_of_range(manager_api, contract, months):
    before = Contract.objects.filter(id=contract.id).values().get()
    response = manager_api.patch(
        f"/api/v1/contracts/{contract.code}/", {"retention_months": months}, format="json"
    )
    assert response.status_code == 400
    body = response.json()
    assert set(body["fields"]) == {"retention_months"}
    assert ("1" if months < 1 else "120") in body["fields"]["retention_months"][0]
    assert Contract.objects.filter(id=contract.id).values().get() == before


@pytest.mark.parametrize("months", [0, 121])
def test_the_service_refuses_a_retention_out_of_range(set_retention, contract, months):
    before = Contract.objects.filter(id=contract.id).values().get()
    with pytest.raises(PresidioError) as refused:
        set_retention(contract, months)
    assert set(refused.value.fields) == {"retention_months"}
    assert Contract.objects.filter(id=contract.id).values().get() == before


# --- A lost message, a dead worker ----------------------------------------------------------


@pytest.fixture
def broker_down(monkeypatch):
    from kombu.exceptions import OperationalError

    def refuse(*args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(run_retention_task, "apply_async", refuse)


def test_with_the_broker_down_starting_a_run_still_answers_and_beat_sends_it_later(
    client, manager, due_on_the_page, broker_down, django_capture_on_commit_callbacks, monkeypatch
):
    client.force_login(manager)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(RETENTION_START)
    assert response.status_code == 302  # not a 500: the request does not depend on the broker
    run = RetentionRun.objects.get()
    assert run.status == RetentionRun.Status.QUEUED
    # Too early for the sweep: the message may still be on its way.
    assert heal_retention_runs(now=run.requested_at + timedelta(minutes=4)) == (0, 0)
    monkeypatch.undo()  # the broker is back (eager here: the worker runs it at once)
    from config import tasks as config_tasks

    config_tasks._broker_down_until = 0.0
    assert heal_retention_runs(now=run.requested_at + timedelta(minutes=6)) == (1, 0)
    run.refresh_from_db()
    assert (run.status, run.done) == (RetentionRun.Status.DONE, 2)


def test_a_queued_run_is_claimed_by_one_worker_only(manager, now):
    run = request_retention_run(actor=manager, now=now)
    assert claim_queued_run(run.id, now=now).status == RetentionRun.Status.RUNNING
    assert claim_queued_run(run.id, now=now) is None  # the same message delivered twice
    assert run_retention_task(run.id) == {"run": run.id, "skipped": True}


def test_a_run_whose_worker_died_is_closed_and_a_new_one_may_start(manager, now):
    run = request_retention_run(actor=manager, now=now)
    claim_queued_run(run.id, now=now)  # then the worker dies: no more progress
    assert heal_retention_runs(now=now + timedelta(minutes=29)) == (0, 0)
    assert heal_retention_runs(now=now + timedelta(minutes=31)) == (0, 1)
    run.refresh_from_db()
    assert run.status == RetentionRun.Status.FAILED
    assert run.error.startswith("Interrotta")  # stored in the site's language, for the page
    assert request_retention_run(actor=manager, now=now).status == RetentionRun.Status.QUEUED


def test_a_run_making_progress_is_left_alone(closed_case, contract, set_retention, manager, now):
    set_retention(contract, 1)
    closed_case(opened=at("2026-02-02"), closed=at("2026-02-20"))
    run = RetentionRun.objects.create(requested_at=now)
    run = run_retention(run)
    assert run.heartbeat_at is not None
    RetentionRun.objects.filter(id=run.id).update(status=RetentionRun.Status.RUNNING)
    assert heal_retention_runs(now=run.heartbeat_at + timedelta(minutes=10)) == (0, 0)
