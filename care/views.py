"""Case pages: the lists people work from and the case page, where everything about a case is
read and done.

Each action of the case page posts to its own URL, calls one service and redirects back to
the page (POST-redirect-GET), or shows the page again with the form's errors; a case changed
by someone else in the meantime is refused by the service and said at the top of the page.
"""

import secrets

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import FileResponse, Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from care import (
    incident_selectors,
    ledger,
    notifications,
    privacy,
    search,
    selectors,
    services,
    sla_display,
    working,
)
from care.exceptions import CaseNotFound
from care.filters import CaseFilter
from care.forms import (
    HandoffAnswerForm,
    HandoffForm,
    LinkForm,
    MergeForm,
    NoteForm,
    ReopenForm,
    TransitionForm,
    style_filter_form,
)
from care.models import Attachment, CaseStatus, Handoff
from config import access_log, actions, textsearch
from config.errors import PresidioError
from config.forms import add_service_errors
from config.permissions import capability_required
from contracts import selectors as contract_selectors
from contracts.orders.selectors import orders_for_case

READ = ("handle_cases", "supervise")
WRITE = ("handle_cases",)
PAGE_SIZE = 50
# --- Lists ----------------------------------------------------------------------------------


@capability_required(*READ)
@require_http_methods(["GET", "POST"])
def case_list(request):
    return _list_page(
        request, selectors.cases_visible_to(request.user), title=_("Cases"), mine=False
    )


@capability_required(*READ)
@require_http_methods(["GET", "POST"])
def my_cases(request):
    """The signed-in user's open cases, the most urgent first."""
    cases = selectors.open_cases_assigned_to(request.user)
    return _list_page(request, cases, title=_("My cases"), mine=True)


CASE_COUNT_CAP = 10_000


class CappedPaginator(Paginator):
    """Counts at most `CASE_COUNT_CAP` + 1 rows: on a national data set the full list's
    exact count is a scan of a million rows for a number nobody reads past "more than
    10,000" (they filter instead). Pages beyond the cap are not offered."""

    @cached_property
    def count(self) -> int:
        counted = self.object_list.values("pk")[: CASE_COUNT_CAP + 1].count()
        if counted <= CASE_COUNT_CAP:
            return counted
        return -(-counted // self.per_page) * self.per_page  # whole pages: the last is full

    @property
    def capped(self) -> bool:
        return self.count > CASE_COUNT_CAP


SEARCHES = "case_searches"  # session: search token -> the text searched (kept out of URLs)
SEARCHES_KEPT = 20


def _search_moved_to_session(request, data) -> HttpResponseRedirect | None:
    """A search text (a phone number, a name) in a form or an old link moves to the session,
    and the page is asked again with a token in its place: personal data never stays in a
    URL, yet the filtered page can still be paged and reloaded."""
    text = (data.get("q") or "").strip()
    if request.method != "POST" and "q" not in data:
        return None
    params = data.copy()
    for key in ("q", "csrfmiddlewaretoken", "page", "search"):
        params.pop(key, None)
    for key in [key for key, values in params.lists() if not any(values)]:
        params.pop(key)  # an empty filter says nothing: a short address
    if text:
        searches = request.session.get(SEARCHES, {})
        token = secrets.token_urlsafe(6)
        # One character more than a search may hold: a longer one is refused, not cut.
        searches[token] = text[: textsearch.MAX_QUERY_LENGTH + 1]
        request.session[SEARCHES] = dict(list(searches.items())[-SEARCHES_KEPT:])
        params["search"] = token
    query = params.urlencode()
    return HttpResponseRedirect(f"{request.path}?{query}" if query else request.path)


def _list_page(request, cases, *, title: str, mine: bool):
    moved = _search_moved_to_session(
        request, request.POST if request.method == "POST" else request.GET
    )
    if moved is not None:
        return moved
    data = request.GET.copy()
    searched = request.session.get(SEARCHES, {}).get(data.get("search", ""), "")
    if searched:
        data["q"] = searched
    filterset = CaseFilter(data or None, queryset=cases)
    form = style_filter_form(filterset.form)  # before filtering: the widgets read the data
    # A search refused (too long) finds nothing: the form says why.
    found = filterset.qs if "q" not in filterset.errors else cases.none()
    page = CappedPaginator(found, PAGE_SIZE).get_page(request.GET.get("page"))
    if searched:
        access_log.note(request, searched={"q": searched[:100]})
    access_log.note(request, end_users=[case.end_user_id for case in page if case.end_user_id])
    hits = filterset.text_hits
    snippets = search.snippets(request.user, list(page), hits) if hits else {}
    now = timezone.now()
    keep = request.GET.copy()
    keep.pop("page", None)
    return render(
        request,
        "care/case_list.html",
        {
            "title": title,
            "mine": mine,
            "filter_form": form,
            "page": page,
            "rows": [
                {
                    "case": case,
                    "sla": sla_display.summary(case, now),
                    "caller": privacy.shown_caller(case, request.user, with_contacts=False),
                    "sees_in_full": privacy.sees_in_full(request.user, case),
                    "snippet": snippets.get(case.pk, ""),
                }
                for case in page
            ],
            "text_search": hits is not None,
            "search_results": search.RESULTS,
            "filters_query": keep.urlencode(),
            "filtered": bool(keep),
            "case_count_cap": CASE_COUNT_CAP,
        },
    )


# --- The case page --------------------------------------------------------------------------


def _case_or_404(user, reference: str):
    try:
        return selectors.case_by_reference(user, reference)
    except CaseNotFound as error:
        raise Http404(str(error.message)) from error


@capability_required(*READ)
@require_GET
def case_detail(request, reference: str):
    return _case_page(request, _case_or_404(request.user, reference))


def _case_page(request, case, *, failed=None):
    """The case page; `failed` is the action form that was refused, shown with its errors."""
    version = case.contract_version
    pending = next((h for h in case.handoffs.all() if h.outcome == Handoff.Outcome.PENDING), None)
    now = timezone.now()
    forms = {
        "note_form": NoteForm(),
        "transition_form": TransitionForm(),
        "handoff_form": HandoffForm(units=version.handoff_units),
        "answer_form": HandoffAnswerForm(),
        "reopen_form": ReopenForm(),
        "merge_form": MergeForm(),
        "link_form": LinkForm(),
    }
    if failed is not None:
        forms[failed[0]] = failed[1]
    destinations = services.TRANSITIONS[CaseStatus(case.status)]
    codes = (
        selectors.closing_codes_of(case)
        if CaseStatus.RESOLVED in destinations or case.resolution_code
        else []
    )
    forms["transition_form"].offer(contract_selectors.offered_closing_codes(codes))
    closing_name = next(
        (c.name_in(get_language() or "it") for c in codes if c.code == case.resolution_code), ""
    )
    access_log.note(request, end_users=[case.end_user_id] if case.end_user_id else [])
    told, names = selectors.timeline_with_names(case)
    timeline = list(reversed(told))
    return render(
        request,
        "care/case_detail.html",
        {
            "case": case,
            "caller": privacy.shown_caller(case, request.user),
            "sees_in_full": privacy.sees_in_full(request.user, case),
            "version": version,
            "timeline": timeline,
            "queue_name": names.queue(case.queue_code),
            "sla": sla_display.panel(case, now),
            "ledger": ledger.case_ledger(case),
            "pending": pending,
            "pending_waited": sla_display.duration(now - pending.requested_at) if pending else "",
            "handoffs": case.handoffs.all(),
            "moves": actions.moves(
                actions.CASE,
                [s for s in CaseStatus.values if s in destinations and s != CaseStatus.RESOLVED],
                from_state=case.status,
            ),
            "resolve_action": actions.action_for(actions.CASE, CaseStatus.RESOLVED),
            "reopen_action": actions.action_for(actions.CASE, actions.REOPEN),
            "can_resolve": CaseStatus.RESOLVED in destinations,
            "closing_code_name": closing_name,  # empty for a legacy code: shown as stored
            "can_reopen": case.status in (CaseStatus.RESOLVED, CaseStatus.CLOSED)
            and not case.merged_into_id,
            "can_write": request.user.has_perm("config.handle_cases"),
            # Not working it: every action form asks why (the service records the reason).
            "works_case": working.may_work(request.user, case),
            "case_orders": orders_for_case(case.reference),  # contract orders opened from it
            "failed": failed[1] if failed else None,
            "failed_name": failed[0] if failed else "",
            **forms,
        },
    )


# --- Actions --------------------------------------------------------------------------------


def _done(request, case, message: str):
    messages.success(request, message)
    return redirect("care:case-detail", reference=case.reference)


@capability_required(*WRITE)
@require_POST
def case_add_note(request, reference: str):
    case = _case_or_404(request.user, reference)
    form = NoteForm(request.POST, request.FILES)
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.add_note(
                actor=request.user,
                case=case,
                body=data["body"],
                visibility=data["visibility"],
                attachments=data["attachments"],
                expected_version=data["row_version"],
                override_reason=data["override_reason"],
            )
        except PresidioError as error:
            add_service_errors(form, error)
        else:
            return _done(request, case, _("Note added."))
    return _case_page(request, case, failed=("note_form", form))


@capability_required(*WRITE)
@require_POST
def case_transition(request, reference: str):
    case = _case_or_404(request.user, reference)
    form = TransitionForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            case = services.transition_case(
                actor=request.user,
                case=case,
                to=data["to"],
                expected_version=data["row_version"],
                override_reason=data["override_reason"],
                resolution_code=data["closing_code"],
                first_contact_resolution=data["first_contact_resolution"],
            )
        except PresidioError as error:
            add_service_errors(form, error)
        else:
            return _done(
                request,
                case,
                _("Status changed to “%(status)s”.") % {"status": case.get_status_display()},
            )
    return _case_page(request, case, failed=("transition_form", form))


@capability_required(*WRITE)
@require_POST
def case_handoff(request, reference: str):
    case = _case_or_404(request.user, reference)
    form = HandoffForm(request.POST, units=case.contract_version.handoff_units)
    if form.is_valid():
        data = form.cleaned_data
        try:
            handoff = services.send_handoff(
                actor=request.user,
                case=case,
                unit_code=data["unit"],
                request=data["request"],
                expected_version=data["row_version"],
                override_reason=data["override_reason"],
            )
        except PresidioError as error:
            add_service_errors(form, error)
        else:
            return _done(request, case, _("Forwarded to %(unit)s.") % {"unit": handoff.unit_name})
    return _case_page(request, case, failed=("handoff_form", form))


@capability_required(*WRITE)
@require_POST
def case_handoff_answer(request, reference: str, handoff_id: int):
    case = _case_or_404(request.user, reference)
    handoff = next((h for h in case.handoffs.all() if h.id == handoff_id), None)
    if handoff is None:
        raise Http404
    form = HandoffAnswerForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.answer_handoff(
                actor=request.user,
                handoff=handoff,
                answer=data["answer"],
                outcome=data["outcome"],
                expected_version=data["row_version"],
                override_reason=data["override_reason"],
            )
        except PresidioError as error:
            add_service_errors(form, error)
        else:
            return _done(request, case, _("The unit's answer was recorded."))
    return _case_page(request, case, failed=("answer_form", form))


@capability_required(*WRITE)
@require_POST
def case_reopen(request, reference: str):
    case = _case_or_404(request.user, reference)
    form = ReopenForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.reopen_case(
                actor=request.user,
                case=case,
                reason=data["reason"],
                expected_version=data["row_version"],
                override_reason=data["override_reason"],
            )
        except PresidioError as error:
            add_service_errors(form, error)
        else:
            return _done(request, case, _("Case reopened."))
    return _case_page(request, case, failed=("reopen_form", form))


@capability_required(*WRITE)
@require_POST
def case_merge(request, reference: str):
    case = _case_or_404(request.user, reference)
    form = MergeForm(request.POST)
    if form.is_valid():
        try:
            into = selectors.case_by_reference(request.user, form.cleaned_data["into"])
            services.merge_case(
                actor=request.user,
                case=case,
                into=into,
                expected_version=form.cleaned_data["row_version"],
                override_reason=form.cleaned_data["override_reason"],
            )
        except CaseNotFound as error:
            form.add_error("into", str(error.message))
        except PresidioError as error:
            add_service_errors(form, error)
        else:
            return _done(request, case, _("Case merged into %(ref)s.") % {"ref": into.reference})
    return _case_page(request, case, failed=("merge_form", form))


@capability_required(*WRITE)
@require_POST
def case_link(request, reference: str):
    """Point the case to a related one (same problem, another caller): both stay open."""
    case = _case_or_404(request.user, reference)
    form = LinkForm(request.POST)
    if form.is_valid():
        try:
            other = selectors.case_by_reference(request.user, form.cleaned_data["other"])
            services.link_case(
                actor=request.user,
                case=case,
                other=other,
                override_reason=form.cleaned_data["override_reason"],
            )
        except CaseNotFound as error:
            form.add_error("other", str(error.message))
        except PresidioError as error:
            add_service_errors(form, error)
        else:
            return _done(request, case, _("Case linked to %(ref)s.") % {"ref": other.reference})
    return _case_page(request, case, failed=("link_form", form))


@require_GET
def attachment_download(request, attachment_id: int):
    """Only for users who see the case's personal data in full (care.privacy); anyone else
    gets the same 404 as for a missing attachment."""
    if not any(request.user.has_perm(f"config.{name}") for name in READ):
        raise Http404
    attachment = get_object_or_404(
        Attachment.objects.select_related("note__case"),
        ~Q(file=""),  # removed by retention or an erasure request
        id=attachment_id,
        note__case__in=selectors.cases_visible_to(request.user),
    )
    if not privacy.sees_in_full(request.user, attachment.note.case):
        raise Http404  # a document is personal data in full: need to know, like the caller
    return FileResponse(
        attachment.file.open("rb"),
        as_attachment=True,
        filename=attachment.original_name,
        content_type=attachment.content_type,
    )


# --- Notifications --------------------------------------------------------------------------


@require_GET
def notification_list(request):
    """The user's own SLA notifications, newest first; every signed-in user has a centre."""
    page = Paginator(notifications.notifications_of(request.user), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "care/notification_list.html",
        {
            "page": page,
            # Suspected major incidents, until a supervisor confirms or resolves them.
            "incident_notices": list(incident_selectors.unread_incident_notices(request.user)[:20]),
        },
    )


@require_POST
def notification_read(request, notification_id: int):
    try:
        notifications.mark_notification_read(
            user=request.user, notification_id=notification_id, now=timezone.now()
        )
    except PresidioError as error:
        raise Http404 from error
    return redirect("care:notifications")


@require_POST
def notification_read_all(request):
    count = notifications.mark_all_notifications_read(user=request.user, now=timezone.now())
    messages.success(
        request,
        ngettext(
            "%(count)d notification marked as read.",
            "%(count)d notifications marked as read.",
            count,
        )
        % {"count": count},
    )
    return redirect("care:notifications")
