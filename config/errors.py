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


class DuplicateSuspected(Conflict):
    """What is being created looks like something that already exists (the same call about
    the same thing, the same request sent twice): nothing is written, the answer lists the
    similar ones under `similar_key`, and the request goes through again only with a
    `duplicate_override_reason`, which the new record keeps. Case intake and contract
    orders raise their own subclass."""

    code = "duplicate_suspected"
    default_message = _(
        "Something similar already exists: use it, or give the reason for a new one."
    )
    similar_key = "similar"

    def __init__(self, candidates, **kwargs):
        self.candidates = list(candidates)
        super().__init__(
            extra={self.similar_key: [self.describe(c) for c in self.candidates]}, **kwargs
        )

    def describe(self, candidate) -> dict:
        """What the answer says of one similar record (subclasses say more)."""
        return {"id": candidate.pk}
