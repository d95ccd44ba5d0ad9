"""Report pages: the dashboard and one page per report (filters, the table, the exports).

The page, the API and the exports read the same definition (reports.definitions)."""

from collections import defaultdict
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from config.errors import NotFound, PresidioError
from config.forms import service_error_message
from config.inputs import whole_number
from config.permissions import capability_required
from reports import api, charts, definitions, exports, formats, selectors, subscriptions
from reports.forms import ReportFilterForm
from reports.models import ExportJob, ReportSubscription

PAGE_SIZE = 50
FILTER_FIELDS = ("date_from", "date_to", "client", "contract", "site", "queue", "priority")


def _filters_query(form: ReportFilterForm) -> str:
    """The filters as a query string (for pagination and export links)."""
    values = {}
    for name in FILTER_FIELDS:
        value = form.data.get(name)
        if value not in (None, ""):
            values[name] = value
    return urlencode(values)


def _table(definition, page_rows) -> list[list[tuple]]:
    return [[(row.get(c.key), c.type) for c in definition.columns] for row in page_rows]


@capability_required("view_reports")
@require_GET
def dashboard(request):
    form = ReportFilterForm(request.GET)
    context = {"form": form, "filters_query": _filters_query(form), "reports": []}
    context["reports"] = definitions.all_definitions()
    if not form.is_valid():
        return render(request, "reports/dashboard.html", context, status=400)
    filters = form.filters()
    now = timezone.now()
    together = [selectors.flow_set(filters), definitions.SLA_SET, definitions.WORKLOAD_SET]
    with selectors.read_together(filters, together):  # one scan of the rollups for the three
        unit = selectors.series_unit(filters)
        flow = selectors.period_flow(filters)
        source, trend = selectors.backlog_trend(filters, now=now, flow=flow)
        step_format = "SHORT_DATE_FORMAT" if unit == "day" else "YEAR_MONTH_FORMAT"
        for row in (*trend, *flow):  # one label per day or month, formatted once
            row["label"] = date_format(row["day"], step_format)
        compliance = definitions.get("sla-compliance").rows(filters, request.user, now)
        by_client: dict[str, dict] = defaultdict(lambda: {"met": 0, "breached": 0, "cases": 0})
        for row in compliance:  # groups of client and contract, never cases
            entry = by_client[row["client_name"]]
            entry["met"] += row["fr_met"] + row["res_met"]
            entry["breached"] += row["fr_breached"] + row["res_breached"]
            entry["cases"] += row["cases"]
        sla = [
            {
                "client": client,
                **v,
                "compliance": definitions.percent(v["met"], v["met"] + v["breached"]),
            }
            for client, v in sorted(by_client.items())
        ]
        workload = [
            row
            for row in definitions.get("workload").rows(filters, request.user, now)
            if not row["operator"]
        ]
        by_site: dict[str, int] = defaultdict(int)
        by_queue: dict[str, int] = defaultdict(int)
        for row in workload:
            by_site[row["site"] or str(_("Unassigned"))] += row["open"]
            by_queue[row["queue"] or "—"] += row["open"]
    risk = selectors.cases_at_risk(filters)
    handoffs = selectors.handoffs_waiting(filters)
    chart_data = {
        "trend": {
            "labels": [d["label"] for d in trend],
            "values": [d["open"] for d in trend],
            "label": str(_("Open cases")),
        },
        "flow": {
            "labels": [d["label"] for d in flow],
            "opened": [d["opened"] for d in flow],
            "resolved": [d["resolved"] for d in flow],
            "opened_label": str(_("Opened")),
            "resolved_label": str(_("Resolved")),
        },
        "sla": {
            "labels": [r["client"] for r in sla],
            "values": [r["compliance"] for r in sla],
            "label": str(_("Compliance %")),
            "percent": True,
        },
        "sites": {
            "labels": list(by_site),
            "values": list(by_site.values()),
            "label": str(_("Open cases")),
        },
        "queues": {
            "labels": list(by_queue),
            "values": list(by_queue.values()),
            "label": str(_("Open cases")),
        },
        "handoffs": {
            "labels": [h["unit_name"] or h["unit_code"] for h in handoffs],
            "values": [h["waiting"] for h in handoffs],
            "label": str(_("Waiting")),
        },
    }
    context |= {
        "filters": filters,
        "trend_source": source,
        "series_unit": unit,
        "trend": trend,
        "flow": flow,
        "sla": sla,
        "by_site": sorted(by_site.items()),
        "by_queue": sorted(by_queue.items()),
        "risk": risk,
        "handoffs": handoffs,
        "chart_data": chart_data,
    }
    return render(request, "reports/dashboard.html", context)


@capability_required("view_reports")
@require_GET
def report_page(request, name: str):
    definition = definitions.get(name)
    if definition is None:
        raise Http404
    form = ReportFilterForm(request.GET)
    context = {
        "definition": definition,
        "form": form,
        "filters_query": _filters_query(form),
        "reports": definitions.all_definitions(),
        "can_export": request.user.has_perm("config.export_reports"),
        "csv_sep": formats.default_sep(get_language()),  # the reader's, the other an option
        "job": None,
        "subscriptions": [
            (subscription, subscriptions.described_filters(subscription))
            for subscription in ReportSubscription.objects.filter(user=request.user, report=name)
        ],
        "frequencies": ReportSubscription.Frequency.choices,
        "subscription_filter_keys": subscriptions.FILTER_KEYS,
    }
    if not form.is_valid():
        return render(request, "reports/report.html", context, status=400)
    filters = form.filters()
    fmt = request.GET.get("export")
    if fmt:
        if fmt not in formats.FILE_FORMATS:
            raise Http404
        if not context["can_export"]:
            raise PermissionDenied
        result = exports.export_report(
            definition, filters, request.user, fmt, sep=request.GET.get("sep")
        )
        if isinstance(result, ExportJob):
            query = context["filters_query"]
            url = reverse("reports:report", args=[name]) + f"?{query}&job={result.id}"
            return redirect(url.replace("?&", "?"))
        return result
    job_id = whole_number(request.GET.get("job") or "")
    if job_id is not None:
        context["job"] = ExportJob.objects.filter(id=job_id, owner=request.user).first()
    rows = definition.rows(filters, request.user)
    paginator = Paginator(rows, PAGE_SIZE)
    page = paginator.get_page(request.GET.get("page"))
    context |= {
        "ready": True,
        "filters": filters,
        "page": page,
        "table": _table(definition, page.object_list),
        "chart": charts.chart_data(definition, list(page.object_list)),
    }
    return render(request, "reports/report.html", context)


@capability_required("view_reports")
@require_GET
def job_download(request, job_id: int):
    """Only the owner downloads an export; anyone else finds nothing."""
    try:
        return api.download_response(api.job_of(request, job_id))
    except NotFound as error:
        raise Http404(str(error.message)) from error


@capability_required("export_reports")
@require_POST
def subscribe(request, name: str):
    """Subscribe to the report by e-mail, with the filters shown (PRG back to the page)."""
    try:
        subscription = subscriptions.subscribe(
            user=request.user,
            report=name,
            frequency=request.POST.get("frequency", ""),
            fmt=request.POST.get("format", ""),
            filters={key: request.POST.get(key) for key in subscriptions.FILTER_KEYS},
        )
    except PresidioError as error:
        messages.error(request, service_error_message(error))
    else:
        messages.success(
            request,
            _("You will receive this report by e-mail: %(when)s.")
            % {"when": subscription.get_frequency_display()},
        )
    return redirect("reports:report", name=name)


@capability_required("export_reports")
@require_POST
def unsubscribe(request, subscription_id: int):
    subscription = ReportSubscription.objects.filter(id=subscription_id, user=request.user).first()
    if subscription is None:
        raise Http404
    subscriptions.unsubscribe(user=request.user, subscription_id=subscription.id)
    messages.success(request, _("The subscription is stopped."))
    return redirect("reports:report", name=subscription.report)
