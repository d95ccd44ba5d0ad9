from rest_framework import serializers

from routing.models import PresenceState


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


class PresenceInput(serializers.Serializer):
    state = serializers.ChoiceField(choices=PresenceState.choices)
