"""Personal data never reaches the logs through exception text (issue 26, point 5): a
database error repeats the values of its statement (the search terms of an access-log row,
a key that already exists), and the traceback is written after the message."""

import io
import logging
from unittest import mock

import pytest
from django.db import DataError, IntegrityError, connection

from config import access_log
from config.log_filters import RedactPersonalData, redact_error

PHONE = "+393471234567"
EMAIL = "ottavia.zanzottera@comune-ct.example.it"
NAME = "Zanzottera"

# What PostgreSQL (through psycopg, then Django) says when the access log's JSON holds a term
# it cannot store, when a unique key repeats, and when a parameter does not fit its column.
POSTGRES_JSON_ERROR = (
    "unsupported Unicode escape sequence\n"
    "DETAIL:  \\ud800 is not a valid Unicode code point.\n"
    f'CONTEXT:  JSON data, line 1: {{"searched": {{"q": "{NAME} {PHONE}\\ud800...\n'
    f'unnamed portal parameter $9 = \'{{"searched": {{"q": "{NAME} {EMAIL}\''
)
POSTGRES_KEY_ERROR = (
    'duplicate key value violates unique constraint "contracts_phone_number_key"\n'
    f"DETAIL:  Key (number)=({PHONE}) already exists."
)
POSTGRES_CAST_ERROR = f'invalid input syntax for type integer: "{NAME}"'


def _logged(error: BaseException) -> str:
    """The line a console handler with the project's filter writes for `error`."""
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.addFilter(RedactPersonalData())
    logger = logging.getLogger("tests.redaction")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        try:
            raise error
        except Exception:
            logger.exception("access log not written: answer withheld")
    finally:
        logger.removeHandler(handler)
        logger.propagate = True
    return out.getvalue()


@pytest.mark.parametrize(
    "error",
    [
        DataError(POSTGRES_JSON_ERROR),
        IntegrityError(POSTGRES_KEY_ERROR),
        DataError(POSTGRES_CAST_ERROR),
    ],
    ids=["json-context-and-parameter", "duplicate-key", "cast"],
)
def test_a_logged_database_error_keeps_its_wording_but_none_of_the_values_it_quotes(error):
    written = _logged(error)
    assert "Traceback" in written
    assert type(error).__name__ in written
    for value in (PHONE, PHONE[3:], EMAIL, NAME):
        assert value not in written
    assert "[redacted]" in written


def test_identifiers_in_a_database_error_stay_readable():
    assert redact_error(IntegrityError(POSTGRES_KEY_ERROR)).startswith(
        'duplicate key value violates unique constraint "contracts_phone_number_key"\n'
        "DETAIL:  Key (number)=([redacted]) already exists."
    )


def test_a_chained_database_error_is_redacted_in_every_link():
    """Django raises its own DataError from the driver's: both messages are in the traceback."""

    class DriverError(Exception):
        __module__ = "psycopg.errors"

    try:
        try:
            raise DriverError(POSTGRES_CAST_ERROR)
        except DriverError as driver:
            raise DataError(POSTGRES_CAST_ERROR) from driver
    except DataError as error:
        written = _logged(error)
    assert NAME not in written
    assert written.count("[redacted]") >= 2


def test_contact_data_in_any_exception_text_is_redacted():
    written = _logged(ValueError(f"no end user for {EMAIL} or 347 123 4567"))
    assert EMAIL not in written
    assert "347 123 4567" not in written
    assert "ValueError: no end user for [redacted] or [redacted]" in written


@pytest.mark.django_db
def test_a_real_database_error_is_logged_without_the_statement_values():
    """A real failing statement on the test database, with the term as its parameter."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT CAST(%s AS INTEGER) FROM no_such_table", [f"{NAME} {PHONE}"])
    except Exception as error:
        written = _logged(error)
    assert "no_such_table" in written
    assert PHONE not in written
    assert NAME not in written


def test_an_exception_whose_text_cannot_be_read_is_withheld_not_written():
    class Unreadable(Exception):
        def __str__(self):
            raise RuntimeError(f"cannot say {PHONE}")

    written = _logged(Unreadable())
    assert PHONE not in written
    assert "Unreadable: [exception text withheld" in written


@pytest.mark.django_db
def test_the_withheld_answer_logs_the_database_error_without_the_search_terms(operator_api):
    """The path of the probe: the access-log insert fails with PostgreSQL's error, which
    quotes the row's JSON (the searched phone); the middleware logs it and answers 503."""
    failing = DataError(POSTGRES_JSON_ERROR)
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.addFilter(RedactPersonalData())
    logger = logging.getLogger("config.middleware")
    logger.addHandler(handler)
    try:
        with mock.patch.object(access_log, "append", side_effect=failing):
            response = operator_api.post("/api/v1/lookup/", {"phone": PHONE}, format="json")
    finally:
        logger.removeHandler(handler)
    assert response.status_code == 503
    written = out.getvalue()
    assert "access log not written" in written
    assert "unsupported Unicode escape sequence" in written
    for value in (PHONE, PHONE[3:], EMAIL, NAME):
        assert value not in written
