"""The supervisor console shows active major incidents with their cases and calls (#23)."""

from datetime import timedelta

import pytest
from django.urls import reverse

from care import incident_selectors, incidents

pytestmark = pytest.mark.django_db


@pytest.fixture
def incident(supervisor, now):
    return incidents.open_incident(
        actor=supervisor,
        data=incidents.IncidentData(
            title="Rete mobile giù a Palermo", services=["mobile"], provinces=["PA"], started_at=now
        ),
        now=now,
    )


def test_calls_of_an_incident_are_counted_per_quarter_hour(incident, operator, client_pa, now):
    for minutes, call in ((1, "c1"), (2, "c2"), (20, "c3"), (21, "c3")):
        incidents.log_information_contact(
            actor=operator,
            incident=incident,
            client_id=client_pa.id,
            call_id=call,
            now=now - timedelta(minutes=minutes),
        )
    (shown,) = incident_selectors.console_incidents(now=now)
    counts = [n for _at, n in shown.calls_per_quarter]
    assert len(counts) == 8
    # 10:00 holds nothing yet; 09:45 two calls; 09:30 one call (c3 twice is one call).
    assert counts[-3:] == [1, 2, 0]
    assert shown.contacts == 4


def test_the_console_shows_active_incidents_only(client, supervisor, incident, now):
    client.force_login(supervisor)
    page = client.get(reverse("routing:console")).content.decode()
    assert 'data-testid="console-incident"' in page
    assert "Rete mobile giù a Palermo" in page
    incidents.resolve_incident(actor=supervisor, incident=incident, now=now)
    page = client.get(reverse("routing:console")).content.decode()
    assert 'data-testid="console-incident"' not in page
