"""URL converters shared by every app."""


class IdConverter:
    """A row id in a path: at most 18 digits, so it always fits the databases' 64-bit
    integers (Django's `int` takes any length, and a longer one crashed the query with a
    500 instead of answering 404). Registered as `<id:...>` in `config.apps`."""

    regex = "[0-9]{1,18}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value) -> str:
        return str(int(value))
