from datetime import date

import pytest

from contracts import services, signals
from contracts.exceptions import InvalidContractData
from contracts.models import AuditEvent, BusinessCalendar, Client

pytestmark = pytest.mark.django_db

OFFICE = {d: [(510, 780), (840, 1050)] for d in range(5)}


def test_client_is_created_with_normalised_vat_and_an_audit_event(manager):
    client = services.create_client(
        actor=manager,
        name="Ministero dell'Interno",
        segment="PA",
        vat_number="IT 02711070827",
        province="rm",
    )
    assert (client.vat_number, client.province) == ("02711070827", "RM")
    event = AuditEvent.objects.get(kind=AuditEvent.Kind.CLIENT_CREATED)
    assert (event.actor, event.client) == (manager, client)


def test_client_with_bad_vat_province_and_segment_is_refused_field_by_field(manager):
    with pytest.raises(InvalidContractData) as error:
        services.create_client(
            actor=manager, name="X", segment="SMALL", vat_number="02711070828", province="ZZ"
        )
    assert set(error.value.fields) == {"segment", "vat_number", "province"}
    assert "partita IVA" in error.value.fields["vat_number"][0]
    assert not Client.objects.exists()
    assert not AuditEvent.objects.exists()


def test_two_clients_cannot_share_a_vat_number(manager, client_pa):
    with pytest.raises(InvalidContractData) as error:
        services.create_client(
            actor=manager,
            name="Altro",
            segment="TOP",
            vat_number=client_pa.vat_number,
            province="MI",
        )
    assert list(error.value.fields) == ["vat_number"]


def test_calendar_keeps_several_openings_a_day_and_its_closures(manager):
    calendar = services.create_calendar(
        actor=manager,
        name="Palermo uffici",
        province="PA",
        hours=OFFICE,
        closures=[(date(2026, 12, 24), "Vigilia")],
    )
    assert calendar.intervals.count() == 10
    assert calendar.closures.get().reason == "Vigilia"


@pytest.mark.parametrize(
    ("hours", "message"),
    [
        ({0: [(600, 540)]}, "deve finire dopo l'inizio"),
        ({0: [(510, 780), (720, 900)]}, "si sovrappone"),
        ({0: [(510, 1500)]}, "entro la giornata"),
        ({}, "almeno una fascia"),
        ({7: [(510, 780)]}, "sconosciuto"),
    ],
)
def test_calendar_with_impossible_hours_is_refused_and_nothing_saved(manager, hours, message):
    with pytest.raises(InvalidContractData) as error:
        services.create_calendar(actor=manager, name="Errato", hours=hours)
    assert message in " ".join(error.value.fields["hours"])
    assert not BusinessCalendar.objects.exists()


def test_a_24x7_calendar_needs_no_hours(manager):
    calendar = services.create_calendar(actor=manager, name="Sempre aperto", always_open=True)
    assert calendar.always_open
    assert not calendar.intervals.exists()


def test_calendar_change_is_logged_with_before_and_after_and_announced_after_commit(
    manager, office_calendar, django_capture_on_commit_callbacks, now
):
    received = []
    signals.calendar_changed.connect(
        lambda sender, **kw: received.append(kw), weak=False, dispatch_uid="test-listener"
    )
    try:
        with django_capture_on_commit_callbacks(execute=True):
            services.update_calendar(
                actor=manager,
                calendar=office_calendar,
                name=office_calendar.name,
                timezone_name="Europe/Rome",
                province="PA",
                always_open=False,
                hours=OFFICE,
                closures=[(date(2026, 12, 2), "Chiusura straordinaria")],
                now=now,
            )
    finally:
        signals.calendar_changed.disconnect(dispatch_uid="test-listener")
    event = AuditEvent.objects.get(kind=AuditEvent.Kind.CALENDAR_CHANGED)
    assert event.detail["before"]["closures"] == []
    assert event.detail["after"]["closures"] == [["2026-12-02", "Chiusura straordinaria"]]
    [signal] = received
    assert (signal["calendar_id"], signal["effective_at"]) == (office_calendar.id, now)
    assert signal["previous_state"] == event.detail["before"]


def test_saving_a_calendar_unchanged_logs_nothing(manager, office_calendar):
    services.update_calendar(
        actor=manager,
        calendar=office_calendar,
        name=office_calendar.name,
        timezone_name="Europe/Rome",
        province="PA",
        always_open=False,
        hours=OFFICE,
        closures=[],
    )
    assert not AuditEvent.objects.filter(kind=AuditEvent.Kind.CALENDAR_CHANGED).exists()
