"""The intake page: who is calling, what their contract says, and a case in one request.

A telephony system opens `/care/intake/?phone=…` (screen pop); the number moves into the
session and the browser is sent to the clean URL, so it never stays in a URL, a history or a
log. The lookup panel and the short form share the page; keyboard alone is enough.
"""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required, login_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from care import selectors, services
from care.exceptions import DuplicateSuspected
from care.models import Channel
from config import access_log
from config.errors import PresidioError
from config.forms import add_service_errors
from config.inputs import InputForm, checks_its_own_query, whole_number
from config.permissions import capability_required
from contracts import selectors as contract_selectors
from contracts.forms import LookupForm
from contracts.lookup import LookupLimitReached, look_up_callers
from contracts.models import Priority

SESSION_QUERY = "intake_query"  # what to look up: {"phone": "..."} or e-mail / employee code
SESSION_CALLER = "intake_caller"  # the chosen caller: end user id and contract code
SESSION_MATCHES = "intake_matches"  # the end users the last lookup found: the only choices


class IntakeForm(InputForm):
    category = forms.ChoiceField(label=gettext_lazy("Category"))
    priority = forms.ChoiceField(label=gettext_lazy("Priority"), choices=Priority.choices)
    channel = forms.ChoiceField(
        label=gettext_lazy("Channel"), choices=Channel.choices, initial=Channel.PHONE
    )
    subject = forms.CharField(label=gettext_lazy("Subject"), max_length=200)
    description = forms.CharField(
        label=gettext_lazy("Description"), widget=forms.Textarea(attrs={"rows": 8})
    )
    resolved_now = forms.BooleanField(
        label=gettext_lazy("Resolved during the call"), required=False
    )
    override_reason = forms.CharField(
        label=gettext_lazy("Why a new case instead of the existing one"),
        required=False,
        max_length=300,
    )

    def __init__(self, *args, version, **kwargs):
        super().__init__(*args, **kwargs)
        categories = list(version.categories.all())
        self.categories = categories
        self.fields["category"].choices = [(c.code, c.name) for c in categories]
        if categories and not self.is_bound:
            first = categories[0]
            self.initial.setdefault("priority", first.default_priority)
            self.initial.setdefault("description", first.template)


def _caller_in_session(request):
    """The chosen caller's end user, contract and version in force, or None."""
    chosen = request.session.get(SESSION_CALLER)
    if not chosen:
        return None
    try:
        contract = contract_selectors.contract_by_code(chosen["contract_code"])
    except PresidioError:
        return None
    end_user = (
        contract.client.end_users.prefetch_related("phones")
        .filter(id=chosen["end_user_id"])
        .first()
    )
    version = contract_selectors.version_in_force(contract, timezone.localdate())
    if end_user is None or version is None:
        return None
    return {"end_user": end_user, "contract": contract, "version": version}


@login_not_required
@checks_its_own_query  # a screen pop's number, whatever it holds, gets the intake's message
def intake(request):
    """A screen pop may reach a signed-out browser: the number goes into the session (kept
    across the sign-in) and the login page gets the clean URL as `next`, so the number never
    lands in the login URL, the history or a log. Everything else needs a signed-in operator,
    exactly as on every other page."""
    if "phone" in request.GET and not request.user.is_authenticated:
        _keep_screen_pop(request)
        return redirect_to_login(reverse("care:intake"))
    return _intake_page(request)


def _keep_screen_pop(request) -> None:
    request.session[SESSION_QUERY] = {"phone": request.GET["phone"][:40]}
    request.session.pop(SESSION_CALLER, None)


@login_required
@capability_required("handle_cases")
@require_http_methods(["GET", "POST"])
def _intake_page(request):
    if "phone" in request.GET:  # screen pop: keep the number out of the URL from now on
        _keep_screen_pop(request)
        return redirect("care:intake")
    if request.method == "POST" and request.POST.get("action") == "lookup":
        return _start_lookup(request)
    if request.method == "POST" and request.POST.get("action") == "restart":
        request.session.pop(SESSION_QUERY, None)
        request.session.pop(SESSION_CALLER, None)
        return redirect("care:intake")

    caller = _caller_in_session(request)
    lookup_form = LookupForm()
    matches = lookup_error = None
    if caller is None and request.session.get(SESSION_QUERY):
        searched = request.session[SESSION_QUERY]
        matches, lookup_error = _lookup(request)
        if lookup_error:  # shown above the search box, with what was searched in it
            lookup_form = LookupForm(initial={"query": next(iter(searched.values()), "")})
        if matches and len(matches) == 1 and matches[0].version:
            _remember_caller(request, matches[0].end_user.id, matches[0].contract.code)
            caller = _caller_in_session(request)
    form = similar = None
    if caller:
        form = IntakeForm(request.POST or None, version=caller["version"])
        if request.method == "POST":
            response, similar = _submit(request, form, caller)
            if response:
                return response
    return render(
        request,
        "care/intake.html",
        {
            "lookup_form": lookup_form,
            "lookup_error": lookup_error,
            "matches": matches,
            "caller": caller,
            "form": form,
            "similar": similar,
            "open_cases": selectors.open_cases_of_end_users([caller["end_user"].id]).get(
                caller["end_user"].id, []
            )
            if caller
            else [],
        },
    )


def _start_lookup(request):
    form = LookupForm(request.POST)
    if form.is_valid():
        request.session[SESSION_QUERY] = form.lookup_keys()
        request.session.pop(SESSION_CALLER, None)
    return redirect("care:intake")


def _lookup(request):
    try:
        matches = look_up_callers(
            request, on=timezone.localdate(), **request.session[SESSION_QUERY]
        )
    except LookupLimitReached as error:
        return None, str(error.message)
    except PresidioError as error:
        # Not a number, an address or a code: said once, not looked up again at every reload.
        request.session.pop(SESSION_QUERY, None)
        return None, str(error.message)
    request.session[SESSION_MATCHES] = sorted({match.end_user.id for match in matches})
    return matches, None


def _remember_caller(request, end_user_id: int, contract_code: str) -> None:
    request.session[SESSION_CALLER] = {"end_user_id": end_user_id, "contract_code": contract_code}


@capability_required("handle_cases")
@require_POST
def choose_caller(request):
    """The operator picks one of several matches (end user and contract). Only an end user
    the last lookup found may be chosen: an id from elsewhere would show anyone's data
    without a search (refused, and the refusal is in the access log)."""
    end_user_id = whole_number(request.POST.get("end_user", ""))
    contract_code = request.POST.get("contract", "")
    if end_user_id is None or not contract_code:
        return redirect("care:intake")
    if end_user_id not in request.session.get(SESSION_MATCHES, []):
        raise PermissionDenied(_("Choose the caller among the people the search found."))
    access_log.note(request, end_users=[end_user_id])
    _remember_caller(request, end_user_id, contract_code)
    return redirect("care:intake")


def _submit(request, form, caller):
    """Open the case, or use the similar case the operator chose. Returns (redirect, similar)."""
    if not form.is_valid():
        return None, None
    data = form.cleaned_data
    action, _sep, target = request.POST.get("use_case", "").partition(":")
    if action in ("note", "reopen"):  # the service reopens a resolved or closed case itself
        return _use_existing_case(request, data, caller, target=target), None
    try:
        case = services.open_case(
            actor=request.user,
            request=services.CaseRequest(
                contract_code=caller["contract"].code,
                category_code=data["category"],
                channel=data["channel"],
                subject=data["subject"],
                description=data["description"],
                priority=data["priority"],
                end_user_id=caller["end_user"].id,
                duplicate_override_reason=data["override_reason"],
                resolved_during_call=data["resolved_now"],
            ),
        )
    except DuplicateSuspected as error:
        return None, error.candidates
    except PresidioError as error:
        add_service_errors(form, error)
        return None, None
    _forget_intake(request)
    messages.success(request, _("Case %(ref)s opened.") % {"ref": case.reference})
    return redirect("care:case-detail", reference=case.reference), None


def _use_existing_case(request, data, caller, *, target: str):
    """Instead of a duplicate: the new contact becomes a note of the case (reopened if it
    was resolved or closed), by `services.add_contact`."""
    try:
        case = services.add_contact(
            actor=request.user,
            case=selectors.case_by_reference(request.user, target),
            end_user_id=caller["end_user"].id,
            subject=data["subject"],
            description=data["description"],
        )
    except PresidioError as error:
        messages.error(request, str(error.message))
        return redirect("care:intake")
    _forget_intake(request)
    messages.success(request, _("The contact was added to %(ref)s.") % {"ref": case.reference})
    return redirect("care:case-detail", reference=case.reference)


def _forget_intake(request) -> None:
    request.session.pop(SESSION_QUERY, None)
    request.session.pop(SESSION_CALLER, None)
