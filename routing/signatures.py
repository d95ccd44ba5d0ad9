"""The PBX signs each telephony event (DESIGN §7): `X-Presidio-Timestamp` (Unix seconds) and
`X-Presidio-Signature`, the hex HMAC-SHA256 of `"{timestamp}.{raw body}"` with the shared
secret. Two secrets may be configured during a rotation (the new one first); events older or
newer than five minutes are refused, so a captured request cannot be replayed later."""

import hashlib
import hmac
from datetime import datetime

from django.conf import settings

from routing.exceptions import BadTelephonySignature, StaleTelephonyEvent, TelephonyNotConfigured

MAX_SKEW_SECONDS = 300
TIMESTAMP_HEADER = "X-Presidio-Timestamp"
SIGNATURE_HEADER = "X-Presidio-Signature"


def sign(secret: str, timestamp: str, body: bytes) -> str:
    message = timestamp.encode("ascii") + b"." + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def verify(*, timestamp: str, signature: str, body: bytes, now: datetime) -> None:
    """Raise unless one configured secret signed this body at a recent timestamp."""
    secrets = [s for s in getattr(settings, "TELEPHONY_SECRETS", []) if s]
    if not secrets:
        raise TelephonyNotConfigured()
    if not timestamp.isdigit() or len(timestamp) > 12 or not signature:
        raise BadTelephonySignature()
    if abs(now.timestamp() - int(timestamp)) > MAX_SKEW_SECONDS:
        raise StaleTelephonyEvent()
    given = signature.strip().lower()
    if not any(hmac.compare_digest(sign(s, timestamp, body), given) for s in secrets):
        raise BadTelephonySignature()
