"""REST endpoints of the routing app: parse, fetch through a selector, call one service,
render.

Operators take cases and set their own presence (`handle_cases`); the console's reads and
writes on others (operators' load, their presence, emergencies, assignments) need
`supervise`. Every refusal is a `PresidioError`: 4xx JSON `{"code", "message", "fields"}`.
"""

from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from care import selectors as care_selectors
from config.permissions import capability
from routing import selectors, services
from routing.serializers import (
    AssignedCaseSerializer,
    AssignInput,
    EmergencyInput,
    EmergencySerializer,
    OperatorFilterInput,
    OperatorOverviewSerializer,
    OperatorPresenceSerializer,
    PresenceInput,
    PresenceSerializer,
    QueueOverviewSerializer,
    TakenCaseSerializer,
)

HandleCases = capability("handle_cases")
Supervise = capability("supervise")
# The queue figures: whoever works, supervises or reports on cases.
ReadQueues = capability("handle_cases", "supervise", "view_reports")


def _valid(serializer_class, data):
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


class RoutingNextApi(APIView):
    """Take the next case: the best one the caller may take now, assigned to them."""

    permission_classes = [HandleCases]

    @extend_schema(
        request=None,
        responses={200: TakenCaseSerializer, 204: OpenApiResponse(description="No case now.")},
    )
    def post(self, request):
        case = services.take_next_case(operator=request.user)
        if case is None:
            return Response(status=status.HTTP_204_NO_CONTENT)
        return Response(TakenCaseSerializer(case).data)


class RoutingPresenceApi(APIView):
    """The caller's presence; PUT `{"state": "available"}` changes it."""

    permission_classes = [HandleCases]

    @extend_schema(responses=PresenceSerializer)
    def get(self, request):
        return Response(PresenceSerializer(selectors.profile_of(request.user)).data)

    @extend_schema(request=PresenceInput, responses=PresenceSerializer)
    def put(self, request):
        data = _valid(PresenceInput, request.data)
        profile = services.set_presence(
            actor=request.user, profile=selectors.profile_of(request.user), state=data["state"]
        )
        return Response(PresenceSerializer(profile).data)


class QueueListApi(APIView):
    """Every queue: waiting cases, oldest wait, open cases at risk, emergency while on."""

    permission_classes = [ReadQueues]

    @extend_schema(responses=QueueOverviewSerializer(many=True))
    def get(self, request):
        rows = selectors.queue_overview(now=timezone.now())
        return Response(QueueOverviewSerializer(rows, many=True).data)


class OperatorListApi(APIView):
    """Operators with presence and load; `?site=<code>` keeps one site (supervisors)."""

    permission_classes = [Supervise]

    @extend_schema(
        parameters=[OpenApiParameter("site", str, description="A site code.")],
        responses=OperatorOverviewSerializer(many=True),
    )
    def get(self, request):
        data = _valid(OperatorFilterInput, request.query_params)
        site = selectors.site_by_code(data["site"]) if data.get("site") else None
        rows = selectors.operator_overview(site=site, now=timezone.now())
        return Response(OperatorOverviewSerializer(rows, many=True).data)


class OperatorPresenceApi(APIView):
    """A supervisor changes an operator's presence: PUT `{"state": "away"}`."""

    permission_classes = [Supervise]

    @extend_schema(request=PresenceInput, responses=OperatorPresenceSerializer)
    def put(self, request, user_id: int):
        data = _valid(PresenceInput, request.data)
        profile = services.set_presence(
            actor=request.user,
            profile=selectors.operator_profile_by_user_id(user_id),
            state=data["state"],
        )
        return Response(OperatorPresenceSerializer(profile).data)


class QueueEmergencyApi(APIView):
    """A supervisor switches a queue's emergency on for `minutes` (0 switches it off)."""

    permission_classes = [Supervise]

    @extend_schema(request=EmergencyInput, responses=EmergencySerializer)
    def post(self, request, code: str):
        data = _valid(EmergencyInput, request.data)
        queue = services.set_emergency(
            actor=request.user,
            queue=selectors.queue_by_code(code),
            minutes=data["minutes"],
            reason=data.get("reason", ""),
        )
        return Response(EmergencySerializer(queue).data)


class AssignApi(APIView):
    """A supervisor gives a case to an operator; an operator not qualified for it needs an
    `override_reason`. `row_version` (optional) refuses a change based on a stale page."""

    permission_classes = [Supervise]

    @extend_schema(request=AssignInput, responses=AssignedCaseSerializer)
    def post(self, request):
        data = _valid(AssignInput, request.data)
        case = care_selectors.case_by_reference(request.user, data["case"])
        case = services.reassign_case(
            actor=request.user,
            case=case,
            operator=selectors.user_by_id(data["operator"]),
            override_reason=data.get("override_reason", ""),
            expected_version=data.get("row_version"),
        )
        return Response(AssignedCaseSerializer(case).data)
