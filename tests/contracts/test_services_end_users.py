import io

import pytest
from openpyxl import Workbook

from contracts import services
from contracts.exceptions import InvalidContractData
from contracts.imports import UnreadableFile, read_rows
from contracts.models import AuditEvent, EndUser, EndUserPhone
from tests.factories import ClientFactory, EndUserFactory

pytestmark = pytest.mark.django_db


def make_end_user(actor, client, **fields):
    data = {"first_name": "Salvatore", "last_name": "Greco", "phones": ["347 123 4567"]}
    data.update(fields)
    return services.create_end_user(actor=actor, client=client, data=services.EndUserData(**data))


@pytest.mark.parametrize(
    "spelling",
    ["347 123 4567", "+39 347-1234567", "0039 3471234567", "(+39) 347.123.4567", "3471234567"],
)
def test_any_common_spelling_of_a_mobile_number_is_stored_as_e164(manager, client_pa, spelling):
    end_user = make_end_user(manager, client_pa, phones=[spelling])
    assert list(end_user.phones.values_list("number", flat=True)) == ["+393471234567"]


def test_an_end_user_may_have_several_numbers_and_a_valid_codice_fiscale(manager, client_pa):
    end_user = make_end_user(
        manager,
        client_pa,
        phones=["347 123 4567", "06 1234 5678"],
        codice_fiscale="rssmra85t10a562s",
        email="M.Rossi@Regione.IT",
    )
    assert end_user.phones.count() == 2
    assert end_user.codice_fiscale == "RSSMRA85T10A562S"
    assert end_user.email == "m.rossi@regione.it"
    event = AuditEvent.objects.get(kind=AuditEvent.Kind.END_USER_CREATED)
    assert "Greco" not in event.summary  # no personal data in the trail's summary


def test_a_number_is_unique_within_a_client_but_not_across_clients(manager, client_pa):
    make_end_user(manager, client_pa)
    with pytest.raises(InvalidContractData) as error:
        make_end_user(manager, client_pa, first_name="Altro", phones=["+39 347 1234567"])
    assert "appartiene già" in error.value.fields["phone"][0]
    make_end_user(manager, ClientFactory(), phones=["347 123 4567"])
    assert EndUserPhone.objects.filter(number="+393471234567").count() == 2


@pytest.mark.parametrize(
    ("fields", "bad_field"),
    [
        ({"phones": ["12"]}, "phone"),
        ({"phones": ["not a number"]}, "phone"),
        ({"codice_fiscale": "RSSMRA85T10A562X"}, "codice_fiscale"),
        ({"email": "not-an-address"}, "email"),
        ({"first_name": "  "}, "first_name"),
    ],
)
def test_bad_end_user_data_is_refused_and_nothing_saved(manager, client_pa, fields, bad_field):
    with pytest.raises(InvalidContractData) as error:
        make_end_user(manager, client_pa, **fields)
    assert bad_field in error.value.fields
    assert not EndUser.objects.exists()


def test_updating_an_end_user_replaces_numbers_and_keeps_uniqueness(manager, client_pa):
    end_user = make_end_user(manager, client_pa)
    other = make_end_user(
        manager, client_pa, first_name="Rosa", phones=["348 000 1111"], employee_code="E2"
    )
    services.update_end_user(
        actor=manager,
        end_user=end_user,
        data=services.EndUserData(
            first_name="Salvatore", last_name="Greco", phones=["349 222 3333"]
        ),
    )
    assert list(end_user.phones.values_list("number", flat=True)) == ["+393492223333"]
    with pytest.raises(InvalidContractData):
        services.update_end_user(
            actor=manager,
            end_user=other,
            data=services.EndUserData(first_name="Rosa", last_name="X", phones=["349 222 3333"]),
        )


CSV = (
    "nome;cognome;telefono;email;matricola;codice_fiscale\n"
    "Anna;Bruno;347 111 2222;anna@x.it;A1;\n"
    "Luca;Conti;not-a-phone;luca@x.it;A2;\n"
    "Marta;Costa;347 111 2222;marta@x.it;A3;RSSMRA85T10A562X\n"
    ";Vitale;348 333 4444;;A4;\n"
    "Paolo;Riva;+39 349 555 6666 | 06 1234 5678;PAOLO@X.IT;A5;RSSMRA85T10A562S\n"
)


def rows(text=CSV, name="utenti.csv"):
    return list(read_rows(text.encode("utf-8-sig"), name))


def test_dry_run_reports_every_bad_row_by_line_field_and_reason_and_writes_nothing(
    manager, client_pa
):
    report = services.import_end_users(
        actor=manager, client=client_pa, rows=rows(), dry_run=True, all_or_nothing=True
    )
    assert (report.rows, report.valid, report.created) == (5, 2, 0)
    found = {(e.line, e.field) for e in report.errors}
    assert found == {(3, "phone"), (4, "phone"), (4, "codice_fiscale"), (5, "first_name")}
    assert not EndUser.objects.exists()


def test_all_or_nothing_import_with_a_bad_row_writes_nothing(manager, client_pa):
    report = services.import_end_users(
        actor=manager, client=client_pa, rows=rows(), dry_run=False, all_or_nothing=True
    )
    assert report.created == 0
    assert not EndUser.objects.exists()
    assert not AuditEvent.objects.filter(kind=AuditEvent.Kind.END_USERS_IMPORTED).exists()


def test_valid_rows_import_writes_the_good_rows_with_all_their_numbers(manager, client_pa):
    report = services.import_end_users(
        actor=manager, client=client_pa, rows=rows(), dry_run=False, all_or_nothing=False
    )
    assert report.created == 2
    paolo = EndUser.objects.get(employee_code="A5")
    assert sorted(paolo.phones.values_list("number", flat=True)) == [
        "+390612345678",
        "+393495556666",
    ]
    assert paolo.email == "paolo@x.it"
    assert AuditEvent.objects.get(kind=AuditEvent.Kind.END_USERS_IMPORTED).detail["created"] == 2


def test_import_refuses_numbers_and_codes_the_client_already_uses(manager, client_pa):
    EndUserFactory(client=client_pa, employee_code="A1", phone="+393481234567")
    text = "nome,cognome,telefono,matricola\nAnna,Bruno,348 123 4567,A9\nLia,Neri,347 000 0000,A1\n"
    report = services.import_end_users(
        actor=manager, client=client_pa, rows=rows(text), dry_run=True, all_or_nothing=True
    )
    assert {(e.line, e.field) for e in report.errors} == {(2, "phone"), (3, "employee_code")}


def test_xlsx_files_import_like_csv_with_numbers_typed_as_numbers(manager, client_pa):
    book = Workbook()
    sheet = book.active
    sheet.append(["Nome", "Cognome", "Cellulare", "Matricola"])
    sheet.append(["Anna", "Bruno", 3471112222, "A1"])
    buffer = io.BytesIO()
    book.save(buffer)
    parsed = list(read_rows(buffer.getvalue(), "utenti.xlsx"))
    report = services.import_end_users(
        actor=manager, client=client_pa, rows=parsed, dry_run=False, all_or_nothing=True
    )
    assert report.created == 1
    assert EndUserPhone.objects.get().number == "+393471112222"


@pytest.mark.parametrize(
    ("data", "name", "message"),
    [
        (b"", "utenti.csv", "vuoto"),
        (b"telefono,email\n1,2\n", "utenti.csv", "Colonne mancanti"),
        (b"\xff\xfe\x00nome", "utenti.csv", "UTF-8"),
        (b"PK not really a workbook", "utenti.xlsx", "XLSX"),
        (b"nome,cognome\n", "utenti.pdf", ".csv o .xlsx"),
    ],
)
def test_unreadable_files_are_refused_with_a_reason(data, name, message):
    with pytest.raises(UnreadableFile, match=message):
        list(read_rows(data, name))
