"""The API's JSON parser: what no serializer, database or renderer can take never gets in.

DRF's JSONParser hands a view anything `json.loads` accepts: nesting deep enough to exhaust
the interpreter's recursion (a RecursionError, so a 500), lone UTF-16 surrogates that no
encoder can write back (a field error echoing one made the renderer fail: a 500), and NUL
characters, which PostgreSQL refuses in text and JSON. This parser refuses each with a 400
that says what is wrong, before any view code runs. A body over
`DATA_UPLOAD_MAX_MEMORY_SIZE` is a 413 (`config.api.exception_handler`).
"""

from django.utils.translation import gettext_lazy as _
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

MAX_DEPTH = 32  # no payload of the API nests more than a few levels


class UnstorableJSON(ParseError):
    default_code = "invalid_json"


class StrictJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError as error:
            raise UnstorableJSON(_("The JSON is nested too deeply.")) from error
        problem = unstorable(data)
        if problem:
            raise UnstorableJSON(problem)
        return data


def unstorable(data) -> str:
    """Why `data` cannot be taken ("" when it can): too deep, or text with NUL or a lone
    surrogate, in a value or a key. Iterative, so depth itself cannot exhaust the stack."""
    pending = [(data, 1)]
    while pending:
        value, depth = pending.pop()
        if depth > MAX_DEPTH:
            return str(_("The JSON is nested too deeply."))
        if isinstance(value, str):
            if problem := _text_problem(value):
                return problem
        elif isinstance(value, dict):
            for key, item in value.items():
                if problem := _text_problem(key):
                    return problem
                pending.append((item, depth + 1))
        elif isinstance(value, list):
            pending.extend((item, depth + 1) for item in value)
    return ""


def _text_problem(text: str) -> str:
    if "\x00" in text:
        return str(_("Text may not contain the NUL character."))
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return str(_("Text may not contain unpaired UTF-16 surrogates."))
    return ""
