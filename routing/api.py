"""REST endpoints of the routing app: parse, call one service, render."""

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from config.permissions import capability
from routing import selectors, services
from routing.serializers import PresenceInput, PresenceSerializer, TakenCaseSerializer

HandleCases = capability("handle_cases")


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
        serializer = PresenceInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        profile = services.set_presence(
            actor=request.user,
            profile=selectors.profile_of(request.user),
            state=serializer.validated_data["state"],
        )
        return Response(PresenceSerializer(profile).data)
