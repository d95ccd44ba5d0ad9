"""The filters every report accepts, on its page and in the API alike."""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from config.inputs import FilterForm, InputForm
from config.models import ConfigChange
from config.widgets import FlatSelect
from contracts.models import Client, Contract, Priority
from reports.changes import ChangeFilters, target_choices
from routing.models import Queue, Site

DEFAULT_PERIOD_DAYS = 30
# The longest period a report covers: three years (and a day for a leap year). Reports read
# every case of the period, so a longer one is refused before any query (issue #25: "a range
# of 20 years"); the two years the benchmark measures fit with room to spare.
MAX_PERIOD_DAYS = 366 * 3


@dataclass(frozen=True)
class ReportFilters:
    """Validated filters: the period as dates (Rome) and as instants [start, end)."""

    date_from: date
    date_to: date
    client: Client | None = None
    contract: Contract | None = None
    site: Site | None = None
    queue: Queue | None = None
    priority: str = ""

    @property
    def start(self) -> datetime:
        return datetime.combine(self.date_from, time.min, tzinfo=timezone.get_default_timezone())

    @property
    def end(self) -> datetime:
        return datetime.combine(
            self.date_to + timedelta(days=1), time.min, tzinfo=timezone.get_default_timezone()
        )

    def as_log(self) -> dict:
        """What the export log records (names, not objects)."""
        return {
            "from": self.date_from.isoformat(),
            "to": self.date_to.isoformat(),
            **({"client": self.client.pk} if self.client else {}),
            **({"contract": self.contract.code} if self.contract else {}),
            **({"site": self.site.code} if self.site else {}),
            **({"queue": self.queue.code} if self.queue else {}),
            **({"priority": self.priority} if self.priority else {}),
        }

    def as_query(self) -> dict:
        """The same filters as GET parameters (to rebuild a request, e.g. in a task)."""
        values = self.as_log()
        return {"from": values.pop("from"), "to": values.pop("to"), **values}


def errors_in_words(form: forms.Form) -> str:
    """A form's errors as one sentence (the API's message)."""
    return " ".join(str(message) for messages in form.errors.values() for message in messages)


class ReportFilterForm(InputForm):
    # `from` is a Python keyword: the form is filled from GET with the prefixless names below.
    date_from = forms.DateField(label=_("From"), required=False)
    date_to = forms.DateField(label=_("To"), required=False)
    client = forms.ModelChoiceField(
        label=_("Client"),
        queryset=Client.objects.order_by("name"),
        required=False,
        widget=FlatSelect,
    )
    contract = forms.ModelChoiceField(
        label=_("Contract"),
        queryset=Contract.objects.order_by("code"),
        to_field_name="code",
        required=False,
        widget=FlatSelect,
    )
    site = forms.ModelChoiceField(
        label=_("Site"),
        queryset=Site.objects.order_by("code"),
        to_field_name="code",
        required=False,
        widget=FlatSelect,
    )
    queue = forms.ModelChoiceField(
        label=_("Queue"),
        queryset=Queue.objects.order_by("code"),
        to_field_name="code",
        required=False,
        widget=FlatSelect,
    )
    priority = forms.ChoiceField(
        label=_("Priority"),
        choices=[("", "—"), *Priority.choices],
        required=False,
        widget=FlatSelect,
    )

    ALIASES = {"from": "date_from", "to": "date_to"}

    def __init__(self, data=None, *, today: date | None = None, **kwargs):
        if data is not None:
            data = {self.ALIASES.get(key, key): data.get(key) for key in data}
        super().__init__(data, **kwargs)
        self.today = today or timezone.localdate()
        for name in ("date_from", "date_to"):
            self.fields[name].widget = forms.DateInput(attrs={"type": "date"})

    def clean(self):
        data = super().clean()
        date_to = data.get("date_to") or self.today
        date_from = data.get("date_from") or date_to - timedelta(days=DEFAULT_PERIOD_DAYS - 1)
        # A period's errors sit on the date to correct (the one given, when only one is).
        if date_to < date_from:
            self.add_error(
                "date_to" if data.get("date_to") else "date_from",
                forms.ValidationError(
                    _("The end of the period comes before its start."), code="period_reversed"
                ),
            )
            return data
        if (date_to - date_from).days > MAX_PERIOD_DAYS:
            self.add_error(
                "date_from",
                forms.ValidationError(
                    _("The period can be at most three years long."), code="period_too_long"
                ),
            )
            return data
        contract, client = data.get("contract"), data.get("client")
        if contract and client and contract.client_id != client.pk:
            self.add_error(
                "contract",
                forms.ValidationError(
                    _("The contract does not belong to the client."),
                    code="contract_not_of_client",
                ),
            )
            return data
        data["date_from"], data["date_to"] = date_from, date_to
        return data

    def filters(self) -> ReportFilters:
        data = self.cleaned_data
        return ReportFilters(
            date_from=data["date_from"],
            date_to=data["date_to"],
            client=data.get("client"),
            contract=data.get("contract"),
            site=data.get("site"),
            queue=data.get("queue"),
            priority=data.get("priority") or "",
        )

    def error_message(self) -> str:
        return errors_in_words(self)


class ChangeFilterForm(FilterForm):
    """The configuration audit's filters (page and API): what, who, period, id or name, action.
    Filled from GET with the short names `what`, `who`, `from`, `to`, `q`, `action`."""

    target_type = forms.ChoiceField(label=_("What"), required=False)
    actor = forms.CharField(label=_("Who (username)"), max_length=150, required=False)
    date_from = forms.DateField(label=_("From"), required=False)
    date_to = forms.DateField(label=_("To"), required=False)
    text = forms.CharField(label=_("Id or name"), max_length=200, required=False)
    action = forms.ChoiceField(
        label=_("Action"), choices=[("", "—"), *ConfigChange.Action.choices], required=False
    )

    ALIASES = {"what": "target_type", "who": "actor", "from": "date_from", "to": "date_to"}
    ALIASES |= {"q": "text"}

    def __init__(self, data=None, **kwargs):
        if data is not None:
            data = {self.ALIASES.get(key, key): data.get(key) for key in data}
        super().__init__(data, **kwargs)
        self.fields["target_type"].choices = [("", "—"), *target_choices()]
        for name in ("date_from", "date_to"):
            self.fields[name].widget = forms.DateInput(attrs={"type": "date"})

    def clean(self):
        data = super().clean()
        date_from, date_to = data.get("date_from"), data.get("date_to")
        if date_from and date_to and date_to < date_from:
            raise forms.ValidationError(
                _("The end of the period comes before its start."), code="period_reversed"
            )
        return data

    def filters(self) -> ChangeFilters:
        data = self.cleaned_data
        return ChangeFilters(
            target_type=data.get("target_type") or "",
            actor=(data.get("actor") or "").strip(),
            date_from=data.get("date_from"),
            date_to=data.get("date_to"),
            text=(data.get("text") or "").strip(),
            action=data.get("action") or "",
        )

    def error_message(self) -> str:
        return errors_in_words(self)
