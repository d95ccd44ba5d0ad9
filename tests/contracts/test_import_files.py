"""The end-user import against files and rows nothing downstream can take (issue #26 point 6):
the dry run and the import run one validation, so what the dry run calls valid is written;
what the parser cannot read is a file error naming the line; a file over the cap is refused
before it is read. Never a 500, and nothing half-written."""

import csv
import io
import zipfile
from unittest import mock

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import Workbook

from contracts import services
from contracts.imports import read_rows
from contracts.models import EndUser

pytestmark = pytest.mark.django_db

HEADING = "nome,cognome,telefono,matricola\n"


def upload(data: bytes, name: str = "utenti.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="application/octet-stream")


def api_import(api, client_id, data: bytes, name="utenti.csv", **options):
    return api.post(
        "/api/v1/end-users/import/",
        {
            "client": client_id,
            "file": upload(data, name),
            "dry_run": str(options.get("dry_run", False)).lower(),
            "all_or_nothing": str(options.get("all_or_nothing", True)).lower(),
        },
        format="multipart",
    )


def xlsx(rows: list[list]) -> bytes:
    book = Workbook()
    for row in rows:
        book.active.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def rewritten(data: bytes, part: str, change) -> bytes:
    """The XLSX `data` with one part's bytes passed through `change`."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            content = source.read(info.filename)
            target.writestr(info, change(content) if info.filename == part else content)
    return out.getvalue()


# --- One validation for the dry run and the import ------------------------------------------

UNSTORABLE_ROWS = [
    pytest.param("Anna\x00,Bruno,347 111 2222,A1\n", "first_name", id="nul-in-a-name"),
    pytest.param("Anna,Bruno,347 111 2222,A\x001\n", "employee_code", id="nul-in-a-code"),
    pytest.param("Anna,Bruno,347\x00111 2222,A1\n", "phone", id="nul-in-a-phone"),
    pytest.param("A" * 101 + ",Bruno,347 111 2222,A1\n", "first_name", id="name-past-its-column"),
    pytest.param("Anna,Bruno,347 111 2222," + "9" * 41 + "\n", "employee_code", id="long-code"),
]


@pytest.mark.parametrize(("row", "field"), UNSTORABLE_ROWS)
def test_a_row_the_database_cannot_store_is_a_row_error_in_the_dry_run_and_the_import(
    manager_api, client_pa, row, field
):
    """The dry run called a row with NUL valid, then the import failed on PostgreSQL with a
    500: both now run `checked_end_user`, which refuses it by line and field."""
    data = (HEADING + "Luca,Conti,348 222 3333,A2\n" + row).encode()
    dry = api_import(manager_api, client_pa.id, data, dry_run=True)
    assert dry.status_code == 200, dry.json()
    assert (dry.json()["valid"], dry.json()["errors"][0]["line"]) == (1, 3)
    assert dry.json()["errors"][0]["field"] == field
    real = api_import(manager_api, client_pa.id, data, all_or_nothing=True)
    assert real.status_code == 200, real.json()
    assert real.json()["errors"] == dry.json()["errors"]
    assert not EndUser.objects.exists()  # all or nothing: nothing
    valid_only = api_import(manager_api, client_pa.id, data, all_or_nothing=False)
    assert valid_only.status_code == 201, valid_only.json()
    assert list(EndUser.objects.values_list("employee_code", flat=True)) == ["A2"]


def test_what_the_dry_run_calls_valid_the_import_writes(manager, client_pa):
    text = HEADING + "Anna,Bruno,347 111 2222,A1\nLia,Neri\x00,,A2\nPia,Riva,,A3\n"
    parsed = list(read_rows(text.encode(), "utenti.csv"))
    dry = services.import_end_users(
        actor=manager, client=client_pa, rows=parsed, dry_run=True, all_or_nothing=False
    )
    real = services.import_end_users(
        actor=manager, client=client_pa, rows=parsed, dry_run=False, all_or_nothing=False
    )
    assert dry.valid == real.created == EndUser.objects.count() == 2
    assert dry.errors == real.errors


def test_an_xlsx_row_past_the_columns_lengths_is_a_row_error(manager_api, client_pa):
    data = xlsx([["Nome", "Cognome", "Matricola"], ["A" * 101, "Bruno", "A1"]])
    response = api_import(manager_api, client_pa.id, data, name="utenti.xlsx")
    assert response.status_code == 200, response.json()
    assert [e["field"] for e in response.json()["errors"]] == ["first_name"]
    assert not EndUser.objects.exists()


# --- What the parser cannot read ------------------------------------------------------------


def test_cr_only_line_endings_are_read_as_lines():
    data = b"nome;cognome;matricola\rAnna;Bruno;A1\rLuca;Conti;A2\r"
    rows = list(read_rows(data, "utenti.csv"))
    assert [(r.line, r.values["first_name"], r.values["employee_code"]) for r in rows] == [
        (2, "Anna", "A1"),
        (3, "Luca", "A2"),
    ]


def test_a_field_over_the_csv_field_limit_is_a_file_error_naming_its_line(
    manager_api, client, manager, client_pa
):
    data = HEADING + "Anna,Bruno,,A1\nLuca," + "x" * (csv.field_size_limit() + 1) + ",,A2\n"
    response = api_import(manager_api, client_pa.id, data.encode())
    assert response.status_code == 400
    message = response.json()["fields"]["file"][0]
    assert "3" in message
    assert "131.072" in message
    assert not EndUser.objects.exists()
    client.force_login(manager)
    page = client.post(
        reverse("contracts:end-user-import"),
        {"client": client_pa.id, "file": upload(data.encode()), "mode": "all"},
    )
    assert page.status_code == 200
    assert "131.072" in page.context["form"].errors["file"][0]


def test_an_xlsx_declaring_a_dtd_is_refused(manager_api, client_pa):
    data = rewritten(
        xlsx([["Nome", "Cognome"], ["Anna", "Bruno"]]),
        "xl/worksheets/sheet1.xml",
        lambda xml: (
            b'<?xml version="1.0"?>\n'
            b'<!DOCTYPE worksheet [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>\n'
            + xml.replace(b"<t>Anna</t>", b"<t>&b;</t>")
        ),
    )
    response = api_import(manager_api, client_pa.id, data, name="utenti.xlsx")
    assert response.status_code == 400
    assert "DTD" in response.json()["fields"]["file"][0]
    assert not EndUser.objects.exists()


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(lambda xml: xml[: len(xml) // 2], id="sheet-cut-in-half"),
        pytest.param(lambda xml: xml.replace(b"<row", b"<row <<", 1), id="broken-markup"),
        pytest.param(lambda xml: b"\xff\xfe" + xml, id="garbage-before-the-prolog"),
    ],
)
def test_a_damaged_xlsx_is_a_file_error_however_far_in_the_damage(manager_api, client_pa, damage):
    data = rewritten(
        xlsx([["Nome", "Cognome"], *[["Anna", "Bruno"]] * 50]), "xl/worksheets/sheet1.xml", damage
    )
    response = api_import(manager_api, client_pa.id, data, name="utenti.xlsx")
    assert response.status_code == 400, response.content[:300]
    assert response.json()["fields"]["file"]
    assert not EndUser.objects.exists()


def test_an_xlsx_that_unpacks_to_too_much_is_refused(manager_api, client_pa, monkeypatch):
    monkeypatch.setattr("contracts.imports.MAX_UNPACKED_BYTES", 1000)
    data = xlsx([["Nome", "Cognome"], *[["Anna", "Bruno"]] * 50])
    response = api_import(manager_api, client_pa.id, data, name="utenti.xlsx")
    assert response.status_code == 400
    assert response.json()["fields"]["file"]


# --- The size cap ---------------------------------------------------------------------------


def test_a_file_over_the_cap_is_refused_before_it_is_read(
    manager_api, client, manager, client_pa, settings
):
    settings.MAX_IMPORT_BYTES = 1024 * 1024
    data = (HEADING + "Anna,Bruno,,A1\n" * 80_000).encode()  # about 1.2 MB
    with mock.patch("contracts.imports.read_rows", side_effect=AssertionError("read")):
        response = api_import(manager_api, client_pa.id, data)
        assert response.status_code == 413
        assert response.json()["code"] == "file_too_large"
        assert "1 MB" in response.json()["fields"]["file"][0]
        client.force_login(manager)
        page = client.post(
            reverse("contracts:end-user-import"),
            {"client": client_pa.id, "file": upload(data), "mode": "all"},
        )
    assert page.status_code == 200
    assert "1 MB" in page.context["form"].errors["file"][0]
    assert not EndUser.objects.exists()
