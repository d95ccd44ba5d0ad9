"""The second factor of managers and administrators: a TOTP device per user (django-otp).

A user who needs one and has none enrols on first sign-in: the page shows a QR code and the
secret, and the device counts only once a code from the app has been accepted. Every
enrolment and every refused code is logged.

Trust on first use lets whoever first signs in with the password enrol their own app. An
administrator can require instead that a user enrols through a one-time link
(`create_enrolment_link`): signed, valid `ENROLMENT_LINK_VALID_FOR`, used once, created for
that user only. From the first link created for a user, enrolment on first sign-in is refused
for them unless the session came through a usable link of theirs; the link is spent by the
enrolment it allowed (a newer link supersedes the older ones).
"""

import logging
from base64 import b32encode
from datetime import datetime, timedelta
from urllib.parse import urlencode

import qrcode
import qrcode.image.svg
from django.conf import settings
from django.core import signing
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from config import roles
from config.errors import PermissionDenied
from config.models import TwoFactorEnrolmentLink

logger = logging.getLogger(__name__)

DEVICE_NAME = "Presidio"
ENROLMENT_LINK_VALID_FOR = timedelta(hours=24)
ENROLMENT_LINK_SALT = "presidio.two-factor.enrolment-link"
SESSION_LINK = "two_factor_enrolment_link"


def create_enrolment_link(*, actor, user, now: datetime | None = None):
    """An administrator requires `user` to enrol through a one-time link: returns the link
    row and the URL to send them. Earlier unused links of the user stop working."""
    if not actor.has_perm("config.administer"):
        raise PermissionDenied()
    now = now or timezone.now()
    with transaction.atomic():
        TwoFactorEnrolmentLink.objects.filter(
            user=user, used_at__isnull=True, expires_at__gt=now
        ).update(expires_at=now)
        link = TwoFactorEnrolmentLink.objects.create(
            user=user, created_by=actor, created_at=now, expires_at=now + ENROLMENT_LINK_VALID_FOR
        )
    token = signing.dumps({"link": link.id, "user": user.pk}, salt=ENROLMENT_LINK_SALT)
    logger.info(
        "two-factor enrolment link %s created for user %s by %s", link.id, user.pk, actor.pk
    )
    return link, f"{reverse('two_factor')}?{urlencode({'link': token})}"


def _usable_link(user, link_id, now: datetime) -> TwoFactorEnrolmentLink | None:
    if not isinstance(link_id, int):
        return None
    return TwoFactorEnrolmentLink.objects.filter(
        id=link_id, user_id=user.pk, used_at__isnull=True, expires_at__gt=now
    ).first()


def accept_enrolment_link(request, token: str, *, now: datetime | None = None) -> bool:
    """The link opened by the signed-in user it was made for: kept in the session (the page
    then drops the token from its address). Anyone else's, tampered, spent or expired: no."""
    now = now or timezone.now()
    try:
        data = signing.loads(
            token, salt=ENROLMENT_LINK_SALT, max_age=ENROLMENT_LINK_VALID_FOR.total_seconds()
        )
    except signing.BadSignature:
        data = None
    link_id = data.get("link") if isinstance(data, dict) else None
    if (
        data is None
        or data.get("user") != request.user.pk
        or not _usable_link(request.user, link_id, now)
    ):
        logger.warning("two-factor enrolment link refused for user %s", request.user.pk)
        return False
    request.session[SESSION_LINK] = link_id
    return True


def _session_link(request, now: datetime) -> TwoFactorEnrolmentLink | None:
    return _usable_link(request.user, request.session.get(SESSION_LINK), now)


def may_enrol(request, *, now: datetime | None = None) -> bool:
    """Whether this session may enrol a device: on first sign-in, unless an administrator
    required a link for the user, in which case only through that link."""
    now = now or timezone.now()
    required = TwoFactorEnrolmentLink.objects.filter(user_id=request.user.pk).exists()
    return not required or _session_link(request, now) is not None


def second_factor_pending(user) -> bool:
    """Signed in with the password but the second factor is still owed."""
    return (
        settings.TWO_FACTOR_REQUIRED
        and roles.needs_second_factor(user)
        and not (hasattr(user, "is_verified") and user.is_verified())
    )


def confirmed_device(user) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).order_by("id").first()


def enrolment_device(user) -> TOTPDevice:
    """The user's unconfirmed device, created once: reloading the page keeps the same secret."""
    with transaction.atomic():
        device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("id").first()
        if device is None:
            device = TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=False)
    return device


def secret_of(device: TOTPDevice) -> str:
    """The secret as authenticator apps type it (base32, in groups of four)."""
    text = b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(text[i : i + 4] for i in range(0, len(text), 4))


def qr_svg(device: TOTPDevice) -> str:
    """The otpauth:// URI as an SVG QR code (markup only: no script, no external image)."""
    image = qrcode.make(device.config_url, image_factory=qrcode.image.svg.SvgPathImage)
    return image.to_string(encoding="unicode")


def verify(request, code: str) -> bool:
    """Check a code against the user's device (the enrolment one while enrolling); on success
    the session counts as verified and an enrolment is confirmed."""
    user = request.user
    now = timezone.now()
    code = "".join((code or "").split())
    device = confirmed_device(user)
    enrolling = device is None
    link = None
    if enrolling:
        if not may_enrol(request, now=now):
            logger.warning("second factor: enrolment without the required link, user %s", user.pk)
            return False
        link = _session_link(request, now)
        device = enrolment_device(user)
    if not (code.isdigit() and device.verify_token(code)):
        logger.warning("second factor refused for user %s", user.pk)
        return False
    if enrolling:
        with transaction.atomic():
            if link is not None and not TwoFactorEnrolmentLink.objects.filter(
                id=link.id, used_at__isnull=True
            ).update(used_at=now):
                return False  # spent meanwhile by another session
            device.confirmed = True
            device.save(update_fields=["confirmed"])
            TOTPDevice.objects.filter(user=user, confirmed=False).delete()
        request.session.pop(SESSION_LINK, None)
        logger.info(
            "second factor enrolled for user %s%s", user.pk, " through a link" if link else ""
        )
    otp_login(request, device)
    return True
