"""Personal data never reaches the logs (DESIGN.md §10)."""

import logging
import re

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


def redact(text: str) -> str:
    return PERSONAL_PARAMETER.sub(lambda m: f"{m.group('name')}{m.group('equals')}[redacted]", text)


class RedactPersonalData(logging.Filter):
    """Rewrites request lines and messages so no phone number or e-mail is written."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True
