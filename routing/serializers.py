from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from config.inputs import InputSerializer
from contracts.privacy import mask_phone
from routing import call_facts, engine, wording
from routing.models import PresenceState
from routing.services import CHOSEN_PRESENCES, MAX_EMERGENCY_MINUTES, REASON_MAX


class TakenCaseSerializer(serializers.Serializer):
    reference = serializers.CharField()
    status = serializers.CharField()
    priority = serializers.CharField()
    subject = serializers.CharField()
    queue = serializers.CharField(source="queue_code")
    level = serializers.CharField(source="routing_assignment.level")
    how = serializers.CharField(source="routing_assignment.reason")  # take_next
    waited_minutes = serializers.SerializerMethodField()
    reason = serializers.SerializerMethodField()  # in the caller's language

    def get_waited_minutes(self, case) -> int:
        return int(engine.waited_minutes(case.opened_at, case.routing_assignment.at))

    def get_reason(self, case) -> str:
        return wording.reason_in_words(case.routing_assignment, case.opened_at)


class PresenceSerializer(serializers.Serializer):
    state = serializers.CharField(source="presence")
    since = serializers.DateTimeField(source="presence_since", allow_null=True)


class PresenceInput(InputSerializer):
    state = serializers.ChoiceField(
        choices=[(state, PresenceState(state).label) for state in CHOSEN_PRESENCES]
    )


class QueueOverviewSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    waiting = serializers.IntegerField()
    oldest_waiting_since = serializers.DateTimeField(allow_null=True)
    at_risk = serializers.IntegerField()
    in_emergency = serializers.BooleanField()
    emergency_until = serializers.DateTimeField(allow_null=True)
    emergency_reason = serializers.CharField(allow_blank=True)


class OperatorOverviewSerializer(serializers.Serializer):
    user_id = serializers.IntegerField()
    username = serializers.CharField()
    name = serializers.CharField()
    site = serializers.CharField(source="site_code", allow_blank=True)
    site_name = serializers.CharField(allow_blank=True)
    remote = serializers.BooleanField()
    presence = serializers.CharField()
    presence_since = serializers.DateTimeField(allow_null=True)
    held = serializers.IntegerField()
    capacity = serializers.IntegerField()
    backoffice_share = serializers.FloatField()
    front_office_limit = serializers.IntegerField()


class OperatorFilterInput(InputSerializer):
    site = serializers.SlugField(required=False, max_length=20)


class OperatorPresenceSerializer(serializers.Serializer):
    user_id = serializers.IntegerField()
    state = serializers.CharField(source="presence")
    since = serializers.DateTimeField(source="presence_since", allow_null=True)


class EmergencyInput(InputSerializer):
    """`minutes` 0 ends the emergency now."""

    minutes = serializers.IntegerField(min_value=0, max_value=MAX_EMERGENCY_MINUTES)
    reason = serializers.CharField(required=False, allow_blank=True, max_length=REASON_MAX)


class EmergencySerializer(serializers.Serializer):
    code = serializers.CharField()
    emergency_until = serializers.DateTimeField(allow_null=True)
    emergency_reason = serializers.CharField(allow_blank=True)


class AssignInput(InputSerializer):
    case = serializers.CharField(max_length=20, help_text="The case reference.")
    operator = serializers.IntegerField(min_value=1, help_text="The operator's user id.")
    override_reason = serializers.CharField(required=False, allow_blank=True, max_length=REASON_MAX)
    row_version = serializers.IntegerField(required=False, min_value=1)


class DecisionSerializer(serializers.Serializer):
    kind = serializers.CharField()
    level = serializers.CharField()
    reason = serializers.CharField()
    passed_over = serializers.ListField(child=serializers.DictField())
    override_reason = serializers.CharField(allow_blank=True)
    assigned_by = serializers.CharField(source="assigned_by.username", allow_null=True)
    at = serializers.DateTimeField()


class AssignedCaseSerializer(serializers.Serializer):
    reference = serializers.CharField()
    status = serializers.CharField()
    assignee = serializers.IntegerField(source="assignee_id")
    row_version = serializers.IntegerField()
    decision = DecisionSerializer(source="routing_assignment")


# --- Telephony ------------------------------------------------------------------------------

CALL_ID = r"^[A-Za-z0-9][A-Za-z0-9._:@+\-]{0,99}$"
PBX_NAME = r"^[A-Za-z0-9][A-Za-z0-9._@+\-]{0,149}$"


class TelephonyEventInput(InputSerializer):
    """One event from the PBX (DESIGN §7). `from` is a Python keyword: declared below."""

    event = serializers.ChoiceField(choices=call_facts.EVENTS)
    call_id = serializers.RegexField(CALL_ID, max_length=100)
    at = serializers.DateTimeField()
    to = serializers.CharField(max_length=40, required=False, allow_blank=True, default="")
    queue = serializers.SlugField(max_length=50, required=False, allow_blank=True, default="")
    operator = serializers.RegexField(PBX_NAME, max_length=150, required=False, default="")
    cause = serializers.ChoiceField(choices=call_facts.CAUSES, required=False, default="")
    direction = serializers.ChoiceField(
        choices=("inbound", "outbound"), required=False, default="inbound"
    )
    recording = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")

    def validate_at(self, value):
        if not SANE_EVENT_YEARS[0] <= value.year <= SANE_EVENT_YEARS[1]:
            raise serializers.ValidationError(_("Give an instant between 2000 and 2099."))
        if value.tzinfo is None:
            raise serializers.ValidationError(_("Give the instant with its UTC offset."))
        return value

    def validate(self, data):
        if data["event"] in (call_facts.ANSWER,) and not data.get("operator"):
            raise serializers.ValidationError({"operator": [_("Say who answered.")]})
        return data


TelephonyEventInput._declared_fields["from"] = serializers.CharField(
    max_length=40, required=False, allow_blank=True, default=""
)
SANE_EVENT_YEARS = (2000, 2099)


class TelephonyAcceptedSerializer(serializers.Serializer):
    call = serializers.CharField()
    state = serializers.CharField()
    duplicate = serializers.BooleanField()


class CallSerializer(serializers.Serializer):
    """A call as the API shows it; the caller's number masked unless the reader answered."""

    call_id = serializers.CharField()
    direction = serializers.CharField()
    caller_number = serializers.SerializerMethodField()
    line = serializers.CharField()
    queue = serializers.CharField(source="queue_code")
    operator = serializers.SerializerMethodField()
    offered_at = serializers.DateTimeField()
    answered_at = serializers.DateTimeField(allow_null=True)
    ended_at = serializers.DateTimeField(allow_null=True)
    wait_seconds = serializers.IntegerField()
    talk_seconds = serializers.IntegerField()
    after_call_seconds = serializers.IntegerField()
    outcome = serializers.CharField()
    hangup_cause = serializers.CharField()
    transfers = serializers.IntegerField()
    has_recording = serializers.SerializerMethodField()
    problems = serializers.ListField(child=serializers.CharField())
    cases = serializers.SerializerMethodField()

    def get_caller_number(self, call) -> str:
        answered_by_reader = call.operator_id == self.context["request"].user.id
        return call.caller_number if answered_by_reader else mask_phone(call.caller_number)

    def get_operator(self, call) -> str:
        return call.operator.get_username() if call.operator else call.operator_ref

    def get_has_recording(self, call) -> bool:
        return bool(call.recording_ref)

    def get_cases(self, call) -> list[str]:
        return sorted(getattr(call, "case_references", []))


# --- Sites and queues set up by the unit ----------------------------------------------------


class SiteInput(InputSerializer):
    """A site: PATCH sends only the fields it changes (the code never changes)."""

    code = serializers.CharField(max_length=20)
    name = serializers.CharField(max_length=120)
    province = serializers.CharField(max_length=2, help_text=_("An Italian province code."))
    calendar = serializers.IntegerField(
        allow_null=True, required=False, help_text=_("A business calendar id.")
    )
    supervisors = serializers.ListField(
        child=serializers.IntegerField(min_value=1), required=False, max_length=200
    )


class SiteSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    province = serializers.CharField()
    calendar = serializers.IntegerField(source="calendar_id", allow_null=True)
    supervisors = serializers.SerializerMethodField()
    operators = serializers.SerializerMethodField()

    def get_supervisors(self, site) -> list[int]:
        return sorted(user.pk for user in site.supervisors.all())

    def get_operators(self, site) -> int:
        count = getattr(site, "operator_count", None)
        return site.operators.count() if count is None else count


class QueueInput(InputSerializer):
    """A queue: PATCH sends only the fields it changes (the code never changes)."""

    code = serializers.CharField(max_length=50)
    name = serializers.CharField(max_length=120)
    segment = serializers.CharField(max_length=5, allow_blank=True, required=False)
    service = serializers.CharField(max_length=20, allow_blank=True, required=False)
    category_codes = serializers.ListField(
        child=serializers.CharField(max_length=50), required=False, max_length=200
    )
    client = serializers.IntegerField(allow_null=True, required=False)
    language = serializers.CharField(
        max_length=8, allow_blank=True, required=False, help_text=_("Blank: any language.")
    )
    overflow_client_minutes = serializers.IntegerField(required=False)
    overflow_national_minutes = serializers.IntegerField(required=False)
    service_level_seconds = serializers.IntegerField(required=False)
    service_level_target = serializers.IntegerField(required=False)
    longest_wait_alarm_seconds = serializers.IntegerField(required=False)
    wrap_up_seconds = serializers.IntegerField(required=False)
    callback_minutes = serializers.IntegerField(required=False)
    supervisors = serializers.ListField(
        child=serializers.IntegerField(min_value=1), required=False, max_length=200
    )


class QueueArchiveInput(InputSerializer):
    refile = serializers.BooleanField(
        required=False, default=False, help_text=_("File the waiting cases elsewhere first.")
    )


class QueueDetailSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    segment = serializers.CharField()
    service = serializers.CharField()
    category_codes = serializers.ListField(child=serializers.CharField())
    client = serializers.IntegerField(source="client_id", allow_null=True)
    language = serializers.CharField()
    overflow_client_minutes = serializers.IntegerField()
    overflow_national_minutes = serializers.IntegerField()
    service_level_seconds = serializers.IntegerField()
    service_level_target = serializers.IntegerField()
    longest_wait_alarm_seconds = serializers.IntegerField()
    wrap_up_seconds = serializers.IntegerField()
    callback_minutes = serializers.IntegerField()
    supervisors = serializers.SerializerMethodField()
    emergency_until = serializers.DateTimeField(allow_null=True)
    archived_at = serializers.DateTimeField(allow_null=True)

    def get_supervisors(self, queue) -> list[int]:
        return sorted(user.pk for user in queue.supervisors.all())
