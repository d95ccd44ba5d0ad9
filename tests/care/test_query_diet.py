"""Query bounds of the hot paths (issue #25): opening a case through intake and the API, the
case page of a realistic case for an operator and a supervisor, the intake page of a caller
with two contracts and open cases. The counts include the test's savepoints (two around each
access-log row, two around a session write) that production does not run."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from care import services
from care.models import Case
from contracts import selectors as contract_selectors
from tests.conftest import look_up
from tests.factories import EndUserFactory

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4 a tiny document\n%%EOF"
# session, user, permissions (1); the contract with its versions and categories (3) and the
# caller with their phones (2), no incident banner (no page is shown); then the service: the
# calendar's rules and SLA targets (3), the caller, the duplicate guard, the reference, the
# queue, the case, its event and the articles used at intake (2 savepoints); the access-log
# row (4, 2 savepoints) and the session (1, 2 savepoints). The articles used at intake join
# the case in its transaction (one UPDATE, counted here); before, a second transaction after
# commit read the case back (four statements in production, none in tests, which do not run
# what waits for a commit).
CREATE_ON_PAGE = 29  # 40 before issue #25's diet
# the lookup check; the contract and its terms (6), the caller, the duplicate guard, the
# reference, the queue, the case, its event and the articles used (2 savepoints); the detail
# answered from the case just written (its notes, events, hand-offs, the caller's phones and
# the need-to-know scope: 5) and the access-log row (4, 2 savepoints). The tests' API client
# is authenticated without a token query and its permissions were read by the lookup.
CREATE_BY_API = 27  # 32 before
# session, user, permissions (1), the case, notes, attachments, events, hand-offs, phones,
# SLA targets, the need-to-know scope (1), the calendar's rules (2), the linked orders, the
# unread count and the access-log row (4, 2 savepoints).
CASE_PAGE = 23  # 24 before; 21 until the SLA transitions were read from their one record, 22
# until the case facts named the queue (#19)
# session, user, permissions (1), the contract with its versions and categories (3), the caller
# and phones (2), the incident banner, the open cases, the unread count, the access-log row
# (4, 2 savepoints).
INTAKE_PAGE = 18  # 22 before


@pytest.fixture
def caller(contract):
    return EndUserFactory(
        client=contract.client, first_name="Rosalia", last_name="Amato", phone="+393471234567"
    )


@pytest.fixture
def earlier_case(operator, contract, now):
    """Another caller's case of this year: the reference counter exists, as it does all year."""
    return services.open_case(
        actor=operator,
        request=services.CaseRequest(
            contract_code=contract.code,
            category_code="roaming",
            channel="phone",
            subject="Roaming",
            description="Niente dati.",
            end_user_id=EndUserFactory(client=contract.client).id,
        ),
        now=now,
    )


def test_opening_a_case_on_the_intake_page_keeps_its_query_bound(
    client, operator, caller, earlier_case, django_assert_max_num_queries
):
    client.force_login(operator)
    client.get(reverse("care:intake"), {"phone": "3471234567"})
    client.get(reverse("care:intake"))
    form = {
        "category": "roaming",
        "priority": "P3",
        "channel": "phone",
        "subject": "Roaming in Francia",
        "description": "Nessun servizio dati a Parigi.",
    }
    with django_assert_max_num_queries(CREATE_ON_PAGE):
        response = client.post(reverse("care:intake"), form)
    case = Case.objects.get(end_user=caller)
    assert response["Location"] == reverse("care:case-detail", args=[case.reference])
    due = contract_selectors.sla_due(
        contract_selectors.contract_by_code(case.contract.code),
        priority="P3",
        opened_at=case.opened_at,
    )
    assert (case.first_response_due_at, case.resolution_due_at) == (
        due.first_response_due,
        due.resolution_due,
    )


def test_opening_a_case_through_the_api_keeps_its_query_bound(
    operator_api, caller, earlier_case, django_assert_max_num_queries
):
    look_up(operator_api, caller)
    body = {
        "contract": "RSIC-MOB-2026",
        "end_user": caller.id,
        "category": "sim-lost",
        "priority": "P2",
        "channel": "phone",
        "subject": "SIM rubata",
        "description": "Numero coinvolto: 3471234567\nDenuncia presentata: sì",
    }
    with django_assert_max_num_queries(CREATE_BY_API):
        response = operator_api.post("/api/v1/cases/", body, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["events"][0]["kind"] == "opened"


@pytest.fixture
def worked_case(operator, caller, contract_with_handoff_units, now):
    """A case with notes and attachments, a hand-off and its events."""
    case = services.open_case(
        actor=operator,
        request=services.CaseRequest(
            contract_code=contract_with_handoff_units.code,
            category_code="roaming",
            channel="phone",
            subject="Roaming",
            description="Niente dati.",
            end_user_id=caller.id,
        ),
        now=now,
    )
    for n in range(3):
        services.add_note(
            actor=operator,
            case=case,
            body=f"Nota {n}",
            attachments=[SimpleUploadedFile(f"n{n}.pdf", PDF, content_type="application/pdf")],
        )
    services.send_handoff(
        actor=operator, case=case, unit_code="assurance", request="Verifica", now=now
    )
    return Case.objects.get(id=case.id)


@pytest.mark.parametrize("reader", ["operator", "queue_supervisor"])
def test_the_case_page_keeps_its_query_bound(
    client, request, reader, worked_case, django_assert_max_num_queries
):
    client.force_login(request.getfixturevalue(reader))
    page_url = reverse("care:case-detail", args=[worked_case.reference])
    client.get(page_url)  # the first view of all creates the access log's chain head
    with django_assert_max_num_queries(CASE_PAGE):
        page = client.get(page_url)
    assert page.content.decode().count('data-testid="timeline-note"') == 3


def test_the_intake_page_of_a_caller_with_two_contracts_keeps_its_query_bound(
    client, operator, caller, contract, data_contract_with_a_case, django_assert_max_num_queries
):
    client.force_login(operator)
    client.post(reverse("care:intake"), {"action": "lookup", "query": "3471234567"})
    client.get(reverse("care:intake"))  # the two contracts to choose from
    client.post(reverse("care:intake-caller"), {"end_user": caller.id, "contract": contract.code})
    client.get(reverse("care:intake"))
    with django_assert_max_num_queries(INTAKE_PAGE):
        page = client.get(reverse("care:intake"))
    assert page.context["form"]["subject"].value()
    assert "Rete dati lenta" in page.content.decode()


@pytest.mark.parametrize(
    "changes",
    [{}, {"resolved_during_call": True}, {"channel": "email", "priority": "P1"}],
    ids=["new", "resolved-during-the-call", "acknowledged-by-mail"],
)
def test_the_api_answers_a_case_opened_exactly_as_its_detail_reads_it_back(
    operator_api, caller, earlier_case, changes
):
    """The answer to `POST cases/` is built from the case just written, not read back: it
    must be the same document as `GET cases/<reference>/`."""
    look_up(operator_api, caller)
    body = {
        "contract": "RSIC-MOB-2026",
        "end_user": caller.id,
        "category": "sim-lost",
        "priority": "P2",
        "channel": "phone",
        "subject": "SIM rubata",
        "description": "Numero coinvolto: 3471234567\nDenuncia presentata: sì",
        **changes,
    }
    opened = operator_api.post("/api/v1/cases/", body, format="json")
    assert opened.status_code == 201, opened.json()
    read_back = operator_api.get(f"/api/v1/cases/{opened.json()['reference']}/")
    assert opened.json() == read_back.json()
