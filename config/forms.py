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


# A form refused by an action that redirects back to its page (post/redirect/get: the
# address stays the page's, a reload posts nothing), kept in the session for that one page.
FAILED_FORM_KEY = "failed_form"


def keep_failed_form(request, form: forms.Form, *, page: str, name: str) -> None:
    """Keep what was posted to `form` and its errors (the service's included) for the next
    rendering of `page` (e.g. "order:OR-2026-000001"); `name` says which form it was."""
    request.session[FAILED_FORM_KEY] = {
        "page": page,
        "name": name,
        "data": {key: request.POST.get(key, "") for key in map(form.add_prefix, form.fields)},
        "errors": {field: [str(e) for e in errors] for field, errors in form.errors.items()},
    }


def failed_form(request, *, page: str, build) -> tuple[str, forms.Form] | None:
    """The form refused just before on `page`, rebuilt by `build(name, data)` and showing
    exactly the errors it was refused with (each beside its field); None otherwise."""
    failed = request.session.pop(FAILED_FORM_KEY, None)  # for the very next page only
    if not isinstance(failed, dict) or failed.get("page") != page:
        return None
    form = build(failed.get("name", ""), failed.get("data") or {})
    if form is None:
        return None
    form.is_valid()
    form.errors.clear()
    for field, errors in (failed.get("errors") or {}).items():
        for error in errors:
            form.add_error(field if field in form.fields else None, error)
    return failed["name"], form
