"""Reading an end-user list from CSV or XLSX into plain rows, whatever its headings' language."""

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass

from django.utils.translation import gettext as _

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


class UnreadableFile(ValueError):
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


def read_rows(data: bytes, filename: str) -> Iterator[Row]:
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
    mapping = _map_heading(heading)
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


def _map_heading(heading) -> dict[str, int]:
    names = [str(cell or "").strip().lower() for cell in heading]
    mapping = {}
    for column, aliases in COLUMNS.items():
        for index, name in enumerate(names):
            if name in aliases:
                mapping[column] = index
                break
    missing = [column for column in REQUIRED if column not in mapping]
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
    first_line = text.split("\n", 1)[0]
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    return iter(csv.reader(io.StringIO(text), delimiter=delimiter))


def _xlsx_records(data: bytes):
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds for a damaged or fake file
        raise UnreadableFile(_("This is not a readable XLSX file.")) from None
    return workbook.active.iter_rows(values_only=True)
