"""A test-only URLconf with views that fail in each of the ways the API must report."""

from django.urls import include, path
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from config.errors import Conflict


class EchoApi(APIView):
    class Input(serializers.Serializer):
        quantity = serializers.IntegerField(min_value=1)

    def post(self, request):
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        return Response(data.validated_data)


class ConflictApi(APIView):
    def post(self, request):
        raise Conflict("La pratica è già chiusa.")


class BrokenApi(APIView):
    def get(self, request):
        raise RuntimeError("boom: a bug, not a user's mistake")


urlpatterns = [
    path("api/v1/test/echo/", EchoApi.as_view()),
    path("api/v1/test/conflict/", ConflictApi.as_view()),
    path("api/v1/test/broken/", BrokenApi.as_view()),
    path("", include("config.urls")),
]
