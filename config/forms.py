"""The one bridge from a service's PresidioError to a form's errors."""

from django import forms

from config.errors import PresidioError


def add_service_errors(
    form: forms.Form, error: PresidioError, *, aliases: dict | None = None
) -> None:
    """Show each field error beside its field (names may be aliased: the service's
    `hours` is the form's `day_0`), and anything else at the top of the form."""
    aliases = aliases or {}
    if not error.fields:
        form.add_error(None, str(error.message))
    for name, messages in error.fields.items():
        target = aliases.get(name, name)
        for message in messages:
            form.add_error(target if target in form.fields else None, message)


def service_error_message(error: PresidioError) -> str:
    """A refused action in one sentence, for a page message (no form to attach errors to)."""
    details = [str(message) for messages in error.fields.values() for message in messages]
    return " ".join([str(error.message), *details]) if details else str(error.message)
