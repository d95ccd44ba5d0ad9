"""The shapes of `/api/v1/people/`: inputs check shape only (routing.staff and config.users
check the rules), outputs say a person with their roles, profile and certifications."""

from rest_framework import serializers

from config import roles
from config.inputs import InputSerializer
from contracts.models import Client, Contract
from routing.models import Site

NAME = {"max_length": 150}


class ProfileInput(InputSerializer):
    """Fields left out keep the profile's values (a new profile's defaults)."""

    site = serializers.SlugRelatedField(
        slug_field="code", queryset=Site.objects.all(), required=False
    )
    remote = serializers.BooleanField(required=False)
    capacity = serializers.IntegerField(required=False)
    backoffice_share = serializers.DecimalField(max_digits=5, decimal_places=2, required=False)
    skills = serializers.ListField(
        child=serializers.CharField(max_length=40), required=False, max_length=20
    )
    languages = serializers.ListField(
        child=serializers.CharField(max_length=40), required=False, max_length=20
    )
    extension = serializers.CharField(max_length=20, required=False, allow_blank=True)


class CertificationInput(InputSerializer):
    contract = serializers.SlugRelatedField(
        slug_field="code", queryset=Contract.objects.all(), required=False, allow_null=True
    )
    client = serializers.PrimaryKeyRelatedField(
        queryset=Client.objects.all(), required=False, allow_null=True
    )


class PersonCreateInput(InputSerializer):
    username = serializers.CharField(max_length=150)
    first_name = serializers.CharField(**NAME)
    last_name = serializers.CharField(**NAME)
    email = serializers.CharField(max_length=254)
    roles = serializers.ListField(
        child=serializers.ChoiceField(choices=list(roles.ROLE_LABELS)), max_length=5
    )
    profile = ProfileInput(required=False, allow_null=True)
    certifications = CertificationInput(many=True, required=False, default=list)


class PersonChangeInput(InputSerializer):
    """PATCH: the account's fields (administrators) and/or the profile (created when the
    person has none)."""

    first_name = serializers.CharField(required=False, **NAME)
    last_name = serializers.CharField(required=False, **NAME)
    email = serializers.CharField(required=False, max_length=254)
    roles = serializers.ListField(
        child=serializers.ChoiceField(choices=list(roles.ROLE_LABELS)),
        required=False,
        max_length=5,
    )
    profile = ProfileInput(required=False)


class ReasonInput(InputSerializer):
    reason = serializers.CharField(max_length=300, required=False, default="", allow_blank=True)


class PersonSessionsEndedSerializer(serializers.Serializer):
    user = serializers.IntegerField()
    sessions_ended = serializers.IntegerField()


class PeopleImportInput(InputSerializer):
    file = serializers.FileField()
    dry_run = serializers.BooleanField(required=False, default=True)


class CertificationSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    contract = serializers.CharField(source="contract.code", default=None)
    client = serializers.IntegerField(source="client_id", allow_null=True)
    client_name = serializers.CharField(source="client.name", default=None)


class ProfileSerializer(serializers.Serializer):
    site = serializers.CharField(source="site.code", default=None)
    remote = serializers.BooleanField()
    capacity = serializers.IntegerField()
    backoffice_share = serializers.DecimalField(max_digits=3, decimal_places=2)
    skills = serializers.ListField(child=serializers.CharField())
    languages = serializers.ListField(child=serializers.CharField())
    extension = serializers.CharField()
    presence = serializers.CharField()
    certifications = CertificationSerializer(many=True, source="certifications.all")


class PersonSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    first_name = serializers.CharField()
    last_name = serializers.CharField()
    email = serializers.CharField()
    is_active = serializers.BooleanField()
    roles = serializers.SerializerMethodField()
    profile = serializers.SerializerMethodField()

    def get_roles(self, person) -> list[str]:
        return roles.roles_of(person)

    def get_profile(self, person) -> dict | None:
        profile = getattr(person, "operator_profile", None)
        return ProfileSerializer(profile).data if profile is not None else None
