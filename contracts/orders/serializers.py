"""API shapes of contract orders and the loyalty worklist. Inputs check shape only; the rules
are in `contracts.orders.services`."""

from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from config.inputs import InputSerializer
from contracts.models import (
    Contract,
    ContractOrder,
    LoyaltyAction,
    LoyaltyItem,
    LoyaltyOutcome,
    OrderDocument,
    OrderEvent,
    OrderKind,
    OrderLine,
    OrderNote,
    OrderState,
    Referent,
    Service,
)
from contracts.orders.selectors import MAX_ID
from contracts.orders.services import LineData

# --- Output ---------------------------------------------------------------------------------


class OrderLineSerializer(serializers.ModelSerializer):
    class Meta:
        model = OrderLine
        fields = ["service", "quantity", "target_date", "description"]


class OrderEventSerializer(serializers.ModelSerializer):
    actor = serializers.SlugRelatedField(read_only=True, slug_field="username")

    class Meta:
        model = OrderEvent
        fields = ["kind", "from_state", "to_state", "actor", "at", "detail"]


class OrderNoteSerializer(serializers.ModelSerializer):
    author = serializers.SlugRelatedField(read_only=True, slug_field="username")

    class Meta:
        model = OrderNote
        fields = ["id", "author", "at", "visibility", "body"]


class OrderDocumentSerializer(serializers.ModelSerializer):
    uploaded_by = serializers.SlugRelatedField(read_only=True, slug_field="username")

    class Meta:
        model = OrderDocument
        fields = ["id", "original_name", "content_type", "size", "uploaded_by", "at"]


class OrderSerializer(serializers.ModelSerializer):
    client = serializers.PrimaryKeyRelatedField(read_only=True)
    client_name = serializers.CharField(source="client.name", read_only=True)
    contract = serializers.SlugRelatedField(read_only=True, slug_field="code")
    # None: in the back-office pool; no referent asked (the OpenAPI schema says so).
    owner = serializers.SlugRelatedField(read_only=True, slug_field="username", allow_null=True)
    requester = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True)

    class Meta:
        model = ContractOrder
        fields = [
            "reference",
            "kind",
            "state",
            "state_reason",
            "state_entered_at",
            "state_due_at",
            "is_late",
            "client",
            "client_name",
            "contract",
            "requester",
            "requester_name",
            "owner",
            "summary",
            "case_reference",
            "row_version",
            "created_at",
            "updated_at",
            "closed_at",
        ]


class OrderDetailSerializer(OrderSerializer):
    lines = OrderLineSerializer(many=True, read_only=True)
    events = OrderEventSerializer(many=True, read_only=True)
    notes = OrderNoteSerializer(many=True, read_only=True)
    documents = OrderDocumentSerializer(many=True, read_only=True)
    created_by = serializers.SlugRelatedField(read_only=True, slug_field="username")

    class Meta(OrderSerializer.Meta):
        fields = [
            *OrderSerializer.Meta.fields,
            "description",
            "created_by",
            "lines",
            "events",
            "notes",
            "documents",
        ]


class LoyaltyActionSerializer(serializers.ModelSerializer):
    actor = serializers.SlugRelatedField(read_only=True, slug_field="username")

    class Meta:
        model = LoyaltyAction
        fields = ["id", "kind", "at", "actor", "note"]


class LoyaltyItemSerializer(serializers.ModelSerializer):
    contract = serializers.SlugRelatedField(read_only=True, slug_field="code")
    client = serializers.PrimaryKeyRelatedField(read_only=True)
    client_name = serializers.CharField(source="client.name", read_only=True)
    owner = serializers.SlugRelatedField(read_only=True, slug_field="username")
    renewal_order = serializers.SlugRelatedField(read_only=True, slug_field="reference")

    class Meta:
        model = LoyaltyItem
        fields = [
            "id",
            "contract",
            "client",
            "client_name",
            "valid_to",
            "owner",
            "outcome",
            "outcome_note",
            "renewal_order",
            "created_at",
            "closed_at",
        ]


class LoyaltyItemDetailSerializer(LoyaltyItemSerializer):
    actions = LoyaltyActionSerializer(many=True, read_only=True)

    class Meta(LoyaltyItemSerializer.Meta):
        fields = [*LoyaltyItemSerializer.Meta.fields, "actions"]


# --- Input ----------------------------------------------------------------------------------


class OrderLineInput(InputSerializer):
    service = serializers.ChoiceField(choices=Service.choices)
    # Any integer: a quantity of 0 or less is refused by the service with the line's number.
    quantity = serializers.IntegerField()
    target_date = serializers.DateField(required=False, allow_null=True, default=None)
    description = serializers.CharField(required=False, allow_blank=True, default="")


class OrderInput(InputSerializer):
    kind = serializers.ChoiceField(choices=OrderKind.choices)
    contract = serializers.SlugRelatedField(slug_field="code", queryset=Contract.objects.all())
    summary = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    requester = serializers.IntegerField(
        required=False, allow_null=True, default=None, min_value=1, max_value=MAX_ID
    )
    owner = serializers.SlugRelatedField(
        slug_field="username",
        queryset=get_user_model().objects.all(),
        required=False,
        allow_null=True,
        default=None,
    )
    case_reference = serializers.CharField(
        max_length=20, required=False, allow_blank=True, default=""
    )
    lines = OrderLineInput(many=True, allow_empty=True)
    duplicate_override_reason = serializers.CharField(
        max_length=300,
        required=False,
        allow_blank=True,
        default="",
        help_text=_("Why a new order, when an open one already asks the same (409)."),
    )

    def validate_requester(self, value):
        if value is None:
            return None
        referent = Referent.objects.filter(id=value).first()
        if referent is None:
            raise serializers.ValidationError(_("No such referent."))
        return referent

    def service_arguments(self) -> dict:
        data = dict(self.validated_data)
        data["lines"] = [LineData(**line) for line in data["lines"]]
        return data


class OrderTransitionInput(InputSerializer):
    to = serializers.ChoiceField(choices=OrderState.choices)
    reason = serializers.CharField(required=False, allow_blank=True, default="")
    row_version = serializers.IntegerField(
        required=False, allow_null=True, default=None, help_text=_("The version you read.")
    )


class OrderNoteInput(InputSerializer):
    body = serializers.CharField()
    visibility = serializers.ChoiceField(
        choices=OrderNote.Visibility.choices, default=OrderNote.Visibility.INTERNAL
    )


class LoyaltyActionInput(InputSerializer):
    kind = serializers.ChoiceField(choices=LoyaltyAction.Kind.choices)
    note = serializers.CharField(required=False, allow_blank=True, default="")


class LoyaltyCloseInput(InputSerializer):
    outcome = serializers.ChoiceField(choices=LoyaltyOutcome.choices)
    note = serializers.CharField(required=False, allow_blank=True, default="")
    open_renewal = serializers.BooleanField(required=False, default=False)
