"""Free text is masked like the caller (issue 26, point 8): a phone number, e-mail or codice
fiscale typed into a case's subject, description, note or hand-off is shown masked to whoever
sees the caller masked, in pages and in the API, found by the same detector retention uses;
whoever sees the caller in full reads the text as written."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from care import services
from care.retention import identity_scrubber
from contracts.privacy import mask_contact_data
from tests.factories import EndUserFactory

pytestmark = pytest.mark.django_db

SUBJECT = "Richiamare al 347 555 1234"
DESCRIPTION = "Scrive da rosa.altavilla@example.it, CF RSSMRA80A01H501U."
NOTE = "Ha lasciato il fisso +39 06 1234567 per la richiamata."
HANDOFF = "Contattare la referente a rosa.altavilla@example.it"
AS_WRITTEN = ("347 555 1234", "rosa.altavilla@", "RSSMRA80A01H501U", "06 1234567")
MASKED = ("347 *** **34", "r***@example.it", "RSS************U", "+39 061 *** *67")


@pytest.fixture
def colleague(user_factory):
    from config import roles

    return user_factory("op.colleague", roles.OPERATOR)


@pytest.fixture
def case(contract_with_handoff_units, open_case_for, operator, now):
    """Opened by `operator` (who sees it in full), with contact data in every free text."""
    caller = EndUserFactory(client=contract_with_handoff_units.client, phone="+393471239876")
    case = open_case_for(caller, subject=SUBJECT, description=DESCRIPTION)
    services.add_note(actor=operator, case=case, body=NOTE, now=now)
    services.send_handoff(
        actor=operator, case=case, unit_code="assurance", request=HANDOFF, now=now
    )
    return case


def shown(text: str, expected: tuple[str, ...]) -> list[str]:
    return [value for value in expected if value in text]


def test_the_masking_follows_the_style_of_the_callers_own_fields():
    assert mask_contact_data(f"{SUBJECT}. {DESCRIPTION} {NOTE}") == (
        "Richiamare al 347 *** **34. Scrive da r***@example.it, CF RSS************U. "
        "Ha lasciato il fisso +39 061 *** *67 per la richiamata."
    )
    # A case reference and a date are not phone numbers.
    assert mask_contact_data("Vedi CS-2026-000123 del 03/11/2026") == (
        "Vedi CS-2026-000123 del 03/11/2026"
    )


@given(
    st.lists(
        st.sampled_from(
            [
                "347 123 4567",
                "+39 06 1234567",
                "0039-333-1234567",
                "a.b@c.it",
                "RSSMRA80A01H501U",
                "CS-2026-000123",
                "03/11/2026",
                "prezzo 35 euro",
                "ciao",
                "12345",
            ]
        ),
        max_size=6,
    )
)
def test_masking_finds_exactly_what_retention_removes(parts):
    """One detector: whatever retention would blank out of a text, masking changes too."""
    text = " ".join(parts)
    assert (identity_scrubber(None)(text) != text) == (mask_contact_data(text) != text)


def test_a_reader_who_sees_the_caller_masked_sees_the_contact_data_in_free_text_masked(
    client, colleague, case
):
    client.force_login(colleague)
    page = client.get(f"/care/cases/{case.reference}/").content.decode()
    listed = client.get("/care/cases/").content.decode()
    assert shown(page, AS_WRITTEN) == []
    assert shown(page, MASKED) == list(MASKED)
    assert case.reference in listed
    assert shown(listed, AS_WRITTEN) == []
    assert "347 *** **34" in listed


def test_the_reader_who_works_the_case_sees_the_free_text_as_written(client, operator, case):
    client.force_login(operator)
    page = client.get(f"/care/cases/{case.reference}/").content.decode()
    listed = client.get("/care/cases/").content.decode()
    assert shown(page, AS_WRITTEN) == list(AS_WRITTEN)
    assert SUBJECT in listed


def _api_texts(api, reference: str) -> str:
    detail = api.get(f"/api/v1/cases/{reference}/").json()
    notes = api.get(f"/api/v1/cases/{reference}/notes/").json()
    listed = api.get("/api/v1/cases/").json()["results"]
    return repr([detail, notes, listed])


def test_the_api_masks_free_text_for_a_reader_who_sees_the_caller_masked(supervisor_api, case):
    texts = _api_texts(supervisor_api, case.reference)
    assert shown(texts, AS_WRITTEN) == []
    assert shown(texts, MASKED) == list(MASKED)


def test_the_api_shows_free_text_as_written_to_the_reader_who_works_the_case(operator_api, case):
    texts = _api_texts(operator_api, case.reference)
    assert shown(texts, AS_WRITTEN) == list(AS_WRITTEN)
    assert shown(texts, MASKED) == []


def test_a_handoff_answered_through_the_api_is_masked_for_a_masked_reader(
    supervisor_api, operator_api, case
):
    """The answer of a write is shown like a read: here the supervisor does not run the
    case's queue (so records why they act on it, care.working), and sees the unit's answer
    masked; the case's own operator in full."""
    handoff = case.handoffs.get()
    response = supervisor_api.post(
        f"/api/v1/cases/{case.reference}/handoff/{handoff.id}/answer/",
        {
            "answer": "Richiamata la referente al 347 555 1234",
            "outcome": "bounced",
            "override_reason": "La centrale ha risposto a me",
        },
        format="json",
    )
    assert response.status_code == 200, response.json()
    assert response.json()["answer"] == "Richiamata la referente al 347 *** **34"
    assert response.json()["request"] == ("Contattare la referente a r***@example.it")
    notes = operator_api.get(f"/api/v1/cases/{case.reference}/").json()["handoffs"]
    assert notes[0]["answer"] == "Richiamata la referente al 347 555 1234"
