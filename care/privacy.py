"""Need to know: who sees a caller's personal data in full, and what everyone else sees.

In full: administrators (`view_unmasked_personal_data`), the case's assignee and the one
who opened it (they took the call), and whoever
works the case's contract, client or queue (care's `personal_data_grants` port, routing's
rule: the contracts and clients an operator is certified on, the queues a supervisor runs). Everyone
else sees a shortened name and masked phone numbers, e-mail, employee code and codice
fiscale. Pages, API and exports all go through `shown_caller`. Free text of a case (subject,
description, notes, hand-offs, reasons) goes through `shown_text`: whoever sees the caller
masked sees the contact data typed into it masked the same way.
"""

from dataclasses import dataclass, field

from care import ports
from care.models import Case
from contracts import privacy

_SCOPE_CACHE = "_presidio_personal_data_scope"


@dataclass(frozen=True)
class Scope:
    everything: bool = False
    contract_ids: frozenset = frozenset()
    client_ids: frozenset = frozenset()
    queue_codes: frozenset = frozenset()


@dataclass(frozen=True)
class ShownCaller:
    """A case's caller as this user may see them."""

    id: int | None
    first_name: str
    last_name: str
    is_referent: bool
    masked: bool
    phones: list[str] = field(default_factory=list)
    email: str = ""
    employee_code: str = ""

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


def scope_of(user) -> Scope:
    """Asked once per request: the answer is kept on the user object."""
    cached = getattr(user, _SCOPE_CACHE, None)
    if cached is not None:
        return cached
    if not user.is_authenticated:
        scope = Scope()
    elif user.has_perm("config.view_unmasked_personal_data"):
        scope = Scope(everything=True)
    else:
        grants = ports.personal_data_grants(user)  # routing decides: care/ports.py
        scope = Scope(False, grants.contract_ids, grants.client_ids, grants.queue_codes)
    setattr(user, _SCOPE_CACHE, scope)
    return scope


def sees_in_full(user, case: Case) -> bool:
    scope = scope_of(user)
    return (
        scope.everything
        or user.id in (case.assignee_id, case.opened_by_id)
        or case.contract_id in scope.contract_ids
        or case.client_id in scope.client_ids
        or (bool(case.queue_code) and case.queue_code in scope.queue_codes)
    )


def shown_caller(case: Case, user, *, with_contacts: bool = True) -> ShownCaller | None:
    """The caller (end user, else referent) of a case, masked unless the user needs it.
    With contacts, end users' phones come from `end_user.phones.all()` (prefetched by
    `case_by_reference`); lists ask without contacts and cost no query."""
    full = sees_in_full(user, case)
    if case.end_user_id:
        person = case.end_user
        phones = [phone.number for phone in person.phones.all()] if with_contacts else []
        employee_code, is_referent = person.employee_code, False
    elif case.referent_id:
        person = case.referent
        phones = [person.phone] if person.phone else []
        employee_code, is_referent = "", True
    else:
        return None
    if full:
        return ShownCaller(
            person.id,
            person.first_name,
            person.last_name,
            is_referent,
            masked=False,
            phones=phones,
            email=person.email,
            employee_code=employee_code,
        )
    first, last = privacy.masked_names(person.first_name, person.last_name)
    return ShownCaller(
        person.id,
        first,
        last,
        is_referent,
        masked=True,
        phones=[privacy.mask_phone(number) for number in phones],
        email=privacy.mask_email(person.email),
        employee_code=privacy.mask_text(employee_code),
    )


def shown_text(text: str, *, in_full: bool) -> str:
    """A case's free text for a reader who sees the case in full (as written) or not (phone
    numbers, e-mail addresses and codici fiscali in it masked like the caller's)."""
    if in_full or not text:
        return text
    return privacy.mask_contact_data(text)
