"""Reading an end-user list from CSV or XLSX into plain rows, whatever its headings' language.

Whatever is wrong with the file itself comes out as `UnreadableFile`, with a message for the
person who sent it: too large (refused before it is read), not UTF-8, a line the CSV reader
cannot take (a field past `csv.field_size_limit()`, a stray quote), an XLSX that is damaged,
declares a DTD or unpacks past a sane size. What is wrong with a row's values is for
`contracts.services.import_end_users`, the same check for the dry run and the import.
"""

import csv
import io
import re
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext as _

from config.uploads import UploadRefused, refuse_if_larger

COLUMNS = {
    "first_name": {"first_name", "nome", "first name"},
    "last_name": {"last_name", "cognome", "last name", "surname"},
    "phone": {"phone", "phones", "telefono", "cellulare", "mobile", "numero"},
    "email": {"email", "e-mail", "mail"},
    "employee_code": {"employee_code", "matricola", "codice_dipendente", "employee code"},
    "codice_fiscale": {"codice_fiscale", "cf", "codice fiscale", "fiscal_code"},
}
REQUIRED = ("first_name", "last_name")
PHONE_SEPARATORS = (";", "|", ",")
MAX_ROWS = 200_000
# An XLSX is a zip: what its parts may add up to once unpacked (a 200,000-row list is far
# less), so a small file cannot unpack into gigabytes.
MAX_UNPACKED_BYTES = 200 * 1024 * 1024
PROLOG_BYTES = 64 * 1024  # a DTD can only sit before an XML part's first element
FIRST_ELEMENT = re.compile(rb"<[A-Za-z_]")


class UnreadableFile(ValueError):
    pass


class FileTooLarge(UnreadableFile):
    pass


@dataclass(frozen=True)
class Row:
    line: int  # as a spreadsheet shows it: the heading is line 1
    values: dict[str, str]

    @property
    def phones(self) -> list[str]:
        text = self.values.get("phone", "")
        for separator in PHONE_SEPARATORS[1:]:
            text = text.replace(separator, PHONE_SEPARATORS[0])
        return [part.strip() for part in text.split(PHONE_SEPARATORS[0]) if part.strip()]


def read_upload(
    upload: UploadedFile,
    *,
    columns: dict[str, set[str]] | None = None,
    required: tuple[str, ...] = REQUIRED,
) -> list[Row]:
    """The rows of an uploaded file, refused before a byte of it is read when it is over
    `settings.MAX_IMPORT_BYTES` (the page and the API alike). `columns` (our name: the
    headings that mean it) and `required` serve other lists than end users' (routing's
    onboarding of people)."""
    try:
        refuse_if_larger(upload, settings.MAX_IMPORT_BYTES)
    except UploadRefused as error:
        raise FileTooLarge(str(error)) from None
    return list(read_rows(upload.read(), upload.name or "", columns=columns, required=required))


def read_rows(
    data: bytes,
    filename: str,
    *,
    columns: dict[str, set[str]] | None = None,
    required: tuple[str, ...] = REQUIRED,
) -> Iterator[Row]:
    """Rows of a .csv (UTF-8, `,` or `;`) or .xlsx file, keyed by our column names."""
    name = filename.lower()
    if name.endswith(".xlsx"):
        records = _xlsx_records(data)
    elif name.endswith((".csv", ".txt")):
        records = _csv_records(data)
    else:
        raise UnreadableFile(_("Upload a .csv or .xlsx file."))
    try:
        heading = next(records)
    except StopIteration:
        raise UnreadableFile(_("The file is empty.")) from None
    mapping = _map_heading(heading, columns, required)
    for offset, record in enumerate(records, start=2):
        if offset > MAX_ROWS + 1:
            raise UnreadableFile(_("At most %(n)s rows per file.") % {"n": MAX_ROWS})
        values = {column: _cell(record, index) for column, index in mapping.items()}
        if any(values.values()):
            yield Row(line=offset, values=values)


def _cell(record, index: int) -> str:
    if index >= len(record) or record[index] is None:
        return ""
    value = record[index]
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # a phone typed as a number in Excel
    return str(value).strip()


def _map_heading(
    heading, columns: dict[str, set[str]] | None, required: tuple[str, ...]
) -> dict[str, int]:
    names = [str(cell or "").strip().lower() for cell in heading]
    mapping = {}
    for column, aliases in (columns or COLUMNS).items():
        for index, name in enumerate(names):
            if name in aliases:
                mapping[column] = index
                break
    missing = [column for column in required if column not in mapping]
    if missing and columns is not None:
        raise UnreadableFile(
            _("Missing columns: %(columns)s. The first row must name the columns.")
            % {"columns": ", ".join(missing)}
        )
    if missing:
        raise UnreadableFile(
            _(
                "Missing columns: %(columns)s. The first row must name the "
                "columns (e.g. nome, cognome, telefono, email, matricola, "
                "codice_fiscale)."
            )
            % {"columns": ", ".join(missing)}
        )
    return mapping


def _csv_records(data: bytes):
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise UnreadableFile(_("The CSV file must be encoded in UTF-8.")) from None
    lines = text.splitlines()
    first_line = lines[0] if lines else ""
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    # newline="": lines may end in CRLF, LF or CR alone (old Mac exports), and a quoted
    # field may hold a line break.
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    return _csv_lines(reader)


def _csv_lines(reader) -> Iterator[list[str]]:
    try:
        yield from reader
    except csv.Error as error:
        line = reader.line_num
        if "field larger than field limit" in str(error):
            raise UnreadableFile(
                _("Line %(line)s has a field longer than %(n)s characters.")
                % {"line": line, "n": f"{csv.field_size_limit():,}".replace(",", ".")}
            ) from None
        raise UnreadableFile(
            _("Line %(line)s cannot be read: check its quotes and separators.") % {"line": line}
        ) from None


def _xlsx_records(data: bytes):
    from openpyxl import load_workbook

    unreadable = UnreadableFile(_("This is not a readable XLSX file."))
    try:
        _refuse_dangerous_xlsx(data)
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        sheet = workbook.active
    except UnreadableFile:
        raise
    except Exception:  # openpyxl raises many kinds for a damaged or fake file
        raise unreadable from None
    if sheet is None or not hasattr(sheet, "iter_rows"):
        raise unreadable
    return _xlsx_lines(sheet.iter_rows(values_only=True), unreadable)


def _xlsx_lines(rows: Iterable, unreadable: UnreadableFile) -> Iterator:
    """The sheet is parsed as it is read: a damage further in is found only there."""
    try:
        yield from rows
    except Exception:
        raise unreadable from None


def _refuse_dangerous_xlsx(data: bytes) -> None:
    """No part may declare a DTD (OOXML never does; entity tricks need one), and all parts
    together may not unpack past MAX_UNPACKED_BYTES."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        parts = archive.infolist()
        if sum(part.file_size for part in parts) > MAX_UNPACKED_BYTES:
            raise UnreadableFile(_("This XLSX file unpacks to too much data."))
        for part in parts:
            if not part.filename.endswith((".xml", ".rels", ".vml")):
                continue
            with archive.open(part) as stream:
                head = stream.read(PROLOG_BYTES)
            element = FIRST_ELEMENT.search(head)
            prolog = head[: element.start()] if element else head
            if b"<!DOCTYPE" in prolog.upper():
                raise UnreadableFile(_("This XLSX file declares a DTD: it is not accepted."))
            if element is None and len(head) == PROLOG_BYTES:
                raise UnreadableFile(_("This is not a readable XLSX file."))
