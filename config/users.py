"""Users and their roles, as administrators set them: created, changed, deactivated and
reactivated, each change kept in the configuration audit (`config.audit`, target "user")
inside the transaction that makes it.

A new user gets no password from anyone: the account is created with an unusable password
and the user is sent, at the e-mail address given, a one-time link to choose their own
(Django's password-reset token: valid `PASSWORD_RESET_TIMEOUT`, spent once the password is
set, since it is derived from the password hash). Nobody else ever sees, types or stores it;
the audit keeps the account's fields and roles, never a password or a link.

The operator side of a person (profile, certifications, their open cases when they leave)
belongs to routing (`routing.staff`), which calls these inside its own transactions.
"""

import logging
from dataclasses import dataclass, field
from datetime import datetime

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.auth.tokens import default_token_generator
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import transaction
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from config import roles, sessions
from config.audit import record_change, snapshot
from config.errors import InvalidInput, PermissionDenied
from config.models import ConfigChange

logger = logging.getLogger(__name__)

USER_FIELDS = ("username", "first_name", "last_name", "email", "is_active")
USERNAME_MAX = 150
NAME_MAX = 150
DEACTIVATED = "deactivated"  # why the sessions of a deactivated account ended, if none is given
SESSIONS_REASON_MAX = 300


class InvalidUserData(InvalidInput):
    code = "invalid_user_data"
    default_message = gettext_lazy("Some data is not valid: check the highlighted fields.")


class AdministratorOnly(PermissionDenied):
    code = "administrator_only"
    default_message = gettext_lazy("Only an administrator can do this.")


class OwnSessionsElsewhere(PermissionDenied):
    code = "own_sessions_elsewhere"
    default_message = gettext_lazy(
        "Your own sessions are ended from your sessions page, not from here."
    )


@dataclass
class UserData:
    username: str
    first_name: str
    last_name: str
    email: str
    roles: list[str] = field(default_factory=list)


def require_administrator(actor) -> None:
    if not actor.has_perm("config.administer"):
        raise AdministratorOnly()


def user_snapshot(user) -> dict:
    """What the audit keeps of an account: its fields and roles (never its password)."""
    return snapshot(user, USER_FIELDS) | {"roles": roles.roles_of(user)}


def check_user_data(
    data: UserData, *, taken_usernames: set[str] | None = None, creating: bool = True
) -> dict[str, list[str]]:
    """Every problem of `data`, by field ({} when none). `taken_usernames` (lower case):
    the usernames in use, when the caller read them once for many rows (an import file);
    else the database is asked."""
    errors: dict[str, list[str]] = {}

    def add(name: str, message: str) -> None:
        errors.setdefault(name, []).append(message)

    if creating:
        username = data.username.strip()
        if not username:
            add("username", _("Give a username."))
        elif len(username) > USERNAME_MAX or not all(
            ch.isalnum() or ch in "@.+-_" for ch in username
        ):
            add("username", _("Use letters, digits and @ . + - _ only (at most 150)."))
        elif (
            username.lower() in taken_usernames
            if taken_usernames is not None
            else get_user_model().objects.filter(username__iexact=username).exists()
        ):
            add("username", _("This username is already in use."))
    for name in ("first_name", "last_name"):
        value = getattr(data, name).strip()
        if not value:
            add(name, _("This field is required."))
        elif len(value) > NAME_MAX:
            add(name, _("At most 150 characters."))
    email = data.email.strip()
    if not email:
        add("email", _("Give an e-mail address: the user chooses their password from it."))
    else:
        try:
            validate_email(email)
        except Exception:
            add("email", _("Give a valid e-mail address."))
    unknown = [role for role in data.roles if role not in roles.ROLE_LABELS]
    if unknown:
        add("roles", _("Unknown role: %(roles)s.") % {"roles": ", ".join(unknown)})
    elif not data.roles:
        add("roles", _("Choose at least one role."))
    return errors


def _atomic():
    """Durable when called alone; a plain block inside a caller's transaction (routing)."""
    return transaction.atomic(durable=not transaction.get_connection().in_atomic_block)


def _set_roles(user, role_names: list[str]) -> None:
    user.groups.set(Group.objects.filter(name__in=role_names))
    user.is_staff = roles.ADMIN in role_names  # the Django admin, for emergencies
    user.save(update_fields=["is_staff"])
    for cache in ("_perm_cache", "_user_perm_cache", "_group_perm_cache"):
        user.__dict__.pop(cache, None)


def create_user(*, actor, data: UserData, now: datetime, send_link: bool = True):
    """An administrator creates an account with its roles; the user is sent a link to choose
    their password (after commit). Refused whole, with every field error, or written whole."""
    require_administrator(actor)
    errors = check_user_data(data)
    if errors:
        raise InvalidUserData(fields=errors)
    with _atomic():
        user = get_user_model().objects.create_user(
            username=data.username.strip(),
            email=data.email.strip(),
            first_name=data.first_name.strip(),
            last_name=data.last_name.strip(),
            password=None,  # unusable: the user chooses it from the link
        )
        _set_roles(user, data.roles)
        record_change(
            actor=actor,
            now=now,
            target_type="user",
            target_id=user.pk,
            target_label=user.get_username(),
            action=ConfigChange.Action.CREATED,
            after=user_snapshot(user),
        )
        if send_link:
            transaction.on_commit(lambda: send_password_link(user), robust=True)
    return user


def change_user(*, actor, user, data: UserData, now: datetime):
    """Names, e-mail and roles of an account (the username stays)."""
    require_administrator(actor)
    errors = check_user_data(data, creating=False)
    if actor.pk == user.pk and roles.ADMIN not in data.roles:
        errors.setdefault("roles", []).append(
            _("You cannot take the administrator role away from yourself.")
        )
    if errors:
        raise InvalidUserData(fields=errors)
    with _atomic():
        user = get_user_model().objects.select_for_update().get(pk=user.pk)
        before = user_snapshot(user)
        user.first_name, user.last_name = data.first_name.strip(), data.last_name.strip()
        user.email = data.email.strip()
        user.save(update_fields=["first_name", "last_name", "email"])
        _set_roles(user, data.roles)
        record_change(
            actor=actor,
            now=now,
            target_type="user",
            target_id=user.pk,
            target_label=user.get_username(),
            action=ConfigChange.Action.CHANGED,
            before=before,
            after=user_snapshot(user),
        )
    return user


def set_active(*, actor, user, active: bool, now: datetime, reason: str = ""):
    """Deactivate (signs the user out of everything: sessions and tokens stop being accepted)
    or reactivate an account. Call it inside the caller's transaction when more changes
    with it (routing.staff hands the user's open cases back)."""
    require_administrator(actor)
    if not active and actor.pk == user.pk:
        raise InvalidUserData(_("You cannot deactivate yourself."))
    with _atomic():
        user = get_user_model().objects.select_for_update().get(pk=user.pk)
        if user.is_active == active:
            return user
        before = user_snapshot(user)
        user.is_active = active
        user.save(update_fields=["is_active"])
        record_change(
            actor=actor,
            now=now,
            target_type="user",
            target_id=user.pk,
            target_label=user.get_username(),
            action=ConfigChange.Action.REACTIVATED if active else ConfigChange.Action.DEACTIVATED,
            before=before,
            after=user_snapshot(user),
            reason=reason,
        )
        if not active:  # a reactivation must not bring old browsers back
            sessions.end_all_sessions(actor=actor, user=user, reason=reason or DEACTIVATED, now=now)
    return user


def end_sessions_of(*, actor, user, now: datetime, reason: str) -> int:
    """An administrator signs `user` out of every browser (all their sessions end, each
    recorded with the reason, which is required). Not for one's own sessions: those are
    ended from one's sessions page. Returns how many ended."""
    require_administrator(actor)
    if actor.pk == user.pk:
        raise OwnSessionsElsewhere()
    reason = (reason or "").strip()
    if not reason:
        raise InvalidUserData(fields={"reason": [_("Say why the sessions are ended.")]})
    if len(reason) > SESSIONS_REASON_MAX:
        raise InvalidUserData(
            fields={"reason": [_("At most %(n)s characters.") % {"n": SESSIONS_REASON_MAX}]}
        )
    with _atomic():
        user = get_user_model().objects.select_for_update().get(pk=user.pk)
        return sessions.end_all_sessions(actor=actor, user=user, reason=reason, now=now)


def resend_password_link(*, actor, user) -> None:
    """An administrator has the link sent again (lost, expired): to the user's own address,
    never shown to the administrator. A link sent before stops working once either is used."""
    require_administrator(actor)
    if not user.is_active:
        raise InvalidUserData(_("This account is deactivated: reactivate it first."))
    if not user.email:
        raise InvalidUserData(fields={"email": [_("Give an e-mail address first.")]})
    logger.info("password link sent again to user %s by %s", user.pk, actor.pk)
    send_password_link(user)


def password_link_path(user) -> str:
    """The one-time address where `user` chooses their password."""
    return reverse(
        "password-set",
        kwargs={
            "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
            "token": default_token_generator.make_token(user),
        },
    )


def send_password_link(user) -> None:
    """E-mail the user the link to choose their password (to their address only)."""
    base = getattr(settings, "PRESIDIO_PORTAL_URL", "").rstrip("/")
    send_mail(
        subject=_("Presidio: choose your password"),
        message=_(
            "Hello %(name)s,\nan account was created for you on Presidio (username: "
            "%(username)s). Choose your password here (the link works once, for %(days)s "
            "days):\n\n%(link)s\n"
        )
        % {
            "name": user.get_full_name() or user.get_username(),
            "username": user.get_username(),
            "days": settings.PASSWORD_RESET_TIMEOUT // 86400,
            "link": base + password_link_path(user),
        },
        from_email=None,
        recipient_list=[user.email],
    )
