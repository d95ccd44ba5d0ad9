"""Major-incident pages for supervisors and managers: the list, the form (open or edit), and
the incident's page (timeline, linked cases, bulk link from a filtered list, unlink, confirm,
resolve). Each action posts to its own URL, calls one service of `care.incidents` and
redirects back (POST-redirect-GET); a refusal is said at the top of the page."""

from django import forms
from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from care import incident_selectors, incidents
from care.models import IncidentStatus
from config import roles
from config.errors import PresidioError
from config.forms import add_service_errors, service_error_message
from config.inputs import InputForm
from config.permissions import capability_required
from contracts.models import Client, Priority, Service

READ = incidents.READ_CAPABILITIES
MANAGE = incidents.MANAGE_CAPABILITIES
LINKED_SHOWN = 200


def _split(raw: str) -> list[str]:
    return [part for part in raw.replace(",", " ").split() if part]


class IncidentForm(InputForm):
    title = forms.CharField(label=gettext_lazy("Title"), max_length=200)
    services = forms.MultipleChoiceField(
        label=gettext_lazy("Services"),
        choices=Service.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    clients = forms.ModelMultipleChoiceField(
        label=gettext_lazy("Clients (none: all)"), queryset=Client.objects.none(), required=False
    )
    provinces = forms.CharField(
        label=gettext_lazy("Provinces (empty: the whole country)"),
        required=False,
        help_text=gettext_lazy("Province codes separated by spaces, e.g. PA CT ME."),
    )
    lines = forms.CharField(
        label=gettext_lazy("Lines or cells affected"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    started_at = forms.DateTimeField(label=gettext_lazy("Started at"))
    expected_end_at = forms.DateTimeField(label=gettext_lazy("Expected end"), required=False)
    public_message = forms.CharField(
        label=gettext_lazy("Public message"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("Read out by operators and sent to end users at resolution."),
    )
    category_code = forms.SlugField(
        label=gettext_lazy("Category of the cases (code)"), required=False, max_length=50
    )
    priority = forms.ChoiceField(
        label=gettext_lazy("Priority of the cases"),
        choices=[("", gettext_lazy("The category's")), *Priority.choices],
        required=False,
    )
    resolution_code = forms.CharField(
        label=gettext_lazy("Resolution code"), required=False, max_length=50
    )
    owner = forms.ModelChoiceField(
        label=gettext_lazy("Internal owner"), queryset=roles.users_with().none(), required=False
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["clients"].queryset = Client.objects.filter(is_active=True).order_by("name")
        self.fields["owner"].queryset = roles.users_with(*MANAGE).order_by("username")

    def incident_data(self) -> incidents.IncidentData:
        data = self.cleaned_data
        return incidents.IncidentData(
            title=data["title"],
            services=data["services"],
            client_ids=[client.id for client in data["clients"]],
            provinces=_split(data["provinces"]),
            lines=data["lines"],
            started_at=data["started_at"],
            expected_end_at=data["expected_end_at"],
            public_message=data["public_message"],
            category_code=data["category_code"],
            priority=data["priority"],
            resolution_code=data["resolution_code"],
            owner_id=data["owner"].id if data["owner"] else None,
        )


class BulkLinkForm(InputForm):
    """What the filtered list of open cases is filtered by (it travels in the URL: no
    personal data)."""

    service = forms.ChoiceField(
        label=gettext_lazy("Service"), choices=[("", "—"), *Service.choices], required=False
    )
    province = forms.CharField(label=gettext_lazy("Province"), max_length=2, required=False)
    category = forms.SlugField(label=gettext_lazy("Category (code)"), required=False)
    opened_since = forms.DateTimeField(label=gettext_lazy("Opened since"), required=False)

    def cases(self):
        data = self.cleaned_data
        return incidents.cases_matching(
            service=data["service"],
            province=data["province"],
            category_code=data["category"],
            opened_since=data["opened_since"],
        )


@require_GET
@capability_required(*READ)
def incident_list(request):
    listed = list(incident_selectors.incidents_listed().order_by("-started_at", "-id")[:200])
    return render(
        request,
        "care/incident_list.html",
        {"incidents": listed, "may_manage": incidents.may_manage(request.user)},
    )


@require_http_methods(["GET", "POST"])
@capability_required(*MANAGE)
def incident_create(request):
    form = IncidentForm(request.POST or None, initial={"services": [Service.MOBILE]})
    if request.method == "POST" and form.is_valid():
        try:
            incident = incidents.open_incident(actor=request.user, data=form.incident_data())
        except PresidioError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Incident %(ref)s opened.") % {"ref": incident.reference})
            return redirect("care:incident-detail", incident_id=incident.id)
    return render(request, "care/incident_form.html", {"form": form, "incident": None})


@require_http_methods(["GET", "POST"])
@capability_required(*MANAGE)
def incident_edit(request, incident_id: int):
    incident = incident_selectors.incident_by_id(incident_id)
    initial = {
        "title": incident.title,
        "services": incident.services,
        "clients": incident.client_ids,
        "provinces": " ".join(incident.provinces),
        "lines": incident.lines,
        "started_at": incident.started_at,
        "expected_end_at": incident.expected_end_at,
        "public_message": incident.public_message,
        "category_code": incident.category_code,
        "priority": incident.priority,
        "resolution_code": incident.resolution_code,
        "owner": incident.owner_id,
    }
    form = IncidentForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            incidents.update_incident(
                actor=request.user, incident=incident, data=form.incident_data()
            )
        except PresidioError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Incident updated."))
            return redirect("care:incident-detail", incident_id=incident.id)
    return render(request, "care/incident_form.html", {"form": form, "incident": incident})


@require_GET
@capability_required(*READ)
def incident_detail(request, incident_id: int):
    incident = incident_selectors.incident_by_id(incident_id)
    link_form = BulkLinkForm(request.GET or None)
    matching = None
    if link_form.is_bound and link_form.is_valid():
        matching = link_form.cases().count()
    linked = list(incident_selectors.linked_cases(incident)[:LINKED_SHOWN])
    return render(
        request,
        "care/incident_detail.html",
        {
            "incident": incident,
            "category_name": incident_selectors.category_name(incident.category_code),
            "timeline": incident.events.select_related("actor"),
            "linked": linked,
            "more_linked": max(0, incident.linked_count - len(linked)),
            "link_form": link_form,
            "matching": matching,
            "may_manage": incidents.may_manage(request.user),
            "is_suspected": incident.status == IncidentStatus.SUSPECTED,
            "is_active": incident.is_active,
        },
    )


def _act(request, incident_id: int, act) -> object:
    incident = incident_selectors.incident_by_id(incident_id)
    try:
        messages.success(request, act(incident))
    except PresidioError as error:
        messages.error(request, service_error_message(error))
    return redirect("care:incident-detail", incident_id=incident.id)


@require_POST
@capability_required(*MANAGE)
def incident_link(request, incident_id: int):
    """Link every open, unlinked case the filters select (the count shown on the page)."""
    form = BulkLinkForm(request.POST)

    def act(incident):
        if not form.is_valid():
            return _("Check the filters.")
        linked = incidents.link_cases(actor=request.user, incident=incident, cases=form.cases())
        return ngettext("%(n)s case linked.", "%(n)s cases linked.", linked) % {"n": linked}

    return _act(request, incident_id, act)


@require_POST
@capability_required(*MANAGE)
def incident_unlink(request, incident_id: int):
    case = incident_selectors.case_named(request.POST.get("case"))

    def act(incident):
        if case is None or not incidents.unlink_case(
            actor=request.user, incident=incident, case=case
        ):
            return _("The case was not linked.")
        return _("%(ref)s unlinked.") % {"ref": case.reference}

    return _act(request, incident_id, act)


@require_POST
@capability_required(*MANAGE)
def incident_confirm(request, incident_id: int):
    def act(incident):
        incidents.confirm_incident(actor=request.user, incident=incident)
        return _("Incident confirmed.")

    return _act(request, incident_id, act)


@require_POST
@capability_required(*MANAGE)
def incident_resolve(request, incident_id: int):
    def act(incident):
        result = incidents.resolve_incident(actor=request.user, incident=incident)
        resolved = len(result.resolved_case_ids)
        return ngettext(
            "Incident resolved: %(n)s case resolved.",
            "Incident resolved: %(n)s cases resolved.",
            resolved,
        ) % {"n": resolved}

    return _act(request, incident_id, act)
