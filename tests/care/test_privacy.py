"""Need to know: a caller's personal data in full only for those who work the case; masked
for everyone else, on pages and in the API alike."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from care import ports, privacy
from care.models import Case
from care.ports import Grants
from contracts.privacy import mask_codice_fiscale, mask_email, mask_phone, masked_names, short_name
from tests.factories import EndUserFactory

pytestmark = pytest.mark.django_db

PHONE = "+393471239876"


@pytest.fixture
def caller(contract):
    return EndUserFactory(
        client=contract.client,
        first_name="Rosalia",
        last_name="Trapanese",
        email="rosalia.trapanese@regione.example.it",
        employee_code="PA-77123",
        phone=PHONE,
    )


@pytest.fixture
def colleague(user_factory):
    from config import roles

    return user_factory("op.colleague", roles.OPERATOR)


@pytest.fixture
def case(open_case_for, caller):
    return open_case_for(caller)  # opened by the `operator` fixture


def page_of(client, user, case) -> str:
    client.force_login(user)
    response = client.get(f"/care/cases/{case.reference}/")
    assert response.status_code == 200
    return response.content.decode()


def test_the_operator_who_took_the_call_sees_the_caller_in_full(client, operator, case):
    html = page_of(client, operator, case)
    assert "Trapanese" in html
    assert "rosalia.trapanese@" in html
    assert "PA-77123" in html
    assert 'data-testid="caller-masked"' not in html


def test_another_operator_sees_a_short_name_and_masked_contacts(client, colleague, case):
    html = page_of(client, colleague, case)
    assert "Trapanese" not in html
    assert "Rosalia T." in html
    assert "rosalia.trapanese" not in html
    assert "9876" not in html
    assert "+39 347 *** **76" in html
    assert "PA-77123" not in html
    assert 'data-testid="caller-masked"' in html


def test_the_assignee_sees_the_caller_in_full(client, colleague, case, now):
    from care import services

    services.assign_case(actor=colleague, case=case, assignee=colleague, now=now)
    assert "Trapanese" in page_of(client, colleague, case)


def test_an_operator_certified_on_the_contract_sees_it_in_full(client, colleague, case):
    def grants(user):
        return Grants(frozenset({case.contract_id}) if user.pk == colleague.pk else frozenset())

    routing_rule = ports.use_personal_data_grants(grants)
    try:
        assert "Trapanese" in page_of(client, colleague, case)
    finally:
        ports.use_personal_data_grants(routing_rule)


def test_an_administrator_sees_everything(client, admin_user, case):
    assert "Trapanese" in page_of(client, admin_user, case)


def test_the_case_list_masks_names_of_cases_the_user_does_not_work(client, colleague, case):
    client.force_login(colleague)
    html = client.get("/care/cases/").content.decode()
    assert case.reference in html
    assert "Trapanese" not in html
    assert "Rosalia T." in html


def test_the_api_masks_alike_and_says_so(operator_api, supervisor_api, case):
    own = operator_api.get(f"/api/v1/cases/{case.reference}/").json()["end_user"]
    assert (own["last_name"], own["masked"]) == ("Trapanese", False)
    other = supervisor_api.get(f"/api/v1/cases/{case.reference}/").json()["end_user"]
    assert (other["first_name"], other["last_name"], other["masked"]) == ("Rosalia", "T.", True)
    listed = supervisor_api.get("/api/v1/cases/").json()["results"][0]["end_user"]
    assert listed["last_name"] == "T."


def test_the_scope_is_asked_once_per_request(colleague, case):
    calls = []

    def grants(user):
        calls.append(user.pk)
        return Grants()

    routing_rule = ports.use_personal_data_grants(grants)
    try:
        for _ in range(5):
            privacy.sees_in_full(colleague, Case.objects.get(id=case.id))
    finally:
        ports.use_personal_data_grants(routing_rule)
    assert calls == [colleague.pk]


# --- The masks themselves -------------------------------------------------------------------


@given(st.from_regex(r"\+393[0-9]{8,9}", fullmatch=True))
def test_a_masked_mobile_shows_the_prefix_and_two_last_digits_only(number):
    masked = mask_phone(number)
    digits = [c for c in masked if c.isdigit()]
    assert len(digits) == 2 + 3 + 2  # country code, operator prefix, the last two
    assert masked.endswith(number[-2:])
    # Only those digits are shown (the hidden middle may share digits with them by chance).
    assert "".join(digits) == number[1:3] + number[3:6] + number[-2:]


@given(st.emails())
def test_a_masked_email_keeps_one_letter_and_the_domain(address):
    local, _, domain = address.partition("@")
    masked = mask_email(address)
    assert masked == f"{local[0]}***@{domain}"


def test_short_names_and_codice_fiscale():
    assert short_name("Maria", "Russo") == "Maria R."
    assert short_name("Maria", "") == "Maria"
    assert short_name("", "Russo") == "R."
    # A double first name stays whole and the surname never shows (pages split the two).
    assert masked_names("Maria Grazia", "Russo") == ("Maria Grazia", "R.")
    assert mask_codice_fiscale("RSSMRA80A01H501U") == "RSS************U"
