"""The unit's own set-up pages: sites and queues (issue #20 point 2).

Administrators (sites) and administrators and managers (queues) create, change, archive and
delete; a site's supervisors change its name and calendar, a queue's supervisors its
thresholds: the form shows only the fields the user may change (`routing.administration`
decides, and refuses the rest). Each action posts, calls one service and redirects; a
refusal shows the page again with the service's errors beside their fields.
"""

from typing import NoReturn

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods, require_POST

from config.errors import PresidioError
from config.forms import add_service_errors, service_error_message
from config.permissions import capability_required
from config.roles import users_with
from contracts.models import BusinessCalendar, Client
from routing import administration, selectors
from routing.exceptions import QueueNotFound, SiteNotFound
from routing.setup_forms import QueueArchiveForm, QueueForm, SiteForm

SEE_SITES = ("administer", "supervise")
SEE_QUEUES = ("administer", "manage_contracts", "supervise")

# Criteria errors concern the four criteria together: shown at the top of the form.
QUEUE_ERROR_ALIASES = {"criteria": None}


def _supervisor_choices() -> list[tuple[int, str]]:
    users = users_with("supervise").order_by("last_name", "first_name", "username")
    return [(u.pk, f"{u.get_full_name() or u.get_username()} ({u.get_username()})") for u in users]


def _not_found(error: PresidioError) -> NoReturn:
    raise Http404(str(error.message)) from error


# --- Sites ----------------------------------------------------------------------------------


@capability_required(*SEE_SITES)
def site_list(request):
    sites = list(selectors.sites_visible_to(request.user))
    return render(
        request,
        "routing/site_list.html",
        {
            "sites": sites,
            "may_create": administration.administers_sites(request.user),
            "no_scope": not sites and not administration.administers_sites(request.user),
        },
    )


def _site_choices() -> dict:
    return {
        "calendar": list(BusinessCalendar.objects.order_by("name").values_list("id", "name")),
        "supervisors": _supervisor_choices(),
    }


@capability_required(*SEE_SITES)
@require_http_methods(["GET", "POST"])
def site_form(request, code: str | None = None):
    site = None
    if code is not None:
        try:
            site = selectors.site_visible_to(request.user, code)
        except SiteNotFound as error:
            _not_found(error)
    allowed = administration.site_fields_for(request.user, site)
    if not allowed:
        messages.error(request, _("You may not change this site."))
        return redirect("routing:site-list")
    form = SiteForm(
        request.POST or None,
        initial=SiteForm.initial_for(site) if site else {},
        choices=_site_choices(),
        fields=allowed,
    )
    if request.method == "POST" and form.is_valid():
        now = timezone.now()
        try:
            if site is None:
                site = administration.create_site(actor=request.user, now=now, values=form.values())
            else:
                site = administration.update_site(
                    actor=request.user, site=site, now=now, changes=form.values()
                )
        except PresidioError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Site “%(site)s” saved.") % {"site": site.name})
            return redirect("routing:site-list")
    return render(
        request,
        "routing/site_form.html",
        {
            "form": form,
            "site": site,
            "may_delete": site is not None and administration.administers_sites(request.user),
        },
    )


@capability_required("administer")
@require_POST
def site_delete(request, code: str):
    try:
        site = selectors.site_visible_to(request.user, code)
    except SiteNotFound as error:
        _not_found(error)
    try:
        administration.delete_site(actor=request.user, site=site, now=timezone.now())
    except PresidioError as error:
        messages.error(request, service_error_message(error))
        return redirect("routing:site-edit", code=site.code)
    messages.success(request, _("Site “%(site)s” deleted.") % {"site": site.name})
    return redirect("routing:site-list")


# --- Queues ---------------------------------------------------------------------------------


@capability_required(*SEE_QUEUES)
def queue_list(request):
    queues = list(selectors.queues_visible_to(request.user))
    national = administration.administers_queues(request.user)
    return render(
        request,
        "routing/queue_list.html",
        {
            "queues": queues,
            "archived": list(selectors.queues_visible_to(request.user, archived=True)),
            "may_create": national,
            "no_scope": not queues and not national,
        },
    )


def _queue_choices() -> dict:
    return {
        "client": list(Client.objects.order_by("name").values_list("id", "name")),
        "supervisors": _supervisor_choices(),
    }


def _moved_message(moved: int) -> str:
    return ngettext(
        "%(n)s waiting case was filed again by the new criteria.",
        "%(n)s waiting cases were filed again by the new criteria.",
        moved,
    ) % {"n": moved}


@capability_required(*SEE_QUEUES)
@require_http_methods(["GET", "POST"])
def queue_form(request, code: str | None = None):
    queue = None
    if code is not None:
        try:
            queue = selectors.queue_visible_to(request.user, code)
        except QueueNotFound as error:
            _not_found(error)
    allowed = (
        () if queue and queue.archived_at else administration.queue_fields_for(request.user, queue)
    )
    if not allowed:
        messages.error(request, _("You may not change this queue."))
        return redirect("routing:queue-list")
    form = QueueForm(
        request.POST or None,
        initial=QueueForm.initial_for(queue) if queue else {},
        choices=_queue_choices(),
        fields=allowed,
    )
    if request.method == "POST" and form.is_valid():
        now = timezone.now()
        try:
            if queue is None:
                change = administration.create_queue(
                    actor=request.user, now=now, values=form.values()
                )
            else:
                change = administration.update_queue(
                    actor=request.user, queue=queue, now=now, changes=form.values()
                )
        except PresidioError as error:
            add_service_errors(form, error, aliases=QUEUE_ERROR_ALIASES)
        else:
            messages.success(request, _("Queue “%(queue)s” saved.") % {"queue": change.queue.name})
            if change.moved:
                messages.info(request, _moved_message(change.moved))
            return redirect("routing:queue-list")
    national = administration.administers_queues(request.user)
    return render(
        request,
        "routing/queue_form.html",
        {
            "form": form,
            "queue": queue,
            "may_remove": queue is not None and national,
            "waiting": selectors.waiting_in(queue) if queue is not None else 0,
            "archive_form": QueueArchiveForm(),
        },
    )


def _queue_or_404(request, code: str):
    try:
        return selectors.queue_visible_to(request.user, code)
    except QueueNotFound as error:
        _not_found(error)


@capability_required("administer", "manage_contracts")
@require_POST
def queue_archive(request, code: str):
    queue = _queue_or_404(request, code)
    form = QueueArchiveForm(request.POST)
    refile = form.is_valid() and form.cleaned_data["refile"]
    try:
        change = administration.archive_queue(
            actor=request.user, queue=queue, now=timezone.now(), refile=refile
        )
    except PresidioError as error:
        messages.error(request, service_error_message(error))
        return redirect("routing:queue-edit", code=queue.code)
    messages.success(request, _("Queue “%(queue)s” archived.") % {"queue": queue.name})
    if change.moved:
        messages.info(request, _moved_message(change.moved))
    return redirect("routing:queue-list")


@capability_required("administer", "manage_contracts")
@require_POST
def queue_delete(request, code: str):
    queue = _queue_or_404(request, code)
    try:
        administration.delete_queue(actor=request.user, queue=queue, now=timezone.now())
    except PresidioError as error:
        messages.error(request, service_error_message(error))
        return redirect("routing:queue-edit", code=queue.code)
    messages.success(request, _("Queue “%(queue)s” deleted.") % {"queue": queue.name})
    return redirect("routing:queue-list")
