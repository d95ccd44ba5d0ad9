"""How a report's rows become CSV (streamed), XLSX (openpyxl write-only) and JSON.

One place decides how a value becomes a cell, so CSV and XLSX agree:

- text that a spreadsheet would read as a formula (it begins with `=`, `+`, `-`, `@`, a tab
  or a carriage return: OWASP's list, ASVS 5 §1.2.10) gets a leading apostrophe, and in XLSX
  every text cell is a string cell, never a formula;
- phone numbers are written so that they never begin with one of those characters, and so
  need no apostrophe (which Excel shows in a CSV): Italian numbers in the national format
  (`347 123 4567`, as people here say them), others with the international prefix dialled
  from Italy (`0044 20 7946 0958`). Anything else still goes through the apostrophe rule;
- numbers and dates stay typed (a negative number is a number, not text);
- CSV is UTF-8 with a BOM (Excel reads the accents right). The Italian dialect separates with
  `;` and writes decimals with a comma (what Italian Excel opens in columns): the default for
  a reader in Italian; the comma dialect for anyone else, each the other's option.

Pure formatting: no model, no job (those are `reports.exports`'), so report definitions
import it without a circle.
"""

import csv
import json
import re
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import partial
from pathlib import Path

from django.core.serializers.json import DjangoJSONEncoder
from django.http import FileResponse, StreamingHttpResponse
from django.utils import timezone
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.utils import get_column_letter

FORMATS = ("json", "csv", "xlsx")
FILE_FORMATS = ("csv", "xlsx")
BOM = "\ufeff"
DANGEROUS_FIRST = ("=", "+", "-", "@", "\t", "\r")
# What XML 1.0 (so XLSX) cannot hold: control characters other than tab, newline, return.
XML_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
XLSX_MAX_TEXT = 32_767  # Excel's limit for one cell
XLSX_DATETIME_FORMAT = "dd/mm/yyyy hh:mm"
XLSX_DATE_FORMAT = "dd/mm/yyyy"
CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "json": "application/json",
}


class ColumnType:
    TEXT = "text"
    PHONE = "phone"  # text, written the spreadsheet-safe way (`phone_cell`)
    INT = "int"
    DECIMAL = "decimal"
    DATE = "date"
    DATETIME = "datetime"


@dataclass(frozen=True)
class Column:
    key: str
    label: object  # a lazy translation
    type: str = ColumnType.TEXT


@dataclass(frozen=True)
class CsvDialect:
    delimiter: str = ","
    decimal: str = "."


COMMA = CsvDialect()
ITALIAN = CsvDialect(delimiter=";", decimal=",")
SEPARATORS = ("semicolon", "comma")  # the `sep` option: the Italian dialect, the comma one


def default_sep(language: str | None) -> str:
    """The CSV dialect a reader gets unless they choose: Italian for Italian."""
    return "semicolon" if (language or "").lower().startswith("it") else "comma"


def dialect_for(sep: str | None, language: str | None = None) -> CsvDialect:
    """`sep` as chosen ("semicolon" or "comma"), else the default for `language`."""
    if sep not in SEPARATORS:
        sep = default_sep(language)
    return ITALIAN if sep == "semicolon" else COMMA


def neutralise(text: str) -> str:
    """A text a spreadsheet would run as a formula gets a leading apostrophe."""
    if text and text.startswith(DANGEROUS_FIRST):
        return "'" + text
    return text


# A phone number as the portal shows it, masked or not: `+39 347 123 4567`, `+39 347 *** **67`,
# `+442079460958`. Only digits, spaces and the mask's stars after the plus.
_PHONE = re.compile(r"\+\d[\d* ]*")


def phone_cell(value) -> str:
    """A phone number that begins with neither `+` nor an apostrophe: `+39` dropped (the
    national format), another country's `+` written `00` (how it is dialled from Italy).
    A text that is not a phone number is neutralised like any other."""
    text = str(value).strip()
    if not _PHONE.fullmatch(text):
        return neutralise(text)
    if text.startswith("+39"):
        national = text[3:].strip()
        return national or "0039"  # a national number begins with a digit or a star
    return "00" + text[1:]


def local(value: datetime) -> datetime:
    """Aware instants are shown in Rome's time, as the pages show them."""
    return timezone.localtime(value) if timezone.is_aware(value) else value


def _number_text(value, dialect: CsvDialect) -> str:
    if isinstance(value, float | Decimal):
        text = format(value, "f") if isinstance(value, Decimal) else repr(float(value))
        if text.endswith(".0"):
            text = text[:-2]
        return text.replace(".", dialect.decimal)
    return str(value)


def csv_cell(value, column: Column, dialect: CsvDialect = COMMA) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if column.type in (ColumnType.INT, ColumnType.DECIMAL) and isinstance(
        value, int | float | Decimal
    ):
        return _number_text(value, dialect)
    if isinstance(value, datetime):
        return local(value).isoformat(" ", "seconds")[:19]  # to the second, no offset
    if isinstance(value, date):
        return value.isoformat()
    if column.type == ColumnType.PHONE:
        return phone_cell(value)
    return neutralise(str(value))


def csv_row_formatter(columns: list[Column], dialect: CsvDialect = COMMA):
    """`csv_cell` for a whole row, set up once per export: `format_row(row) -> list[str]`.
    Text (every type's text takes the same path in `csv_cell`), empty cells and aware
    instants take a short path inline; anything else goes through `csv_cell`. A million-row
    export would otherwise walk every type test for every cell."""
    keys = [c.key for c in columns]
    cells = [_csv_cell_of(c, dialect) for c in columns]
    # Text takes the short path, except in the columns that format their own text.
    plain = [c.type != ColumnType.PHONE for c in columns]

    def format_row(row: dict) -> list[str]:
        return [
            ("'" + value if value.startswith(DANGEROUS_FIRST) else value)
            if value.__class__ is str and is_plain
            else ("" if value is None else cell(value))
            for value, cell, is_plain in zip(map(row.get, keys), cells, plain, strict=True)
        ]

    return format_row


def _csv_cell_of(column: Column, dialect: CsvDialect) -> Callable[[object], str]:
    if column.type == ColumnType.DATETIME:
        # The zone read once per export: `timezone.localtime` looks it up per value (a
        # context-local read), two thirds of a date's cost over a million rows.
        zone = timezone.get_current_timezone()

        def datetime_cell(value) -> str:
            if value.__class__ is datetime and value.tzinfo is not None:
                return value.astimezone(zone).isoformat(" ", "seconds")[:19]
            return csv_cell(value, column, dialect)

        return datetime_cell
    return partial(csv_cell, column=column, dialect=dialect)


def xlsx_text(value) -> str:
    text = XML_ILLEGAL.sub("\ufffd", str(value))
    return neutralise(text)[:XLSX_MAX_TEXT]


def xlsx_cell(sheet, value, column: Column) -> WriteOnlyCell:
    if value is None:
        return WriteOnlyCell(sheet, value=None)
    if isinstance(value, bool):
        return WriteOnlyCell(sheet, value=value)
    if column.type in (ColumnType.INT, ColumnType.DECIMAL) and isinstance(
        value, int | float | Decimal
    ):
        cell = WriteOnlyCell(sheet, value=float(value) if isinstance(value, Decimal) else value)
        if column.type == ColumnType.DECIMAL:
            cell.number_format = "0.0#"
        return cell
    if isinstance(value, datetime):
        cell = WriteOnlyCell(sheet, value=local(value).replace(tzinfo=None))
        cell.number_format = XLSX_DATETIME_FORMAT
        return cell
    if isinstance(value, date):
        cell = WriteOnlyCell(sheet, value=value)
        cell.number_format = XLSX_DATE_FORMAT
        return cell
    cell = WriteOnlyCell(sheet)
    if column.type == ColumnType.PHONE:
        cell.value = phone_cell(XML_ILLEGAL.sub("\ufffd", str(value)))[:XLSX_MAX_TEXT]
    else:
        cell.value = xlsx_text(value)
    cell.data_type = "s"  # text is text: never a formula, whatever it begins with
    return cell


class _Echo:
    """A file-like object whose write returns what it was given (for streaming csv)."""

    def write(self, value: str) -> str:
        return value


def _csv_header(columns: list[Column]) -> list[str]:
    return [neutralise(str(c.label)) for c in columns]


def csv_lines(
    columns: list[Column], rows: Iterable[dict], dialect: CsvDialect = COMMA
) -> Iterator[str]:
    """The CSV text, a line at a time: BOM, header, one line per row."""
    writer = csv.writer(_Echo(), delimiter=dialect.delimiter, lineterminator="\r\n")
    yield BOM + writer.writerow(_csv_header(columns))
    format_row = csv_row_formatter(columns, dialect)
    for row in rows:
        yield writer.writerow(format_row(row))


def write_xlsx(
    target, columns: list[Column], rows: Iterable[dict], *, title: str = "Report", progress=None
) -> int:
    """Write an XLSX workbook (write-only mode: constant memory) to a path or a file object.
    `progress(n)` is called every 1,000 rows. Returns the number of rows written."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=re.sub(r"[\[\]:*?/\\]", " ", title)[:31] or "Report")
    for index, column in enumerate(columns, start=1):
        width = 20 if column.type in (ColumnType.DATETIME, ColumnType.TEXT) else 12
        sheet.column_dimensions[get_column_letter(index)].width = width
    header = []
    for column in columns:
        cell = WriteOnlyCell(sheet)
        cell.value = xlsx_text(column.label)
        cell.data_type = "s"
        header.append(cell)
    sheet.append(header)
    count = 0
    for row in rows:
        sheet.append([xlsx_cell(sheet, row.get(c.key), c) for c in columns])
        count += 1
        if progress is not None and count % 1000 == 0:
            progress(count)
    workbook.save(target)
    return count


def write_csv(
    target: Path, columns: list[Column], rows: Iterable[dict], *, dialect=COMMA, progress=None
) -> int:
    """Write the CSV to a file (what `csv_lines` streams, straight into the file)."""
    count = 0
    with open(target, "w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, delimiter=dialect.delimiter, lineterminator="\r\n")
        out.write(BOM)
        writer.writerow(_csv_header(columns))
        format_row = csv_row_formatter(columns, dialect)
        for row in rows:
            writer.writerow(format_row(row))
            count += 1
            if progress is not None and count % 1000 == 0:
                progress(count)
    return count


def json_rows(columns: list[Column], rows: Iterable[dict]) -> list[dict]:
    """Plain JSON values: instants ISO 8601 with offset, decimals as numbers."""
    out = []
    for row in rows:
        item = {}
        for column in columns:
            value = row.get(column.key)
            if isinstance(value, Decimal):
                value = float(value)
            elif isinstance(value, datetime):
                value = local(value).isoformat()
            elif isinstance(value, date):
                value = value.isoformat()
            item[column.key] = value
        out.append(item)
    return out


def filename(name: str, fmt: str, now: datetime | None = None) -> str:
    stamp = local(now or timezone.now()).strftime("%Y%m%d-%H%M")
    return f"presidio-{name}-{stamp}.{fmt}"


def csv_response(
    name: str, columns: list[Column], rows: Iterable[dict], dialect=COMMA
) -> StreamingHttpResponse:
    response = StreamingHttpResponse(
        csv_lines(columns, rows, dialect), content_type=CONTENT_TYPES["csv"]
    )
    response["Content-Disposition"] = f'attachment; filename="{filename(name, "csv")}"'
    return response


def xlsx_response(name: str, title: str, columns: list[Column], rows: Iterable[dict]):
    spool = tempfile.TemporaryFile()  # noqa: SIM115 (FileResponse closes it once sent)
    write_xlsx(spool, columns, rows, title=title)
    spool.seek(0)
    return FileResponse(
        spool,
        as_attachment=True,
        filename=filename(name, "xlsx"),
        content_type=CONTENT_TYPES["xlsx"],
    )


def json_dumps(data) -> str:
    return json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False)
