"""The `incidents` report keeps incident-linked cases apart from ordinary ones (#23)."""

from datetime import date, timedelta

import pytest

from care import incidents
from reports import definitions
from reports.forms import ReportFilters
from tests.factories import EndUserFactory

pytestmark = pytest.mark.django_db


def test_incident_cases_are_counted_apart_from_ordinary_ones(
    supervisor, operator, contract, open_case_for, now
):
    incident = incidents.open_incident(
        actor=supervisor,
        data=incidents.IncidentData(
            title="Rete mobile giù", services=["mobile"], provinces=["PA"], started_at=now
        ),
        now=now,
    )
    surge = [open_case_for(EndUserFactory(client=contract.client)) for _ in range(4)]
    ordinary = [open_case_for(EndUserFactory(client=contract.client)) for _ in range(2)]
    incidents.link_cases(
        actor=supervisor, incident=incident, references=[c.reference for c in surge], now=now
    )
    incidents.log_information_contact(
        actor=operator, incident=incident, client_id=contract.client_id, call_id="call-9", now=now
    )
    incidents.resolve_incident(actor=supervisor, incident=incident, now=now + timedelta(minutes=90))
    rows = list(
        definitions.get("incidents").rows(
            ReportFilters(date_from=date(2026, 12, 1), date_to=date(2026, 12, 31)),
            supervisor,
            now + timedelta(hours=3),
        )
    )
    by_incident, apart = rows
    assert by_incident["incident"] == f"INC-{incident.id} Rete mobile giù"
    assert (by_incident["cases"], by_incident["resolved"], by_incident["duration_minutes"]) == (
        4,
        4,
        90,
    )
    assert (by_incident["contacts"], by_incident["calls"]) == (1, 1)
    assert apart["cases_in_period"] == len(ordinary)
