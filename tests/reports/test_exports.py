"""The export writers: formula injection neutralised in CSV and XLSX alike, numbers and
dates typed, UTF-8 with BOM, the Italian separator; hostile text read back intact."""

import csv
import io
from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from reports.formats import (
    BOM,
    COMMA,
    ITALIAN,
    XML_ILLEGAL,
    Column,
    ColumnType,
    csv_cell,
    csv_lines,
    csv_row_formatter,
    neutralise,
    phone_cell,
    write_csv,
    write_xlsx,
)

ROME = ZoneInfo("Europe/Rome")
TEXT = Column("text", "Text")
NUMBER = Column("number", "Number", ColumnType.INT)
AMOUNT = Column("amount", "Amount", ColumnType.DECIMAL)
WHEN = Column("when", "When", ColumnType.DATETIME)
DAY = Column("day", "Day", ColumnType.DATE)
COLUMNS = [TEXT, NUMBER, AMOUNT, WHEN, DAY]

FORMULAS = st.sampled_from(
    [
        "=1+1",
        '=HYPERLINK("http://evil.example","click")',
        "+39 347 1234567",
        "-2+3",
        "@SUM(A1:A2)",
        "\t=cmd|' /C calc'!A0",
        "\r=1",
        "=cmd|' /C notepad'!'A1'",
        "-",
        "'already quoted",
    ]
)
HOSTILE = st.one_of(
    FORMULAS,
    st.text(max_size=50),  # control characters, mixed scripts, emoji
    st.text(alphabet="=+-@\t\r\n\"';,αβγ中文عربي😀", max_size=30),
    st.builds(lambda s, n: s * n, st.sampled_from(["=A1", "x", "è"]), st.integers(1, 3000)),
)


def read_csv(text: str, delimiter: str = ",") -> list[list[str]]:
    assert text.startswith(BOM)
    return list(csv.reader(io.StringIO(text[len(BOM) :], newline=""), delimiter=delimiter))


def read_xlsx(rows: list[dict], columns=COLUMNS):
    buffer = io.BytesIO()
    write_xlsx(buffer, columns, rows, title="Prova")
    buffer.seek(0)
    return load_workbook(buffer).active


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=1+1", "'=1+1"),
        ("+39 347", "'+39 347"),
        ("-5", "'-5"),
        ("@cmd", "'@cmd"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("Rossi", "Rossi"),
        ("", ""),
        ("a=b", "a=b"),
    ],
)
def test_text_that_a_spreadsheet_would_run_gets_an_apostrophe(value, expected):
    assert neutralise(value) == expected


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(texts=st.lists(HOSTILE, min_size=1, max_size=8), numbers=st.lists(st.integers()))
def test_hostile_text_round_trips_through_csv_neutralised(texts, numbers):
    rows = [
        {"text": t, "number": numbers[i % len(numbers)] if numbers else None}
        for i, t in enumerate(texts)
    ]
    lines = read_csv("".join(csv_lines(COLUMNS, rows)))
    assert lines[0] == ["Text", "Number", "Amount", "When", "Day"]
    assert len(lines) == len(rows) + 1
    for row, line in zip(rows, lines[1:], strict=True):
        assert line[0] == neutralise(row["text"])
        assert not line[0].startswith(("=", "+", "-", "@", "\t", "\r"))
        assert line[1] == ("" if row["number"] is None else str(row["number"]))


@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(texts=st.lists(HOSTILE, min_size=1, max_size=6))
def test_hostile_text_round_trips_through_xlsx_as_strings_never_formulas(texts):
    sheet = read_xlsx([{"text": t} for t in texts], [TEXT])
    cells = list(sheet.iter_rows(min_row=2))
    assert len(cells) == len(texts)
    for text, (cell,) in zip(texts, cells, strict=True):
        assert cell.data_type != "f"
        expected = neutralise(XML_ILLEGAL.sub("\ufffd", text))[:32767]
        # XML keeps a carriage return as a line break: compare the lines, not the break.
        assert (cell.value or "").replace("\r\n", "\n").replace("\r", "\n") == expected.replace(
            "\r\n", "\n"
        ).replace("\r", "\n")
        if expected:
            assert cell.data_type == "s"
            assert not str(cell.value).startswith(("=", "+", "-", "@", "\t"))


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("+39 347 123 4567", "347 123 4567"),
        ("+39 348 *** **43", "348 *** **43"),
        ("+393471234567", "3471234567"),
        ("+44 20 7946 0958", "0044 20 7946 0958"),
        ("+442079460958", "00442079460958"),
        ("02 1234 5678", "02 1234 5678"),
        ("", ""),
        # Not a phone number: the apostrophe rule, whatever the column says.
        ("+39 347=1+1", "'+39 347=1+1"),
        ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
        ('=HYPERLINK("x")', '\'=HYPERLINK("x")'),
        ("-5", "'-5"),
        ("+39 -1", "'+39 -1"),
    ],
)
def test_phone_numbers_need_no_apostrophe_and_nothing_else_escapes_it(value, expected):
    assert phone_cell(value) == expected


PHONE = Column("phone", "Phone", ColumnType.PHONE)


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(texts=st.lists(HOSTILE, min_size=1, max_size=8))
def test_a_phone_column_never_starts_a_cell_with_a_formula_character(texts):
    lines = read_csv("".join(csv_lines([PHONE], [{"phone": t} for t in texts])))
    sheet = read_xlsx([{"phone": t} for t in texts], [PHONE])
    for line, (cell,) in zip(lines[1:], sheet.iter_rows(min_row=2), strict=True):
        assert not line[0].startswith(("=", "+", "-", "@", "\t", "\r"))
        assert cell.data_type != "f"
        assert not str(cell.value or "").startswith(("=", "+", "-", "@", "\t"))


def test_a_phone_reads_the_same_in_csv_and_xlsx_without_an_apostrophe():
    rows = [{"phone": "+39 347 123 4567"}, {"phone": "+44 20 7946 0958"}]
    lines = read_csv("".join(csv_lines([PHONE], rows)))
    sheet = read_xlsx(rows, [PHONE])
    assert [line[0] for line in lines[1:]] == ["347 123 4567", "0044 20 7946 0958"]
    assert [c[0].value for c in sheet.iter_rows(min_row=2)] == [
        "347 123 4567",
        "0044 20 7946 0958",
    ]


def test_formula_text_in_xlsx_is_a_string_cell_with_an_apostrophe():
    sheet = read_xlsx([{"text": "=SUM(1,2)", "number": -5}], [TEXT, NUMBER])
    text, number = next(sheet.iter_rows(min_row=2))
    assert (text.value, text.data_type) == ("'=SUM(1,2)", "s")
    assert (number.value, number.data_type) == (-5, "n")


def test_numbers_and_dates_stay_typed_in_xlsx():
    instant = datetime(2026, 12, 2, 10, 30, tzinfo=ROME)
    sheet = read_xlsx(
        [
            {
                "text": "x",
                "number": -12,
                "amount": Decimal("83.3"),
                "when": instant,
                "day": date(2026, 12, 2),
            }
        ]
    )
    header = [c.value for c in next(sheet.iter_rows(max_row=1))]
    assert header == ["Text", "Number", "Amount", "When", "Day"]
    _text, number, amount, when, day = next(sheet.iter_rows(min_row=2))
    assert (number.value, number.data_type) == (-12, "n")
    assert (amount.value, amount.data_type) == (pytest.approx(83.3), "n")
    assert when.is_date
    # Excel has no time zones: the instant is written as Rome's wall-clock time.
    assert when.value == datetime(2026, 12, 2, 10, 30, tzinfo=ROME).replace(tzinfo=None)
    assert "yy" in when.number_format
    assert day.is_date
    assert day.value.date() == date(2026, 12, 2)


def test_negative_numbers_stay_numbers_in_csv():
    line = read_csv("".join(csv_lines([NUMBER, AMOUNT], [{"number": -5, "amount": -1.5}])))[1]
    assert line == ["-5", "-1.5"]


def test_csv_starts_with_a_bom_and_is_utf8():
    data = "".join(csv_lines([TEXT], [{"text": "Città di Forlì"}])).encode("utf-8")
    assert data.startswith(b"\xef\xbb\xbf")
    assert "Città di Forlì" in data.decode("utf-8-sig")


def test_italian_option_separates_with_semicolons_and_writes_decimal_commas():
    instant = datetime(2026, 12, 2, 10, 30, tzinfo=ROME)
    text = "".join(
        csv_lines(
            COLUMNS,
            [{"text": "a;b", "number": 1200, "amount": Decimal("83.5"), "when": instant}],
            ITALIAN,
        )
    )
    lines = read_csv(text, delimiter=";")
    assert lines[0] == ["Text", "Number", "Amount", "When", "Day"]
    assert lines[1] == ["a;b", "1200", "83,5", "2026-12-02 10:30:00", ""]


def test_csv_instants_are_written_in_rome_time():
    utc = datetime(2026, 7, 1, 8, 0, tzinfo=ZoneInfo("UTC"))
    line = read_csv("".join(csv_lines([WHEN], [{"when": utc}])))[1]
    assert line == ["2026-07-01 10:00:00"]


# --- The row formatter of big exports is csv_cell, faster -----------------------------------

CELL_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.decimals(allow_nan=False, allow_infinity=False, places=2),
    st.floats(allow_nan=False, allow_infinity=False),
    st.dates(),
    st.datetimes(
        min_value=datetime(1900, 1, 1),  # noqa: DTZ001 - hypothesis takes naive bounds
        max_value=datetime(2200, 1, 1),  # noqa: DTZ001
        timezones=st.sampled_from([UTC, ROME, None]),
    ),
    HOSTILE,
)
ALL_TYPES = [
    Column(f"c{n}", f"C{n}", kind)
    for n, kind in enumerate(
        [
            ColumnType.TEXT,
            ColumnType.INT,
            ColumnType.DECIMAL,
            ColumnType.DATETIME,
            ColumnType.DATE,
        ]
    )
]


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(values=st.lists(CELL_VALUES, min_size=5, max_size=5), italian=st.booleans())
def test_the_row_formatter_writes_every_cell_as_csv_cell_does(values, italian):
    """Whatever value lands in whatever column (an instant in a text column, text in a
    number column), the fast path gives the text `csv_cell` gives."""
    dialect = ITALIAN if italian else COMMA
    row = {column.key: value for column, value in zip(ALL_TYPES, values, strict=True)}
    expected = [csv_cell(row[c.key], c, dialect) for c in ALL_TYPES]
    assert csv_row_formatter(ALL_TYPES, dialect)(row) == expected


def test_write_csv_writes_what_csv_lines_streams(tmp_path):
    rows = [
        {"text": "=1+1", "number": -3, "amount": Decimal("2.50"), "when": None, "day": None},
        {
            "text": "Caffè",
            "number": None,
            "amount": None,
            "when": datetime(2026, 3, 29, 1, 30, tzinfo=UTC),
            "day": date(2026, 3, 29),
        },
    ]
    target = tmp_path / "out.csv"
    assert write_csv(target, COLUMNS, rows, dialect=ITALIAN) == 2
    assert target.read_bytes().decode() == "".join(csv_lines(COLUMNS, rows, ITALIAN))
