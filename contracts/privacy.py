"""How personal data looks to someone without the need to know it: pure functions, one
place, used by pages, the API and exports alike."""

from config import contact_data

MASK = "*"


def masked_names(first_name: str, last_name: str) -> tuple[str, str]:
    """(`Maria Grazia`, `Russo`) -> (`Maria Grazia`, `R.`): enough to greet, not to identify."""
    first, last = (first_name or "").strip(), (last_name or "").strip()
    return first, f"{last[:1]}." if last else ""


def short_name(first_name: str, last_name: str) -> str:
    """`Maria Russo` -> `Maria R.`."""
    return " ".join(part for part in masked_names(first_name, last_name) if part)


def mask_phone(number: str) -> str:
    """`+393471234567` -> `+39 347 *** **67`: the operator prefix and the last two digits."""
    digits = (number or "").strip()
    country, rest = (digits[:3], digits[3:]) if digits.startswith("+") else ("", digits)
    if len(rest) <= 5:
        return f"{country} {MASK * len(rest)}".strip()
    hidden = len(rest) - 5
    body = f"{rest[:3]} {MASK * min(hidden, 3)} {MASK * max(hidden - 3, 0)}{rest[-2:]}"
    return f"{country} {body}".strip()


def mask_email(address: str) -> str:
    """`maria.russo@regione.it` -> `m***@regione.it`."""
    local, at, domain = (address or "").partition("@")
    if not at:
        return MASK * 3 if address else ""
    return f"{local[:1]}{MASK * 3}@{domain}"


def mask_codice_fiscale(code: str) -> str:
    """`RSSMRA80A01H501U` -> `RSS************U`."""
    code = (code or "").strip()
    return f"{code[:3]}{MASK * (len(code) - 4)}{code[-1:]}" if len(code) > 4 else MASK * len(code)


def mask_text(value: str) -> str:
    return MASK * 3 if value else ""


def mask_contact_data(text: str) -> str:
    """Free text (a subject, a note) as a reader without the need to know sees it: every phone
    number, e-mail address and codice fiscale typed into it masked like the caller's own
    fields, found by the detector retention uses (config.contact_data)."""
    return contact_data.replace_contact_data(
        text,
        email=mask_email,
        codice_fiscale=mask_codice_fiscale,
        phone=lambda written: mask_phone(contact_data.phone_digits(written)),
    )
