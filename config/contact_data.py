"""Contact data typed into free text: one detector for everyone who must find it.

Retention blanks it out of old cases, pages and the API mask it for readers who see the
caller masked, and the log filter masks it in messages and exception text. A pure module
with no app import (config's floor), so all of them can share it.
"""

import re
from collections.abc import Callable

EMAIL = re.compile(r"[\w.%+-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE)
CODICE_FISCALE = re.compile(r"\b[A-Z]{6}\d{2}[A-Z]\d{2}[A-Z]\d{3}[A-Z]\b", re.IGNORECASE)
# An Italian mobile (3xx) or landline (0x), with or without +39/0039, separators allowed;
# not a run of digits inside a longer token (a case reference such as CS-2026-000123), nor a
# date (03/11/2026 is shaped like a landline).
_DATE = r"(?:0?[1-9]|[12]\d|3[01])([./-])(?:0?[1-9]|1[0-2])\1(?:19|20)\d{2}(?![\w-])"
PHONE = re.compile(
    rf"(?<![\w-])(?!{_DATE})"
    r"(?:(?:\+|00)39[\s./-]?)?(?:3\d{2}|0\d{1,3})(?:[\s./-]?\d){5,8}(?![\w-])"
)
SEPARATORS = r"[\s./-]*"

# The order matters: an e-mail address may hold digits shaped like a phone number.
PATTERNS = (EMAIL, CODICE_FISCALE, PHONE)


def replace_contact_data(
    text: str,
    *,
    email: Callable[[str], str],
    codice_fiscale: Callable[[str], str],
    phone: Callable[[str], str],
) -> str:
    """`text` with every e-mail address, codice fiscale and phone number replaced by what the
    given functions make of it (a mask, or a fixed replacement text)."""
    if not text:
        return text
    for pattern, replace in ((EMAIL, email), (CODICE_FISCALE, codice_fiscale), (PHONE, phone)):
        text = pattern.sub(lambda match, replace=replace: replace(match.group(0)), text)
    return text


def phone_digits(written: str) -> str:
    """`+39 347-123 4567` -> `+393471234567`; `0039 06 1234567` -> `+39061234567`."""
    digits = re.sub(r"\D", "", written)
    if written.lstrip().startswith(("+39", "0039")):
        digits = digits.removeprefix("00")
        return f"+{digits}"
    return digits
