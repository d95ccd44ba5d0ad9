"""Routing pages: the operator's workspace (presence, my cases, "Prossimo caso"), the
supervisor console (queues, sites, reassign, presence, emergency) and the case page's
"why me?" section.

Actions post to their own URL, call one service and redirect (POST-redirect-GET), or show
the page again with the form's errors. The live parts of the pages are partials that htmx
polls; every page works without JavaScript.
"""

from datetime import datetime
from urllib.parse import quote

from django import forms
from django.contrib import messages
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from care import incident_selectors, sla_display
from care import privacy as care_privacy
from care import selectors as care_selectors
from config import access_log
from config.errors import PresidioError
from config.forms import add_service_errors, failed_form, keep_failed_form
from config.models import Heartbeat
from config.permissions import capability_required
from contracts.phones import display_phone
from contracts.privacy import short_name
from routing import access_watch, call_selectors, calls, selectors, services, wording
from routing.exceptions import NoOperatorProfile
from routing.forms import (
    PRESENCE_CHOICES,
    CallbackDoneForm,
    EmergencyForm,
    EmergencyOffForm,
    OperatorPresenceForm,
    PresenceForm,
    ReassignForm,
)
from routing.models import Callback, OperatorProfile, PresenceState, Queue

WORK = ("handle_cases",)
SUPERVISE = ("supervise",)
READ_CASES = ("handle_cases", "supervise")
WORKSPACE_POLL_SECONDS = 15
CONSOLE_POLL_SECONDS = 10


def _is_htmx(request) -> bool:
    return request.headers.get("HX-Request") == "true"


# --- Operator workspace ---------------------------------------------------------------------


def _my_profile(user) -> OperatorProfile | None:
    try:
        return selectors.profile_of(user)
    except NoOperatorProfile:
        return None


def _my_work(user, profile: OperatorProfile | None, now: datetime) -> dict:
    """What the workspace refreshes: my open cases and the count waiting in my queues."""
    cases = care_selectors.open_cases_assigned_to(user)
    waiting = selectors.waiting_for(user, now=now) if profile is not None else None
    return {
        "rows": [{"case": case, "sla": sla_display.summary(case, now)} for case in cases],
        "waiting": waiting,
        "callbacks_waiting": call_selectors.callbacks_waiting(),
        "poll_seconds": WORKSPACE_POLL_SECONDS,
    }


def _workspace_page(request, *, presence_form=None, status=200):
    now = timezone.now()
    profile = _my_profile(request.user)
    context = {
        "profile": profile,
        "presence_form": presence_form or PresenceForm(),
        "presence_states": PRESENCE_CHOICES,
        **_my_work(request.user, profile, now),
    }
    return render(request, "routing/workspace.html", context, status=status)


@capability_required(*WORK)
@require_GET
def workspace(request):
    return _workspace_page(request)


@capability_required(*WORK)
@require_GET
def workspace_live(request):
    """The partial htmx polls: my cases and the count waiting for me."""
    now = timezone.now()
    context = _my_work(request.user, _my_profile(request.user), now)
    return render(request, "routing/partials/workspace_live.html", context)


@capability_required(*WORK)
@require_POST
def my_presence(request):
    form = PresenceForm(request.POST)
    if form.is_valid():
        try:
            services.set_presence(
                actor=request.user,
                profile=selectors.profile_of(request.user),
                state=form.cleaned_data["state"],
            )
        except PresidioError as error:
            add_service_errors(form, error)
        else:
            label = PresenceState(form.cleaned_data["state"]).label
            messages.success(request, _("Your presence is now “%(state)s”.") % {"state": label})
            return redirect("routing:workspace")
    return _workspace_page(request, presence_form=form, status=400)


def _why_taken(case) -> str:
    assignment = getattr(case, "routing_assignment", None)
    if assignment is None:
        return ""
    return wording.reason_in_words(assignment, case.opened_at)


@capability_required(*WORK)
@require_POST
def take_next(request):
    """Take the next case ("Prossimo caso"): the best one the operator may take now, then
    its page, with why it came to them."""
    try:
        case = services.take_next_case(operator=request.user)
    except PresidioError as error:
        messages.error(request, str(error.message))
        return redirect("routing:workspace")
    if case is None:
        messages.info(request, _("Nothing is waiting for you right now. Well done!"))
        return redirect("routing:workspace")
    why = _why_taken(case)
    if why:
        messages.success(
            request, _("Case %(ref)s is yours: %(why)s.") % {"ref": case.reference, "why": why}
        )
    else:
        messages.success(request, _("Case %(ref)s is yours.") % {"ref": case.reference})
    return redirect("care:case-detail", reference=case.reference)


# --- Supervisor console ---------------------------------------------------------------------


def _bars(rows: list[dict]) -> list[dict]:
    """Rows of a horizontal bar chart: `value` as a share (0-100) of the row's `of` if given
    (a load against a capacity), else of the largest value (counts compared)."""
    largest = max((row["value"] for row in rows), default=0)
    shaped = []
    for row in rows:
        whole = row.get("of", largest)
        share = round(min(100, 100 * row["value"] / whole), 1) if whole else 0
        shaped.append({**row, "bar": share})
    return shaped


def _sites(operators: list) -> list[dict]:
    """The operators grouped by site (those without a site last), with the site's load."""
    sites: dict[str, dict] = {}
    for operator in sorted(operators, key=lambda o: (not o.site_code, o.site_code)):
        site = sites.setdefault(
            operator.site_code,
            {
                "code": operator.site_code,
                "name": operator.site_name or _("No site"),
                "operators": [],
                "held": 0,
                "capacity": 0,
                "available": 0,
            },
        )
        site["operators"].append(
            {
                "operator": operator,
                "presence_label": PresenceState(operator.presence).label,
                "full": operator.held >= operator.front_office_limit,
            }
        )
        site["held"] += operator.held
        site["capacity"] += operator.capacity
        site["available"] += operator.presence == PresenceState.AVAILABLE
    return list(sites.values())


def _console_live(now: datetime) -> dict:
    queues = selectors.queue_overview(now=now)
    operators = selectors.operator_overview(now=now)
    sites = _sites(operators)
    return {
        "incidents": [
            {
                "item": item,
                "call_bars": _bars(
                    [
                        {"label": f"{timezone.localtime(at):%H:%M}", "value": n}
                        for at, n in item.calls_per_quarter
                    ]
                ),
            }
            for item in incident_selectors.console_incidents(now=now)
        ],
        "queues": queues,
        "queue_bars": _bars([{"label": q.name, "value": q.waiting} for q in queues]),
        "emergencies": [q for q in queues if q.in_emergency],
        "sites": sites,
        "site_bars": _bars(
            [{"label": s["name"], "value": s["held"], "of": s["capacity"]} for s in sites]
        ),
        "heartbeat": Heartbeat.objects.filter(name=Heartbeat.SLA_RECOMPUTE).first(),
        "now": now,
        "poll_seconds": CONSOLE_POLL_SECONDS,
        "operators": operators,
    }


def _choices(live: dict) -> dict:
    """The console forms' choices, from what the console has read already (plus the queue
    rows: only a configured queue can go into emergency)."""
    operators = [
        (o.user_id, f"{o.name} ({o.username}{f' · {o.site_name}' if o.site_name else ''})")
        for o in sorted(live["operators"], key=lambda o: (o.name.lower(), o.username))
    ]
    queues = list(selectors.active_queues().order_by("name").values_list("code", "name"))
    emergencies = sorted((q.code, q.name) for q in live["emergencies"])
    return {"operators": operators, "queues": queues, "emergencies": emergencies}


FORMS = {
    "reassign_form": ReassignForm,
    "presence_form": OperatorPresenceForm,
    "emergency_form": EmergencyForm,
    "emergency_off_form": EmergencyOffForm,
}


CONSOLE_PAGE = "routing:console"  # where a refused console form is shown again


def _console_action(request, name: str, act):
    """Validate the posted console form `name`, call `act(form)` (which calls one service
    and answers the success message), then redirect to the console. A form with errors goes
    back there too (post/redirect/get: the address stays the console's, a reload does not
    post again), its data and errors kept in the session for that one page; nothing written.
    """
    live = _console_live(timezone.now())
    form = FORMS[name](request.POST, **_choices(live))
    if form.is_valid():
        try:
            message = act(form)
        except PresidioError as error:
            add_service_errors(form, error)
            if error.fields:  # the field says what to fix, the top of the form why
                form.add_error(None, str(error.message))
        else:
            if message is not None:
                messages.success(request, message)
                return redirect("routing:console")
    keep_failed_form(request, form, page=CONSOLE_PAGE, name=name)
    return redirect(f"{reverse('routing:console')}#{name}")


def _failed_form(request, choices: dict) -> tuple[str, forms.Form] | None:
    """The console form that failed just before, bound to what was posted, with the errors
    it was given (the services' too, which validation alone would not find again)."""

    def build(name: str, data: dict) -> forms.Form | None:
        return FORMS[name](data, **choices) if name in FORMS else None

    return failed_form(request, page=CONSOLE_PAGE, build=build)


@capability_required(*SUPERVISE)
@require_GET
def console(request):
    live = _console_live(timezone.now())
    choices = _choices(live)
    context = {key: form_class(**choices) for key, form_class in FORMS.items()}
    if failed := _failed_form(request, choices):
        context[failed[0]] = failed[1]
        context["failed_name"] = failed[0]
    alerts = access_watch.open_alerts_for(request.user)
    return render(request, "routing/console.html", {**live, **context, "access_alerts": alerts})


@capability_required(*SUPERVISE)
@require_GET
def console_live(request):
    """The partial htmx polls: emergency banner, queues, sites, charts, last recompute."""
    return render(request, "routing/partials/console_live.html", _console_live(timezone.now()))


def _name(user) -> str:
    return user.get_full_name() or user.get_username()


def _profile_or_error(form, field: str = "operator") -> OperatorProfile | None:
    profile = (
        OperatorProfile.objects.select_related("user")
        .filter(user_id=form.cleaned_data[field])
        .first()
    )
    if profile is None:
        form.add_error(field, _("This user has no operator profile."))
    return profile


def _queue_or_error(form) -> Queue | None:
    queue = Queue.objects.filter(code=form.cleaned_data["queue"]).first()
    if queue is None:
        form.add_error("queue", _("Choose a valid queue."))
    return queue


@capability_required(*SUPERVISE)
@require_POST
def console_reassign(request):
    def act(form):
        data = form.cleaned_data
        case = care_selectors.cases_visible_to(request.user).filter(reference=data["case"]).first()
        if case is None:
            form.add_error("case", _("No case has this reference."))
        profile = _profile_or_error(form)
        if case is None or profile is None:
            return None
        services.reassign_case(
            actor=request.user,
            case=case,
            operator=profile.user,
            override_reason=data["override_reason"],
        )
        return _("Case %(ref)s assigned to %(name)s.") % {
            "ref": case.reference,
            "name": _name(profile.user),
        }

    return _console_action(request, "reassign_form", act)


@capability_required(*SUPERVISE)
@require_POST
def console_presence(request):
    def act(form):
        profile = _profile_or_error(form)
        if profile is None:
            return None
        state = form.cleaned_data["state"]
        services.set_presence(actor=request.user, profile=profile, state=state)
        return _("%(name)s is now “%(state)s”.") % {
            "name": _name(profile.user),
            "state": PresenceState(state).label,
        }

    return _console_action(request, "presence_form", act)


@capability_required(*SUPERVISE)
@require_POST
def console_emergency(request):
    def act(form):
        queue = _queue_or_error(form)
        if queue is None:
            return None
        data = form.cleaned_data
        queue = services.set_emergency(
            actor=request.user, queue=queue, minutes=data["minutes"], reason=data["reason"]
        )
        until = timezone.localtime(queue.emergency_until)
        return _("Emergency on for queue “%(queue)s” until %(until)s.") % {
            "queue": queue.name,
            "until": until.strftime("%H:%M"),
        }

    return _console_action(request, "emergency_form", act)


@capability_required(*SUPERVISE)
@require_POST
def console_emergency_off(request):
    def act(form):
        queue = _queue_or_error(form)
        if queue is None:
            return None
        queue = services.set_emergency(actor=request.user, queue=queue, minutes=0, reason="")
        return _("Emergency off for queue “%(queue)s”.") % {"queue": queue.name}

    return _console_action(request, "emergency_off_form", act)


@capability_required(*SUPERVISE)
@require_POST
def console_access_alert_ack(request, alert_id: int):
    try:
        alert = access_watch.acknowledge(user=request.user, alert_id=alert_id, now=timezone.now())
    except PresidioError as error:
        raise Http404(str(error.message)) from error
    messages.success(
        request,
        _("Alert on %(operator)s acknowledged.") % {"operator": alert.operator.get_username()},
    )
    return redirect("routing:console")


# --- "Why me?" on the case page -------------------------------------------------------------


@capability_required(*READ_CASES)
@require_GET
def case_decisions(request, reference: str):
    """The decision records of a case, for whoever may see the case (same scope and the same
    not-found as the case page). htmx gets the section alone; a plain visit a whole page."""
    case = (
        care_selectors.cases_visible_to(request.user)
        .filter(reference=(reference or "").strip().upper())
        .first()
    )
    if case is None:
        raise Http404
    decisions = wording.decisions_in_words(selectors.decisions_for(case), case.opened_at)
    context = {
        "case": case,
        "decisions": decisions,
        "sees_in_full": care_privacy.sees_in_full(request.user, case),
    }
    template = "routing/partials/decisions.html" if _is_htmx(request) else "routing/decisions.html"
    response = render(request, template, context)
    patch_vary_headers(response, ["HX-Request"])
    return response


# --- Calls: the screen pop, the wallboard, callbacks ----------------------------------------

WALLBOARD_POLL_SECONDS = 5
WALL = ("supervise", "view_reports")


@capability_required(*WORK)
@require_GET
def my_call(request):
    """What every page of an operator polls (0.6 s while available): the call they are on
    (the screen pop opens its intake), and their presence. Ends their after-call work when
    it ran out. Never the caller's number: the intake page looks it up by the call."""
    now = timezone.now()
    calls.end_expired_wrap_ups(now=now, user_id=request.user.id)
    call = calls.current_call(request.user, now=now)
    profile = _my_profile(request.user)
    body = {
        "call": call.call_id if call else None,
        "intake_url": f"{reverse('care:intake')}?call={quote(call.call_id)}" if call else None,
        "presence": profile.presence if profile else None,
        "presence_until": profile.presence_until.isoformat()
        if profile and profile.presence_until
        else None,
    }
    response = JsonResponse(body)
    response["Cache-Control"] = "no-store"
    return response


def _wallboard_context(now) -> dict:
    board = call_selectors.wallboard(now=now)
    return {
        "board": board,
        "operators": [
            (PresenceState(state).label, state, count) for state, count in board.operators.items()
        ],
        "poll_seconds": WALLBOARD_POLL_SECONDS,
    }


@capability_required(*WALL)
@require_GET
def wallboard(request):
    """The supervisors' large screen: per queue, calls waiting and the longest wait, the
    last 30 minutes' answered, abandoned, service level and handle time; operators by
    presence; alarms first. Refreshed every few seconds (htmx), readable across a room."""
    return render(request, "routing/wallboard.html", _wallboard_context(timezone.now()))


@capability_required(*WALL)
@require_GET
def wallboard_live(request):
    return render(
        request, "routing/partials/wallboard_live.html", _wallboard_context(timezone.now())
    )


@capability_required(*WORK)
@require_GET
def callbacks(request):
    """Callers who could not get through, most overdue first: take one, call, record."""
    now = timezone.now()
    rows = []
    for callback in call_selectors.callback_worklist(request.user, now=now):
        mine = callback.assignee_id == request.user.id
        end_user = callback.end_user
        phones = [p.number for p in end_user.phones.all()]
        rows.append(
            {
                "callback": callback,
                # The one they took, in full, to call; the others masked (need-to-know).
                "caller": f"{end_user.first_name} {end_user.last_name}"
                if mine
                else short_name(end_user.first_name, end_user.last_name),
                "number": display_phone(phones[0]) if mine and phones else "",
                "overdue": callback.due_at < now,
            }
        )
    access_log.note(request, end_users=[r["callback"].end_user_id for r in rows])
    return render(request, "routing/callbacks.html", {"rows": rows, "form": CallbackDoneForm()})


@capability_required(*WORK)
@require_POST
def callback_take(request, callback_id: int):
    try:
        calls.take_callback(operator=request.user, callback_id=callback_id)
    except PresidioError as error:
        messages.error(request, str(error.message))
    return redirect("routing:callbacks")


@capability_required(*WORK)
@require_POST
def callback_next(request):
    callback = calls.take_next_callback(operator=request.user)
    if callback is None:
        messages.info(request, _("Nobody to call back."))
    return redirect("routing:callbacks")


@capability_required(*WORK)
@require_POST
def callback_done(request, callback_id: int):
    form = CallbackDoneForm(request.POST)
    callback = Callback.objects.filter(id=callback_id, assignee=request.user).first()
    if callback is None:
        raise Http404
    if form.is_valid():
        try:
            calls.record_callback_attempt(
                operator=request.user,
                callback=callback,
                reached=form.cleaned_data["reached"] == "yes",
                note=form.cleaned_data["note"],
                case_reference=form.cleaned_data["case_reference"],
            )
        except PresidioError as error:
            messages.error(request, str(error.message))
        else:
            messages.success(request, _("The callback was recorded."))
    else:
        messages.error(request, _("Say whether you reached the caller."))
    return redirect("routing:callbacks")
