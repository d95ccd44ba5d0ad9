"""The input layer: what the database cannot store, or the calendar arithmetic cannot take,
never gets past a form, a serializer, the JSON parser or the URL. It is refused with a message
that says why, beside the field it came in.

One rule, applied at every door:

- text holds no NUL (PostgreSQL refuses it in text and JSON) and no lone UTF-16 surrogate
  (nothing can encode it: not the database, not the renderer that would echo it back in an
  error), in any string, key or nested value;
- a whole number is whole (`1.5` is not `1`, nor is `true`) and, unless the field sets its
  own bounds, fits PostgreSQL's `integer` (what quantities, minutes and versions are stored
  in; row ids are bigint, and their fields say so);
- a date or an instant falls within the unit's years, 2000-2099 (calendar arithmetic near
  year 1 or 9999 overflows).

The doors: `InputSerializer` (every API input derives from it), `InputForm` (every page's
form; `FilterForm` for filters), `config.parsers.StrictJSONParser` (the raw JSON body) and
`config.middleware.UnstorableInputMiddleware` (paths, query strings, pages' form bodies).
`tests/test_architecture.py` holds every input serializer, form and filter to them.
"""

from collections.abc import Mapping
from datetime import date, datetime

from django import forms
from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop
from rest_framework import relations, serializers

MAX_DEPTH = 32  # no payload nests more than a few levels
INTEGER_MIN, INTEGER_MAX = -(2**31), 2**31 - 1  # PostgreSQL `integer`
FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2099, 12, 31)

TOO_DEEP = _("The JSON is nested too deeply.")
NUL = _("Text may not contain the NUL character.")
SURROGATE = _("Text may not contain unpaired UTF-16 surrogates.")
NOT_WHOLE = _("A whole number is required.")


# --- The rule -------------------------------------------------------------------------------


def text_problem(text: str) -> str:
    """Why `text` cannot be stored ("" when it can)."""
    if "\x00" in text:
        return str(NUL)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return str(SURROGATE)
    return ""


def unstorable(data) -> str:
    """Why `data` (text, numbers, lists, mappings, files) cannot be taken ("" when it can):
    too deep, or text with NUL or a lone surrogate, in a value, a key or a file's name.
    Iterative, so depth itself cannot exhaust the stack."""
    pending = [(data, 1)]
    while pending:
        value, depth = pending.pop()
        if depth > MAX_DEPTH:
            return str(TOO_DEEP)
        if isinstance(value, str):
            if problem := text_problem(value):
                return problem
        elif isinstance(value, File):
            if problem := text_problem(value.name or ""):
                return problem
        elif isinstance(value, dict):
            for key, item in value.items():
                if isinstance(key, str) and (problem := text_problem(key)):
                    return problem
                pending.append((item, depth + 1))
        elif isinstance(value, list | tuple):
            pending.extend((item, depth + 1) for item in value)
    return ""


def not_whole(value) -> bool:
    """A JSON number that is not a whole number, or a boolean, where a whole number is due
    (DRF's IntegerField refuses these; a primary-key field would take 1.5 and `true` as 1)."""
    return isinstance(value, bool) or (isinstance(value, float) and not value.is_integer())


def whole_number(text: str) -> int | None:
    """`text` as a whole number when it is one written in ASCII digits, else None (`"²"` and
    `"٣"` are digits to `str.isdigit`, and `int("²")` raises: a 500 where a raw parameter
    was read that way)."""
    return int(text) if text.isascii() and text.isdigit() else None


def within_the_years(value: date | datetime) -> None:
    """Validator: a date or an instant within FIRST_DAY..LAST_DAY."""
    day = value.date() if isinstance(value, datetime) else value
    if not FIRST_DAY <= day <= LAST_DAY:
        raise ValidationError(
            _("Give a date between %(first)s and %(last)s."),
            code="date_out_of_range",
            params={"first": FIRST_DAY.year, "last": LAST_DAY.year},
        )


def _integer_bounds(min_value, max_value) -> list:
    validators = []
    if min_value is None:
        validators.append(MinValueValidator(INTEGER_MIN))
    if max_value is None:
        validators.append(MaxValueValidator(INTEGER_MAX))
    return validators


def checks_its_own_query(view):
    """Marks a page view that checks its query string itself: the input guard
    (`config.middleware.UnstorableInputMiddleware`) passes it whatever the address holds."""
    view.checks_its_own_query = True
    return view


# --- API: serializers -----------------------------------------------------------------------


class InputSerializer(serializers.Serializer):
    """The base of every API input. Each field's raw value is checked against the rule before
    the field parses it (a choice field never echoes a value nobody can encode; a
    primary-key field never reads 1.5 as 1), and the fields get the database's bounds."""

    def get_fields(self):
        fields = super().get_fields()
        for field in fields.values():
            guard(field)
        return fields

    def to_internal_value(self, data):
        if isinstance(data, Mapping):
            problems = {}
            for field in self._writable_fields:
                value = field.get_value(data)
                if problem := _raw_problem(field, value):
                    problems[field.field_name] = [problem]
            if problems:
                raise serializers.ValidationError(problems)
        return super().to_internal_value(data)


def guard(field: serializers.Field) -> serializers.Field:
    """Give `field` (and the fields inside it) the rule's bounds; returns it. For a field
    built outside an `InputSerializer` (e.g. one that parses part of a free-form value)."""
    if isinstance(field, serializers.BaseSerializer):
        return field  # a nested InputSerializer guards its own fields
    if isinstance(field, serializers.IntegerField):
        field.validators.extend(_integer_bounds(field.min_value, field.max_value))
        field.min_value = INTEGER_MIN if field.min_value is None else field.min_value
        field.max_value = INTEGER_MAX if field.max_value is None else field.max_value
    elif isinstance(field, serializers.DateField | serializers.DateTimeField):
        field.validators.append(within_the_years)
    child = getattr(field, "child", None) or getattr(field, "child_relation", None)
    if isinstance(child, serializers.Field):
        guard(child)
    return field


def _raw_problem(field: serializers.Field, value) -> str:
    if value is serializers.empty or value is None:
        return ""
    if problem := unstorable(value):
        return problem
    if _expects_whole_numbers(field):
        values = value if isinstance(value, list) else [value]
        if any(not_whole(item) for item in values):
            return str(NOT_WHOLE)
    return ""


def _expects_whole_numbers(field: serializers.Field) -> bool:
    if isinstance(field, serializers.IntegerField):
        return True
    if isinstance(field, relations.ManyRelatedField):
        return _expects_whole_numbers(field.child_relation)
    if isinstance(field, serializers.ListField):
        return _expects_whole_numbers(field.child)
    if isinstance(field, relations.PrimaryKeyRelatedField) and field.queryset is not None:
        pk = field.queryset.model._meta.pk
        return isinstance(pk, models.IntegerField | models.AutoField)
    return False


# --- Pages: forms ---------------------------------------------------------------------------


class InputForm(forms.Form):
    """The base of every form: each field's raw value is checked against the rule before the
    field cleans it (a choice looked up by code never sends NUL to the database), and the
    fields get the database's bounds."""

    integer_bounds = True

    def full_clean(self):
        # Here, not in __init__: forms add fields in their own __init__ after ours.
        for field in self.fields.values():
            guard_form_field(field, integer_bounds=self.integer_bounds)
        super().full_clean()


class FilterForm(InputForm):
    """The form of every FilterSet (`Meta.form`): a filter compares and stores nothing, and a
    number past any id simply finds nothing (Django turns an out-of-range integer lookup
    into an empty result), so only the text and date rules apply."""

    integer_bounds = False


def guard_form_field(field: forms.Field, *, integer_bounds: bool = True) -> forms.Field:
    """Give a form field the rule: its raw value is checked first, then the bounds (once:
    a guarded field is left as it is)."""
    if getattr(field, "input_guarded", False):
        return field
    field.input_guarded = True  # type: ignore[attr-defined]
    clean = field.clean

    def checked_clean(value, *args, **kwargs):
        if problem := unstorable(value):
            raise ValidationError(problem, code="unstorable")
        return clean(value, *args, **kwargs)

    field.clean = checked_clean  # type: ignore[method-assign]
    if isinstance(field, forms.IntegerField) and integer_bounds:
        field.validators.extend(_integer_bounds(field.min_value, field.max_value))
    elif isinstance(field, forms.DateField | forms.DateTimeField):
        field.validators.append(within_the_years)
    return field


# DRF's own field messages that its Italian catalogue leaves in English: listed here so that
# `make messages` keeps them in ours (LOCALE_PATHS come before the apps' catalogues), and an
# Italian API answer says every field error in Italian.
DRF_MESSAGES_IN_OUR_CATALOGUE = (
    gettext_noop("Not a valid string."),
    gettext_noop("Must be a valid boolean."),
    gettext_noop("Must be a valid UUID."),
    gettext_noop("Invalid input."),
    gettext_noop("Datetime value out of range."),
    gettext_noop('Invalid datetime for the timezone "{timezone}".'),
    gettext_noop("Ensure this field has at least {min_length} elements."),
    gettext_noop("Ensure this field has no more than {max_length} elements."),
    gettext_noop("This dictionary may not be empty."),
    gettext_noop("Surrogate characters are not allowed: U+{code_point:X}."),
    gettext_noop(
        'Enter a valid "slug" consisting of Unicode letters, numbers, underscores, or hyphens.'
    ),
)
