"""The intake page: who is calling, what their contract says, and a case in one request.

A telephony system opens `/care/intake/?phone=…` (screen pop); the number moves into the
session and the browser is sent to the clean URL, so it never stays in a URL, a history or a
log. With the PBX's events, the operator's own page opens `/care/intake/?call=<call id>` when
they answer: the number comes from the call (`ports.caller_of_call`), the case opened is
theirs and linked to the call. The lookup panel and the short form share the page; keyboard
alone is enough.
"""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required, login_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.db.models import OuterRef
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from care import incident_selectors, incidents, ports, selectors, services
from care.exceptions import DuplicateSuspected
from care.models import Channel
from config import access_log
from config.errors import PresidioError
from config.forms import add_service_errors, service_error_message
from config.inputs import InputForm, checks_its_own_query, whole_number
from config.permissions import capability_required
from contracts import selectors as contract_selectors
from contracts.forms import LookupForm
from contracts.lookup import LookupLimitReached, look_up_callers
from contracts.models import Priority, Service

SESSION_QUERY = "intake_query"  # what to look up: {"phone": "..."} or e-mail / employee code
SESSION_CALLER = "intake_caller"  # the chosen caller: end user id and contract code
SESSION_MATCHES = "intake_matches"  # the end users the last lookup found: the only choices
SESSION_CALL = "intake_call"  # the call the operator answered (a pop from the PBX's event)


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
    to_queue_reason = forms.CharField(
        label=gettext_lazy("Send it to a queue instead of keeping it: why"),
        help_text=gettext_lazy("Leave empty to keep the case: you took the call."),
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
            self.initial.setdefault("subject", first.name)  # editable; follows the category
            self.initial.setdefault("description", first.template)


def _caller_in_session(request, *, end_user: bool = True):
    """The chosen caller's end user, contract and version in force, or None. Without
    `end_user` only its id (`end_user_id`, as it was chosen): a case being opened needs no
    more, and `services.open_case` reads and locks the end user itself."""
    chosen = request.session.get(SESSION_CALLER)
    if not chosen:
        return None
    try:
        contract = contract_selectors.contract_by_code(chosen["contract_code"])
    except PresidioError:
        return None
    version = contract_selectors.version_in_force(contract, timezone.localdate())
    if version is None:
        return None
    caller = {"end_user_id": chosen["end_user_id"], "contract": contract, "version": version}
    if not end_user:
        return caller
    found = (
        contract.client.end_users.annotate(phone_rows=contract_selectors.phones_of(OuterRef("id")))
        .filter(id=chosen["end_user_id"])
        .first()
    )
    if found is None:
        return None
    contract_selectors.keep_phones(found.phone_rows, found)
    return caller | {"end_user": found}


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
    if "call" in request.GET:  # the PBX said this operator answered: look the caller up
        return _pop_call(request, request.GET["call"][:100])
    if request.method == "POST" and request.POST.get("action") == "lookup":
        return _start_lookup(request)
    if request.method == "POST" and request.POST.get("action") == "restart":
        request.session.pop(SESSION_QUERY, None)
        request.session.pop(SESSION_CALLER, None)
        return redirect("care:intake")

    caller = _caller_in_session(request, end_user=not _opens_a_case(request))
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
    choices = _choices(matches) if matches and caller is None else []
    if any(choice["likeliest"] for choice in choices):  # focus on the likeliest, not the search
        lookup_form.fields["query"].widget.attrs.pop("autofocus", None)
    form = similar = None
    banner = []
    if caller:
        access_log.note(request, end_users=[caller["end_user_id"]])  # the page shows them
        if request.method == "POST" and request.POST.get("action") in INCIDENT_ACTIONS:
            return _incident_action(request, caller, _incident_banner(caller))
        form = IntakeForm(request.POST or None, version=caller["version"])
        if request.method == "POST":
            response, similar = _submit(request, form, caller)
            if response:
                return response
            if "end_user" not in caller:  # the form again, with the caller shown
                caller = _caller_in_session(request)
                if caller is None:
                    return redirect("care:intake")
        banner = _incident_banner(caller)  # read only for a page shown: not for a case opened
    return render(
        request,
        "care/intake.html",
        {
            "lookup_form": lookup_form,
            "lookup_error": lookup_error,
            "matches": matches,
            "choices": choices,
            "caller": caller,
            "form": form,
            "similar": similar,
            "on_call": request.session.get(SESSION_CALL, ""),
            "incident_banner": banner,
            "open_cases": selectors.open_cases_of_end_users([caller["end_user"].id]).get(
                caller["end_user"].id, []
            )
            if caller
            else [],
        },
    )


INCIDENT_LINK, INCIDENT_INFO = "incident_link", "incident_info"
INCIDENT_ACTIONS = (INCIDENT_LINK, INCIDENT_INFO)


def _opens_a_case(request) -> bool:
    """A POST of the intake form that opens a case (not a search, an incident's action or
    the choice of an existing case instead)."""
    return (
        request.method == "POST"
        and request.POST.get("action") not in (*INCIDENT_ACTIONS, "lookup", "restart")
        and request.POST.get("use_case", "").partition(":")[0] not in ("note", "reopen")
    )


def _incident_banner(caller) -> list[dict]:
    """The confirmed incidents covering this caller (their client, a service of their
    contract, the client's province: the directory has no province per end user), each with
    the contract's category of the same code when it has one (one query: the categories
    are the version's, already read for the form)."""
    contract = caller["contract"]
    categories = {c.code: c for c in caller["version"].categories.all()}
    return [
        {"incident": incident, "category": categories.get(incident.category_code)}
        for incident in incident_selectors.active_incidents_for_caller(
            client=contract.client, contract_services=contract.services
        )
    ]


def _incident_action(request, caller, banner):
    """The banner's one-key answers: a case opened already linked to the incident (its
    category and priority), or the call logged against it without a case."""
    chosen = next(
        (b for b in banner if str(b["incident"].id) == request.POST.get("incident", "")), None
    )
    if chosen is None:  # no longer active, or not this caller's: the page says what is
        messages.error(request, _("This incident no longer concerns this caller."))
        return redirect("care:intake")
    incident = chosen["incident"]
    call_id = request.session.get(SESSION_CALL, "")
    try:
        if request.POST["action"] == INCIDENT_INFO:
            incidents.log_information_contact(
                actor=request.user,
                incident=incident,
                client_id=caller["contract"].client_id,
                call_id=call_id,
            )
            _forget_intake(request)
            messages.success(
                request, _("Contact counted against %(ref)s.") % {"ref": incident.reference}
            )
            return redirect("care:intake")
        category = chosen["category"]
        if category is None:
            messages.error(
                request,
                _("The contract has no category %(code)s: open the case with the form.")
                % {"code": incident.category_code or "—"},
            )
            return redirect("care:intake")
        case = services.open_case(
            actor=request.user,
            request=services.CaseRequest(
                contract_code=caller["contract"].code,
                category_code=category.code,
                channel=Channel.PHONE,
                subject=incident.title[:200],
                description=_("Call about the major incident %(ref)s: %(title)s")
                % {"ref": incident.reference, "title": incident.title},
                priority=incident.priority,
                end_user_id=caller["end_user"].id,
                call_id=call_id,
                incident_id=incident.id,
            ),
            contract=caller["contract"],
        )
    except DuplicateSuspected:
        messages.error(
            request,
            _(
                "This caller already has a similar case: add this contact to it from the "
                "form below, or count it as information only."
            ),
        )
        return redirect("care:intake")
    except PresidioError as error:
        messages.error(request, service_error_message(error))
        return redirect("care:intake")
    _forget_intake(request)
    messages.success(
        request,
        _("Case %(ref)s opened, linked to %(incident)s.")
        % {"ref": case.reference, "incident": incident.reference},
    )
    return redirect("care:case-detail", reference=case.reference)


def _pop_call(request, call_id: str):
    """The caller of a call this operator answered, looked up by its number (kept in the
    session, never in a URL); a call that is not theirs is refused with a message."""
    number = ports.caller_of_call(call_id, request.user)
    if number is None:
        messages.error(request, _("This call was not answered by you, or it ended long ago."))
        return redirect("care:intake")
    _forget_intake(request)
    request.session[SESSION_CALL] = call_id
    if number:
        request.session[SESSION_QUERY] = {"phone": number}
    else:
        messages.info(request, _("The caller withheld their number: look them up."))
    return redirect("care:intake")


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


def _choices(matches) -> list[dict]:
    """The matches as the operator chooses among them: each with its contract's services and
    client named, and the likeliest one marked (focus goes there): the contract of the
    caller's newest open case, else of their most recent case, else the first in force."""
    likely = {
        match.end_user.id: match.open_cases[0]["contract_code"]
        for match in matches
        if match.open_cases
    }
    if not likely:
        likely = selectors.latest_case_contracts([match.end_user.id for match in matches])
    choices = [
        {
            "match": match,
            "services": ", ".join(
                str(Service(code).label) if code in Service.values else code
                for code in (match.contract.services if match.contract else [])
            ),
            "likeliest": False,
        }
        for match in matches
    ]
    usable = [c for c in choices if c["match"].version]
    best = next(
        (c for c in usable if likely.get(c["match"].end_user.id) == c["match"].contract.code),
        usable[0] if usable else None,
    )
    if best is not None:
        best["likeliest"] = True
    return choices


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


# The submit button shown beside the similar cases ("Open a new case anyway").
NEW_CASE_ANYWAY = "anyway"


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
                end_user_id=caller["end_user_id"],
                duplicate_override_reason=data["override_reason"],
                resolved_during_call=data["resolved_now"],
                call_id=request.session.get(SESSION_CALL, ""),
                to_queue_reason=data["to_queue_reason"],
            ),
            contract=caller["contract"],
        )
    except DuplicateSuspected as error:
        if request.POST.get("new_case") == NEW_CASE_ANYWAY:
            # The operator saw the similar cases and chose a new one: the reason is missing.
            form.add_error("override_reason", _("Give the reason for opening a new case."))
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
            call_id=request.session.get(SESSION_CALL, ""),
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
    request.session.pop(SESSION_CALL, None)
