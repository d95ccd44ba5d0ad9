"""The API's JSON parser: what no serializer, database or renderer can take never gets in.

DRF's JSONParser hands a view anything `json.loads` accepts: nesting deep enough to exhaust
the interpreter's recursion (a RecursionError, so a 500), lone UTF-16 surrogates that no
encoder can write back (a field error echoing one made the renderer fail: a 500), and NUL
characters, which PostgreSQL refuses in text and JSON. This parser refuses each with a 400
that says what is wrong, before any view code runs (the rule is `config.inputs`'s). A body
over `DATA_UPLOAD_MAX_MEMORY_SIZE` is a 413 (`config.api.exception_handler`).
"""

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

from config.inputs import TOO_DEEP, unstorable


class UnstorableJSON(ParseError):
    default_code = "invalid_json"


class StrictJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError as error:
            raise UnstorableJSON(TOO_DEEP) from error
        problem = unstorable(data)
        if problem:
            raise UnstorableJSON(problem)
        return data
