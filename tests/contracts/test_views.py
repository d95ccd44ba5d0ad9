"""Manager pages and the lookup page: what users see and the errors they get."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from contracts.models import BusinessCalendar, Client, Contract
from tests.factories import EndUserFactory

pytestmark = pytest.mark.django_db


def test_operator_reads_contract_pages_but_not_configuration(client, operator, contract):
    client.force_login(operator)
    assert client.get(reverse("contracts:contract-list")).status_code == 200
    page = client.get(reverse("contracts:contract-detail", args=[contract.code]))
    assert page.status_code == 200
    assert "Chi è abilitato" in page.content.decode()
    for name in (
        "contracts:client-list",
        "contracts:calendar-list",
        "contracts:contract-create",
        "contracts:end-user-import",
    ):
        assert client.get(reverse(name)).status_code == 403, name


def test_contract_list_and_detail_take_few_queries(
    client, operator, contract, django_assert_max_num_queries
):
    client.force_login(operator)
    with django_assert_max_num_queries(12):
        client.get(reverse("contracts:contract-list"))
    with django_assert_max_num_queries(16):
        client.get(reverse("contracts:contract-detail", args=[contract.code]))


def test_due_time_preview_on_the_contract_page(client, operator, contract):
    client.force_login(operator)
    page = client.get(
        reverse("contracts:contract-detail", args=[contract.code]),
        {"priority": "P2", "opened_at": "2026-12-04T17:30"},
    )
    assert "lun 07/12/2026 09:30" in page.content.decode().lower()


def test_manager_creates_a_client_and_sees_field_errors_in_italian(client, manager):
    client.force_login(manager)
    bad = client.post(
        reverse("contracts:client-create"),
        {"name": "Comune di Catania", "segment": "PA", "vat_number": "123", "province": "CT"},
    )
    assert bad.status_code == 200
    assert "partita IVA" in bad.content.decode()
    assert not Client.objects.exists()
    good = client.post(
        reverse("contracts:client-create"),
        {
            "name": "Comune di Catania",
            "segment": "PA",
            "vat_number": "00137020871",
            "province": "CT",
        },
    )
    assert good.status_code == 302
    assert Client.objects.get().vat_number == "00137020871"


def test_manager_creates_a_calendar_from_typed_hours(client, manager):
    client.force_login(manager)
    response = client.post(
        reverse("contracts:calendar-create"),
        {
            "name": "Catania uffici",
            "province": "CT",
            "timezone": "Europe/Rome",
            "day_0": "08:30-13:00, 14:00-17:30",
            "day_4": "08.30-13.00",
            "closures": "2026-12-24 Vigilia\n2026-12-31 San Silvestro",
        },
    )
    assert response.status_code == 302, response.content.decode()
    calendar = BusinessCalendar.objects.get()
    assert calendar.intervals.count() == 3
    assert calendar.closures.count() == 2


def test_calendar_page_refuses_badly_written_hours_and_dates(client, manager):
    client.force_login(manager)
    page = client.post(
        reverse("contracts:calendar-create"),
        {
            "name": "Errato",
            "timezone": "Europe/Rome",
            "day_1": "nine to five",
            "closures": "24/12/2026 Vigilia",
        },
    ).content.decode()
    assert "Scrivi le aperture come 08:30-13:00." in page
    assert "AAAA-MM-GG" in page
    assert not BusinessCalendar.objects.exists()


def test_calendar_page_refuses_overlapping_hours(client, manager):
    client.force_login(manager)
    page = client.post(
        reverse("contracts:calendar-create"),
        {"name": "Errato", "timezone": "Europe/Rome", "day_0": "08:30-13:00, 12:00-15:00"},
    ).content.decode()
    assert "12:00–15:00 si sovrappone" in page
    assert not BusinessCalendar.objects.exists()


def test_manager_creates_a_contract_with_targets_and_categories(
    client, manager, client_pa, office_calendar
):
    client.force_login(manager)
    response = client.post(
        reverse("contracts:contract-create"),
        {
            "code": "rsic-fix-2026",
            "client": client_pa.id,
            "calendar": office_calendar.id,
            "services": ["fixed", "data"],
            "valid_from": "2026-01-01",
            "at_risk_share": "0.25",
            "P1_first_response": "30",
            "P1_resolution": "240",
            "P3_first_response": "120",
            "P3_resolution": "1440",
            "categories": "guasto | Guasto linea fissa | P1 | Sede: …\\nDa quando: …",
            "card_markdown": "## Chi è abilitato\n- Referenti",
            "entitlements": "linee: 40",
            "handoff_units": "assurance | Assurance rete | a@b.it",
        },
    )
    assert response.status_code == 302, response.content.decode()
    version = Contract.objects.get(code="RSIC-FIX-2026").versions.get()
    assert version.categories.get().template == "Sede: …\nDa quando: …"
    assert version.entitlements == {"linee": 40}
    assert sorted(version.sla_targets.values_list("priority", flat=True)) == ["P1", "P3"]


def test_contract_form_reports_a_target_that_is_not_positive(
    client, manager, client_pa, office_calendar
):
    client.force_login(manager)
    page = client.post(
        reverse("contracts:contract-create"),
        {
            "code": "X-1",
            "client": client_pa.id,
            "calendar": office_calendar.id,
            "services": ["mobile"],
            "valid_from": "2026-01-01",
            "at_risk_share": "0.2",
            "P1_first_response": "0",
            "P1_resolution": "60",
        },
    ).content.decode()
    assert "positiv" in page
    assert not Contract.objects.exists()


def test_amendment_page_prefills_the_terms_in_force(client, manager, contract):
    client.force_login(manager)
    page = client.get(reverse("contracts:contract-amend", args=[contract.code])).content.decode()
    assert "sim-lost | SIM smarrita o rubata | P2" in page
    response = client.post(
        reverse("contracts:contract-amend", args=[contract.code]),
        {
            "effective_from": "2027-01-01",
            "at_risk_share": "0.2",
            "P2_first_response": "45",
            "P2_resolution": "600",
            "change_summary": "Solo P2",
        },
    )
    assert response.status_code == 302
    assert contract.versions.count() == 2


def test_lookup_page_finds_the_caller_by_any_spelling_of_the_number(client, operator, contract):
    EndUserFactory(
        client=contract.client, first_name="Rosalia", last_name="Amato", phone="+393471234567"
    )
    client.force_login(operator)
    page = client.post(reverse("contracts:lookup"), {"query": "347 123 4567"}).content.decode()
    assert "Rosalia Amato" in page
    assert "+39 347 123 4567" in page
    assert contract.code in page


def test_lookup_page_says_when_nobody_matches(client, operator):
    client.force_login(operator)
    page = client.post(reverse("contracts:lookup"), {"query": "333 000 0000"}).content.decode()
    assert "Nessun utente trovato" in page


def test_lookup_panel_partial_is_served_for_htmx(client, operator, contract):
    EndUserFactory(client=contract.client, employee_code="MAT42")
    client.force_login(operator)
    html = client.post(reverse("contracts:lookup-panel"), {"query": "MAT42"}).content.decode()
    assert html.startswith('<div id="caller-panel"')
    assert contract.code in html


def test_a_manager_may_not_use_the_lookup_page_or_panel(client, manager, contract):
    EndUserFactory(client=contract.client, last_name="Amato", phone="+393471234567")
    client.force_login(manager)
    assert client.get(reverse("contracts:lookup")).status_code == 403
    page = client.post(reverse("contracts:lookup"), {"query": "347 123 4567"})
    assert page.status_code == 403
    assert "Amato" not in page.content.decode()
    panel = client.post(reverse("contracts:lookup-panel"), {"query": "347 123 4567"})
    assert panel.status_code == 403


def test_the_lookup_is_in_the_navigation_only_of_who_answers_callers(
    client, operator, backoffice_user, manager
):
    def labels(user):
        client.force_login(user)
        return [str(item["label"]) for item in client.get(reverse("home")).context["nav_items"]]

    assert "Ricerca chiamante" in labels(operator)
    assert "Ricerca chiamante" in labels(backoffice_user)
    assert "Ricerca chiamante" not in labels(manager)


def test_import_page_checks_then_imports(client, manager, client_pa):
    client.force_login(manager)
    csv = b"nome;cognome;telefono\nAnna;Bruno;347 111 2222\nLuca;Neri;boh\n"

    def post(**extra):
        return client.post(
            reverse("contracts:end-user-import"),
            {
                "client": client_pa.id,
                "mode": "valid",
                "file": SimpleUploadedFile("u.csv", csv),
                **extra,
            },
        ).content.decode()

    checked = post(check="1")
    assert "non è stato scritto nulla" in checked
    assert client_pa.end_users.count() == 0
    post(confirm="1")
    assert client_pa.end_users.count() == 1


def test_back_office_imports_only_into_its_clients_directories(client, backoffice_user, client_pa):
    client.force_login(backoffice_user)
    url = reverse("contracts:end-user-import")
    csv = b"nome;cognome;telefono\nAnna;Bruno;347 111 2222\n"
    form = {"client": client_pa.id, "mode": "all", "confirm": "1"}

    assert f'value="{client_pa.id}"' not in client.get(url).content.decode()
    refused = client.post(url, {**form, "file": SimpleUploadedFile("u.csv", csv)})
    assert refused.status_code == 200
    assert 'aria-invalid="true"' in refused.content.decode()
    assert client_pa.end_users.count() == 0

    client_pa.account_team.add(backoffice_user)
    client.post(url, {**form, "file": SimpleUploadedFile("u.csv", csv)})
    assert client_pa.end_users.count() == 1
