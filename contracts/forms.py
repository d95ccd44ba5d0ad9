"""Manager forms of the contracts app. They check shape and turn text into plain values; the
rules (and their messages) are in `contracts.services`."""

import re
from datetime import date

from django import forms
from django.utils.translation import gettext_lazy as _

from config.inputs import InputForm, whole_number
from contracts import calendars, selectors
from contracts.models import (
    BusinessCalendar,
    Client,
    ContractStatus,
    ContractVersion,
    Priority,
    Segment,
    Service,
)
from contracts.services import (
    CategoryTerms,
    ClosingCodeTerms,
    ContractTerms,
    ReferentData,
    TargetTerms,
)

WEEKDAY_LABELS = [
    _("Monday"),
    _("Tuesday"),
    _("Wednesday"),
    _("Thursday"),
    _("Friday"),
    _("Saturday"),
    _("Sunday"),
]
INTERVAL = re.compile(r"^\s*(\d{1,2})[:.](\d{2})\s*[-–]\s*(\d{1,2})[:.](\d{2})\s*$")


def _lines(text: str) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def _pipe_fields(line: str, count: int) -> list[str]:
    parts = [part.strip() for part in line.split("|")]
    return (parts + [""] * count)[:count]


class ClientForm(InputForm):
    name = forms.CharField(label=_("Name"), max_length=200)
    segment = forms.ChoiceField(label=_("Segment"), choices=Segment.choices)
    vat_number = forms.CharField(label=_("VAT number (partita IVA)"), max_length=20)
    province = forms.CharField(
        label=_("Province"), max_length=2, help_text=_("Two letters, e.g. PA, MI, RM.")
    )
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)
    account_team = forms.ModelMultipleChoiceField(
        label=_("Account team"),
        required=False,
        queryset=selectors.account_team_candidates(),
        widget=forms.CheckboxSelectMultiple,
    )
    referents = forms.CharField(
        label=_("Referents"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_(
            "One per line: first name | last name | role | phone | e-mail | x if primary contact."
        ),
    )

    def clean_referents(self) -> list[ReferentData]:
        return [
            ReferentData(
                first_name=first,
                last_name=last,
                role=role,
                phone=phone,
                email=email,
                is_primary=primary.lower() in {"x", "si", "sì", "yes", "1"},
            )
            for first, last, role, phone, email, primary in (
                _pipe_fields(line, 6) for line in _lines(self.cleaned_data["referents"])
            )
        ]

    @staticmethod
    def initial_for(client: Client) -> dict:
        return {
            "name": client.name,
            "segment": client.segment,
            "vat_number": client.vat_number,
            "province": client.province,
            "is_active": client.is_active,
            "account_team": list(client.account_team.all()),
            "referents": "\n".join(
                " | ".join(
                    [
                        r.first_name,
                        r.last_name,
                        r.role,
                        r.phone,
                        r.email,
                        "x" if r.is_primary else "",
                    ]
                ).rstrip(" |")
                for r in client.referents.all()
            ),
        }


class CalendarForm(InputForm):
    name = forms.CharField(label=_("Name"), max_length=120)
    province = forms.CharField(label=_("Province (patron saint)"), max_length=2, required=False)
    timezone = forms.CharField(
        label=_("Time zone"), max_length=64, initial=calendars.UNIT_TIME_ZONE
    )
    always_open = forms.BooleanField(label=_("Open 24x7"), required=False)
    closures = forms.CharField(
        label=_("Closure days"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("One per line: date and reason, e.g. 2026-12-24 Christmas Eve."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for weekday, label in enumerate(WEEKDAY_LABELS):
            self.fields[f"day_{weekday}"] = forms.CharField(
                label=label,
                required=False,
                max_length=120,
                help_text=_("e.g. 08:30-13:00, 14:00-17:30; empty = closed")
                if weekday == 0
                else "",
            )

    def clean(self):
        data = super().clean()
        hours: dict[int, list[tuple[int, int]]] = {}
        for weekday in range(7):
            text = data.get(f"day_{weekday}") or ""
            for part in filter(None, (p.strip() for p in text.split(","))):
                match = INTERVAL.match(part)
                if not match:
                    self.add_error(f"day_{weekday}", _("Write openings as 08:30-13:00."))
                    continue
                h1, m1, h2, m2 = map(int, match.groups())
                hours.setdefault(weekday, []).append((h1 * 60 + m1, h2 * 60 + m2))
        data["hours"] = hours
        closures = []
        for line in _lines(data.get("closures", "")):
            day, _sep, reason = line.partition(" ")
            try:
                closures.append((date.fromisoformat(day), reason.strip()))
            except ValueError:
                self.add_error(
                    "closures",
                    _("%(line)s: start the line with a date as YYYY-MM-DD.") % {"line": line},
                )
        data["closure_days"] = closures
        return data

    @staticmethod
    def initial_for(calendar: BusinessCalendar) -> dict:
        initial = {
            "name": calendar.name,
            "province": calendar.province,
            "timezone": calendar.timezone,
            "always_open": calendar.always_open,
            "closures": "\n".join(
                f"{c.day.isoformat()} {c.reason}".strip() for c in calendar.closures.all()
            ),
        }
        for weekday in range(7):
            initial[f"day_{weekday}"] = ", ".join(
                f"{i.start_minute // 60:02d}:{i.start_minute % 60:02d}-"
                f"{i.end_minute // 60:02d}:{i.end_minute % 60:02d}"
                for i in calendar.intervals.all()
                if i.weekday == weekday
            )
        return initial


class TermsForm(InputForm):
    """The terms of a contract version, as a manager writes them."""

    at_risk_share = forms.DecimalField(
        label=_("At-risk warning share"), min_value=0, max_value=1, decimal_places=2, initial="0.20"
    )
    card_markdown = forms.CharField(
        label=_("Contract card (Markdown)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 10}),
        help_text=_(
            "Who is entitled, how to verify identity, what is in scope, where to "
            "forward. Use ## headings and - lists."
        ),
    )
    categories = forms.CharField(
        label=_("Categories"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_(
            "One per line: code | name | default priority | template "
            "(write \\n for a new line in the template)."
        ),
    )
    closing_codes = forms.CharField(
        label=_("Closing codes"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_(
            "One per line: code | Italian name | English name | category (optional). "
            "Leave empty to use the national default list."
        ),
    )
    entitlements = forms.CharField(
        label=_("Entitlements"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("One per line: name: value, e.g. lines: 1200."),
    )
    handoff_units = forms.CharField(
        label=_("Hand-off units"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("One per line: code | name | e-mail."),
    )
    escalation_contacts = forms.CharField(
        label=_("Escalation contacts"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("One per line: name | role | phone | e-mail."),
    )
    change_summary = forms.CharField(label=_("What changes"), required=False, max_length=300)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for priority in Priority.values:
            self.fields[f"{priority}_first_response"] = forms.IntegerField(
                label=_("%(p)s first response (minutes)") % {"p": priority}, required=False
            )
            self.fields[f"{priority}_resolution"] = forms.IntegerField(
                label=_("%(p)s resolution (minutes)") % {"p": priority}, required=False
            )

    HEAD_FIELDS = (
        "code",
        "client",
        "calendar",
        "services",
        "valid_from",
        "valid_to",
        "effective_from",
        "change_summary",
    )

    def head_fields(self):
        """The fields shown above the terms: the contract's own, or the amendment's."""
        return [self[name] for name in self.HEAD_FIELDS if name in self.fields]

    def target_rows(self):
        return [(p, self[f"{p}_first_response"], self[f"{p}_resolution"]) for p in Priority.values]

    def clean(self):
        data = super().clean()
        targets = []
        for priority in Priority.values:
            first = data.get(f"{priority}_first_response")
            resolution = data.get(f"{priority}_resolution")
            if first is None and resolution is None:
                continue
            if first is None or resolution is None:
                self.add_error(f"{priority}_resolution", _("Give both targets, or neither."))
                continue
            targets.append(TargetTerms(priority, first, resolution))
        data["targets"] = targets
        categories = []
        for line in _lines(data.get("categories", "")):
            code, name, priority, template = _pipe_fields(line, 4)
            categories.append(
                CategoryTerms(
                    code=code,
                    name=name,
                    default_priority=(priority or "P3").upper(),
                    template=template.replace("\\n", "\n"),
                )
            )
        data["category_terms"] = categories
        data["closing_code_terms"] = [
            ClosingCodeTerms(*_pipe_fields(line, 4))
            for line in _lines(data.get("closing_codes", ""))
        ]
        entitlements = {}
        for line in _lines(data.get("entitlements", "")):
            name, sep, value = line.partition(":")
            if not sep:
                self.add_error("entitlements", _("Write each entitlement as name: value."))
                continue
            value = value.strip()
            number = whole_number(value)
            entitlements[name.strip()] = value if number is None else number
        data["entitlement_map"] = entitlements
        data["units"] = [
            dict(zip(("code", "name", "email"), _pipe_fields(line, 3), strict=True))
            for line in _lines(data.get("handoff_units", ""))
        ]
        data["contacts"] = [
            dict(zip(("name", "role", "phone", "email"), _pipe_fields(line, 4), strict=True))
            for line in _lines(data.get("escalation_contacts", ""))
        ]
        return data

    def to_terms(self) -> ContractTerms:
        data = self.cleaned_data
        return ContractTerms(
            sla_targets=data["targets"],
            categories=data["category_terms"],
            closing_codes=data["closing_code_terms"],
            at_risk_share=data["at_risk_share"],
            card_markdown=data["card_markdown"],
            entitlements=data["entitlement_map"],
            handoff_units=data["units"],
            escalation_contacts=data["contacts"],
            change_summary=data["change_summary"],
        )

    @staticmethod
    def initial_for(version: ContractVersion) -> dict:
        initial = {
            "at_risk_share": version.at_risk_share,
            "card_markdown": version.card_markdown,
            "categories": "\n".join(
                " | ".join([c.code, c.name, c.default_priority, c.template.replace("\n", "\\n")])
                for c in version.categories.all()
            ),
            "closing_codes": "\n".join(
                " | ".join([c.code, c.name_it, c.name_en, c.category_code]).rstrip(" |")
                for c in version.closing_codes.all()
            ),
            "entitlements": "\n".join(f"{k}: {v}" for k, v in version.entitlements.items()),
            "handoff_units": "\n".join(
                " | ".join(u.get(k, "") for k in ("code", "name", "email"))
                for u in version.handoff_units
            ),
            "escalation_contacts": "\n".join(
                " | ".join(c.get(k, "") for k in ("name", "role", "phone", "email"))
                for c in version.escalation_contacts
            ),
        }
        for target in version.sla_targets.all():
            initial[f"{target.priority}_first_response"] = target.first_response_minutes
            initial[f"{target.priority}_resolution"] = target.resolution_minutes
        return initial


class ContractForm(TermsForm):
    code = forms.CharField(label=_("Code"), max_length=40)
    client = forms.ModelChoiceField(label=_("Client"), queryset=Client.objects.order_by("name"))
    calendar = forms.ModelChoiceField(
        label=_("Business calendar"), queryset=BusinessCalendar.objects.order_by("name")
    )
    services = forms.MultipleChoiceField(
        label=_("Services in scope"), choices=Service.choices, widget=forms.CheckboxSelectMultiple
    )
    valid_from = forms.DateField(
        label=_("Valid from"), widget=forms.DateInput(attrs={"type": "date"})
    )
    valid_to = forms.DateField(
        label=_("Valid to"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    field_order = ["code", "client", "calendar", "services", "valid_from", "valid_to"]


class AmendmentForm(TermsForm):
    effective_from = forms.DateField(
        label=_("In force from"), widget=forms.DateInput(attrs={"type": "date"})
    )
    field_order = ["effective_from", "change_summary"]


class ContractEditForm(InputForm):
    calendar = forms.ModelChoiceField(
        label=_("Business calendar"), queryset=BusinessCalendar.objects.order_by("name")
    )
    services = forms.MultipleChoiceField(
        label=_("Services in scope"), choices=Service.choices, widget=forms.CheckboxSelectMultiple
    )
    valid_to = forms.DateField(
        label=_("Valid to"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    status = forms.ChoiceField(label=_("Status"), choices=ContractStatus.choices)
    retention_months = forms.IntegerField(
        label=_("Keep callers' data on closed cases (months)"),
        min_value=1,
        max_value=120,
        help_text=_("Afterwards the nightly retention anonymises the caller on those cases."),
    )
    mail_signature = forms.CharField(
        label=_("E-mail signature"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Under every e-mail to this contract's end users; empty: the unit's."),
    )
    acknowledge_phone_cases = forms.BooleanField(
        label=_("Acknowledge cases opened by phone by e-mail"), required=False
    )


class OrderValidationForm(InputForm):
    single_person = forms.BooleanField(
        label=_("Whoever submits an order on this contract may also validate it"),
        required=False,
        help_text=_(
            "Off (the rule): a colleague validates every order (four eyes). Turn it on only "
            "when the client needs it."
        ),
    )
    reason = forms.CharField(
        label=_("Reason for the change"), max_length=300, widget=forms.Textarea(attrs={"rows": 2})
    )


class SlaPreviewForm(InputForm):
    priority = forms.ChoiceField(label=_("Priority"), choices=Priority.choices)
    opened_at = forms.DateTimeField(
        label=_("Opened at"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )


class EndUserImportForm(InputForm):
    client = forms.ModelChoiceField(label=_("Client"), queryset=Client.objects.order_by("name"))
    file = forms.FileField(label=_("File (.csv or .xlsx)"))
    mode = forms.ChoiceField(
        label=_("If some rows have errors"),
        choices=[("all", _("import nothing")), ("valid", _("import the valid rows"))],
        widget=forms.RadioSelect,
        initial="all",
    )

    def __init__(self, *args, user, **kwargs):
        """Back-office imports only into its clients' directories (managers: any)."""
        super().__init__(*args, **kwargs)
        self.fields["client"].queryset = selectors.of_their_clients(
            self.fields["client"].queryset, user, field=""
        )


class LookupForm(InputForm):
    query = forms.CharField(
        label=_("Phone, e-mail or employee code"),
        max_length=254,
        widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "off"}),
    )

    def lookup_keys(self) -> dict[str, str]:
        """Which key the operator typed: an address has @, a number has mostly digits."""
        query = self.cleaned_data["query"].strip()
        if "@" in query:
            return {"email": query}
        digits = sum(ch.isdigit() for ch in query)
        if digits >= 6 and digits >= len(query.replace(" ", "")) - 4:
            return {"phone": query}
        return {"employee_code": query}
