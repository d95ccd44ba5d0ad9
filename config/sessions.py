"""Users' own signed-in sessions: which device, from which network, since when, last seen;
and ending them.

A row is written at sign-in (`user_logged_in`) for the Django session, and its last-seen time
at most once a minute, when the session's own activity stamp is written
(config.middleware.SessionLifetimeMiddleware). The row is tied to the Django session row and
goes with it: sign-out, expiry cleanup, or ending it here (which deletes the session, so that
browser is signed out at its next request). The address is kept masked (an IPv4 /24, an IPv6
/48): enough to recognise one's office or home, not to locate anyone.
"""

import ipaddress
from datetime import datetime

from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.models import Session
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from config.audit import record_change
from config.errors import NotFound
from config.models import ConfigChange, UserSession

USER_AGENT_LENGTH = 300


def mask_address(address: str | None) -> str:
    """ "192.168.10.0/24" for 192.168.10.37; an IPv6 address to its /48; "" for none."""
    try:
        ip = ipaddress.ip_address(address or "")
    except ValueError:
        return ""
    prefix = 24 if ip.version == 4 else 48
    return str(ipaddress.ip_network(f"{ip}/{prefix}", strict=False))


def remember_session(*, request, user, address: str | None, now: datetime) -> None:
    """The new session's row, at sign-in (config.middleware.record_session_at_login)."""
    session = getattr(request, "session", None)
    key = session.session_key if session is not None else None
    if not key or not Session.objects.filter(session_key=key).exists():
        return  # a session engine without rows (none here)
    UserSession.objects.update_or_create(
        session_id=key,
        defaults={
            "user": user,
            "user_agent": request.headers.get("User-Agent", "")[:USER_AGENT_LENGTH],
            "network": mask_address(address),
            "signed_in_at": now,
            "last_seen_at": now,
        },
    )


def note_activity(*, request, user, address: str | None, now: datetime) -> None:
    """The session was active (called at most once a minute per session). A session with
    no row yet (signed in before rows were kept, or its key renewed by a password change)
    gets one now."""
    key = request.session.session_key
    if key and not UserSession.objects.filter(session_id=key).update(last_seen_at=now):
        remember_session(request=request, user=user, address=address, now=now)


def sessions_of(user) -> QuerySet:
    """The user's own sessions that have not ended, the most recently active first."""
    return UserSession.objects.filter(user=user, session__expire_date__gt=timezone.now())


def _unlisted_keys_of(user, now: datetime) -> list[str]:
    """The keys of `user`'s live sessions that have no row yet (signed in before rows were
    kept and not used since): read from the session data itself."""
    unlisted = (
        Session.objects.filter(expire_date__gt=now)
        .exclude(session_key__in=UserSession.objects.values("session_id"))
        .order_by("session_key")
    )
    return [
        session.session_key
        for session in unlisted.iterator()
        if str(session.get_decoded().get(SESSION_KEY)) == str(user.pk)
    ]


def _end(*, actor, rows: list[UserSession], reason: str, now: datetime) -> int:
    for row in rows:
        record_change(
            actor=actor,
            now=now,
            target_type="session",
            target_id=row.pk,
            target_label=f"{row.user} {row.network}".strip(),
            action=ConfigChange.Action.DELETED,
            before={
                "user": row.user_id,
                "user_agent": row.user_agent,
                "network": row.network,
                "signed_in_at": row.signed_in_at,
                "last_seen_at": row.last_seen_at,
            },
            reason=reason,
        )
    # Deleting the Django session signs its browser out; the rows go with it (cascade).
    Session.objects.filter(session_key__in=[row.session_id for row in rows]).delete()
    return len(rows)


def end_session(*, actor, session_id: int, now: datetime) -> int:
    """End one of the actor's own sessions (another user's answers not found)."""
    with transaction.atomic(durable=True):
        row = UserSession.objects.select_for_update().filter(pk=session_id, user=actor).first()
        if row is None:
            raise NotFound()
        return _end(actor=actor, rows=[row], reason="", now=now)


def end_other_sessions(*, actor, current_key: str | None, now: datetime) -> int:
    """End every session of the actor's but the one they are using: returns how many."""
    with transaction.atomic(durable=True):
        rows = list(
            UserSession.objects.select_for_update()
            .filter(user=actor)
            .exclude(session_id=current_key or "")
            .order_by("pk")
        )
        return _end(actor=actor, rows=rows, reason="", now=now)


def end_all_sessions(*, actor, user, reason: str, now: datetime) -> int:
    """Inside the caller's transaction: end every session of `user` (each listed one with its
    configuration change; those with no row yet, found in the session data, with one change
    for all of them), so that every browser of theirs is signed out at its next request.
    Who may: the caller decides (`config.users.end_sessions_of`, deactivation). Returns how
    many sessions ended."""
    rows = list(UserSession.objects.select_for_update().filter(user=user).order_by("pk"))
    ended = _end(actor=actor, rows=rows, reason=reason, now=now)
    keys = _unlisted_keys_of(user, now)
    if keys:
        record_change(
            actor=actor,
            now=now,
            target_type="session",
            target_id=f"user-{user.pk}",
            target_label=str(user),
            action=ConfigChange.Action.DELETED,
            before={"user": user.pk, "sessions_without_details": len(keys)},
            reason=reason,
        )
        Session.objects.filter(session_key__in=keys).delete()
    return ended + len(keys)
