"""The intake banner of a major incident in a real browser (#23): a caller in scope hears the
public message, and one key opens their case already linked to the incident."""

import re
from datetime import date

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from care import incidents
from care.models import Case, IncidentCase
from config import roles
from contracts import services
from tests.contract_terms import terms
from tests.e2e.conftest import sign_in
from tests.factories import BusinessCalendarFactory, ClientFactory, EndUserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def caller(user_factory):
    manager = user_factory("man.verdi", roles.MANAGER)
    client = ClientFactory(name="Regione Siciliana", vat_number="02711070827", province="PA")
    services.create_contract(
        actor=manager,
        code="RSIC-MOB-2026",
        client=client,
        calendar=BusinessCalendarFactory(
            name="Sempre aperto", always_open=True, office_hours=False
        ),
        services=["mobile"],
        valid_from=date(2025, 1, 1),
        valid_to=None,
        terms=terms(),
    )
    return EndUserFactory(
        client=client, first_name="Rosalia", last_name="Amato", phone="+393471234567"
    )


@pytest.fixture
def incident(user_factory):
    supervisor = user_factory("sup.neri", roles.SUPERVISOR)
    return incidents.open_incident(
        actor=supervisor,
        data=incidents.IncidentData(
            title="Rete mobile giù a Palermo",
            services=["mobile"],
            provinces=["PA"],
            started_at=timezone.now(),
            public_message="Guasto alla rete mobile di Palermo, rientro previsto entro le 14.",
            category_code="roaming",
            priority="P2",
        ),
    )


def test_a_caller_in_scope_is_linked_to_the_incident_with_one_key(
    page, operator_login, caller, incident
):
    sign_in(page, "op.ferri")
    page.goto("/care/intake/?phone=347%20123%204567")
    expect(page.get_by_role("heading", name=re.compile("Rosalia Amato"))).to_be_visible()
    banner = page.get_by_test_id("incident-banner")
    expect(banner).to_contain_text("Guasto alla rete mobile di Palermo")
    link = page.get_by_role("button", name="Collega all’incidente")
    expect(link).to_be_focused()
    with page.expect_navigation():
        page.keyboard.press("Enter")

    case = Case.objects.get()
    expect(page).to_have_url(re.compile(rf"/care/cases/{case.reference}/$"))
    expect(page.get_by_text(f"collegata a {incident.reference}")).to_be_visible()
    assert IncidentCase.objects.get(case=case).incident_id == incident.id
    assert (case.category.code, case.priority) == ("roaming", "P2")
