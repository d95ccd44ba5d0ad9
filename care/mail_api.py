"""`POST /api/v1/mail/inbound/`: a raw RFC 5322 message (`Content-Type: message/rfc822`), the
same path as the mailbox poller (for providers that push mail, for support, for the demo).
Administrators and integration tokens only (the `administer` capability)."""

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiRequest, extend_schema
from rest_framework import status
from rest_framework.parsers import BaseParser
from rest_framework.response import Response
from rest_framework.views import APIView

from care import mail
from config.errors import InvalidInput
from config.permissions import capability


class RawMessageParser(BaseParser):
    media_type = "message/rfc822"

    def parse(self, stream, media_type=None, parser_context=None) -> bytes:
        return stream.read(settings.MAIL_MAX_BYTES + 1) if stream is not None else b""


class MailInboundApi(APIView):
    """One message in → 202 `{"outcome", "reference", "duplicate"}`."""

    permission_classes = [capability("administer")]
    parser_classes = [RawMessageParser]

    @extend_schema(
        request=OpenApiRequest(request=bytes),
        responses={202: dict},
        description="A raw RFC 5322 message; outcome case_opened, note_added, triage, ignored "
        "or refused.",
    )
    def post(self, request):
        raw = request.data if isinstance(request.data, bytes) else b""
        if not raw.strip():
            raise InvalidInput(fields={"message": [_("Send the raw message (message/rfc822).")]})
        received = mail.receive_mail(raw, mailbox="api", now=timezone.now())
        body = {
            "outcome": received.outcome,
            "reference": received.reference,
            "duplicate": received.duplicate,
        }
        return Response(body, status=status.HTTP_202_ACCEPTED)
