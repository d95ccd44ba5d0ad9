"""How the API knows a caller by token: `Authorization: Token <secret>` or `Bearer <secret>`.

Refused with 401 (JSON code and message): an unknown token (`authentication_failed`, the code
integrations always got), an expired one (`token_expired`), a revoked one (`token_revoked`),
one whose owner's account is not active (`owner_inactive`). A valid token reaches only the
endpoints of its scopes (403 `token_scope`): checked here, right after the token is read,
because authentication is the one step every API view runs (a view's own
`permission_classes` replace the default ones). Session callers are not concerned. The
owner's role permissions apply on top, as for a session.
"""

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header

from config import tokens

KEYWORDS = (b"token", b"bearer")


class TokenScopeDenied(exceptions.PermissionDenied):
    default_code = "token_scope"


class ScopedTokenAuthentication(BaseAuthentication):
    keyword = "Token"

    def authenticate(self, request):
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() not in KEYWORDS:
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed()  # `authentication_failed`, as ever
        try:
            secret = parts[1].decode("ascii")
        except UnicodeDecodeError:
            secret = ""
        token = tokens.token_for_secret(secret) if secret else None
        if token is None:
            raise exceptions.AuthenticationFailed()
        now = timezone.now()
        if token.revoked_at is not None:
            raise exceptions.AuthenticationFailed(
                _("This API token has been revoked."), code="token_revoked"
            )
        if token.expires_at <= now:
            raise exceptions.AuthenticationFailed(
                _("This API token has expired."), code="token_expired"
            )
        if not token.owner.is_active:
            raise exceptions.AuthenticationFailed(
                _("The account this token belongs to is not active."), code="owner_inactive"
            )
        match = getattr(request._request, "resolver_match", None)
        needed = tokens.scope_for(match.view_name if match else None, request.method)
        if needed not in token.scopes:
            raise TokenScopeDenied(
                _("This token's scopes do not reach this endpoint (it needs “%(scope)s”).")
                % {"scope": needed or "—"}
            )
        tokens.note_use(token, now=now)
        return token.owner, token

    def authenticate_header(self, request) -> str:
        return self.keyword


class ScopedTokenScheme(OpenApiAuthenticationExtension):
    """The scheme as the OpenAPI schema states it: an API key in the Authorization header."""

    target_class = ScopedTokenAuthentication
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "Token-based authentication: `Token <secret>` or `Bearer <secret>`.",
        }
