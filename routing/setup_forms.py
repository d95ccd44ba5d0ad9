"""Forms of the sites and queues pages: they check shape only; `routing.administration`
decides the rest. Choices (calendars, clients, supervisors) come from the view; the view
also drops the fields the user may not change."""

import re

from django import forms
from django.conf import global_settings
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from config.inputs import InputForm
from contracts.models import Segment, Service
from routing.administration import LANGUAGE_CODES, THRESHOLD_MAX
from routing.models import Queue, Site

BLANK = [("", "---------")]


class _SetupForm(InputForm):
    """`choices`: {field name: [(value, label)]} for the choice fields present."""

    def __init__(self, *args, choices=None, fields=None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if fields is not None:
            for name in list(self.fields):
                if name not in fields:
                    del self.fields[name]
        for name, offered in (choices or {}).items():
            if name in self.fields:
                field = self.fields[name]
                field.choices = list(offered) if field.required else BLANK + list(offered)

    def values(self) -> dict:
        """What the service takes: blank choices as None, ids as ints."""
        return dict(self.cleaned_data)


def _optional_id(value: str) -> int | None:
    return int(value) if value else None


def _threshold(name: str, label) -> forms.IntegerField:
    """A queue's threshold: a whole number from 0 to its bound in `THRESHOLD_MAX`."""
    return forms.IntegerField(label=label, min_value=0, max_value=THRESHOLD_MAX[name])


def _supervisors_field() -> forms.TypedMultipleChoiceField:
    """The supervisors of a site or a queue (the view offers the users who hold the role)."""
    return forms.TypedMultipleChoiceField(
        label=_("Supervisors"), coerce=int, required=False, widget=forms.CheckboxSelectMultiple
    )


class SiteForm(_SetupForm):
    code = forms.SlugField(label=_("Code"), max_length=20)
    name = forms.CharField(label=_("Name"), max_length=120)
    province = forms.CharField(
        label=_("Province"), max_length=2, help_text=_("The Italian province code, e.g. MI, PA.")
    )
    calendar = forms.TypedChoiceField(
        label=_("Working hours"),
        coerce=_optional_id,
        empty_value=None,
        required=False,
        help_text=_("When the site's supervisors are sent e-mail (else the morning digest)."),
    )
    supervisors = _supervisors_field()

    @classmethod
    def initial_for(cls, site: Site) -> dict:
        return {
            "code": site.code,
            "name": site.name,
            "province": site.province,
            "calendar": site.calendar_id or "",
            "supervisors": [user.pk for user in site.supervisors.all()],
        }


def _codes(text: str) -> list[str]:
    return [code for code in re.split(r"[\s,;]+", text or "") if code]


class QueueForm(_SetupForm):
    code = forms.SlugField(label=_("Code"), max_length=50)
    name = forms.CharField(label=_("Name"), max_length=120)
    segment = forms.ChoiceField(
        label=_("Segment"), choices=BLANK + list(Segment.choices), required=False
    )
    service = forms.ChoiceField(
        label=_("Service"), choices=BLANK + list(Service.choices), required=False
    )
    category_codes = forms.CharField(
        label=_("Categories"),
        required=False,
        max_length=2000,
        help_text=_("Category codes separated by commas (e.g. sim-lost, roaming)."),
    )
    client = forms.TypedChoiceField(
        label=_("Client"), coerce=_optional_id, empty_value=None, required=False
    )
    language = forms.ChoiceField(
        label=_("Language asked for"),
        required=False,
        help_text=_("Only operators who speak it are offered the queue's cases. Blank: any."),
    )
    overflow_client_minutes = _threshold(
        "overflow_client_minutes", _("To the client's operators after (minutes)")
    )
    overflow_national_minutes = _threshold(
        "overflow_national_minutes", _("To skilled operators nationally after (minutes)")
    )
    service_level_seconds = _threshold(
        "service_level_seconds", _("Answered within (seconds) counts for the service level")
    )
    service_level_target = _threshold("service_level_target", _("Service level target (%)"))
    longest_wait_alarm_seconds = _threshold(
        "longest_wait_alarm_seconds", _("Alarm when a caller waits longer than (seconds)")
    )
    wrap_up_seconds = _threshold("wrap_up_seconds", _("After-call work allowed (seconds)"))
    callback_minutes = _threshold(
        "callback_minutes", _("Call back an abandoned caller within (business minutes)")
    )
    supervisors = _supervisors_field()

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if "language" in self.fields:
            self.fields["language"].choices = BLANK + language_choices()

    def values(self) -> dict:
        values = super().values()
        if "category_codes" in values:
            values["category_codes"] = _codes(values["category_codes"])
        return values

    @classmethod
    def initial_for(cls, queue: Queue) -> dict:
        initial = {name: getattr(queue, name) for name in cls.base_fields if name != "client"}
        initial["client"] = queue.client_id or ""
        initial["category_codes"] = ", ".join(queue.category_codes or [])
        initial["supervisors"] = [user.pk for user in queue.supervisors.all()]
        return initial


def language_choices() -> list[tuple[str, str]]:
    """The languages a queue may ask for, named in the reader's language."""
    names = dict(global_settings.LANGUAGES)
    return sorted(((code, gettext(names[code])) for code in LANGUAGE_CODES), key=lambda c: c[1])


class QueueArchiveForm(InputForm):
    refile = forms.BooleanField(
        label=_("File its waiting cases in the other queues first"), required=False
    )
