"""One factory per model, in its default state. Other states come from the real services."""

import importlib
from datetime import timedelta

import factory
from stdnum import luhn

from contracts.models import (
    BusinessCalendar,
    Client,
    ClosingCode,
    EndUser,
    EndUserPhone,
    OpeningInterval,
)


def valid_vat_number(n: int) -> str:
    body = f"{n:07d}" + "001"  # seven digits, then a valid office code
    return body + luhn.calc_check_digit(body)  # the partita IVA check digit is Luhn


class ClientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Client

    name = factory.Sequence(lambda n: f"Cliente {n}")
    segment = "PA"
    vat_number = factory.Sequence(lambda n: valid_vat_number(n + 1))
    province = "PA"


class BusinessCalendarFactory(factory.django.DjangoModelFactory):
    """Office hours Monday to Friday, 08:30–13:00 and 14:00–17:30, Palermo holidays."""

    class Meta:
        model = BusinessCalendar
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Calendario {n}")
    province = "PA"

    @factory.post_generation
    def office_hours(calendar, create, extracted, **kwargs):
        if create and extracted is not False:
            OpeningInterval.objects.bulk_create(
                OpeningInterval(calendar=calendar, weekday=day, start_minute=start, end_minute=end)
                for day in range(5)
                for start, end in ((510, 780), (840, 1050))
            )


class EndUserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = EndUser
        skip_postgeneration_save = True

    client = factory.SubFactory(ClientFactory)
    first_name = "Maria"
    last_name = factory.Sequence(lambda n: f"Russo{n}")
    email = factory.Sequence(lambda n: f"utente{n}@regione.example.it")
    employee_code = factory.Sequence(lambda n: f"M{n:05d}")

    @factory.post_generation
    def phone(end_user, create, extracted, **kwargs):
        if create and extracted:
            EndUserPhone.objects.create(end_user=end_user, client=end_user.client, number=extracted)


# A code of the national default list of closing codes (contracts migration 0006): what the
# tests resolve cases with when the code itself is not what they test.
CLOSING_CODE = "risolto-configurazione"


class ClosingCodeFactory(factory.django.DjangoModelFactory):
    """A closing code of the national default list (give `version` for a version's own)."""

    class Meta:
        model = ClosingCode
        django_get_or_create = ("version", "code")

    version = None
    code = factory.Sequence(lambda n: f"codice-{n}")
    name_it = factory.LazyAttribute(lambda o: o.code.replace("-", " ").capitalize())
    name_en = factory.LazyAttribute(lambda o: o.code.replace("-", " ").capitalize())


def national_closing_codes() -> list[ClosingCode]:
    """The national default list as contracts migration 0006 seeds it, for transactional tests
    (their flush empties the tables the migrations filled)."""
    seeded = importlib.import_module("contracts.migrations.0008_default_closing_codes")
    return [
        ClosingCodeFactory(code=code, name_it=name_it, name_en=name_en, system=system)
        for code, name_it, name_en, system in seeded.DEFAULT_CODES
    ]


def issued_secret(owner, *, scopes=None, days: int = 30, name: str = "test") -> str:
    """The secret of a new API token of `owner` (every scope unless given), issued by the
    system as the benchmark's set-up does."""
    from django.utils import timezone

    from config import tokens

    now = timezone.now()
    _token, secret = tokens.issue_token(
        actor=None,
        owner=owner,
        name=name,
        scopes=list(tokens.SCOPES if scopes is None else scopes),
        expires_at=now + timedelta(days=days),
        now=now,
    )
    return secret
