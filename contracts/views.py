"""Pages of the contracts app: contract cards for everyone, configuration for managers,
the caller lookup for operators."""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods, require_POST

from config.errors import PresidioError
from config.forms import add_service_errors
from config.permissions import ANY_ROLE, capability_required
from contracts import selectors, services
from contracts.forms import (
    AmendmentForm,
    CalendarForm,
    ClientForm,
    ContractEditForm,
    ContractForm,
    EndUserImportForm,
    LookupForm,
    OrderValidationForm,
    SlaPreviewForm,
    TermsForm,
)
from contracts.imports import UnreadableFile, read_upload
from contracts.lookup import look_up_callers
from contracts.models import Client, Priority, Segment, Service

IMPORT_ERRORS_SHOWN = 500
CALENDAR_FIELD_ALIASES = {"hours": "day_0", "closures": "closures"}
TERMS_ALIASES = {"sla_targets": "P1_first_response"}

# --- Contracts ------------------------------------------------------------------------------


@capability_required(*ANY_ROLE)
def contract_list(request):
    params = request.GET
    contracts = selectors.contract_list(
        search=params.get("q", "").strip(),
        segment=params.get("segment", ""),
        service=params.get("service", ""),
        status=params.get("status", ""),
    )
    return render(
        request,
        "contracts/contract_list.html",
        {
            "contracts": contracts[:500],
            "segments": Segment.choices,
            "services": Service.choices,
            "today": timezone.localdate(),
        },
    )


@capability_required(*ANY_ROLE)
def contract_detail(request, code: str):
    contract = selectors.contract_by_code(code)
    today = timezone.localdate()
    version = selectors.version_in_force(contract, today) or contract.versions.all()[0]
    preview_form = SlaPreviewForm(request.GET or None, initial={"priority": Priority.P2})
    preview = None
    if preview_form.is_valid():
        opened_at = preview_form.cleaned_data["opened_at"] or timezone.now()
        try:
            preview = selectors.sla_due(
                contract, priority=preview_form.cleaned_data["priority"], opened_at=opened_at
            )
        except PresidioError as error:
            add_service_errors(preview_form, error)
    return render(
        request,
        "contracts/contract_detail.html",
        {
            "contract": contract,
            "version": version,
            "in_force": selectors.contract_in_force(contract, today),
            "preview_form": preview_form,
            "preview": preview,
            "can_manage": request.user.has_perm("config.manage_contracts"),
            "validation_changes": selectors.order_validation_changes(contract, limit=1),
        },
    )


@capability_required("manage_contracts")
@require_http_methods(["GET", "POST"])
def contract_create(request):
    form = ContractForm(request.POST or None)
    if form.is_valid():
        data = form.cleaned_data
        try:
            contract = services.create_contract(
                actor=request.user,
                code=data["code"],
                client=data["client"],
                calendar=data["calendar"],
                services=data["services"],
                valid_from=data["valid_from"],
                valid_to=data["valid_to"],
                terms=form.to_terms(),
            )
        except PresidioError as error:
            add_service_errors(form, error, aliases=TERMS_ALIASES)
        else:
            messages.success(request, _("Contract %(code)s created.") % {"code": contract.code})
            return redirect("contracts:contract-detail", code=contract.code)
    return render(
        request,
        "contracts/contract_form.html",
        {
            "form": form,
            "title": _("New contract"),
        },
    )


@capability_required("manage_contracts")
@require_http_methods(["GET", "POST"])
def contract_amend(request, code: str):
    contract = selectors.contract_by_code(code)
    current = contract.versions.all()[0]
    form = AmendmentForm(request.POST or None, initial=TermsForm.initial_for(current))
    if form.is_valid():
        try:
            version = services.amend_contract(
                actor=request.user,
                contract=contract,
                effective_from=form.cleaned_data["effective_from"],
                terms=form.to_terms(),
            )
        except PresidioError as error:
            add_service_errors(form, error, aliases=TERMS_ALIASES)
        else:
            messages.success(
                request,
                _("Version %(n)s of %(code)s saved.")
                % {"n": version.number, "code": contract.code},
            )
            return redirect("contracts:contract-detail", code=contract.code)
    return render(
        request,
        "contracts/contract_form.html",
        {
            "form": form,
            "contract": contract,
            "title": _("Amend %(code)s") % {"code": contract.code},
        },
    )


@capability_required("manage_contracts")
@require_http_methods(["GET", "POST"])
def contract_edit(request, code: str):
    contract = selectors.contract_by_code(code)
    form = ContractEditForm(
        request.POST or None,
        initial={
            "calendar": contract.calendar,
            "services": contract.services,
            "valid_to": contract.valid_to,
            "status": contract.status,
            "retention_months": contract.retention_months,
            "mail_signature": contract.mail_signature,
            "acknowledge_phone_cases": contract.acknowledge_phone_cases,
        },
    )
    if form.is_valid():
        try:
            services.update_contract(actor=request.user, contract=contract, **form.cleaned_data)
        except PresidioError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Contract %(code)s updated.") % {"code": contract.code})
            return redirect("contracts:contract-detail", code=contract.code)
    return render(
        request,
        "contracts/simple_form.html",
        {
            "form": form,
            "title": _("Edit %(code)s") % {"code": contract.code},
            "cancel_url": reverse("contracts:contract-detail", args=[contract.code]),
        },
    )


@capability_required("manage_contracts")
@require_http_methods(["GET", "POST"])
def contract_order_validation(request, code: str):
    """Managers: allow or stop single-person validation of the contract's orders (audited,
    with a reason)."""
    contract = selectors.contract_by_code(code)
    form = OrderValidationForm(
        request.POST or None, initial={"single_person": contract.single_person_order_validation}
    )
    if form.is_valid():
        try:
            services.set_order_validation(
                actor=request.user, contract=contract, **form.cleaned_data
            )
        except PresidioError as error:
            add_service_errors(form, error)
        else:
            messages.success(
                request,
                _("Order validation of %(code)s changed.") % {"code": contract.code},
            )
            return redirect("contracts:contract-detail", code=contract.code)
    return render(
        request,
        "contracts/simple_form.html",
        {
            "form": form,
            "title": _("Validation of the orders of %(code)s") % {"code": contract.code},
            "cancel_url": reverse("contracts:contract-detail", args=[contract.code]),
        },
    )


# --- Clients --------------------------------------------------------------------------------


@capability_required("manage_contracts")
def client_list(request):
    clients = Client.objects.order_by("name")
    return render(request, "contracts/client_list.html", {"clients": clients})


@capability_required("manage_contracts")
@require_http_methods(["GET", "POST"])
def client_form(request, pk: int | None = None):
    client = get_object_or_404(Client, pk=pk) if pk else None
    form = ClientForm(
        request.POST or None, initial=ClientForm.initial_for(client) if client else {}
    )
    if form.is_valid():
        data = form.cleaned_data
        try:
            if client:
                services.update_client(actor=request.user, client=client, **data)
            else:
                data.pop("is_active")
                services.create_client(actor=request.user, **data)
        except PresidioError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Client saved."))
            return redirect("contracts:client-list")
    return render(
        request,
        "contracts/simple_form.html",
        {
            "form": form,
            "title": client.name if client else _("New client"),
            "cancel_url": reverse("contracts:client-list"),
        },
    )


# --- Calendars ------------------------------------------------------------------------------


@capability_required("manage_contracts")
def calendar_list(request):
    return render(
        request,
        "contracts/calendar_list.html",
        {
            "calendars": selectors.calendars_with_rules().order_by("name"),
        },
    )


@capability_required("manage_contracts")
@require_http_methods(["GET", "POST"])
def calendar_form(request, pk: int | None = None):
    calendar = get_object_or_404(selectors.calendars_with_rules(), pk=pk) if pk else None
    form = CalendarForm(
        request.POST or None, initial=CalendarForm.initial_for(calendar) if calendar else {}
    )
    if form.is_valid():
        data = form.cleaned_data
        arguments = {
            "actor": request.user,
            "name": data["name"],
            "timezone_name": data["timezone"],
            "province": data["province"],
            "always_open": data["always_open"],
            "hours": data["hours"],
            "closures": data["closure_days"],
        }
        try:
            if calendar:
                services.update_calendar(calendar=calendar, **arguments)
            else:
                services.create_calendar(**arguments)
        except PresidioError as error:
            add_service_errors(form, error, aliases=CALENDAR_FIELD_ALIASES)
        else:
            messages.success(request, _("Calendar saved."))
            return redirect("contracts:calendar-list")
    changes = (
        calendar.audit_events.filter(kind="calendar_changed").select_related("actor")[:20]
        if calendar
        else []
    )
    return render(
        request,
        "contracts/calendar_form.html",
        {
            "form": form,
            "calendar": calendar,
            "changes": changes,
            "day_fields": [form[f"day_{weekday}"] for weekday in range(7)],
        },
    )


# --- End users ------------------------------------------------------------------------------


@capability_required("manage_contracts", "work_backoffice")
@require_http_methods(["GET", "POST"])
def end_user_import(request):
    form = EndUserImportForm(request.POST or None, request.FILES or None, user=request.user)
    report = None
    if form.is_valid():
        try:
            rows = read_upload(form.cleaned_data["file"])
        except UnreadableFile as error:
            form.add_error("file", str(error))
        else:
            try:
                report = services.import_end_users(
                    actor=request.user,
                    client=form.cleaned_data["client"],
                    rows=rows,
                    dry_run="confirm" not in request.POST,
                    all_or_nothing=form.cleaned_data["mode"] == "all",
                )
            except PresidioError as error:
                add_service_errors(form, error)
            if report is not None and report.created:
                messages.success(
                    request,
                    ngettext(
                        "%(n)s end user imported.", "%(n)s end users imported.", report.created
                    )
                    % {"n": report.created},
                )
    shown = report.errors[:IMPORT_ERRORS_SHOWN] if report else []
    return render(
        request,
        "contracts/end_user_import.html",
        {
            "form": form,
            "report": report,
            "shown_errors": shown,
            "hidden_errors": (len(report.errors) - len(shown)) if report else 0,
        },
    )


# --- Caller lookup --------------------------------------------------------------------------


@capability_required("handle_cases", "work_backoffice")
@require_http_methods(["GET", "POST"])
def caller_lookup(request):
    """POST keeps the number out of URLs and logs; the panel partial is what intake shows."""
    form, matches = _looked_up(request)
    return render(request, "contracts/lookup.html", {"form": form, "matches": matches})


@capability_required("handle_cases", "work_backoffice")
@require_POST
def caller_panel(request):
    """The lookup panel alone, for htmx swaps (intake page)."""
    form, matches = _looked_up(request)
    return render(
        request, "contracts/partials/caller_panel.html", {"form": form, "matches": matches or []}
    )


def _looked_up(request):
    """The lookup form and its matches (None until a search ran); errors go on the form."""
    form = LookupForm(request.POST or None)
    matches = None
    if form.is_valid():
        try:
            matches = look_up_callers(request, on=timezone.localdate(), **form.lookup_keys())
        except PresidioError as error:
            add_service_errors(form, error, aliases=dict.fromkeys(form.lookup_keys(), "query"))
    return form, matches
