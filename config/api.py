"""The API's error contract and its system endpoints.

Every error under /api/ is JSON: `{"code": ..., "message": ..., "fields": {...}}`.
"""

import json
import logging
import math
import re

from django.core.exceptions import RequestDataTooBig
from django.http import Http404, JsonResponse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.views import APIView
from rest_framework.views import exception_handler as drf_exception_handler

from config import roles
from config.errors import PresidioError

logger = logging.getLogger(__name__)

UNENCODABLE = re.compile("[\ud800-\udfff]")  # lone surrogates: no encoder writes them


def error_body(code: str, message: str, fields: dict | None = None) -> dict:
    return {"code": code, "message": _renderable(str(message)), "fields": _renderable(fields or {})}


def _renderable(value):
    """Error text as the renderer can encode it: a field error that echoes its input (a
    choice, a slug) never turns a 400 into a 500 (the input layer refuses such text first;
    this holds for whatever it did not foresee)."""
    if isinstance(value, str):
        return UNENCODABLE.sub("\ufffd", value)
    if isinstance(value, dict):
        return {_renderable(key): _renderable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_renderable(item) for item in value]
    return value


def throttled_message(wait: float | None) -> str:
    """The 429's message: whole sentence translated (DRF's appends an untranslated half)."""
    if wait is None:
        return _("Too many requests: try again in a moment.")
    seconds = max(1, math.ceil(wait))
    return ngettext(
        "Too many requests: try again in %(seconds)d second.",
        "Too many requests: try again in %(seconds)d seconds.",
        seconds,
    ) % {"seconds": seconds}


def exception_handler(exc, context):
    """DRF's handler, reshaped; PresidioError carries its own code and status."""
    if isinstance(exc, PresidioError):
        return Response(
            {**exc.extra, **error_body(exc.code, exc.message, exc.fields)},
            status=exc.status,
            headers=getattr(exc, "headers", None),
        )
    if isinstance(exc, RequestDataTooBig):
        return Response(
            error_body("request_too_large", _("The request body is too large.")),
            status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
        )
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        detail = exc.detail
        fields = detail if isinstance(detail, dict) else {"non_field_errors": detail}
        response.data = error_body("invalid", _("The data sent is not valid."), fields)
    elif isinstance(exc, exceptions.Throttled):
        response.data = error_body("throttled", throttled_message(exc.wait))
    elif isinstance(exc, exceptions.APIException):
        code = exc.get_codes() if isinstance(exc.get_codes(), str) else exc.default_code
        message = _own_message(exc, context.get("request"))
        if message is None:
            message = exc.detail if isinstance(exc.detail, str) else ""
        response.data = error_body(code, message)
    return response


def _own_message(exc: exceptions.APIException, request) -> str | None:
    """DRF's own messages in the portal's words and the caller's language (DRF's Italian is
    partial, and a JSON error quotes Python's English); None keeps a message our code gave.
    """
    if isinstance(exc, exceptions.NotAuthenticated):
        return _(
            "Authentication credentials were not provided: send an API token in the "
            "Authorization header (Token <key>)."
        )
    if (
        isinstance(exc, exceptions.AuthenticationFailed)
        and exc.get_codes() == "authentication_failed"
    ):
        return _("The token or the credentials are not valid.")
    if isinstance(exc, exceptions.MethodNotAllowed):
        method = request.method if request is not None else ""
        return _("Method %(method)s is not allowed here.") % {"method": method}
    if isinstance(exc, exceptions.NotAcceptable):
        return _("The API answers in JSON only.")
    if isinstance(exc, exceptions.UnsupportedMediaType):
        content_type = request.content_type if request is not None else ""
        return _("Content type “%(type)s” is not accepted here.") % {"type": content_type}
    if isinstance(exc, exceptions.ParseError) and exc.get_codes() == "parse_error":
        cause = exc.__context__
        if isinstance(cause, json.JSONDecodeError):
            return _("The body is not valid JSON (line %(line)s, column %(column)s).") % {
                "line": cause.lineno,
                "column": cause.colno,
            }
        return _("The request body cannot be read.")
    if str(exc.detail) == str(exc.default_detail):  # DRF's default for the class
        if isinstance(exc, exceptions.PermissionDenied):
            return _("You do not have permission for this operation.")
        if isinstance(exc, exceptions.NotFound):
            return _("Not found.")
    return None


def not_found(request, *args, **kwargs):
    """Unknown URLs under /api/ answer JSON, never Django's HTML page."""
    return JsonResponse(
        error_body("not_found", _("No such API resource.")), status=status.HTTP_404_NOT_FOUND
    )


class ApiRootApi(APIView):
    @extend_schema(
        summary="API index",
        responses=inline_serializer(
            "ApiRoot",
            {
                "me": serializers.URLField(),
                "schema": serializers.URLField(),
                "docs": serializers.URLField(),
            },
        ),
    )
    def get(self, request):
        return Response(
            {
                "me": reverse("api:me", request=request),
                "schema": reverse("api-schema", request=request),
                "docs": reverse("api-docs", request=request),
            }
        )


class MeApi(APIView):
    class Output(serializers.Serializer):
        username = serializers.CharField()
        full_name = serializers.CharField()
        roles = serializers.ListField(child=serializers.CharField())
        capabilities = serializers.ListField(child=serializers.CharField())
        language = serializers.CharField()

    @extend_schema(summary="The authenticated user", responses=Output)
    def get(self, request):
        user = request.user
        data = {
            "username": user.get_username(),
            "full_name": user.get_full_name(),
            "roles": roles.roles_of(user),
            "capabilities": sorted(roles.capabilities_of(user)),
            "language": request.LANGUAGE_CODE,
        }
        return Response(self.Output(data).data)
