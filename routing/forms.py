"""Forms of the routing pages: they check shape only; the services decide the rest.

The console's forms get their choices from the view (operators and queues it has already
read for the console), so rendering them costs no query of their own.
"""

from datetime import date, timedelta

from django import forms
from django.utils.translation import gettext_lazy as _

from care.forms import ReferenceField
from config.inputs import FilterForm, InputForm
from routing.models import PresenceState
from routing.services import CHOSEN_PRESENCES, MAX_EMERGENCY_MINUTES, REASON_MAX

# On a call and after-call work come from the PBX; people choose among the others.
PRESENCE_CHOICES = [(state, PresenceState(state).label) for state in CHOSEN_PRESENCES]


class PresenceForm(InputForm):
    """The operator's own presence: one button per state."""

    state = forms.ChoiceField(label=_("Presence"), choices=PRESENCE_CHOICES)


class _ConsoleForm(InputForm):
    """`operators`: [(user id, label)], the supervisor's; `assignable`: the same, grouped
    with the operators of other sites (a reassignment to them needs an override reason);
    `queues`: [(queue code, name)]; `emergencies`: the queues in emergency, the only ones an
    emergency can be switched off for."""

    only_emergencies = False
    other_sites = False

    def __init__(
        self, *args, operators=(), assignable=(), queues=(), emergencies=(), **kwargs
    ) -> None:
        super().__init__(*args, **kwargs)
        blank = [("", "---------")]
        if "operator" in self.fields:
            offered = assignable if self.other_sites else operators
            self.fields["operator"].choices = blank + list(offered)
        if "queue" in self.fields:
            offered = emergencies if self.only_emergencies else queues
            self.fields["queue"].choices = blank + list(offered)


class OperatorPresenceForm(_ConsoleForm):
    """A supervisor changes an operator's presence."""

    operator = forms.TypedChoiceField(label=_("Operator"), coerce=int)
    state = forms.ChoiceField(label=_("Presence"), choices=PRESENCE_CHOICES)


class ReassignForm(_ConsoleForm):
    """A supervisor gives a case to an operator; an ineligible one, or one outside the
    supervisor's sites and queues, needs an override reason (the service says so)."""

    other_sites = True
    case = ReferenceField(label=_("Case reference"))
    operator = forms.TypedChoiceField(label=_("Operator"), coerce=int)
    override_reason = forms.CharField(
        label=_("Override reason"),
        max_length=REASON_MAX,
        required=False,
        help_text=_(
            "Needed only if the operator is not eligible for the case, or if the operator or "
            "the case is outside the sites and queues you supervise. It is recorded."
        ),
    )


class EmergencyForm(_ConsoleForm):
    """A supervisor switches a queue to emergency for some minutes, saying why."""

    queue = forms.ChoiceField(label=_("Queue"))
    minutes = forms.IntegerField(
        label=_("Duration (minutes)"), min_value=1, max_value=MAX_EMERGENCY_MINUTES, initial=60
    )
    reason = forms.CharField(label=_("Reason"), max_length=REASON_MAX)


class EmergencyOffForm(_ConsoleForm):
    only_emergencies = True
    queue = forms.ChoiceField(
        label=_("Queue"),
        error_messages={"invalid_choice": _("This queue is not in emergency.")},
    )


class CallbackDoneForm(InputForm):
    """How calling back went."""

    reached = forms.ChoiceField(
        label=_("Reached"),
        choices=[("yes", _("Reached the caller")), ("no", _("No answer"))],
        widget=forms.RadioSelect,
    )
    case_reference = forms.CharField(
        label=_("Case opened or updated"), max_length=20, required=False
    )
    note = forms.CharField(label=_("Note"), max_length=300, required=False)


HISTORY_DEFAULT_DAYS = 14
HISTORY_MAX_DAYS = 62


def _date_input() -> forms.DateInput:
    return forms.DateInput(attrs={"type": "date"})


class PresenceDayForm(FilterForm):
    """The day the supervisor's presence page counts (today unless chosen)."""

    day = forms.DateField(label=_("Day"), required=False, widget=_date_input())

    def chosen_day(self, today: date) -> date:
        return self.cleaned_data.get("day") or today


class PresenceHistoryForm(FilterForm):
    """An operator's own days: two weeks unless chosen, at most about two months."""

    date_from = forms.DateField(label=_("From"), required=False, widget=_date_input())
    date_to = forms.DateField(label=_("To"), required=False, widget=_date_input())

    def __init__(self, *args, today: date, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.today = today

    def clean(self):
        data = super().clean()
        date_to = data.get("date_to") or self.today
        date_from = data.get("date_from") or date_to - timedelta(days=HISTORY_DEFAULT_DAYS - 1)
        if date_to < date_from:
            raise forms.ValidationError(
                _("The end of the period comes before its start."), code="period_reversed"
            )
        if (date_to - date_from).days >= HISTORY_MAX_DAYS:
            raise forms.ValidationError(
                _("Choose at most %(days)d days.") % {"days": HISTORY_MAX_DAYS},
                code="period_too_long",
            )
        data["date_from"], data["date_to"] = date_from, date_to
        return data
