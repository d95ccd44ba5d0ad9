"""API shapes of the contracts app (DESIGN.md §7). Inputs check shape only; the rules are in
`contracts.services`."""

import re

from django.contrib.auth import get_user_model
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from config.inputs import InputSerializer, guard
from contracts import calendars, privacy, selectors
from contracts.models import (
    BusinessCalendar,
    Category,
    Client,
    ClosingCode,
    Contract,
    ContractStatus,
    ContractVersion,
    EndUser,
    Priority,
    Referent,
    Segment,
    SlaTarget,
)
from contracts.phones import display_phone
from contracts.services import (
    CategoryTerms,
    ClosingCodeTerms,
    ContractTerms,
    ReferentData,
    TargetTerms,
)

WEEKDAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
CLOCK = re.compile(r"^([01]\d|2[0-4]):([0-5]\d)$")


def minutes_from_clock(text: str) -> int:
    match = CLOCK.match(text or "")
    if not match or (match.group(1) == "24" and match.group(2) != "00"):
        raise serializers.ValidationError(_("Use HH:MM, e.g. 08:30 (24:00 ends the day)."))
    return int(match.group(1)) * 60 + int(match.group(2))


def clock_from_minutes(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


# --- Output ---------------------------------------------------------------------------------


class ReferentSerializer(serializers.ModelSerializer):
    """A client's business contact: in full to managers (who maintain it) and to whoever sees
    the client's people in full (`selectors.sees_people_in_full`); masked to everyone else
    and without a request in the context."""

    class Meta:
        model = Referent
        fields = ["first_name", "last_name", "role", "phone", "email", "is_primary"]

    def to_representation(self, referent):
        data = super().to_representation(referent)
        request = self.context.get("request")
        user = request.user if request is not None else None
        if user is not None and (
            user.has_perm("config.manage_contracts")  # they maintain the client's contacts
            or selectors.sees_people_in_full(user, referent.client_id)
        ):
            return data
        first, last = privacy.masked_names(referent.first_name, referent.last_name)
        return data | {
            "first_name": first,
            "last_name": last,
            "phone": privacy.mask_phone(referent.phone),
            "email": privacy.mask_email(referent.email),
        }


class ClientSerializer(serializers.ModelSerializer):
    account_team = serializers.SlugRelatedField(many=True, read_only=True, slug_field="username")
    referents = ReferentSerializer(many=True, read_only=True)

    class Meta:
        model = Client
        fields = [
            "id",
            "name",
            "segment",
            "vat_number",
            "province",
            "is_active",
            "account_team",
            "referents",
        ]


class ClientBriefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Client
        fields = ["id", "name", "segment", "province"]


class CalendarSerializer(serializers.ModelSerializer):
    hours = serializers.SerializerMethodField()
    closures = serializers.SerializerMethodField()

    class Meta:
        model = BusinessCalendar
        fields = ["id", "name", "timezone", "province", "always_open", "hours", "closures"]

    def get_hours(self, calendar) -> dict[str, list[list[str]]]:
        hours: dict[str, list[list[str]]] = {}
        for interval in calendar.intervals.all():
            hours.setdefault(WEEKDAYS[interval.weekday], []).append(
                [clock_from_minutes(interval.start_minute), clock_from_minutes(interval.end_minute)]
            )
        return hours

    def get_closures(self, calendar) -> list[dict]:
        return [{"day": c.day.isoformat(), "reason": c.reason} for c in calendar.closures.all()]


class SlaTargetSerializer(serializers.ModelSerializer):
    class Meta:
        model = SlaTarget
        fields = ["priority", "first_response_minutes", "resolution_minutes"]


class CategorySerializer(serializers.ModelSerializer):
    class Meta:
        model = Category
        fields = ["code", "name", "default_priority", "template"]


class ClosingCodeSerializer(serializers.ModelSerializer):
    category = serializers.CharField(source="category_code")

    class Meta:
        model = ClosingCode
        fields = ["code", "name_it", "name_en", "category"]


class ContractVersionSerializer(serializers.ModelSerializer):
    at_risk_share = serializers.FloatField()
    sla_targets = SlaTargetSerializer(many=True)
    categories = CategorySerializer(many=True)
    closing_codes = ClosingCodeSerializer(many=True)
    uses_default_closing_codes = serializers.SerializerMethodField()

    class Meta:
        model = ContractVersion
        fields = [
            "number",
            "effective_from",
            "effective_to",
            "at_risk_share",
            "card_markdown",
            "card_html",
            "entitlements",
            "handoff_units",
            "escalation_contacts",
            "change_summary",
            "sla_targets",
            "categories",
            "closing_codes",
            "uses_default_closing_codes",
        ]

    def get_uses_default_closing_codes(self, version) -> bool:
        """True when the version defines no closing codes: the national list applies."""
        return not version.closing_codes.all()


class ContractSerializer(serializers.ModelSerializer):
    client = ClientBriefSerializer()
    calendar = serializers.PrimaryKeyRelatedField(read_only=True)
    in_force = serializers.SerializerMethodField()

    class Meta:
        model = Contract
        fields = [
            "code",
            "client",
            "calendar",
            "services",
            "valid_from",
            "valid_to",
            "status",
            "retention_months",
            "mail_signature",
            "acknowledge_phone_cases",
            "in_force",
        ]

    def get_in_force(self, contract) -> bool:
        return selectors.contract_in_force(contract, timezone.localdate())


class ContractDetailSerializer(ContractSerializer):
    calendar = CalendarSerializer()
    current_version = serializers.SerializerMethodField()
    versions = serializers.SerializerMethodField()

    class Meta(ContractSerializer.Meta):
        fields = [*ContractSerializer.Meta.fields, "current_version", "versions"]

    def get_current_version(self, contract) -> dict | None:
        version = selectors.version_in_force(contract, timezone.localdate())
        return ContractVersionSerializer(version).data if version else None

    def get_versions(self, contract) -> list[dict]:
        return [
            {
                "number": v.number,
                "effective_from": v.effective_from,
                "effective_to": v.effective_to,
                "change_summary": v.change_summary,
            }
            for v in contract.versions.all()
        ]


class EndUserSerializer(serializers.ModelSerializer):
    """Masked unless the request's user sees the client's people in full (managers:
    masked; back-office: their clients in full); without a request in the context, masked."""

    phones = serializers.SlugRelatedField(many=True, read_only=True, slug_field="number")
    client = ClientBriefSerializer()

    def to_representation(self, end_user):
        data = super().to_representation(end_user)
        request = self.context.get("request")
        if request is not None and selectors.sees_people_in_full(request.user, end_user.client_id):
            return data
        first, last = privacy.masked_names(end_user.first_name, end_user.last_name)
        return data | {
            "first_name": first,
            "last_name": last,
            "phones": [privacy.mask_phone(number) for number in data["phones"]],
            "email": privacy.mask_email(end_user.email),
            "employee_code": privacy.mask_text(end_user.employee_code),
            "codice_fiscale": privacy.mask_codice_fiscale(end_user.codice_fiscale),
        }

    class Meta:
        model = EndUser
        fields = [
            "id",
            "client",
            "first_name",
            "last_name",
            "phones",
            "email",
            "employee_code",
            "codice_fiscale",
            "language",
            "is_active",
        ]


class SlaPreviewSerializer(serializers.Serializer):
    priority = serializers.CharField()
    opened_at = serializers.DateTimeField()
    clock_starts_at = serializers.DateTimeField()
    first_response_due = serializers.DateTimeField()
    resolution_due = serializers.DateTimeField()
    first_response_minutes = serializers.IntegerField()
    resolution_minutes = serializers.IntegerField()


class LookupMatchSerializer(serializers.Serializer):
    end_user = serializers.SerializerMethodField()
    client = serializers.SerializerMethodField()
    contract = serializers.SerializerMethodField()
    open_cases = serializers.ListField(child=serializers.DictField())

    def get_end_user(self, match) -> dict:
        user = match.end_user
        return {
            "id": user.id,
            "first_name": user.first_name,
            "last_name": user.last_name,
            "phones": [display_phone(p.number) for p in user.phones.all()],
            "email": user.email,
            "employee_code": user.employee_code,
        }

    def get_client(self, match) -> dict:
        return ClientBriefSerializer(match.client).data

    def get_contract(self, match) -> dict | None:
        if match.contract is None:
            return None
        version = match.version
        return {
            "code": match.contract.code,
            "services": match.contract.services,
            "valid_to": match.contract.valid_to,
            "version": version.number if version else None,
            "card_html": version.card_html if version else "",
            "sla_targets": SlaTargetSerializer(version.sla_targets.all(), many=True).data
            if version
            else [],
            "categories": CategorySerializer(version.categories.all(), many=True).data
            if version
            else [],
            "handoff_units": version.handoff_units if version else [],
        }


# --- Input ----------------------------------------------------------------------------------


class LookupResultSerializer(serializers.Serializer):
    """The lookup's answer: `{"results": [...]}` (DESIGN.md §7)."""

    results = LookupMatchSerializer(many=True)


class ReferentInput(InputSerializer):
    first_name = serializers.CharField(max_length=100)
    last_name = serializers.CharField(max_length=100)
    role = serializers.CharField(max_length=150, required=False, allow_blank=True, default="")
    phone = serializers.CharField(max_length=40, required=False, allow_blank=True, default="")
    email = serializers.CharField(max_length=254, required=False, allow_blank=True, default="")
    is_primary = serializers.BooleanField(default=False)


class ClientInput(InputSerializer):
    name = serializers.CharField(max_length=200)
    segment = serializers.ChoiceField(choices=Segment.choices)
    vat_number = serializers.CharField(max_length=20)
    province = serializers.CharField(max_length=2)
    is_active = serializers.BooleanField(default=True)
    account_team = serializers.SlugRelatedField(
        many=True,
        required=False,
        slug_field="username",
        queryset=get_user_model().objects.filter(is_active=True),
    )
    referents = ReferentInput(many=True, required=False)

    def service_arguments(self) -> dict:
        data = dict(self.validated_data)
        if "referents" in data:
            data["referents"] = [ReferentData(**r) for r in data["referents"]]
        return data


class CalendarInput(InputSerializer):
    name = serializers.CharField(max_length=120)
    timezone = serializers.CharField(max_length=64, default=calendars.UNIT_TIME_ZONE)
    province = serializers.CharField(max_length=2, required=False, allow_blank=True, default="")
    always_open = serializers.BooleanField(default=False)
    hours = serializers.DictField(
        child=serializers.ListField(
            child=serializers.ListField(child=serializers.CharField(), min_length=2, max_length=2)
        ),
        required=False,
        default=dict,
    )
    closures = serializers.ListField(child=serializers.JSONField(), required=False, default=list)

    def validate_hours(self, value) -> dict[int, list[tuple[int, int]]]:
        unknown = [day for day in value if day not in WEEKDAYS]
        if unknown:
            raise serializers.ValidationError(
                _("Unknown weekdays: %(days)s (use mon…sun).") % {"days": ", ".join(unknown)}
            )
        return {
            WEEKDAYS.index(day): [
                (minutes_from_clock(a), minutes_from_clock(b)) for a, b in intervals
            ]
            for day, intervals in value.items()
        }

    def validate_closures(self, value) -> list[tuple]:
        closures = []
        field = guard(serializers.DateField())
        for item in value:
            day, reason = (
                (item.get("day"), item.get("reason", "")) if isinstance(item, dict) else (item, "")
            )
            closures.append((field.run_validation(day), str(reason or "")))
        return closures


class TargetInput(InputSerializer):
    priority = serializers.ChoiceField(choices=Priority.choices)
    first_response_minutes = serializers.IntegerField()
    resolution_minutes = serializers.IntegerField()


class CategoryInput(InputSerializer):
    code = serializers.SlugField(max_length=50)
    name = serializers.CharField(max_length=150)
    default_priority = serializers.ChoiceField(choices=Priority.choices, default=Priority.P3)
    template = serializers.CharField(required=False, allow_blank=True, default="")


class ClosingCodeInput(InputSerializer):
    code = serializers.CharField(max_length=50)
    name_it = serializers.CharField(max_length=150, allow_blank=True)
    name_en = serializers.CharField(max_length=150, allow_blank=True, required=False, default="")
    category = serializers.CharField(max_length=50, required=False, allow_blank=True, default="")


class TermsInput(InputSerializer):
    at_risk_share = serializers.DecimalField(max_digits=4, decimal_places=3, default="0.2")
    sla_targets = TargetInput(many=True)
    categories = CategoryInput(many=True, required=False, default=list)
    closing_codes = ClosingCodeInput(many=True, required=False, default=list)
    card_markdown = serializers.CharField(required=False, allow_blank=True, default="")
    entitlements = serializers.DictField(required=False, default=dict)
    handoff_units = serializers.ListField(
        child=serializers.DictField(), required=False, default=list
    )
    escalation_contacts = serializers.ListField(
        child=serializers.DictField(), required=False, default=list
    )
    change_summary = serializers.CharField(
        max_length=300, required=False, allow_blank=True, default=""
    )

    def to_terms(self) -> ContractTerms:
        data = self.validated_data
        return ContractTerms(
            at_risk_share=data["at_risk_share"],
            sla_targets=[TargetTerms(**t) for t in data["sla_targets"]],
            categories=[CategoryTerms(**c) for c in data["categories"]],
            closing_codes=[
                ClosingCodeTerms(
                    code=c["code"],
                    name_it=c["name_it"],
                    name_en=c["name_en"],
                    category_code=c["category"],
                )
                for c in data["closing_codes"]
            ],
            card_markdown=data["card_markdown"],
            entitlements=data["entitlements"],
            handoff_units=data["handoff_units"],
            escalation_contacts=data["escalation_contacts"],
            change_summary=data["change_summary"],
        )


class ContractInput(TermsInput):
    code = serializers.CharField(max_length=40)
    client = serializers.PrimaryKeyRelatedField(queryset=Client.objects.all())
    calendar = serializers.PrimaryKeyRelatedField(queryset=BusinessCalendar.objects.all())
    services = serializers.ListField(child=serializers.CharField(max_length=20))
    valid_from = serializers.DateField()
    valid_to = serializers.DateField(required=False, allow_null=True, default=None)


class AmendmentInput(TermsInput):
    effective_from = serializers.DateField()


class ContractUpdateInput(InputSerializer):
    calendar = serializers.PrimaryKeyRelatedField(
        queryset=BusinessCalendar.objects.all(), required=False
    )
    services = serializers.ListField(child=serializers.CharField(max_length=20), required=False)
    valid_to = serializers.DateField(required=False, allow_null=True)
    status = serializers.ChoiceField(choices=ContractStatus.choices, required=False)
    retention_months = serializers.IntegerField(required=False, min_value=1, max_value=120)
    mail_signature = serializers.CharField(max_length=1000, required=False, allow_blank=True)
    acknowledge_phone_cases = serializers.BooleanField(required=False)


class EndUserInput(InputSerializer):
    client = serializers.PrimaryKeyRelatedField(queryset=Client.objects.all())
    first_name = serializers.CharField(max_length=100)
    last_name = serializers.CharField(max_length=100)
    phone = serializers.CharField(max_length=40, required=False, allow_blank=True, default="")
    phones = serializers.ListField(
        child=serializers.CharField(max_length=40), required=False, default=list
    )
    email = serializers.CharField(max_length=254, required=False, allow_blank=True, default="")
    employee_code = serializers.CharField(
        max_length=40, required=False, allow_blank=True, default=""
    )
    codice_fiscale = serializers.CharField(
        max_length=16, required=False, allow_blank=True, default=""
    )
    language = serializers.ChoiceField(choices=["it", "en"], required=False, default="it")
    is_active = serializers.BooleanField(default=True)


class EndUserImportInput(InputSerializer):
    client = serializers.PrimaryKeyRelatedField(queryset=Client.objects.all())
    file = serializers.FileField(max_length=200, allow_empty_file=False)
    dry_run = serializers.BooleanField(default=True)
    all_or_nothing = serializers.BooleanField(default=True)


# A `+` sent unencoded in a query string arrives as a space: `2026-12-04T17:30:00 01:00`.
UNENCODED_PLUS_OFFSET = re.compile(r"(:\d{2}(?:\.\d+)?) (\d{2}(?::?\d{2})?)$")


class OffsetDateTimeField(serializers.DateTimeField):
    """An ISO 8601 instant with its UTC offset (one whose `+` was sent unencoded, read as a
    space, is accepted); without an offset it names no instant and is refused."""

    default_error_messages = {"offset": _("Give an ISO 8601 date and time with its UTC offset.")}

    def to_internal_value(self, value):
        text = UNENCODED_PLUS_OFFSET.sub(r"\1+\2", str(value).strip())
        try:
            parsed = parse_datetime(text)
        except ValueError:  # a well-formed impossible instant: 30 February, hour 25
            parsed = None
        if parsed is None or timezone.is_naive(parsed):
            self.fail("offset")
        return super().to_internal_value(text)


class SlaPreviewQuery(InputSerializer):
    """`?priority=&opened_at=` of the SLA preview; `opened_at` defaults to now."""

    priority = serializers.ChoiceField(choices=Priority.choices)
    opened_at = OffsetDateTimeField(required=False)


class LookupInput(InputSerializer):
    phone = serializers.CharField(max_length=40, required=False, allow_blank=True, default="")
    email = serializers.CharField(max_length=254, required=False, allow_blank=True, default="")
    employee_code = serializers.CharField(
        max_length=40, required=False, allow_blank=True, default=""
    )

    def validate(self, attrs):
        if sum(bool(v.strip()) for v in attrs.values()) != 1:
            raise serializers.ValidationError(
                _("Give exactly one of phone, e-mail or employee code.")
            )
        return attrs


class OrderValidationInput(InputSerializer):
    single_person = serializers.BooleanField(
        help_text="true: whoever submitted an order on this contract may validate it alone"
    )
    reason = serializers.CharField(max_length=300, allow_blank=True, default="")


class OrderValidationChangeSerializer(serializers.Serializer):
    at = serializers.DateTimeField()
    actor = serializers.CharField(source="actor.username", allow_null=True, default=None)
    single_person = serializers.BooleanField(source="detail.single_person")
    reason = serializers.CharField(source="detail.reason")


class OrderValidationSerializer(serializers.Serializer):
    contract = serializers.CharField(source="code")
    single_person_order_validation = serializers.BooleanField()
    changes = serializers.SerializerMethodField()

    def get_changes(self, contract) -> list[dict]:
        changes = selectors.order_validation_changes(contract)
        return OrderValidationChangeSerializer(changes, many=True).data
