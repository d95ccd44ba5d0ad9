"""Personal data never reaches the logs (DESIGN.md §10).

Three places could carry it: a request line's query (a screen pop's `?phone=`), a message,
and the text of an exception, where a database error repeats what the statement was given
(PostgreSQL: `Key (phone)=(+39...)`, `invalid input syntax ...: "Rossi"`, `parameter $1 =
'...'`). All three are redacted before any handler formats the record.
"""

import logging
import re
import traceback

from config import contact_data

# Query parameters that may carry personal data (a screen pop sends ?phone=..., a case
# search ?q=<phone or name>), also URL-encoded once or more inside another URL (a login's
# `next=/care/intake/%3Fphone%3D%2B39...`, or `%253D` when encoded twice). An encoded
# value runs to the next real `&`: an encoded `&` may belong to the value, and redacting
# a little too much is the safe side.
PERSONAL_PARAMETER = re.compile(
    r"(?P<name>q|query|phone|telefono|email|mail|cf|codice_fiscale|employee_code|matricola)"
    r"(?P<equals>=|%(?:25)*3D)"
    r"(?P<value>[^&\s\"']*)",
    re.IGNORECASE,
)
REDACTED = "[redacted]"
WITHHELD = "[exception text withheld: it could not be redacted]"

# What a database error quotes of the values it was given (PostgreSQL and SQLite wording).
# Identifiers stay (`relation "care_case"`, `column "phone"`): they are what one debugs with.
_DATABASE_VALUES = (
    # DETAIL:  Key (phone)=(+393471234567) already exists. / Failing row contains (...).
    (re.compile(r"(Key \([^)]*\)=\().*?(\)(?: already exists| is not present|\.|$))", re.M), 2),
    (re.compile(r"(Failing row contains \().*(\))", re.M), 2),
    # CONTEXT:  JSON data, line 1: {"searched": {"q": "...  (a JSON value PostgreSQL refused)
    (re.compile(r"(JSON data, line \d+: ).*$", re.M), 1),
    # CONTEXT:  unnamed portal parameter $1 = '...'
    (re.compile(r"(parameter \$\d+ = )'(?:[^']|'')*'?"), 1),
    # invalid input syntax for type integer: "Rossi" / value "..." is out of range
    (re.compile(r"(: )\"[^\n]*\"$", re.M), 1),
    (re.compile(r"(value )\"[^\n\"]*\""), 1),
    # Any other literal: 'abc', including one cut short at the end of the message.
    (re.compile(r"()'(?:[^'\n]|'')*'?"), 1),
)
_MASK_ALL = {
    "email": lambda _found: REDACTED,
    "codice_fiscale": lambda _found: REDACTED,
    "phone": lambda _found: REDACTED,
}


def redact(text: str) -> str:
    """Query parameters that may carry personal data, in a request line or a URL."""
    return PERSONAL_PARAMETER.sub(lambda m: f"{m.group('name')}{m.group('equals')}{REDACTED}", text)


def _redact_foreign_text(text: str) -> str:
    """Text that the code did not write itself (an exception's message, from a driver or a
    library): its query parameters and any contact data (phone, e-mail, codice fiscale)."""
    return contact_data.replace_contact_data(redact(text), **_MASK_ALL)


def _is_database_error(error: BaseException) -> bool:
    module = type(error).__module__ or ""
    return module.startswith(("django.db", "psycopg", "sqlite3"))


def redact_error(error: BaseException) -> str:
    """The message of one exception as it may be logged: a database error keeps its wording
    and identifiers but none of the values it quotes; any error loses its contact data."""
    text = str(error)
    if _is_database_error(error):
        for pattern, groups in _DATABASE_VALUES:
            if groups == 2:
                text = pattern.sub(rf"\g<1>{REDACTED}\g<2>", text)
            else:
                text = pattern.sub(rf"\g<1>{REDACTED}", text)
    return _redact_foreign_text(text)


def _chain(error: BaseException | None):
    seen = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        yield error
        error = error.__cause__ or error.__context__


def redact_traceback(exc_info) -> str:
    """The formatted traceback with each exception's message (chained ones too) redacted."""
    text = "".join(traceback.format_exception(*exc_info)).rstrip("\n")
    for error in _chain(exc_info[1]):
        message = str(error)
        if message:
            text = text.replace(message, redact_error(error))
    return _redact_foreign_text(text)


class RedactPersonalData(logging.Filter):
    """Rewrites request lines, messages and exception text so no phone number, e-mail or
    searched value is written. Messages are the code's own words (the canary test holds
    them clean: a leak there is fixed at its source, not hidden); exception text comes from
    drivers and libraries, so every contact datum in it is masked. The redacted traceback
    replaces the exception itself on the record: no formatter downstream prints the original."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        try:
            if record.exc_info and record.exc_info[1] is not None:
                record.exc_text = redact_traceback(record.exc_info)
            elif record.exc_text:
                record.exc_text = _redact_foreign_text(record.exc_text)
        except Exception:  # an exception whose text cannot even be read: withhold it all
            error = record.exc_info[1] if record.exc_info else None
            record.exc_text = f"{type(error).__name__}: {WITHHELD}" if error else WITHHELD
        record.exc_info = None
        return True
