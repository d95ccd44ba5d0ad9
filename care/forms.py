"""Forms of the case pages. They check the shape of what was typed; the rules (and their
messages) are in `care.services`.

Every action form of the case page carries the `row_version` the user saw, so a change made
by someone else in the meantime is refused instead of silently overwritten. Each form has its
own id prefix: several of them share the page.
"""

from django import forms
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from care.filters import SLA_FILTER_CHOICES
from care.models import WRITTEN_VISIBILITIES, CaseStatus, Handoff, Note
from config.inputs import InputForm
from contracts.models import Client


class MultipleFileInput(forms.FileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Zero or more files from one `<input type="file" multiple>`."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        if not data:
            return [] if not self.required else super().clean(data, initial)
        files = data if isinstance(data, (list, tuple)) else [data]
        return [super(MultipleFileField, self).clean(upload, initial) for upload in files]


class CaseActionForm(InputForm):
    """Base of the case page's forms: the version seen and a per-form id prefix."""

    id_prefix = "action"
    row_version = forms.IntegerField(min_value=1, widget=forms.HiddenInput)
    # Shown only to whoever does not work the case (care.working); the service checks it.
    override_reason = forms.CharField(
        label=_("Why you act on this case"),
        required=False,
        max_length=300,
        help_text=_("You do not work this case: the reason is recorded on its timeline."),
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", f"{self.id_prefix}_%s")
        super().__init__(*args, **kwargs)


class NoteForm(CaseActionForm):
    id_prefix = "note"
    body = forms.CharField(
        label=_("Note"),
        widget=forms.Textarea(
            attrs={"rows": 4, "data-note-body": "", "aria-describedby": "note-shortcuts"}
        ),
    )
    visibility = forms.ChoiceField(
        label=_("Who can see it"),
        choices=WRITTEN_VISIBILITIES,
        initial=Note.Visibility.INTERNAL,
        widget=forms.RadioSelect,
    )
    attachments = MultipleFileField(
        label=_("Attachments"),
        required=False,
        help_text=_("PDF, images, text, Word, Excel or e-mail; up to 5 files of 10 MB each."),
    )


class TransitionForm(CaseActionForm):
    id_prefix = "transition"
    to = forms.ChoiceField(label=_("New status"), choices=CaseStatus.choices)
    closing_code = forms.CharField(
        label=_("Closing code"),
        required=False,
        max_length=50,
        widget=forms.Select(attrs={"data-closing-codes": ""}),
        help_text=_("Type to filter the list; the code says why the caller called."),
    )
    first_contact_resolution = forms.BooleanField(
        label=_("Resolved at first contact"), required=False
    )

    def offer(self, codes) -> "TransitionForm":
        """The closing codes the case can be resolved with, as the select's options."""
        language = get_language() or "it"
        self.fields["closing_code"].widget.choices = [
            ("", _("— choose the closing code —")),
            *((c.code, f"{c.name_in(language)} · {c.code}") for c in codes),
        ]
        return self


class HandoffForm(CaseActionForm):
    id_prefix = "handoff"
    unit = forms.ChoiceField(label=_("Unit"))
    request = forms.CharField(
        label=_("What the unit should do"), widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args, units=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit"].choices = [
            (unit.get("code", ""), unit.get("name") or unit.get("code", "")) for unit in units
        ]


class HandoffAnswerForm(CaseActionForm):
    id_prefix = "answer"
    row_version = forms.IntegerField(min_value=1, widget=forms.HiddenInput, required=False)
    answer = forms.CharField(label=_("The unit's answer"), widget=forms.Textarea(attrs={"rows": 3}))
    outcome = forms.ChoiceField(
        label=_("Outcome"),
        choices=[
            (Handoff.Outcome.RESOLVED, Handoff.Outcome.RESOLVED.label),
            (Handoff.Outcome.BOUNCED, Handoff.Outcome.BOUNCED.label),
        ],
        widget=forms.RadioSelect,
    )


class ReopenForm(CaseActionForm):
    id_prefix = "reopen"
    reason = forms.CharField(label=_("Why it is reopened"), max_length=300)


class ReferenceField(forms.CharField):
    """Another case's reference, as typed (`cs-2026-000123` works); the input hint shows
    the format."""

    def __init__(self, **kwargs):
        attrs = {"placeholder": "CS-2026-000123", "autocomplete": "off"}
        super().__init__(max_length=20, widget=forms.TextInput(attrs=attrs), **kwargs)

    def clean(self, value) -> str:
        return super().clean(value).strip().upper()


class OtherCaseForm(CaseActionForm):
    """Merge and link name another case; the version seen is optional (the other case is
    locked by the service)."""

    row_version = forms.IntegerField(min_value=1, widget=forms.HiddenInput, required=False)


class MergeForm(OtherCaseForm):
    id_prefix = "merge"
    into = ReferenceField(label=_("Merge into case"))


class LinkForm(OtherCaseForm):
    id_prefix = "link"
    other = ReferenceField(label=_("Related case"))


def style_filter_form(form: forms.Form) -> forms.Form:
    """The case list's filter form (built by `care.filters.CaseFilter`) as people use it all
    day: the search box first and focused, checkboxes for the short lists, date pickers."""
    fields = form.fields
    fields["q"].widget = forms.TextInput(
        attrs={"type": "search", "autofocus": True, "autocomplete": "off", "size": 28}
    )
    for name in ("status", "priority"):
        fields[name].widget = forms.CheckboxSelectMultiple(choices=fields[name].choices)
    fields["open"].widget = forms.CheckboxInput()
    fields["sla"].empty_label = _("All")
    fields["sla"].choices = SLA_FILTER_CHOICES  # re-set: the widget's options read the label
    for name in ("opened_after", "opened_before"):
        fields[name].widget = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    for name in ("contract", "queue"):
        fields[name].widget = forms.TextInput(attrs={"size": 14, "autocomplete": "off"})
    # The client as a list of names (the API takes its id): sixty clients, one small query.
    fields["client"].widget = forms.Select(
        choices=[("", _("All")), *Client.objects.order_by("name").values_list("id", "name")]
    )
    return form


# --- Data-subject requests (care.privacy_views) -------------------------------------------


class SubjectSearchForm(InputForm):
    query = forms.CharField(
        label=_("Phone, e-mail, employee code or codice fiscale"), max_length=100
    )


class ErasureForm(InputForm):
    MODES = [
        ("anonymise", _("Anonymise: keep a blank entry, remove every identity")),
        ("erase", _("Erase: delete the entry too")),
    ]
    mode = forms.ChoiceField(label=_("What to do"), choices=MODES, widget=forms.RadioSelect)
    request_reference = forms.CharField(
        label=_("Reference of the person's request"),
        max_length=100,
        help_text=_("Recorded in the access log, e.g. the protocol number."),
    )
    confirm = forms.BooleanField(label=_("I understand that this cannot be undone"), required=True)
