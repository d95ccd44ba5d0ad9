"""The people pages (/routing/people/…): administrators create accounts, give roles,
deactivate and onboard from a file; supervisors complete and change the operator profiles
of their sites (and create the profile of an operator who has none). Parse, fetch through
`routing.people_selectors`, call one service, render."""

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods, require_POST

from config import roles, sessions, users
from config.errors import PresidioError
from config.forms import add_service_errors, service_error_message
from config.permissions import capability_required
from contracts.imports import UnreadableFile, read_upload
from routing import people_selectors, staff
from routing.people_forms import (
    AccountForm,
    CertificationForm,
    NewPersonForm,
    PeopleImportForm,
    ProfileForm,
    ReasonForm,
)
from routing.scope import supervisor_scope

IMPORT_ERRORS_SHOWN = 500


def _person_or_403(request, user_id: int):
    try:
        return people_selectors.person_for(request.user, user_id)
    except staff.OutsideYourSites:
        raise PermissionDenied from None


def _submit(request, form, call: Callable[[], Any], message, *, user_id: int | None = None):
    """Call one service when `form` is valid: a refusal outside the user's sites (or on
    one's own sessions) is 403, any other refusal goes on `form` (None is returned, the
    caller shows the form again); done, `message` (a text, or a function of what the
    service returned) and a redirect to the person's page (`user_id`, else that of the
    person the service returned)."""
    if not form.is_valid():
        return None
    try:
        result = call()
    except (staff.OutsideYourSites, users.OwnSessionsElsewhere):
        raise PermissionDenied from None
    except PresidioError as error:
        add_service_errors(form, error)
        return None
    messages.success(request, message(result) if callable(message) else message)
    return redirect("routing:person", user_id=user_id if user_id is not None else result.pk)


def _account(data: dict, *, username: str = "") -> users.UserData:
    return users.UserData(
        username=data.get("username", username),
        first_name=data["first_name"],
        last_name=data["last_name"],
        email=data["email"],
        roles=list(data["roles"]),
    )


def _person_page(request, person, *, status: int = 200, **forms):
    profile = people_selectors.profile_of_person(person)
    administer = request.user.has_perm("config.administer")
    context = {
        "person": person,
        "person_roles": [roles.ROLE_LABELS[r] for r in roles.roles_of(person)],
        "profile": profile,
        "administer": administer,
        "account_form": forms.get("account_form")
        or (AccountForm(initial=AccountForm.initial_for(person)) if administer else None),
        "profile_form": forms.get("profile_form")
        or ProfileForm(initial=ProfileForm.initial_for(profile), user=request.user),
        "certification_form": forms.get("certification_form") or CertificationForm(),
        "reason_form": forms.get("reason_form") or ReasonForm(),
        "sessions_form": forms.get("sessions_form") or sessions_form(),
        "session_count": sessions.sessions_of(person).count() if administer else None,
    }
    return render(request, "routing/person.html", context, status=status)


@capability_required("administer", "supervise")
def people(request):
    administer = request.user.has_perm("config.administer")
    scope = supervisor_scope(request.user)
    return render(
        request,
        "routing/people.html",
        {
            "people": list(people_selectors.people_visible_to(request.user)),
            "administer": administer,
            "no_sites": not administer and not scope.site_ids,
        },
    )


@capability_required("administer")
@require_http_methods(["GET", "POST"])
def person_new(request):
    form = NewPersonForm(request.POST or None)
    done = _submit(
        request,
        form,
        lambda: users.create_user(
            actor=request.user, data=_account(form.cleaned_data), now=timezone.now()
        ),
        lambda person: (
            _("Account created: %(email)s has been sent a link to choose the password.")
            % {"email": person.email}
        ),
    )
    return done or render(request, "routing/person_new.html", {"form": form}, status=_status(form))


def _status(form) -> int:
    return 400 if form.is_bound and form.errors else 200


@capability_required("administer", "supervise")
def person(request, user_id: int):
    return _person_page(request, _person_or_403(request, user_id))


@capability_required("administer")
@require_POST
def person_account(request, user_id: int):
    person = _person_or_403(request, user_id)
    form = AccountForm(request.POST)
    done = _submit(
        request,
        form,
        lambda: staff.change_person(
            actor=request.user,
            person=person,
            account=_account(form.cleaned_data, username=person.get_username()),
            now=timezone.now(),
        ),
        _("Account saved."),
        user_id=user_id,
    )
    return done or _person_page(request, person, account_form=form, status=400)


@capability_required("administer", "supervise")
@require_POST
def person_profile(request, user_id: int):
    person = _person_or_403(request, user_id)
    form = ProfileForm(request.POST, user=request.user)
    done = _submit(
        request,
        form,
        lambda: staff.change_person(
            actor=request.user, person=person, profile_values=form.cleaned_data, now=timezone.now()
        ),
        _("Operator profile saved."),
        user_id=user_id,
    )
    return done or _person_page(request, person, profile_form=form, status=400)


@capability_required("administer", "supervise")
@require_POST
def person_certification_add(request, user_id: int):
    person = _person_or_403(request, user_id)
    form = CertificationForm(request.POST)
    profile = people_selectors.profile_of_person(person)
    if profile is None:
        form.add_error(None, str(staff.NoProfileYet.default_message))
    elif done := _submit(
        request,
        form,
        lambda: staff.add_certification(
            actor=request.user,
            profile=profile,
            contract=form.cleaned_data["contract"],
            client=form.cleaned_data["client"],
            now=timezone.now(),
        ),
        _("Certification added."),
        user_id=user_id,
    ):
        return done
    return _person_page(request, person, certification_form=form, status=400)


@capability_required("administer", "supervise")
@require_POST
def person_certification_remove(request, user_id: int, certification_id: int):
    person = _person_or_403(request, user_id)
    certification = people_selectors.certification_of(person, certification_id)
    try:
        staff.remove_certification(
            actor=request.user, certification=certification, now=timezone.now()
        )
    except staff.OutsideYourSites:
        raise PermissionDenied from None
    messages.success(request, _("Certification removed."))
    return redirect("routing:person", user_id=user_id)


def _with_reason(
    request, user_id: int, service, message, *, make_form=ReasonForm, form_name="reason_form"
):
    """A person's account action that takes a reason (`service(actor=, user=, now=,
    reason=)`): the form (`make_form`, shown again as `form_name` of the page on a refusal)
    and the service through `_submit`."""
    person = _person_or_403(request, user_id)
    form = make_form(request.POST)
    done = _submit(
        request,
        form,
        lambda: service(
            actor=request.user, user=person, now=timezone.now(), reason=form.cleaned_data["reason"]
        ),
        message,
        user_id=user_id,
    )
    return done or _person_page(request, person, status=400, **{form_name: form})


@capability_required("administer")
@require_POST
def person_deactivate(request, user_id: int):
    return _with_reason(
        request,
        user_id,
        staff.deactivate_person,
        lambda released: (
            ngettext(
                "Account deactivated: %(n)s open case went back to its queue.",
                "Account deactivated: %(n)s open cases went back to their queues.",
                len(released),
            )
            % {"n": len(released)}
        ),
    )


def sessions_form(data=None) -> ReasonForm:
    """The reason to end a person's sessions (its own ids: the page has a reason field
    already, for deactivating)."""
    return ReasonForm(data, auto_id="end-sessions-%s")


@capability_required("administer")
@require_POST
def person_sessions_end(request, user_id: int):
    """Every signed-in session of the person ends; their browsers are signed out."""
    return _with_reason(
        request,
        user_id,
        users.end_sessions_of,
        lambda ended: (
            ngettext(
                "%(n)s session ended: the person is signed out of it.",
                "%(n)s sessions ended: the person is signed out of all of them.",
                ended,
            )
            % {"n": ended}
        ),
        make_form=sessions_form,
        form_name="sessions_form",
    )


@capability_required("administer")
@require_POST
def person_reactivate(request, user_id: int):
    return _with_reason(request, user_id, staff.reactivate_person, _("Account reactivated."))


@capability_required("administer")
@require_POST
def person_password_link(request, user_id: int):
    person = _person_or_403(request, user_id)
    try:
        users.resend_password_link(actor=request.user, user=person)
    except PresidioError as error:
        messages.error(request, service_error_message(error))
    else:
        messages.success(
            request,
            _("%(email)s has been sent a new link to choose the password.")
            % {"email": person.email},
        )
    return redirect("routing:person", user_id=user_id)


@capability_required("administer")
@require_http_methods(["GET", "POST"])
def people_import(request):
    form = PeopleImportForm(request.POST or None, request.FILES or None)
    report = None
    if form.is_valid():
        try:
            rows = read_upload(
                form.cleaned_data["file"],
                columns=staff.IMPORT_COLUMNS,
                required=staff.IMPORT_REQUIRED,
            )
        except UnreadableFile as error:
            form.add_error("file", str(error))
        else:
            report = staff.onboard_people(
                actor=request.user,
                rows=rows,
                dry_run="confirm" not in request.POST,
                now=timezone.now(),
            )
            if report.created:
                messages.success(
                    request,
                    ngettext("%(n)s person onboarded.", "%(n)s people onboarded.", report.created)
                    % {"n": report.created},
                )
    shown = report.errors[:IMPORT_ERRORS_SHOWN] if report else []
    return render(
        request,
        "routing/people_import.html",
        {
            "form": form,
            "report": report,
            "shown_errors": shown,
            "hidden_errors": (len(report.errors) - len(shown)) if report else 0,
        },
    )
