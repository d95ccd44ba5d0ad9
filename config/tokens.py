"""API tokens: issued by an administrator, scoped to groups of endpoints, with an expiry and
a last-use time, revocable. The secret is shown once; only its SHA-256 is kept.

Scopes are groups of the API's URL names (`ROUTE_GROUPS`). A group marked `split` has a
`:read` scope for GET/HEAD/OPTIONS (and for the searches sent by POST in `READ_BY_POST`) and
a `:write` scope for the other methods; the other groups are one scope each. Every API route
belongs to exactly one group (tests/config/test_tokens.py walks the URLconf).
"""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.utils.translation import gettext_lazy as _
from rest_framework.permissions import SAFE_METHODS

from config.audit import record_change, snapshot
from config.errors import InvalidInput, NotFound, PermissionDenied
from config.models import ApiToken, ConfigChange

MAX_VALIDITY = timedelta(days=366)  # a year, a leap day included
DEFAULT_VALIDITY = timedelta(days=365)
LAST_USE_STEP = timedelta(minutes=1)  # last_used_at is written at most once a minute
PREFIX_LENGTH = 8
SECRET_PREFIX = "prs_"  # noqa: S105 -- a marker in front of the random part, not a secret
AUDITED = ("name", "owner", "scopes", "prefix", "expires_at", "revoked_at")


@dataclass(frozen=True)
class Group:
    label: object  # lazy text
    routes: tuple[str, ...]
    split: bool = False  # a :read and a :write scope


GROUPS: dict[str, Group] = {
    "account": Group(
        _("API index, schema and the token owner's account"), ("root", "me", "api-schema")
    ),
    "lookup": Group(_("Caller lookup by phone, name or e-mail"), ("lookup",)),
    "cases": Group(
        _("Cases, notes, transitions and hand-offs"),
        (
            "case-list",
            "case-search",
            "case-detail",
            "case-notes",
            "case-transition",
            "case-handoff",
            "case-handoff-answer",
            "case-reopen",
            "case-contact",
            "case-sla-ledger",
        ),
        split=True,
    ),
    "notifications": Group(
        _("The owner's notifications"),
        ("notification-list", "notification-read", "notification-read-all"),
    ),
    "knowledge": Group(
        _("Knowledge base and saved replies"),
        ("article-list", "article-detail", "article-publish", "reply-list", "reply-detail"),
        split=True,
    ),
    "incidents": Group(
        _("Major incidents"),
        (
            "incident-list",
            "incident-detail",
            "incident-link",
            "incident-unlink",
            "incident-resolve",
        ),
        split=True,
    ),
    "contracts": Group(
        _("Clients, calendars and contracts"),
        (
            "client-list",
            "client-detail",
            "calendar-list",
            "calendar-detail",
            "contract-list",
            "contract-detail",
            "contract-amend",
            "contract-order-validation",
            "contract-sla-preview",
        ),
        split=True,
    ),
    "end-users": Group(
        _("End users' directory and imports"),
        ("end-user-list", "end-user-detail", "end-user-import"),
        split=True,
    ),
    "orders": Group(
        _("Back-office orders and loyalty"),
        (
            "order-next",
            "order-list",
            "order-detail",
            "order-transition",
            "order-notes",
            "loyalty-list",
            "loyalty-detail",
            "loyalty-actions",
            "loyalty-close",
        ),
        split=True,
    ),
    "routing": Group(
        _("Routing: take next, presence, sites, queues, operators, assignments"),
        (
            "routing-next",
            "routing-presence",
            "routing-queue-list",
            "routing-queue-emergency",
            "routing-queue-detail",
            "routing-queue-archive",
            "routing-site-list",
            "routing-site-detail",
            "routing-operator-list",
            "routing-operator-presence",
            "routing-assign",
        ),
        split=True,
    ),
    "telephony": Group(
        _("Telephony events and calls"),
        (
            "telephony-events",
            "telephony-call-list",
            "telephony-call-detail",
            "telephony-call-recording",
        ),
    ),
    "mail": Group(_("Inbound e-mail"), ("mail-inbound",)),
    "reports": Group(
        _("Reports and their exports"),
        ("report-list", "report-detail", "report-job", "report-job-download"),
    ),
    "people": Group(
        _("People: accounts, roles, operator profiles and certifications"),
        (
            "person-list",
            "person-detail",
            "person-import",
            "person-deactivate",
            "person-reactivate",
            "person-sessions-end",
            "person-password-link",
            "person-certification-list",
            "person-certification-detail",
        ),
        split=True,
    ),
    "audit": Group(_("The configuration audit (read only)"), ("change-list", "audit-list")),
    "tokens": Group(_("API tokens (administrators)"), ("token-list", "token-revoke")),
    "sessions": Group(_("The owner's signed-in sessions"), ("me-session-list", "me-session-end")),
}

# Searches sent by POST (their criteria are a body) that read and change nothing.
READ_BY_POST = {"case-search", "lookup"}


def _scopes() -> dict[str, object]:
    catalogue: dict[str, object] = {}
    for name, group in GROUPS.items():
        if group.split:
            catalogue[f"{name}:read"] = _("%(group)s: read") % {"group": group.label}
            catalogue[f"{name}:write"] = _("%(group)s: write") % {"group": group.label}
        else:
            catalogue[name] = group.label
    return catalogue


# Computed when asked: the labels follow the reader's language.
def scope_choices() -> list[tuple[str, str]]:
    return [(scope, f"{scope} — {label}") for scope, label in _scopes().items()]


SCOPES = tuple(_scopes())
GROUP_OF_ROUTE = {route: name for name, group in GROUPS.items() for route in group.routes}


def scope_for(view_name: str | None, method: str) -> str | None:
    """The scope a call of `method` on the route `view_name` ("api:case-list") needs (None:
    a route of no group, which no token reaches)."""
    url_name = (view_name or "").removeprefix("api:")
    group_name = GROUP_OF_ROUTE.get(url_name)
    if group_name is None:
        return None
    if not GROUPS[group_name].split:
        return group_name
    reads = method in SAFE_METHODS or url_name in READ_BY_POST
    return f"{group_name}:{'read' if reads else 'write'}"


# --- Secrets --------------------------------------------------------------------------------


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


def new_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def token_for_secret(secret: str) -> ApiToken | None:
    """The token whose secret this is, with its owner (one query); None for no such token."""
    return ApiToken.objects.select_related("owner").filter(key_hash=hash_secret(secret)).first()


def note_use(token: ApiToken, *, now: datetime) -> None:
    """Keep the last use, at most once a minute per token: one UPDATE that a concurrent call
    having written it already turns into nothing."""
    if token.last_used_at is not None and now - token.last_used_at < LAST_USE_STEP:
        return
    ApiToken.objects.filter(pk=token.pk).exclude(last_used_at__gt=now - LAST_USE_STEP).update(
        last_used_at=now
    )
    token.last_used_at = now


# --- Issue and revoke -----------------------------------------------------------------------


def _require_admin(actor) -> None:
    """Administrators issue and revoke; `actor=None` is the system itself (the benchmark's
    set-up, a management command), never a request."""
    if actor is not None and not actor.has_perm("config.administer"):
        raise PermissionDenied()


def check_token_input(*, name: str, scopes: list[str], expires_at: datetime, now: datetime):
    """Field errors for a token's name, scopes and expiry (raised together)."""
    errors: dict[str, list[str]] = {}
    if not name.strip():
        errors["name"] = [str(_("Give the token a name."))]
    unknown = [scope for scope in scopes if scope not in SCOPES]
    if unknown:
        errors["scopes"] = [
            str(_("Unknown scopes: %(scopes)s.") % {"scopes": ", ".join(map(str, unknown))})
        ]
    elif not scopes:
        errors["scopes"] = [str(_("Choose at least one scope."))]
    if expires_at <= now:
        errors["expires_at"] = [str(_("The expiry must be in the future."))]
    elif expires_at > now + MAX_VALIDITY:
        errors["expires_at"] = [str(_("A token is valid for a year at most."))]
    if errors:
        raise InvalidInput(fields=errors)


def issue_token(
    *, actor, owner, name: str, scopes: list[str], expires_at: datetime, now: datetime
) -> tuple[ApiToken, str]:
    """A new token for `owner`: returns it and its secret, which nothing shows again."""
    _require_admin(actor)
    check_token_input(name=name, scopes=scopes, expires_at=expires_at, now=now)
    if not owner.is_active:
        raise InvalidInput(fields={"owner": [str(_("The owner's account is not active."))]})
    secret = new_secret()
    ordered = [scope for scope in SCOPES if scope in set(scopes)]
    with transaction.atomic(durable=True):
        token = ApiToken.objects.create(
            name=name.strip(),
            owner=owner,
            scopes=ordered,
            key_hash=hash_secret(secret),
            prefix=secret[:PREFIX_LENGTH],
            created_at=now,
            created_by=actor,
            expires_at=expires_at,
        )
        record_change(
            actor=actor,
            now=now,
            target_type="token",
            target_id=token.pk,
            target_label=str(token),
            action=ConfigChange.Action.CREATED,
            after=snapshot(token, AUDITED),
        )
    return token, secret


def revoke_token(*, actor, token_id: int, reason: str = "", now: datetime) -> ApiToken:
    """The token stops working at once; revoking it again changes nothing."""
    _require_admin(actor)
    with transaction.atomic(durable=True):
        token = ApiToken.objects.select_for_update().filter(pk=token_id).first()
        if token is None:
            raise NotFound()
        if token.revoked_at is not None:
            return token
        before = snapshot(token, AUDITED)
        token.revoked_at = now
        token.revoked_by = actor
        token.save(update_fields=["revoked_at", "revoked_by"])
        record_change(
            actor=actor,
            now=now,
            target_type="token",
            target_id=token.pk,
            target_label=str(token),
            action=ConfigChange.Action.REVOKED,
            before=before,
            after=snapshot(token, AUDITED),
            reason=reason,
        )
    return token


def tokens_listed():
    """Every token with its owner and who revoked it, newest first (administrators)."""
    return ApiToken.objects.select_related("owner", "revoked_by").order_by("-created_at", "-id")
