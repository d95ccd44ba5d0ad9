"""API shapes of the care app (DESIGN.md §7). Inputs check shape only; the rules, and their
messages, are in `care.services`.

Case status and SLA states are rendered as plain strings: their choice sets would collide in
the OpenAPI enum names with `contracts` (`status`) and with each other (two SLA states).
"""

from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from care import privacy, selectors, services, wording
from care.models import (
    WRITTEN_VISIBILITIES,
    Attachment,
    Case,
    CaseEvent,
    CaseStatus,
    Channel,
    Handoff,
    Note,
)
from config.inputs import InputSerializer
from contracts.models import Category, Client, Priority

# --- Output ---------------------------------------------------------------------------------


def _username_field(**kwargs) -> serializers.SlugRelatedField:
    return serializers.SlugRelatedField(slug_field="username", read_only=True, **kwargs)


class CaseClientSerializer(serializers.ModelSerializer):
    class Meta:
        model = Client
        fields = ["id", "name"]


class CaseCategorySerializer(serializers.ModelSerializer):
    class Meta:
        model = Category
        fields = ["code", "name"]


class CaseCallerSerializer(serializers.Serializer):
    """The caller as `care.privacy.shown_caller` lets the requesting user see them."""

    id = serializers.IntegerField()
    first_name = serializers.CharField()
    last_name = serializers.CharField()
    masked = serializers.BooleanField()


def _caller_field(*, referent: bool):
    @extend_schema_field(CaseCallerSerializer(allow_null=True))
    class CallerField(serializers.Field):
        def __init__(self, **kwargs):
            super().__init__(source="*", read_only=True, **kwargs)

        def to_representation(self, case):
            request = self.context.get("request")
            if request is None:  # no user to decide for: never show more than masked
                return None
            caller = privacy.shown_caller(case, request.user, with_contacts=False)
            if caller is None or caller.is_referent != referent:
                return None
            return CaseCallerSerializer(caller).data

    return CallerField()


def _case_text_field(attribute: str):
    """A case's own free text (subject, description) as the requesting user may see it: the
    contact data typed into it masked unless they see this case in full (care.privacy)."""

    @extend_schema_field(serializers.CharField())
    class CaseTextField(serializers.Field):
        def __init__(self, **kwargs):
            super().__init__(source="*", read_only=True, **kwargs)

        def to_representation(self, case):
            request = self.context.get("request")
            in_full = request is not None and privacy.sees_in_full(request.user, case)
            return privacy.shown_text(getattr(case, attribute), in_full=in_full)

    return CaseTextField()


class FreeTextField(serializers.CharField):
    """Free text of one case (a note, a hand-off, a reason) as the reader may see it: the
    view says in the context whether they see the case in full (`sees_in_full`); without
    it, masked."""

    def to_representation(self, value):
        text = super().to_representation(value)
        return privacy.shown_text(text, in_full=bool(self.context.get("sees_in_full")))


class FreeTextDetailField(serializers.JSONField):
    """An event's detail: its texts (a reason, a subject) as FreeTextField shows them."""

    def to_representation(self, value):
        in_full = bool(self.context.get("sees_in_full"))
        if in_full or not isinstance(value, dict):
            return value
        return {
            key: privacy.shown_text(item, in_full=False) if isinstance(item, str) else item
            for key, item in value.items()
        }


class CaseListSerializer(serializers.ModelSerializer):
    """One row of the case list: everything comes from `cases_visible_to`'s joins."""

    status = serializers.CharField(read_only=True)
    first_response_state = serializers.CharField(read_only=True)
    resolution_state = serializers.CharField(read_only=True)
    client = CaseClientSerializer(read_only=True)
    contract = serializers.SlugRelatedField(slug_field="code", read_only=True)
    category = CaseCategorySerializer(read_only=True)
    end_user = _caller_field(referent=False)
    referent = _caller_field(referent=True)
    assignee = _username_field(allow_null=True)
    subject = _case_text_field("subject")

    class Meta:
        model = Case
        fields = [
            "reference",
            "status",
            "priority",
            "channel",
            "subject",
            "client",
            "contract",
            "category",
            "end_user",
            "referent",
            "assignee",
            "queue_code",
            "opened_at",
            "first_response_due_at",
            "resolution_due_at",
            "first_response_state",
            "resolution_state",
            "reopen_count",
        ]
        read_only_fields = fields


class AttachmentSerializer(serializers.ModelSerializer):
    """Name and address only for whoever sees the case in full (context `sees_in_full`, set
    by the views from care.privacy); to anyone else, and when removed by retention, both
    empty: the document is personal data, and so may be its name."""

    name = serializers.CharField(source="original_name", read_only=True)
    url = serializers.SerializerMethodField()

    class Meta:
        model = Attachment
        fields = ["id", "name", "size", "content_type", "url"]
        read_only_fields = fields

    def get_url(self, attachment) -> str:
        return reverse("care:attachment-download", args=[attachment.id])

    def to_representation(self, attachment):
        data = super().to_representation(attachment)
        if not (self.context.get("sees_in_full") and attachment.file):
            data |= {"name": "", "url": ""}
        return data


class NoteSerializer(serializers.ModelSerializer):
    author = _username_field()
    attachments = AttachmentSerializer(many=True, read_only=True)
    body = FreeTextField(read_only=True)

    class Meta:
        model = Note
        fields = ["id", "author", "created_at", "visibility", "body", "attachments"]
        read_only_fields = fields


class CaseEventSerializer(serializers.ModelSerializer):
    """An event's facts (codes, ids, minutes) and `text`, the sentence in the caller's
    language (`care.wording`) with the names the view loaded once (`event_names`)."""

    actor = _username_field(allow_null=True)
    detail = FreeTextDetailField(read_only=True)
    text = serializers.SerializerMethodField()

    class Meta:
        model = CaseEvent
        fields = ["kind", "at", "actor", "from_value", "to_value", "detail", "text"]
        read_only_fields = fields

    def get_text(self, event) -> str:
        names = self.context.get("event_names") or wording.Names()
        text = wording.event_in_words(event, names)["text"]
        return privacy.shown_text(text, in_full=bool(self.context.get("sees_in_full")))


class HandoffSerializer(serializers.ModelSerializer):
    requested_by = _username_field()
    request = FreeTextField(read_only=True)
    answer = FreeTextField(read_only=True)

    class Meta:
        model = Handoff
        fields = [
            "id",
            "unit_code",
            "unit_name",
            "request",
            "requested_by",
            "requested_at",
            "answer",
            "answered_at",
            "outcome",
        ]
        read_only_fields = fields


class CaseDetailSerializer(CaseListSerializer):
    """The whole case; expects the prefetches of `selectors.case_by_reference`."""

    contract_version = serializers.IntegerField(source="contract_version.number", read_only=True)
    # The validated closing code (legacy free-text codes are returned as stored).
    closing_code = serializers.CharField(source="resolution_code", read_only=True)
    opened_by = _username_field()
    merged_into = serializers.SlugRelatedField(
        slug_field="reference", read_only=True, allow_null=True
    )
    linked_to = serializers.SlugRelatedField(
        slug_field="reference", read_only=True, allow_null=True
    )
    notes = NoteSerializer(many=True, read_only=True)
    events = serializers.SerializerMethodField()
    handoffs = HandoffSerializer(many=True, read_only=True)
    description = _case_text_field("description")
    opening_reason = _case_text_field("opening_reason")

    class Meta(CaseListSerializer.Meta):
        fields = [
            *CaseListSerializer.Meta.fields,
            "description",
            "contract_version",
            "opened_by",
            "opening_reason",
            "clock_started_at",
            "first_response_at",
            "resolved_at",
            "closed_at",
            "resolution_code",
            "closing_code",
            "first_contact_resolution",
            "merged_into",
            "linked_to",
            "row_version",
            "notes",
            "events",
            "handoffs",
        ]
        read_only_fields = fields

    @extend_schema_field(CaseEventSerializer(many=True))
    def get_events(self, case) -> list:
        """The case's events, its SLA transitions (told from its alerts) among them."""
        return CaseEventSerializer(
            selectors.case_events(case), many=True, context=self.context
        ).data


# --- Input ----------------------------------------------------------------------------------


def _row_version_field() -> serializers.IntegerField:
    """The `row_version` the client saw: a stale one is refused with 409."""
    return serializers.IntegerField(min_value=1, required=False, allow_null=True, default=None)


def _override_reason_field() -> serializers.CharField:
    """Why someone who does not work the case acts on it (care.working): recorded on its
    timeline; without it such a write is refused with 403 `not_working_this_case`."""
    return serializers.CharField(
        max_length=services.REASON_MAX, required=False, allow_blank=True, default=""
    )


class CaseInput(InputSerializer):
    """A new case: `contract` is a code, `end_user` (or `referent`) an id, `category` a code of
    the contract version in force; an empty `priority` takes the category's default."""

    contract = serializers.CharField(max_length=40)
    end_user = serializers.IntegerField(min_value=1, required=False, allow_null=True, default=None)
    referent = serializers.IntegerField(min_value=1, required=False, allow_null=True, default=None)
    category = serializers.CharField(max_length=50)
    priority = serializers.ChoiceField(
        choices=Priority.choices, required=False, allow_blank=True, default=""
    )
    channel = serializers.ChoiceField(choices=Channel.choices)
    subject = serializers.CharField(max_length=200, allow_blank=True)
    description = serializers.CharField(allow_blank=True)
    duplicate_override_reason = serializers.CharField(
        max_length=services.REASON_MAX, required=False, allow_blank=True, default=""
    )
    resolved_during_call = serializers.BooleanField(required=False, default=False)
    # With resolved_during_call: how (a closing code of the contract); the portal's own
    # "risolto-primo-contatto" when none is given.
    closing_code = serializers.CharField(
        max_length=50, required=False, allow_blank=True, default=""
    )
    # The call the user answered (telephony): the case is theirs, answered by the call,
    # unless `to_queue_reason` sends it to a queue.
    call = serializers.RegexField(
        r"^[A-Za-z0-9][A-Za-z0-9._:@+\-]{0,99}$", required=False, allow_blank=True, default=""
    )
    to_queue_reason = serializers.CharField(
        max_length=services.REASON_MAX, required=False, allow_blank=True, default=""
    )

    def to_request(self) -> services.CaseRequest:
        data = self.validated_data
        return services.CaseRequest(
            contract_code=data["contract"],
            category_code=data["category"],
            channel=data["channel"],
            subject=data["subject"],
            description=data["description"],
            priority=data["priority"],
            end_user_id=data["end_user"],
            referent_id=data["referent"],
            duplicate_override_reason=data["duplicate_override_reason"],
            resolved_during_call=data["resolved_during_call"],
            closing_code=data["closing_code"],
            call_id=data["call"],
            to_queue_reason=data["to_queue_reason"],
        )


class CaseUpdateInput(InputSerializer):
    """The one thing changed in place; status, notes and hand-offs have their own endpoints."""

    priority = serializers.ChoiceField(choices=Priority.choices)
    row_version = _row_version_field()
    override_reason = _override_reason_field()

    def validate(self, attrs):
        unknown = sorted(set(self.initial_data) - set(self.fields))
        if unknown:
            raise serializers.ValidationError(
                {name: [_("This field cannot be changed here.")] for name in unknown}
            )
        return attrs


class NoteInput(InputSerializer):
    """JSON, or multipart with the files in `attachments`."""

    body = serializers.CharField(allow_blank=True)
    visibility = serializers.ChoiceField(
        choices=WRITTEN_VISIBILITIES, default=Note.Visibility.INTERNAL
    )
    attachments = serializers.ListField(
        child=serializers.FileField(max_length=200), required=False, default=list
    )
    row_version = _row_version_field()
    override_reason = _override_reason_field()


class ContactInput(InputSerializer):
    """A new contact about an existing case (instead of a duplicate): who called and what they
    said; a resolved or closed case is reopened."""

    end_user = serializers.IntegerField(min_value=1)
    subject = serializers.CharField(max_length=200, allow_blank=True)
    description = serializers.CharField(allow_blank=True)
    row_version = _row_version_field()
    override_reason = _override_reason_field()


class TransitionInput(InputSerializer):
    to = serializers.ChoiceField(choices=CaseStatus.choices)
    closing_code = serializers.CharField(
        max_length=50, required=False, allow_blank=True, default=""
    )
    # The name before closing codes; still accepted.
    resolution_code = serializers.CharField(
        max_length=50, required=False, allow_blank=True, default=""
    )
    first_contact_resolution = serializers.BooleanField(required=False, default=False)
    row_version = _row_version_field()
    override_reason = _override_reason_field()


class HandoffInput(InputSerializer):
    unit = serializers.CharField(max_length=50)
    request = serializers.CharField(allow_blank=True)
    row_version = _row_version_field()
    override_reason = _override_reason_field()


class HandoffAnswerInput(InputSerializer):
    answer = serializers.CharField(allow_blank=True)
    outcome = serializers.ChoiceField(
        choices=[
            (Handoff.Outcome.RESOLVED.value, Handoff.Outcome.RESOLVED.label),
            (Handoff.Outcome.BOUNCED.value, Handoff.Outcome.BOUNCED.label),
        ]
    )
    resolution_code = serializers.CharField(
        max_length=50, required=False, allow_blank=True, default=""
    )
    override_reason = _override_reason_field()


class ReopenInput(InputSerializer):
    reason = serializers.CharField(allow_blank=True)
    row_version = _row_version_field()
    override_reason = _override_reason_field()


class CaseSearchInput(InputSerializer):
    """The body of a search: `q` (reference, phone, name or text) and any list filter."""

    q = serializers.CharField(max_length=200, required=False, allow_blank=True)
    status = serializers.ListField(child=serializers.CharField(max_length=20), required=False)
    priority = serializers.ListField(child=serializers.CharField(max_length=2), required=False)
    open = serializers.BooleanField(required=False)
    client = serializers.IntegerField(required=False, min_value=1)
    contract = serializers.CharField(max_length=40, required=False)
    queue = serializers.CharField(max_length=50, required=False)
    assignee = serializers.IntegerField(required=False, min_value=1)
    sla = serializers.CharField(max_length=10, required=False)
    opened_after = serializers.DateField(required=False)
    opened_before = serializers.DateField(required=False)
