"""Italian identifiers with check digits: partita IVA, codice fiscale, province codes."""

from functools import cache

import holidays
from stdnum.exceptions import ValidationError
from stdnum.it import codicefiscale, iva


class InvalidIdentifier(ValueError):
    pass


def normalise_vat_number(raw: str) -> str:
    """Eleven digits with a valid check digit; `IT` prefix and spaces are dropped."""
    text = (raw or "").strip().upper().removeprefix("IT")
    try:
        return iva.validate(text)
    except ValidationError as exc:
        raise InvalidIdentifier(raw) from exc


def normalise_codice_fiscale(raw: str) -> str:
    try:
        return codicefiscale.validate((raw or "").strip().upper())
    except ValidationError as exc:
        raise InvalidIdentifier(raw) from exc


@cache
def province_codes() -> frozenset[str]:
    """The codes the holidays package knows, so every province has its patron saint."""
    return frozenset(holidays.Italy.subdivisions)


def normalise_province(raw: str) -> str:
    code = (raw or "").strip().upper()
    if code not in province_codes():
        raise InvalidIdentifier(raw)
    return code
