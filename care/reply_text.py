"""The variables of a saved reply: a fixed set of names, substituted in one pass.

No template engine runs on what users write: `{{ name }}` is replaced by the value of one
of the names below and nothing else happens (a value that itself looks like `{{ … }}` is
not looked at again). An unknown name is refused when the reply is saved. Pure: plain
values in and out.
"""

import re
from collections.abc import Mapping

# Italian name -> the value's key; the English names are aliases.
VARIABLES = {
    "nome_chiamante": "caller_name",
    "riferimento": "reference",
    "scadenza": "due",
    "operatore": "operator",
}
ALIASES = {
    "caller_name": "caller_name",
    "reference": "reference",
    "due": "due",
    "operator": "operator",
}
KNOWN = {**VARIABLES, **ALIASES}

# `{{ name }}`; the inside stops at the first brace so "{{ a }} {{ b }}" is two variables.
VARIABLE = re.compile(r"\{\{\s*([^{}]*?)\s*\}\}")


def problems(body: str) -> list[str]:
    """The unknown variable names of `body` (in order, once each), and "{{" / "}}" for a
    brace pair left open or closed alone."""
    unknown = list(
        dict.fromkeys(m.group(1) for m in VARIABLE.finditer(body) if m.group(1) not in KNOWN)
    )
    rest = VARIABLE.sub("", body)
    unknown += [brace for brace in ("{{", "}}") if brace in rest]
    return unknown


def render(body: str, values: Mapping[str, str]) -> str:
    """`body` with each known variable replaced by `values[key]` ("" when missing). Plain
    text out: whoever shows it as HTML escapes it."""

    def value(match: re.Match) -> str:
        key = KNOWN.get(match.group(1))
        return match.group(0) if key is None else str(values.get(key, ""))

    return VARIABLE.sub(value, body)
