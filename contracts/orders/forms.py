"""Back-office forms. They check shape and turn text into plain values; the rules (and their
messages) are in `contracts.orders.services`."""

from django import forms
from django.utils.translation import gettext_lazy as _

from config.inputs import InputForm
from contracts.models import (
    Contract,
    LoyaltyAction,
    LoyaltyOutcome,
    OrderKind,
    OrderNote,
    Referent,
    Service,
)
from contracts.orders.selectors import backoffice_users
from contracts.orders.services import LineData
from contracts.selectors import of_their_clients

LINE_ROWS = 3


class OrderForm(InputForm):
    kind = forms.ChoiceField(label=_("Kind of order"), choices=OrderKind.choices)
    contract = forms.ModelChoiceField(
        label=_("Contract"),
        queryset=Contract.objects.select_related("client").order_by("code"),
        to_field_name="code",
    )
    requester = forms.ModelChoiceField(
        label=_("Requester (referent)"), queryset=Referent.objects.none(), required=False
    )
    summary = forms.CharField(label=_("Summary"), max_length=200)
    description = forms.CharField(
        label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 4})
    )
    owner = forms.ModelChoiceField(
        label=_("Owner"),
        queryset=backoffice_users(),
        required=False,
        empty_label=_("Nobody: to the back-office pool"),
        to_field_name="username",
    )
    case_reference = forms.CharField(
        label=_("Opened from case"), max_length=20, required=False, widget=forms.HiddenInput
    )
    duplicate_override_reason = forms.CharField(
        label=_("Why a new order, when an open one already asks the same"),
        max_length=300,
        required=False,
    )

    def __init__(self, *args, user, client=None, **kwargs):
        """Only the contracts and referents of the user's clients are offered."""
        super().__init__(*args, **kwargs)
        self.fields["contract"].queryset = of_their_clients(self.fields["contract"].queryset, user)
        referents = of_their_clients(
            Referent.objects.select_related("client").order_by("last_name", "first_name"), user
        )
        self.fields["requester"].queryset = (
            referents.filter(client=client) if client is not None else referents
        )
        for number in range(1, LINE_ROWS + 1):
            required = number == 1
            self.fields[f"line_{number}_service"] = forms.ChoiceField(
                label=_("Line %(n)s: service") % {"n": number},
                choices=[("", "—"), *Service.choices],
                required=required,
            )
            self.fields[f"line_{number}_quantity"] = forms.IntegerField(
                label=_("Quantity"), required=False, initial=1 if required else None
            )
            self.fields[f"line_{number}_target_date"] = forms.DateField(
                label=_("Target date"),
                required=False,
                widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            )

    def line_rows(self) -> list[list]:
        return [
            [self[f"line_{n}_{name}"] for name in ("service", "quantity", "target_date")]
            for n in range(1, LINE_ROWS + 1)
        ]

    def lines(self) -> list[LineData]:
        data = self.cleaned_data
        return [
            LineData(
                service=data[f"line_{n}_service"],
                quantity=data[f"line_{n}_quantity"]
                if data[f"line_{n}_quantity"] is not None
                else 0,
                target_date=data[f"line_{n}_target_date"],
            )
            for n in range(1, LINE_ROWS + 1)
            if data.get(f"line_{n}_service")
        ]


class OrderTransitionForm(InputForm):
    to = forms.CharField(widget=forms.HiddenInput)
    row_version = forms.IntegerField(widget=forms.HiddenInput)
    reason = forms.CharField(
        label=_("Reason (required to reject or cancel)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class OrderNoteForm(InputForm):
    body = forms.CharField(label=_("Note"), widget=forms.Textarea(attrs={"rows": 3}))
    visibility = forms.ChoiceField(
        label=_("For"), choices=OrderNote.Visibility.choices, initial=OrderNote.Visibility.INTERNAL
    )


class OrderDocumentForm(InputForm):
    file = forms.FileField(label=_("Document"))


class LoyaltyActionForm(InputForm):
    kind = forms.ChoiceField(label=_("Action"), choices=LoyaltyAction.Kind.choices)
    note = forms.CharField(
        label=_("What happened"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class LoyaltyCloseForm(InputForm):
    outcome = forms.ChoiceField(
        label=_("Outcome"),
        choices=[c for c in LoyaltyOutcome.choices if c[0] != LoyaltyOutcome.PENDING],
    )
    note = forms.CharField(
        label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    open_renewal = forms.BooleanField(label=_("Open a renewal order"), required=False)
