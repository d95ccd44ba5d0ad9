"""The incident pages name the services, the category and the priority, not their codes, in
the reader's language (#19 point 3)."""

import pytest
from django.urls import reverse

from care import incidents

pytestmark = pytest.mark.django_db


@pytest.fixture
def incident(contract, supervisor, now):
    return incidents.open_incident(
        actor=supervisor,
        data=incidents.IncidentData(
            title="Rete giù a Palermo",
            services=["data", "fixed"],
            provinces=["PA"],
            started_at=now,
            public_message="Guasto in corso.",
            category_code="roaming",
            priority="P2",
        ),
        now=now,
    )


@pytest.mark.parametrize(
    ("language", "services", "category", "priority"),
    [
        ("it", "Dati e connettività, Rete fissa", "Roaming non funzionante", "P2 – alta"),
        ("en", "Data and connectivity, Fixed line", "Roaming non funzionante", "P2 – high"),
    ],
)
def test_the_incident_pages_name_services_category_and_priority(
    client, supervisor, incident, language, services, category, priority
):
    client.force_login(supervisor)
    if language == "en":
        client.cookies["django_language"] = "en"
    detail = client.get(reverse("care:incident-detail", args=[incident.id])).content.decode()
    listing = client.get(reverse("care:incident-list")).content.decode()
    for page in (detail, listing):
        assert services in page
        assert "data, fixed" not in page
    assert f"{category} · {priority}" in detail
    assert "roaming P2" not in detail
