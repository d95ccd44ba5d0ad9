"""Reports in the API: the list, one report as JSON or exported as CSV/XLSX, and the jobs
of big exports. The same definitions as the pages (reports.definitions)."""

from django.http import FileResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.views import APIView

from config.errors import InvalidInput, NotFound, PermissionDenied
from config.permissions import capability
from reports import definitions, exports, formats
from reports.forms import ReportFilterForm
from reports.models import ExportJob
from reports.serializers import ExportJobSerializer, ReportListSerializer

ViewReports = capability("view_reports")
MAX_PAGE_SIZE = 1000
DEFAULT_PAGE_SIZE = 100


class IgnoreFormatParameter(BaseContentNegotiation):
    """`?format=` chooses the export, not a DRF renderer: always answer with the first
    renderer (JSON)."""

    def select_parser(self, request, parsers):
        return parsers[0] if parsers else None

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


def definition_or_404(name: str):
    definition = definitions.get(name)
    if definition is None:
        raise NotFound(_("There is no report with this name."))
    return definition


def validated_filters(request):
    form = ReportFilterForm(request.query_params)
    if not form.is_valid():
        raise InvalidInput(form.error_message(), fields=form.errors.get_json_data())
    return form.filters()


def positive_int(request, name: str, default: int, maximum: int) -> int:
    raw = request.query_params.get(name)
    if raw in (None, ""):
        return default
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value < 1:
        raise InvalidInput(
            _("%(name)s must be a whole number from 1.") % {"name": name},
            fields={name: [_("Not a valid number.")]},
        )
    return min(value, maximum)


class ReportListApi(APIView):
    permission_classes = [ViewReports]

    @extend_schema(summary="The reports", responses=ReportListSerializer(many=True))
    def get(self, request):
        data = [
            {
                "name": d.name,
                "title": str(d.title),
                "description": str(d.description),
                "uses_period": d.uses_period,
                "columns": d.column_dicts(),
                "url": reverse("api:report-detail", args=[d.name], request=request),
            }
            for d in definitions.all_definitions()
        ]
        return Response(ReportListSerializer(data, many=True).data)


class ReportDetailApi(APIView):
    permission_classes = [ViewReports]
    content_negotiation_class = IgnoreFormatParameter

    @extend_schema(
        summary="One report, as JSON or exported as CSV or XLSX",
        parameters=[
            OpenApiParameter("format", str, enum=list(formats.FORMATS)),
            OpenApiParameter("sep", str, enum=["comma", "semicolon"]),
            OpenApiParameter("from", str, description="YYYY-MM-DD (default: 30 days ago)"),
            OpenApiParameter("to", str, description="YYYY-MM-DD (default: today)"),
            OpenApiParameter("client", int),
            OpenApiParameter("contract", str),
            OpenApiParameter("site", str),
            OpenApiParameter("queue", str),
            OpenApiParameter("priority", str),
            OpenApiParameter("page", int),
            OpenApiParameter("page_size", int),
        ],
        responses={200: None, 202: ExportJobSerializer},
    )
    def get(self, request, name: str):
        definition = definition_or_404(name)
        fmt = (request.query_params.get("format") or "json").lower()
        if fmt not in formats.FORMATS:
            raise InvalidInput(
                _("Unknown format: use json, csv or xlsx."),
                fields={"format": [_("Unknown format.")]},
            )
        if fmt in formats.FILE_FORMATS and not request.user.has_perm("config.export_reports"):
            raise PermissionDenied(_("You may view reports but not export them."))
        filters = validated_filters(request)
        now = timezone.now()
        if fmt in formats.FILE_FORMATS:
            result = exports.export_report(
                definition, filters, request.user, fmt, sep=request.query_params.get("sep"), now=now
            )
            if isinstance(result, ExportJob):
                return Response(
                    ExportJobSerializer(result, context={"request": request}).data, status=202
                )
            return result
        page = positive_int(request, "page", 1, 10**6)
        page_size = positive_int(request, "page_size", DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)
        rows = definition.rows(filters, request.user, now)
        count = rows.count()
        page_rows = rows.page((page - 1) * page_size, page_size)
        exports.log_export(
            user=request.user,
            report=definition.name,
            filters=filters.as_query(),
            fmt="json",
            row_count=len(page_rows),
            now=now,
        )
        return Response(
            {
                "name": definition.name,
                "title": str(definition.title),
                "filters": filters.as_query(),
                "columns": definition.column_dicts(),
                "count": count,
                "page": page,
                "page_size": page_size,
                "rows": formats.json_rows(list(definition.columns), page_rows),
            }
        )


def job_of(request, job_id: int) -> ExportJob:
    """Only the owner sees a job: anyone else gets the same 404 as a missing one."""
    job = ExportJob.objects.filter(id=job_id, owner=request.user).first()
    if job is None:
        raise NotFound(_("There is no such export."))
    return job


class ExportJobApi(APIView):
    permission_classes = [ViewReports]

    @extend_schema(summary="Progress of a big export", responses=ExportJobSerializer)
    def get(self, request, job_id: int):
        job = job_of(request, job_id)
        return Response(ExportJobSerializer(job, context={"request": request}).data)


class ExportJobDownloadApi(APIView):
    permission_classes = [ViewReports]
    content_negotiation_class = IgnoreFormatParameter

    @extend_schema(summary="The file of a finished export", responses={200: None})
    def get(self, request, job_id: int):
        return download_response(job_of(request, job_id))


def download_response(job: ExportJob) -> FileResponse:
    if job.status != ExportJob.Status.READY or not job.file_name:
        raise NotFound(_("This export is not ready or has expired."))
    path = exports.exports_dir() / job.file_name
    if not path.exists():
        raise NotFound(_("This export is not ready or has expired."))
    return FileResponse(
        open(path, "rb"),
        as_attachment=True,
        filename=formats.filename(job.report, job.format, job.created_at),
        content_type=formats.CONTENT_TYPES[job.format],
    )
