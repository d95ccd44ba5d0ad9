"""Pages of API tokens (administrators: list, issue, revoke) and of a user's own signed-in
sessions (list, end one, end all the others). Each action calls one service of
`config.tokens` or `config.sessions`; a refusal shows the form with its errors."""

from datetime import datetime, time, timedelta

from django import forms
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_GET, require_POST

from config import sessions, tokens
from config.errors import PresidioError
from config.forms import add_service_errors, service_error_message
from config.inputs import InputForm
from config.permissions import capability_required


class TokenForm(InputForm):
    name = forms.CharField(
        label=gettext_lazy("Name"),
        max_length=100,
        help_text=gettext_lazy("What uses it, e.g. “PBX Palermo” or “CRM sync”."),
    )
    owner = forms.ModelChoiceField(
        label=gettext_lazy("Owner"),
        queryset=get_user_model().objects.none(),
        help_text=gettext_lazy("The token acts as this user, with this user's role."),
    )
    scopes = forms.MultipleChoiceField(
        label=gettext_lazy("Scopes"), widget=forms.CheckboxSelectMultiple
    )
    expires_on = forms.DateField(
        label=gettext_lazy("Expires on"),
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=gettext_lazy("At most a year from today."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = (
            get_user_model().objects.filter(is_active=True).order_by("username")
        )
        self.fields["scopes"].choices = tokens.scope_choices()

    def expires_at(self) -> datetime:
        """The start of the chosen day, in the unit's time zone."""
        day = self.cleaned_data["expires_on"]
        return timezone.make_aware(datetime.combine(day, time.min))


class RevokeForm(InputForm):
    reason = forms.CharField(label=gettext_lazy("Reason"), max_length=300, required=False)


def _token_list_page(request, form: TokenForm, *, secret: str = "", issued=None, status=200):
    now = timezone.now()
    rows = [(token, token.status(now)) for token in tokens.tokens_listed()]
    context = {"rows": rows, "form": form, "secret": secret, "issued": issued}
    return render(request, "config/token_list.html", context, status=status)


def _default_expiry() -> str:
    return (timezone.localdate() + timedelta(days=365)).isoformat()


@capability_required("administer")
@require_GET
def token_list(request):
    return _token_list_page(request, TokenForm(initial={"expires_on": _default_expiry()}))


@capability_required("administer")
@require_POST
def token_issue(request):
    """The secret is in this answer only: not redirected, not kept in the session."""
    form = TokenForm(request.POST)
    if form.is_valid():
        try:
            token, secret = tokens.issue_token(
                actor=request.user,
                owner=form.cleaned_data["owner"],
                name=form.cleaned_data["name"],
                scopes=form.cleaned_data["scopes"],
                expires_at=form.expires_at(),
                now=timezone.now(),
            )
        except PresidioError as error:
            add_service_errors(form, error, aliases={"expires_at": "expires_on"})
        else:
            fresh = TokenForm(initial={"expires_on": _default_expiry()})
            return _token_list_page(request, fresh, secret=secret, issued=token)
    return _token_list_page(request, form, status=400)


@capability_required("administer")
@require_POST
def token_revoke(request, token_id: int):
    form = RevokeForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    try:
        token = tokens.revoke_token(
            actor=request.user, token_id=token_id, reason=reason, now=timezone.now()
        )
    except PresidioError as error:
        messages.error(request, service_error_message(error))
    else:
        messages.success(request, _("Token “%(name)s” revoked.") % {"name": token.name})
    return redirect("token-list")


# --- Own sessions ---------------------------------------------------------------------------


@require_GET
def my_sessions(request):
    rows = list(sessions.sessions_of(request.user))
    current = request.session.session_key
    return render(
        request,
        "config/my_sessions.html",
        {"rows": [(row, row.session_id == current) for row in rows]},
    )


@require_POST
def my_session_end(request, session_id: int):
    """Another user's session, or one already ended: not found (the 404 page)."""
    sessions.end_session(actor=request.user, session_id=session_id, now=timezone.now())
    messages.success(request, _("Session ended: that browser is signed out."))
    return redirect("my-sessions")


@require_POST
def my_sessions_end_others(request):
    ended = sessions.end_other_sessions(
        actor=request.user, current_key=request.session.session_key, now=timezone.now()
    )
    messages.success(
        request,
        ngettext("%(count)d other session ended.", "%(count)d other sessions ended.", ended)
        % {"count": ended},
    )
    return redirect("my-sessions")
