"""Bad SLA input never crashes the engine: priorities without a target are "no SLA" on the case
page and flagged on the contract page; a calendar without opening hours is refused; /healthz
shows when the last recompute ran and how long it took."""

from datetime import date, timedelta

import pytest
from django.urls import reverse

from care import services
from care.models import Case, SlaAlert, SlaState
from care.sla import recompute_sla_states
from config.errors import PresidioError
from contracts import services as contract_services
from tests.contract_terms import TARGETS, terms
from tests.factories import ClientFactory, EndUserFactory


@pytest.fixture
def partial_contract(manager, office_calendar):
    """Targets for P1 to P3 only: P4 cases have no SLA."""
    return contract_services.create_contract(
        actor=manager,
        code="PARTIAL-2026",
        client=ClientFactory(name="Comune di Enna", province="EN"),
        calendar=office_calendar,
        services=["mobile"],
        valid_from=date(2026, 1, 1),
        valid_to=date(2028, 12, 31),
        terms=terms(sla_targets=TARGETS[:3]),
    )


@pytest.fixture
def no_sla_case(partial_contract, operator, now):
    return services.open_case(
        actor=operator,
        request=services.CaseRequest(
            contract_code=partial_contract.code,
            category_code="roaming",
            priority="P4",
            channel="phone",
            subject="Roaming",
            description="Non funziona in Francia",
            end_user_id=EndUserFactory(client=partial_contract.client).id,
        ),
        now=now,
    )


def test_a_case_without_a_target_is_no_sla_and_the_recompute_passes_it_by(no_sla_case, now):
    case = Case.objects.get(id=no_sla_case.id)
    assert (case.first_response_state, case.resolution_state) == (SlaState.NONE, SlaState.NONE)
    assert case.resolution_due_at is None
    result = recompute_sla_states(now=now + timedelta(days=365))
    assert (result.at_risk, result.breached) == (0, 0)
    assert not SlaAlert.objects.exists()
    assert Case.objects.get(id=case.id).resolution_state == SlaState.NONE


def test_the_case_page_shows_no_sla(client, operator, no_sla_case):
    client.force_login(operator)
    page = client.get(reverse("care:case-detail", args=[no_sla_case.reference])).content.decode()
    assert 'data-sla-state="none"' in page
    assert str(SlaState.NONE.label) in page


def test_the_contract_page_flags_priorities_without_a_target(client, operator, partial_contract):
    client.force_login(operator)
    page = client.get(reverse("contracts:contract-detail", args=[partial_contract.code]))
    assert 'data-testid="no-sla-warning"' in page.content.decode()


def test_a_contract_with_every_target_is_not_flagged(client, operator, contract):
    client.force_login(operator)
    page = client.get(reverse("contracts:contract-detail", args=[contract.code]))
    assert 'data-testid="no-sla-warning"' not in page.content.decode()


def test_a_calendar_without_opening_hours_is_refused(manager):
    with pytest.raises(PresidioError) as refused:
        contract_services.create_calendar(actor=manager, name="Vuoto", hours={})
    assert "hours" in refused.value.fields


def test_healthz_shows_the_last_recompute_and_how_long_it_took(client, new_case, now):
    recompute_sla_states(now=new_case.first_response_due_at + timedelta(seconds=1))
    body = client.get(reverse("healthz")).json()["last_sla_recompute"]
    assert body["breached"] == 1
    assert body["seconds"] >= 0
    assert body["at"]
