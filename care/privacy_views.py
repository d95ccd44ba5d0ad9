"""Pages of data protection: the retention (managers) and data-subject requests (admins)."""

import json

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from care import retention, subject_requests
from care.forms import ErasureForm, SubjectSearchForm
from care.models import RetentionRun
from config import access_log
from config.errors import PresidioError
from config.forms import add_service_errors, service_error_message
from config.permissions import capability_required

# --- Retention ------------------------------------------------------------------------------


@capability_required("manage_contracts")
@require_GET
def retention_page(request):
    """The dry run (what would be anonymised now, per contract) and the runs so far."""
    due = retention.retention_due(now=timezone.now())
    runs = retention.recent_runs()
    active = next((run for run in runs if run.status in ("queued", "running")), None)
    return render(
        request,
        "care/retention.html",
        {
            "due": due,
            "total_due": sum(item.cases for item in due),
            "runs": runs,
            "active": active,
        },
    )


@capability_required("manage_contracts")
@require_POST
def retention_start(request):
    try:
        retention.request_retention_run(actor=request.user, now=timezone.now())
    except PresidioError as error:
        messages.error(request, service_error_message(error))
    else:
        messages.success(request, _("Retention started: follow its progress below."))
    return redirect("care:retention")


@capability_required("manage_contracts")
@require_GET
def retention_run_progress(request, run_id: int):
    """The htmx partial polled while a run is queued or running."""
    run = RetentionRun.objects.filter(id=run_id).first()
    # A run that ended, or that is not there (an old tab): either way, stop polling.
    finished = run is None or run.status in (RetentionRun.Status.DONE, RetentionRun.Status.FAILED)
    # 286: htmx stops polling once the run has ended.
    return render(
        request, "care/partials/retention_run.html", {"run": run}, status=286 if finished else 200
    )


# --- Data-subject requests ------------------------------------------------------------------

SUBJECT_CAPABILITIES = ("administer",)


@capability_required(*SUBJECT_CAPABILITIES)
@require_http_methods(["GET", "POST"])
def subject_search(request):
    """POST, so the searched number stays out of URLs and logs."""
    form = SubjectSearchForm(request.POST or None)
    found = None
    if form.is_valid():
        try:
            found = subject_requests.find_subjects(query=form.cleaned_data["query"])
        except PresidioError as error:
            add_service_errors(form, error)
        else:
            access_log.note(
                request,
                searched={"query": form.cleaned_data["query"][:100]},
                matches=len(found),
                end_users=[person.id for person in found],
            )
    return render(request, "care/subject_search.html", {"form": form, "found": found})


def _record_context(end_user_id: int) -> dict:
    record = subject_requests.subject_record(end_user_id)
    return {"record": record, "person": record.end_user, "generated_at": timezone.now()}


@capability_required(*SUBJECT_CAPABILITIES)
@require_GET
def subject_request(request, end_user_id: int):
    context = _record_context(end_user_id)
    context["erasure_form"] = ErasureForm()
    return render(request, "care/subject_request.html", context)


@capability_required(*SUBJECT_CAPABILITIES)
@require_GET
def subject_export(request, end_user_id: int):
    """The record as a file: `?format=json` (default) or `?format=html`."""
    context = _record_context(end_user_id)
    name = f"interessato-{end_user_id}-{context['generated_at']:%Y%m%d-%H%M}"
    if request.GET.get("format") == "html":
        body = render_to_string("care/subject_record_file.html", context, request=request)
        response = HttpResponse(body, content_type="text/html; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{name}.html"'
        return response
    data = context["record"].as_data(generated_at=context["generated_at"])
    response = HttpResponse(
        json.dumps(data, ensure_ascii=False, indent=2), content_type="application/json"
    )
    response["Content-Disposition"] = f'attachment; filename="{name}.json"'
    return response


@capability_required(*SUBJECT_CAPABILITIES)
@require_POST
def subject_erase(request, end_user_id: int):
    form = ErasureForm(request.POST)
    if form.is_valid():
        access_log.note(request, purpose=form.cleaned_data["request_reference"])
        try:
            result = subject_requests.erase_subject(
                actor=request.user,
                end_user_id=end_user_id,
                keep_entry=form.cleaned_data["mode"] == "anonymise",
                now=timezone.now(),
            )
        except PresidioError as error:
            access_log.note(request, denied=True)
            add_service_errors(form, error)
        else:
            access_log.note(request, end_users=[end_user_id], **result)
            messages.success(
                request,
                ngettext(
                    "Done: %(n)s case anonymised, the entry %(entry)s.",
                    "Done: %(n)s cases anonymised, the entry %(entry)s.",
                    result["cases_anonymised"],
                )
                % {
                    "n": result["cases_anonymised"],
                    "entry": _("anonymised") if result["entry"] == "anonymised" else _("deleted"),
                },
            )
            return redirect("care:subject-search")
    context = _record_context(end_user_id)
    context["erasure_form"] = form
    return render(request, "care/subject_request.html", context, status=400)
