"""`GET /api/v1/changes/`: the configuration audit with the filters of its page
(`reports.changes`), paginated; `?format=csv|xlsx` exports it. Admins and managers."""

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from config.errors import InvalidInput, PermissionDenied
from config.permissions import capability
from reports import exports, formats
from reports.api import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, IgnoreFormatParameter, positive_int
from reports.changes import ChangeList
from reports.forms import ChangeFilterForm
from reports.serializers import ChangePageSerializer, ChangeSerializer

ReadChanges = capability("administer", "manage_contracts")


class ChangeListApi(APIView):
    permission_classes = [ReadChanges]
    content_negotiation_class = IgnoreFormatParameter

    @extend_schema(
        summary="Configuration changes (who, when, what, before and after)",
        parameters=[
            OpenApiParameter("what", str, description="user, profile, site, queue, contract…"),
            OpenApiParameter("who", str, description="the actor's username"),
            OpenApiParameter("from", str, description="YYYY-MM-DD"),
            OpenApiParameter("to", str, description="YYYY-MM-DD (included)"),
            OpenApiParameter("q", str, description="the target's id, or part of its name"),
            OpenApiParameter("action", str),
            OpenApiParameter("format", str, enum=list(formats.FORMATS)),
            OpenApiParameter("sep", str, enum=["comma", "semicolon"]),
            OpenApiParameter("page", int),
            OpenApiParameter("page_size", int),
        ],
        responses={200: ChangePageSerializer},
    )
    def get(self, request):
        form = ChangeFilterForm(request.query_params)
        if not form.is_valid():
            raise InvalidInput(form.error_message(), fields=form.errors.get_json_data())
        fmt = (request.query_params.get("format") or "json").lower()
        if fmt not in formats.FORMATS:
            raise InvalidInput(
                _("Unknown format: use json, csv or xlsx."),
                fields={"format": [_("Unknown format.")]},
            )
        filters = form.filters()
        changes = ChangeList(filters)
        if fmt in formats.FILE_FORMATS:
            if not request.user.has_perm("config.export_reports"):
                raise PermissionDenied(_("You may view reports but not export them."))
            return exports.export_changes(
                changes, filters, request.user, fmt, sep=request.query_params.get("sep")
            )
        page = positive_int(request, "page", 1, 10**6)
        page_size = positive_int(request, "page_size", DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)
        rows = changes.page((page - 1) * page_size, page_size)
        return Response(
            {
                "filters": filters.as_query(),
                "count": changes.count(),
                "page": page,
                "page_size": page_size,
                "results": ChangeSerializer(rows, many=True).data,
            }
        )
