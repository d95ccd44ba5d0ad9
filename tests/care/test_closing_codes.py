"""Resolving requires a closing code of the case's contract version (issue 24, point 5): the
one rule in `care.services._change_status`, seen through the service, the case page, the
API, intake's first-contact resolution and major incidents."""

from datetime import date

import pytest
from django.urls import reverse

from care import incidents, services
from care.exceptions import InvalidIncidentData
from care.models import Case, CaseStatus
from config.errors import PresidioError
from contracts import services as contract_services
from tests.care.test_api_cases import CASES, payload
from tests.conftest import look_up
from tests.contract_terms import terms

pytestmark = pytest.mark.django_db

OWN_CODES = [
    contract_services.ClosingCodeTerms("sim-sbloccata", "SIM sbloccata", "SIM unlocked"),
    contract_services.ClosingCodeTerms(
        "denuncia", "Denuncia acquisita", "Report filed", "sim-lost"
    ),
    contract_services.ClosingCodeTerms("roaming-ok", "Roaming attivato", "Roaming on", "roaming"),
]


@pytest.fixture
def own_list(manager, contract):
    """The contract amended from 1 June 2026 with its own closing codes."""
    return contract_services.amend_contract(
        actor=manager,
        contract=contract,
        effective_from=date(2026, 6, 1),
        terms=terms(closing_codes=OWN_CODES),
    )


def resolve(case, actor, code):
    return services.transition_case(
        actor=actor, case=case, to=CaseStatus.RESOLVED, resolution_code=code
    )


@pytest.mark.parametrize("code", ["risolto-informazioni", "roaming-ok", "boh"])
def test_a_code_outside_the_versions_list_is_refused_and_nothing_is_written(
    own_list, open_case_for, end_user, operator, care_tables, code
):
    case = open_case_for(end_user)  # sim-lost: roaming-ok is for roaming cases only
    before = care_tables()
    with pytest.raises(PresidioError) as error:
        resolve(case, operator, code)
    assert error.value.code == "unknown_closing_code"
    assert error.value.extra["allowed"] == [
        "denuncia",
        "sim-sbloccata",
        "incidente-risolto",
        "risolto-da-unita",
        "risolto-primo-contatto",
    ]
    assert care_tables() == before


@pytest.mark.parametrize("code", ["denuncia", "sim-sbloccata", "risolto-da-unita"])
def test_a_code_of_the_versions_list_or_of_the_portal_resolves(
    own_list, open_case_for, end_user, operator, code
):
    case = resolve(open_case_for(end_user), operator, code)
    assert (case.status, case.resolution_code) == (CaseStatus.RESOLVED, code)


def test_a_version_without_a_list_takes_the_national_one(new_case, operator):
    assert resolve(new_case, operator, "sostituzione-sim").resolution_code == "sostituzione-sim"


def test_resolving_at_first_contact_during_intake_takes_the_code_given_or_the_portals(
    open_case_for, end_user, operator, own_list
):
    first = open_case_for(end_user, resolved_during_call=True)
    assert first.resolution_code == services.FIRST_CONTACT_CODE == "risolto-primo-contatto"
    second = open_case_for(
        end_user,
        resolved_during_call=True,
        closing_code="denuncia",
        duplicate_override_reason="Seconda SIM",
    )
    assert (second.resolution_code, second.first_contact_resolution) == ("denuncia", True)


def test_intake_refuses_an_unknown_code_and_opens_no_case(open_case_for, end_user, own_list):
    with pytest.raises(PresidioError) as error:
        open_case_for(end_user, resolved_during_call=True, closing_code="guasto-rete")
    assert error.value.code == "unknown_closing_code"
    assert not Case.objects.exists()


def test_the_api_accepts_closing_code_and_its_old_name(
    operator_api, own_list, open_case_for, end_user, operator
):
    case = open_case_for(end_user, actor=operator)
    url = f"/api/v1/cases/{case.reference}/transition/"
    unknown = operator_api.post(url, {"to": "resolved", "closing_code": "duplicato"}, format="json")
    assert unknown.status_code == 400
    assert unknown.json()["code"] == "unknown_closing_code"
    assert unknown.json()["fields"] == {
        "closing_code": ["Questo codice di chiusura non è nell'elenco del contratto della pratica."]
    }
    resolved = operator_api.post(
        url, {"to": "resolved", "resolution_code": "sim-sbloccata"}, format="json"
    )
    assert resolved.status_code == 200, resolved.json()
    assert resolved.json()["closing_code"] == "sim-sbloccata"


def test_the_case_page_offers_the_codes_of_the_case_and_names_the_one_chosen(
    client, own_list, open_case_for, end_user, operator
):
    case = open_case_for(end_user, actor=operator)
    client.force_login(operator)
    url = reverse("care:case-detail", args=[case.reference])
    page = client.get(url).content.decode()
    assert '<option value="denuncia">Denuncia acquisita · denuncia</option>' in page
    assert 'value="roaming-ok"' not in page  # another category's
    assert 'value="risolto-primo-contatto"' not in page  # the portal's own: not offered
    assert "data-closing-code-filter" in page

    refused = client.post(
        reverse("care:case-transition", args=[case.reference]),
        {"to": "resolved", "row_version": case.row_version},
    ).content.decode()
    assert "Scegli il codice di chiusura" in refused

    client.post(
        reverse("care:case-transition", args=[case.reference]),
        {"to": "resolved", "row_version": case.row_version, "closing_code": "denuncia"},
    )
    page = client.get(url).content.decode()
    assert "<code>denuncia</code> Denuncia acquisita" in page


def test_a_legacy_free_text_code_is_shown_as_stored(client, new_case, operator):
    Case.objects.filter(id=new_case.id).update(
        status=CaseStatus.RESOLVED, resolution_code="vecchio <codice>"
    )
    client.force_login(operator)
    page = client.get(reverse("care:case-detail", args=[new_case.reference])).content.decode()
    assert "<code>vecchio &lt;codice&gt;</code>" in page


def test_an_incident_takes_a_code_of_the_national_list_only(supervisor, now):
    data = incidents.IncidentData(
        title="Rete giù", services=["mobile"], started_at=now, resolution_code="sim-sbloccata"
    )
    with pytest.raises(InvalidIncidentData) as error:
        incidents.open_incident(actor=supervisor, data=data, now=now)
    assert set(error.value.fields) == {"resolution_code"}
    data = incidents.IncidentData(title="Rete giù", services=["mobile"], started_at=now)
    incident = incidents.open_incident(actor=supervisor, data=data, now=now)
    assert incident.resolution_code == "incidente-risolto"


def test_the_api_opens_a_case_resolved_during_the_call_with_the_code_given(
    operator_api, own_list, end_user, care_tables
):
    look_up(operator_api, end_user)  # a case names only a caller the operator found
    before = care_tables()
    refused = operator_api.post(
        CASES,
        payload(end_user, resolved_during_call=True, closing_code="guasto-rete"),
        format="json",
    )
    assert refused.status_code == 400
    assert refused.json()["code"] == "unknown_closing_code"
    assert care_tables() == before
    opened = operator_api.post(
        CASES,
        payload(end_user, resolved_during_call=True, closing_code="sim-sbloccata"),
        format="json",
    )
    assert opened.status_code == 201, opened.json()
    assert opened.json()["closing_code"] == "sim-sbloccata"
