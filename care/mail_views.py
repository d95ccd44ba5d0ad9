"""The e-mail triage (operators): messages that could not be placed on their own (an unknown
sender, a reply from someone not on the case, no category rule, a similar open case), with
the message and the callers its address finds; open a case for the right caller or discard
it (recorded). And the upload of a `.eml` file, the same path as the mailboxes."""

from django import forms
from django.conf import settings
from django.contrib import messages
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from care import mail
from care.models import InboundMail
from config import access_log
from config.errors import PresidioError
from config.inputs import InputForm
from config.permissions import capability_required
from contracts.forms import LookupForm
from contracts.lookup import look_up_callers

WORK = ("handle_cases",)


class UploadForm(InputForm):
    message = forms.FileField(label=gettext_lazy("Message (.eml)"))


class DiscardForm(InputForm):
    note = forms.CharField(label=gettext_lazy("Why"), max_length=300)


@capability_required(*WORK)
@require_http_methods(["GET", "POST"])
def triage_list(request):
    """Open triage items, oldest first; the upload of a `.eml`."""
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["message"]
        if upload.size > settings.MAIL_MAX_BYTES:
            form.add_error("message", _("The message is too large."))
        else:
            received = mail.receive_mail(upload.read(), mailbox="upload", now=timezone.now())
            messages.success(request, _outcome_message(received))
            if received.reference:
                return redirect("care:case-detail", reference=received.reference)
            return redirect("care:mail-triage")
    items = list(
        InboundMail.objects.filter(triage=InboundMail.Triage.OPEN)
        .order_by("received_at")
        .only("id", "received_at", "sender", "sender_name", "subject", "reason", "mailbox")[:200]
    )
    access_log.note(request, mails=[item.id for item in items])
    return render(request, "care/mail_triage.html", {"items": items, "form": form})


def _outcome_message(received) -> str:
    labels = dict(InboundMail.Outcome.choices)
    text = _("Message processed: %(outcome)s.") % {"outcome": labels.get(received.outcome, "")}
    if received.duplicate:
        text += " " + _("It had been received already.")
    return text


@capability_required(*WORK)
@require_GET
def triage_item(request, mail_id: int):
    """The message, and the callers found by its sender's address (or by what the operator
    searches): a search in the access log, as at intake."""
    item = get_object_or_404(InboundMail, id=mail_id, triage__in=["open", "assigned", "discarded"])
    lookup_form = LookupForm(request.GET or None)
    keys = lookup_form.lookup_keys() if lookup_form.is_valid() else {"email": item.sender}
    matches, error = [], ""
    if item.triage == InboundMail.Triage.OPEN and any(keys.values()):
        try:
            matches = look_up_callers(request, on=timezone.localdate(), **keys)
        except PresidioError as failure:
            error = str(failure.message)
    return render(
        request,
        "care/mail_triage_item.html",
        {
            "item": item,
            "matches": [m for m in matches if m.version is not None],
            "lookup_form": lookup_form,
            "lookup_error": error,
            "discard_form": DiscardForm(),
        },
    )


@capability_required(*WORK)
@require_POST
def triage_open_case(request, mail_id: int):
    now = timezone.now()
    end_user = request.POST.get("end_user", "")
    if not end_user.isdigit() or not access_log.found_recently(
        request.user, int(end_user), now=now
    ):
        messages.error(request, _("Choose the caller among the people the search found."))
        return redirect("care:mail-triage-item", mail_id=mail_id)
    try:
        case = mail.open_case_from_triage(
            actor=request.user,
            mail_id=mail_id,
            end_user_id=int(end_user),
            contract_code=request.POST.get("contract", "")[:40],
            category=request.POST.get("category", "")[:50],
            now=now,
        )
    except InboundMail.DoesNotExist:
        raise Http404 from None
    except PresidioError as error:
        messages.error(request, str(error.message))
        return redirect("care:mail-triage-item", mail_id=mail_id)
    messages.success(request, _("Case %(ref)s opened.") % {"ref": case.reference})
    return redirect("care:case-detail", reference=case.reference)


@capability_required(*WORK)
@require_POST
def triage_discard(request, mail_id: int):
    form = DiscardForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Say why the message is discarded."))
        return redirect("care:mail-triage-item", mail_id=mail_id)
    try:
        mail.discard_from_triage(
            actor=request.user, mail_id=mail_id, note=form.cleaned_data["note"], now=timezone.now()
        )
    except PresidioError as error:
        messages.error(request, str(error.message))
        return redirect("care:mail-triage-item", mail_id=mail_id)
    messages.success(request, _("The message was discarded."))
    return redirect("care:mail-triage")
