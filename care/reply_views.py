"""Saved-reply pages: the list with the form of a new reply, a reply's form, and delete.
Everyone who handles cases writes personal replies; supervisors the replies of the queues
they supervise and of the contracts they work (care.reply_selectors). Each action calls
one service of `care.replies` and redirects back; a refusal shows the form with its errors."""

from django import forms
from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from care import ports, privacy, replies, reply_selectors, reply_text
from care.exceptions import SavedReplyNotFound
from care.models import SavedReply
from config.errors import PresidioError
from config.forms import add_service_errors, service_error_message
from config.inputs import InputForm
from config.permissions import capability_required

USE = ("handle_cases", "supervise", "manage_contracts")


class SavedReplyForm(InputForm):
    title = forms.CharField(label=gettext_lazy("Title"), max_length=replies.TITLE_MAX)
    scope = forms.ChoiceField(label=gettext_lazy("Who uses it"), choices=SavedReply.Scope.choices)
    queue = forms.CharField(label=gettext_lazy("Queue (team replies)"), required=False)
    contract = forms.CharField(
        label=gettext_lazy("Contract code (contract replies)"), required=False, max_length=40
    )
    body = forms.CharField(
        label=gettext_lazy("Text"),
        max_length=replies.BODY_MAX,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=gettext_lazy(
            "Variables: {{ nome_chiamante }} (the caller's name, masked as on the case page), "
            "{{ riferimento }} (the case reference), {{ scadenza }} (the resolution due time), "
            "{{ operatore }} (your name)."
        ),
    )

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        queues = sorted(privacy.scope_of(user).queue_codes) if user is not None else []
        self.fields["queue"].widget = forms.Select(choices=[("", "—"), *((q, q) for q in queues)])
        if user is not None and not (
            user.has_perm("config.supervise")
            or user.has_perm("config.manage_contracts")
            or user.has_perm("config.administer")
        ):
            self.fields["scope"].choices = [SavedReply.Scope.choices[0]]
            del self.fields["queue"], self.fields["contract"]  # personal replies only

    def data_for_service(self) -> replies.ReplyData:
        data = self.cleaned_data
        return replies.ReplyData(
            scope=data["scope"],
            title=data["title"],
            body=data["body"],
            contract=data.get("contract", ""),
            queue=data.get("queue", ""),
        )


def _initial(reply: SavedReply) -> dict:
    return {
        "title": reply.title,
        "scope": reply.scope,
        "queue": reply.queue_code,
        "contract": reply.contract.code if reply.contract_id else "",
        "body": reply.body,
    }


def _list_page(request, form, *, status: int = 200):
    visible = list(reply_selectors.replies_visible_to(request.user))
    queues = ports.queue_names({reply.queue_code for reply in visible if reply.queue_code})
    rows = [
        {
            "reply": reply,
            "queue_name": queues.get(reply.queue_code, reply.queue_code),
            "can_edit": reply_selectors.may_manage(request.user, reply),
        }
        for reply in visible
    ]
    context = {"rows": rows, "form": form, "variables": list(reply_text.VARIABLES)}
    return render(request, "care/replies.html", context, status=status)


@capability_required(*USE)
@require_http_methods(["GET", "POST"])
def reply_list(request):
    if request.method == "GET":
        return _list_page(request, SavedReplyForm(user=request.user))
    form = SavedReplyForm(request.POST, user=request.user)
    if form.is_valid():
        try:
            replies.create_reply(actor=request.user, data=form.data_for_service())
        except PresidioError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Saved reply created."))
            return redirect("care:reply-list")
    return _list_page(request, form, status=400)


def _reply_or_404(request, reply_id):
    """Missing and another user's personal reply answer the same."""
    try:
        return reply_selectors.reply_by_id(request.user, reply_id)
    except SavedReplyNotFound as error:
        raise Http404(str(error.message)) from error


@capability_required(*USE)
@require_http_methods(["GET", "POST"])
def reply_edit(request, reply_id: int):
    reply = _reply_or_404(request, reply_id)
    if request.method == "GET":
        form = SavedReplyForm(initial=_initial(reply), user=request.user)
        return render(request, "care/reply_form.html", {"form": form, "reply": reply})
    form = SavedReplyForm(request.POST, user=request.user)
    if form.is_valid():
        try:
            replies.update_reply(actor=request.user, reply=reply, data=form.data_for_service())
        except PresidioError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Saved reply changed."))
            return redirect("care:reply-list")
    return render(request, "care/reply_form.html", {"form": form, "reply": reply}, status=400)


@capability_required(*USE)
@require_POST
def reply_delete(request, reply_id: int):
    reply = _reply_or_404(request, reply_id)
    try:
        replies.delete_reply(actor=request.user, reply=reply)
    except PresidioError as error:
        messages.error(request, service_error_message(error))
    else:
        messages.success(request, _("Saved reply deleted."))
    return redirect("care:reply-list")
