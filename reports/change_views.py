"""The configuration audit browser: filters, one page of changes (before → after in words),
and the exports. Admins and managers only (`reports.changes`)."""

from urllib.parse import urlencode

from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import render
from django.utils.translation import get_language
from django.views.decorators.http import require_GET

from config.permissions import capability_required
from reports import exports, formats
from reports.changes import ChangeList
from reports.forms import ChangeFilterForm

PAGE_SIZE = 50
READERS = ("administer", "manage_contracts")  # admins and managers


@capability_required(*READERS)
@require_GET
def change_list(request):
    form = ChangeFilterForm(request.GET)
    can_export = request.user.has_perm("config.export_reports")
    context: dict = {"form": form, "can_export": can_export, "ready": False}
    context["csv_sep"] = formats.default_sep(get_language())
    if not form.is_valid():
        return render(request, "reports/changes.html", context, status=400)
    filters = form.filters()
    changes = ChangeList(filters)
    fmt = request.GET.get("export")
    if fmt:
        if fmt not in formats.FILE_FORMATS:
            raise Http404
        if not can_export:
            raise PermissionDenied
        return exports.export_changes(
            changes, filters, request.user, fmt, sep=request.GET.get("sep")
        )
    page = Paginator(changes, PAGE_SIZE).get_page(request.GET.get("page"))
    context |= {"ready": True, "page": page, "filters_query": urlencode(filters.as_query())}
    return render(request, "reports/changes.html", context)
