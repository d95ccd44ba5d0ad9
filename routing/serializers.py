from rest_framework import serializers

from config.inputs import InputSerializer
from routing.models import PresenceState
from routing.services import MAX_EMERGENCY_MINUTES, REASON_MAX


class TakenCaseSerializer(serializers.Serializer):
    reference = serializers.CharField()
    status = serializers.CharField()
    priority = serializers.CharField()
    subject = serializers.CharField()
    queue = serializers.CharField(source="queue_code")
    level = serializers.CharField(source="routing_assignment.level")
    reason = serializers.CharField(source="routing_assignment.reason")


class PresenceSerializer(serializers.Serializer):
    state = serializers.CharField(source="presence")
    since = serializers.DateTimeField(source="presence_since", allow_null=True)


class PresenceInput(InputSerializer):
    state = serializers.ChoiceField(choices=PresenceState.choices)


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
