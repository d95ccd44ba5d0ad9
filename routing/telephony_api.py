"""The telephony endpoints (DESIGN §7): the PBX's signed events in, and the call log out.

Events carry no user: the PBX proves itself with an HMAC signature (`routing.signatures`),
so the endpoint has no session, token or throttle, and is refused before anything is read
when the signature, the timestamp or the secret is missing. Answers are 202
`{"call", "state", "duplicate"}`; every refusal is 4xx/5xx JSON `{"code", "message"}`.
"""

from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from config.permissions import capability
from routing import call_selectors, calls, signatures
from routing.call_facts import Event
from routing.models import Call
from routing.serializers import (
    CallSerializer,
    TelephonyAcceptedSerializer,
    TelephonyEventInput,
)

ReadCalls = capability("handle_cases", "supervise", "view_reports")
WITHHELD = {"", "anonymous", "private", "withheld", "unknown", "restricted"}


@method_decorator(never_cache, name="dispatch")  # no user: the middleware would not say it
class TelephonyEventApi(APIView):
    """One signed event from the PBX: newCall, answer, transfer or hangup."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes: list = []

    @extend_schema(
        request=TelephonyEventInput,
        responses={202: TelephonyAcceptedSerializer},
        parameters=[
            OpenApiParameter(signatures.TIMESTAMP_HEADER, str, OpenApiParameter.HEADER, True),
            OpenApiParameter(signatures.SIGNATURE_HEADER, str, OpenApiParameter.HEADER, True),
        ],
        auth=[],
    )
    def post(self, request):
        now = timezone.now()
        signatures.verify(
            timestamp=request.headers.get(signatures.TIMESTAMP_HEADER, ""),
            signature=request.headers.get(signatures.SIGNATURE_HEADER, ""),
            body=request.body,
            now=now,
        )
        serializer = TelephonyEventInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        number, problems = _caller_number(data["from"])
        received = calls.receive_event(
            Event(
                event=data["event"],
                at=data["at"],
                caller_number=number,
                line=data["to"],
                queue=data["queue"],
                operator=data["operator"],
                cause=data["cause"],
                direction=data["direction"],
                recording=data["recording"],
            ),
            call_id=data["call_id"],
            problems=problems,
            now=now,
        )
        body = {
            "call": received.call.call_id,
            "state": received.call.outcome,
            "duplicate": received.duplicate,
        }
        return Response(body, status=status.HTTP_202_ACCEPTED)


def _caller_number(raw: str) -> tuple[str, tuple[str, ...]]:
    """The caller's number in E.164; a withheld or malformed one is kept empty and said on
    the call (never refused: the call happened)."""
    if raw.strip().lower() in WITHHELD:
        return "", ("withheld_number",) if raw else ()
    number = calls.normalised_caller_number(raw)
    return (number, ()) if number else ("", ("malformed_number",))


class CallListApi(generics.ListAPIView):
    """The call log, newest first: every call for supervisors and report readers, one's own
    calls for an operator. Filters: `queue`, `outcome`, `since`, `until` (ISO 8601)."""

    serializer_class = CallSerializer
    permission_classes = [ReadCalls]
    filterset_class = None

    @extend_schema(
        parameters=[
            OpenApiParameter("queue", str),
            OpenApiParameter("outcome", str),
            OpenApiParameter("since", str),
            OpenApiParameter("until", str),
        ]
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Call.objects.none()
        params = self.request.query_params
        found = call_selectors.calls_visible_to(self.request.user)
        if params.get("queue"):
            found = found.filter(queue_code=params["queue"][:50])
        if params.get("outcome"):
            found = found.filter(outcome=params["outcome"][:12])
        for key, lookup in (("since", "offered_at__gte"), ("until", "offered_at__lt")):
            if params.get(key):
                found = found.filter(**{lookup: _instant(key, params[key])})
        return found.order_by("-offered_at", "-id")

    def paginate_queryset(self, queryset):
        page = super().paginate_queryset(queryset)
        return call_selectors.with_case_references(list(page or []))


def _instant(key: str, value: str):
    field = serializers.DateTimeField()
    try:
        parsed = field.to_internal_value(value[:40])
    except serializers.ValidationError as error:
        raise serializers.ValidationError({key: error.detail}) from None
    if not 2000 <= parsed.year <= 2099:
        raise serializers.ValidationError({key: [_("Give an instant between 2000 and 2099.")]})
    return parsed


class CallDetailApi(APIView):
    permission_classes = [ReadCalls]

    @extend_schema(responses=CallSerializer)
    def get(self, request, call_id: str):
        call = get_object_or_404(call_selectors.calls_visible_to(request.user), call_id=call_id)
        call_selectors.with_case_references([call])
        return Response(CallSerializer(call, context={"request": request}).data)


class CallRecordingApi(APIView):
    """Where the PBX keeps the call's recording: opening it is in the access log."""

    permission_classes = [ReadCalls]

    @extend_schema(responses={200: dict})
    def get(self, request, call_id: str):
        call = get_object_or_404(call_selectors.calls_visible_to(request.user), call_id=call_id)
        if not call.recording_ref:
            raise Http404
        return Response({"call": call.call_id, "recording": call.recording_ref})
