"""The one error type of Presidio's business rules.

A service raises a `PresidioError` subclass; the API turns it into
`{"code", "message", "fields"}` with its HTTP status, a form view into a form error.
Codes are stable once shipped: integrations match on them.
"""

from django.utils.translation import gettext_lazy as _


class PresidioError(Exception):
    code = "error"
    status = 400
    default_message = _("The request cannot be carried out.")

    def __init__(
        self, message=None, *, fields: dict[str, list[str]] | None = None, extra: dict | None = None
    ) -> None:
        self.message = message if message is not None else self.default_message
        self.fields = fields or {}
        self.extra = extra or {}  # more keys for the API body, e.g. the similar cases found
        super().__init__(str(self.message))


class InvalidInput(PresidioError):
    code = "invalid"
    status = 400
    default_message = _("The data sent is not valid.")


class PermissionDenied(PresidioError):
    code = "permission_denied"
    status = 403
    default_message = _("You do not have permission for this operation.")


class NotFound(PresidioError):
    """Missing and not-yours answer the same: nothing is revealed by the difference."""

    code = "not_found"
    status = 404
    default_message = _("Not found.")


class Conflict(PresidioError):
    code = "conflict"
    status = 409
    default_message = _("The operation conflicts with the current state.")
