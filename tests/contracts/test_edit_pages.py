"""The manager pages that edit a client, a calendar and a contract: what they show, what they
save, the errors they give (nothing written) and who may not use them."""

from datetime import date

import pytest
from django.urls import reverse

from contracts.models import AuditEvent
from tests.factories import BusinessCalendarFactory

pytestmark = pytest.mark.django_db


def client_data(**changes):
    data = {
        "name": "Regione Siciliana - Assessorato Salute",
        "segment": "PA",
        "vat_number": "02711070827",
        "province": "PA",
        "is_active": "on",
        "referents": "Carla | Russo | Dirigente | 091 123 4567 | c.russo@regione.sicilia.it | x",
    }
    data.update(changes)
    return data


def calendar_data(**changes):
    data = {
        "name": "Palermo uffici e sabato",
        "province": "PA",
        "timezone": "Europe/Rome",
        **{f"day_{weekday}": "08:30-13:00, 14:00-17:30" for weekday in range(5)},
        "day_5": "09:00-12:00",
        "closures": "2026-12-24 Vigilia",
    }
    data.update(changes)
    return data


def contract_data(calendar, **changes):
    data = {
        "calendar": calendar.id,
        "services": ["mobile", "data"],
        "valid_to": "2029-06-30",
        "status": "suspended",
        "retention_months": "36",
    }
    data.update(changes)
    return data


# --- Client ---------------------------------------------------------------------------------


def test_client_edit_page_shows_the_client_as_it_is(client, manager, client_pa):
    client.force_login(manager)
    response = client.get(reverse("contracts:client-edit", args=[client_pa.id]))
    assert response.status_code == 200
    page = response.content.decode()
    assert "<h1>Regione Siciliana</h1>" in page
    assert 'value="02711070827"' in page


def test_client_edit_page_saves_the_changes_and_goes_back_to_the_list(client, manager, client_pa):
    client.force_login(manager)
    response = client.post(reverse("contracts:client-edit", args=[client_pa.id]), client_data())
    assert response.status_code == 302
    assert response["Location"] == reverse("contracts:client-list")
    client_pa.refresh_from_db()
    assert client_pa.name == "Regione Siciliana - Assessorato Salute"
    assert [r.last_name for r in client_pa.referents.all()] == ["Russo"]
    assert AuditEvent.objects.filter(kind=AuditEvent.Kind.CLIENT_UPDATED).count() == 1


def test_client_edit_page_refuses_a_bad_vat_number_and_writes_nothing(client, manager, client_pa):
    client.force_login(manager)
    response = client.post(
        reverse("contracts:client-edit", args=[client_pa.id]), client_data(vat_number="123")
    )
    assert response.status_code == 200
    assert "vat_number" in response.context["form"].errors
    assert "partita IVA" in response.content.decode()
    client_pa.refresh_from_db()
    assert (client_pa.name, client_pa.vat_number) == ("Regione Siciliana", "02711070827")
    assert not client_pa.referents.exists()
    assert not AuditEvent.objects.filter(kind=AuditEvent.Kind.CLIENT_UPDATED).exists()


def test_an_operator_may_not_edit_a_client(client, operator, client_pa):
    client.force_login(operator)
    url = reverse("contracts:client-edit", args=[client_pa.id])
    assert client.get(url).status_code == 403
    assert client.post(url, client_data()).status_code == 403
    client_pa.refresh_from_db()
    assert client_pa.name == "Regione Siciliana"


# --- Calendar -------------------------------------------------------------------------------


def test_calendar_edit_page_shows_the_opening_hours(client, manager, office_calendar):
    client.force_login(manager)
    response = client.get(reverse("contracts:calendar-edit", args=[office_calendar.id]))
    assert response.status_code == 200
    assert response.context["form"]["day_0"].value() == "08:30-13:00, 14:00-17:30"
    assert "Palermo uffici" in response.content.decode()


def test_calendar_edit_page_saves_the_new_hours(client, manager, office_calendar):
    client.force_login(manager)
    response = client.post(
        reverse("contracts:calendar-edit", args=[office_calendar.id]), calendar_data()
    )
    assert response.status_code == 302, response.content.decode()
    assert response["Location"] == reverse("contracts:calendar-list")
    office_calendar.refresh_from_db()
    assert office_calendar.name == "Palermo uffici e sabato"
    assert office_calendar.intervals.count() == 11
    assert office_calendar.intervals.filter(weekday=5).count() == 1
    assert [c.day for c in office_calendar.closures.all()] == [date(2026, 12, 24)]


def test_calendar_edit_page_refuses_bad_hours_and_writes_nothing(client, manager, office_calendar):
    client.force_login(manager)
    response = client.post(
        reverse("contracts:calendar-edit", args=[office_calendar.id]),
        calendar_data(day_1="nine to five"),
    )
    assert response.status_code == 200
    assert "day_1" in response.context["form"].errors
    assert "Scrivi le aperture come 08:30-13:00." in response.content.decode()
    office_calendar.refresh_from_db()
    assert office_calendar.name == "Palermo uffici"
    assert office_calendar.intervals.count() == 10
    assert not office_calendar.closures.exists()


def test_an_operator_may_not_edit_a_calendar(client, operator, office_calendar):
    client.force_login(operator)
    url = reverse("contracts:calendar-edit", args=[office_calendar.id])
    assert client.get(url).status_code == 403
    assert client.post(url, calendar_data()).status_code == 403
    assert office_calendar.intervals.count() == 10


# --- Contract -------------------------------------------------------------------------------


def test_contract_edit_page_shows_the_contract_as_it_is(client, manager, contract):
    client.force_login(manager)
    response = client.get(reverse("contracts:contract-edit", args=[contract.code]))
    assert response.status_code == 200
    form = response.context["form"]
    assert (form["status"].value(), form["valid_to"].value()) == ("active", date(2028, 12, 31))
    assert contract.code in response.content.decode()


def test_contract_edit_page_saves_and_goes_back_to_the_contract(client, manager, contract):
    other_calendar = BusinessCalendarFactory(name="Milano uffici", province="MI")
    client.force_login(manager)
    response = client.post(
        reverse("contracts:contract-edit", args=[contract.code]), contract_data(other_calendar)
    )
    assert response.status_code == 302, response.content.decode()
    assert response["Location"] == reverse("contracts:contract-detail", args=[contract.code])
    contract.refresh_from_db()
    assert contract.calendar == other_calendar
    assert sorted(contract.services) == ["data", "mobile"]
    assert (contract.valid_to, contract.status) == (date(2029, 6, 30), "suspended")
    assert contract.retention_months == 36


def test_contract_edit_page_refuses_an_end_before_the_version_in_force_and_writes_nothing(
    client, manager, contract, office_calendar
):
    client.force_login(manager)
    response = client.post(
        reverse("contracts:contract-edit", args=[contract.code]),
        contract_data(office_calendar, valid_to="2025-06-30"),
    )
    assert response.status_code == 200
    assert "valid_to" in response.context["form"].errors
    contract.refresh_from_db()
    assert (contract.valid_to, contract.status) == (date(2028, 12, 31), "active")
    assert contract.services == ["mobile"]
    assert not AuditEvent.objects.filter(kind=AuditEvent.Kind.CONTRACT_UPDATED).exists()


def test_an_operator_may_not_edit_a_contract(client, operator, contract, office_calendar):
    client.force_login(operator)
    url = reverse("contracts:contract-edit", args=[contract.code])
    assert client.get(url).status_code == 403
    assert client.post(url, contract_data(office_calendar)).status_code == 403
    contract.refresh_from_db()
    assert contract.status == "active"
