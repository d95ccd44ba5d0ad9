"""The second factor of managers and administrators: a TOTP device per user (django-otp).

A user who needs one and has none enrols on first sign-in: the page shows a QR code and the
secret, and the device counts only once a code from the app has been accepted. Every
enrolment and every refused code is logged.
"""

import logging
from base64 import b32encode

import qrcode
import qrcode.image.svg
from django.conf import settings
from django.db import transaction
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from config import roles

logger = logging.getLogger(__name__)

DEVICE_NAME = "Presidio"


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
    code = "".join((code or "").split())
    device = confirmed_device(user)
    enrolling = device is None
    if enrolling:
        device = enrolment_device(user)
    if not (code.isdigit() and device.verify_token(code)):
        logger.warning("second factor refused for user %s", user.pk)
        return False
    if enrolling:
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        TOTPDevice.objects.filter(user=user, confirmed=False).delete()
        logger.info("second factor enrolled for user %s", user.pk)
    otp_login(request, device)
    return True
