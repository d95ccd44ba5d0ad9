"""Query bounds of the hot paths (issue #25): opening a case through intake and the API, the
case page of a realistic case for an operator and a supervisor, the intake page of a caller
with two contracts and open cases. The counts include the test's savepoints (two around the
service's transaction) that production does not run."""

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
# Issue #25 point 3: every hot path in at most 15 statements, the tests' savepoints counted.
# session; the user with their permissions (1, `config.permissions`); the contract's versions
# with the contract, its calendar's rules, categories and SLA targets joined (1); then the
# service (2 savepoints): the caller locked with their phones, the duplicate guard, the
# reference, the queues (the routing decision), the case, its event, the articles used at
# intake; the access-log row (head and row: its index and the head's move are the database's,
# no savepoint) and the session (one UPDATE).
CREATE_ON_PAGE = 15  # 29 before #25's second diet, 40 before the first
# the lookup check; the contract (1); the service as above (2 savepoints); the detail answered
# from the case just written: its events and the need-to-know scope (2; no notes, hand-offs
# or SLA transitions yet, the phones read with the caller); the access-log row (2).
CREATE_BY_API = 15  # 27 before, 32 before the first diet
# session, the user with permissions (1), the case with its calendar's rules, SLA targets and
# caller's phones as JSON columns (1), notes with their attachments as a JSON column, events,
# SLA transitions, hand-offs, the queues' names, the need-to-know scope, the linked orders,
# the unread count, the access-log row (2). A case that can be resolved adds its closing
# codes (1); on PostgreSQL the access-log row's transaction adds BEGIN and COMMIT.
CASE_PAGE = 13  # 14 before the attachments came with their notes, 23 before the diets
# session, the user with permissions (1), the contract (1), the caller with phones (1), the
# incident banner, the open cases, the unread count, the access-log row (2).
INTAKE_PAGE = 9  # 18 before, 22 before the first diet


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
