"""REST endpoints of major incidents (DESIGN.md §7): `incidents/` (GET, POST),
`incidents/{id}/` (GET, PATCH), `incidents/{id}/link/` (POST `{"cases": [...]}`) and
`incidents/{id}/resolve/` (POST). Supervisors and managers write; reporting roles read.
Same services and rules as the pages (care.incidents)."""

from django.contrib.auth import get_user_model
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from care import incident_selectors, incidents
from care.exceptions import InvalidIncidentData
from care.models import Incident, IncidentEvent, IncidentStatus
from config.errors import InvalidInput
from config.inputs import InputSerializer
from config.permissions import capability
from contracts.models import Priority, Service

ManageIncidents = capability(*incidents.MANAGE_CAPABILITIES, read=incidents.READ_CAPABILITIES)


class IncidentEventSerializer(serializers.ModelSerializer):
    actor = serializers.CharField(source="actor.username", default=None, allow_null=True)

    class Meta:
        model = IncidentEvent
        fields = ["kind", "at", "actor", "detail"]


class IncidentSerializer(serializers.ModelSerializer):
    reference = serializers.CharField()
    clients = serializers.ListField(source="client_ids", child=serializers.IntegerField())
    category = serializers.CharField(source="category_code")
    owner = serializers.CharField(source="owner.username", default=None, allow_null=True)
    linked_cases = serializers.IntegerField(source="linked_count", default=0)
    open_cases = serializers.IntegerField(source="open_count", default=0)
    information_contacts = serializers.IntegerField(source="contact_count", default=0)

    class Meta:
        model = Incident
        fields = [
            "id",
            "reference",
            "title",
            "status",
            "services",
            "clients",
            "provinces",
            "lines",
            "started_at",
            "expected_end_at",
            "public_message",
            "category",
            "priority",
            "resolution_code",
            "owner",
            "opened_at",
            "confirmed_at",
            "resolved_at",
            "evidence",
            "linked_cases",
            "open_cases",
            "information_contacts",
        ]


class IncidentDetailSerializer(IncidentSerializer):
    timeline = IncidentEventSerializer(source="events", many=True)

    class Meta(IncidentSerializer.Meta):
        fields = [*IncidentSerializer.Meta.fields, "timeline"]


class IncidentInput(InputSerializer):
    """Shape only; the rules (a scope, an end after the start...) are the service's."""

    title = serializers.CharField(max_length=200)
    services = serializers.ListField(
        child=serializers.ChoiceField(choices=Service.choices), allow_empty=True
    )
    clients = serializers.ListField(
        child=serializers.IntegerField(min_value=1), required=False, default=list
    )
    provinces = serializers.ListField(
        child=serializers.CharField(max_length=2), required=False, default=list
    )
    public_message = serializers.CharField(required=False, allow_blank=True, default="")
    started_at = serializers.DateTimeField()
    expected_end_at = serializers.DateTimeField(required=False, allow_null=True, default=None)
    lines = serializers.CharField(required=False, allow_blank=True, default="")
    category = serializers.SlugField(required=False, allow_blank=True, default="", max_length=50)
    priority = serializers.ChoiceField(
        choices=Priority.choices, required=False, allow_blank=True, default=""
    )
    resolution_code = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=50
    )
    owner = serializers.CharField(required=False, allow_blank=True, default="", max_length=150)
    # suspected or confirmed (the service refuses to open one resolved: resolve/ does that)
    status = serializers.ChoiceField(
        choices=IncidentStatus.choices, required=False, default=IncidentStatus.CONFIRMED
    )


# API name -> IncidentData name
RENAMED = {"clients": "client_ids", "category": "category_code", "owner": "owner_id"}


def _data(validated: dict, *, partial: bool) -> incidents.IncidentData:
    values = {RENAMED.get(key, key): value for key, value in validated.items() if key != "status"}
    if "owner_id" in values:
        values["owner_id"] = _owner_id(values["owner_id"])
    given = tuple(values) if partial else incidents.EDITABLE
    return incidents.IncidentData(**values, given=given)


def _owner_id(username: str) -> int | None:
    if not username:
        return None
    owner = get_user_model().objects.filter(username=username, is_active=True).first()
    if owner is None or not incidents.may_manage(owner):
        raise InvalidInput(fields={"owner": [_("Unknown supervisor or manager.")]})
    return owner.id


def _detail(incident_id: int, *, status_code: int = 200) -> Response:
    incident = incident_selectors.incident_by_id(incident_id)
    return Response(IncidentDetailSerializer(incident).data, status=status_code)


class IncidentListCreateApi(generics.ListAPIView):
    """Incidents, newest first (`?status=` filters); POST opens one."""

    permission_classes = [ManageIncidents]
    serializer_class = IncidentSerializer

    def get_queryset(self):
        incidents_ = incident_selectors.incidents_listed().order_by("-started_at", "-id")
        wanted = self.request.query_params.get("status")
        return incidents_.filter(status=wanted) if wanted else incidents_

    @extend_schema(request=IncidentInput, responses={201: IncidentDetailSerializer})
    def post(self, request):
        serializer = IncidentInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        incident = incidents.open_incident(
            actor=request.user,
            data=_data(serializer.validated_data, partial=False),
            status=serializer.validated_data["status"],
        )
        return _detail(incident.id, status_code=status.HTTP_201_CREATED)


class IncidentDetailApi(APIView):
    permission_classes = [ManageIncidents]

    @extend_schema(responses=IncidentDetailSerializer)
    def get(self, request, incident_id: int):
        return _detail(incident_id)

    @extend_schema(request=IncidentInput(partial=True), responses=IncidentDetailSerializer)
    def patch(self, request, incident_id: int):
        """Change the fields sent; `"status": "confirmed"` confirms a suspected incident
        (the surge's cases are linked). Resolving is `resolve/`."""
        incident = incident_selectors.incident_by_id(incident_id)
        serializer = IncidentInput(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        wanted = data.pop("status", None)
        if wanted not in (None, incident.status, IncidentStatus.CONFIRMED):
            raise InvalidIncidentData(
                fields={"status": [_("Confirm with “confirmed”; resolve with resolve/.")]}
            )
        if wanted == IncidentStatus.CONFIRMED and incident.status == IncidentStatus.SUSPECTED:
            incidents.confirm_incident(actor=request.user, incident=incident)
        if data:
            incidents.update_incident(
                actor=request.user, incident=incident, data=_data(data, partial=True)
            )
        return _detail(incident.id)


class IncidentLinkInput(InputSerializer):
    cases = serializers.ListField(
        child=serializers.CharField(max_length=20), allow_empty=False, max_length=10000
    )


class IncidentLinkApi(APIView):
    """Link open cases by reference: all or nothing (a closed one refuses the request)."""

    permission_classes = [ManageIncidents]

    @extend_schema(request=IncidentLinkInput, responses={200: dict})
    def post(self, request, incident_id: int):
        incident = incident_selectors.incident_by_id(incident_id)
        serializer = IncidentLinkInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        linked = incidents.link_cases(
            actor=request.user, incident=incident, references=serializer.validated_data["cases"]
        )
        return Response({"linked": linked, "incident": incident.id})


class IncidentUnlinkInput(InputSerializer):
    case = serializers.CharField(max_length=20)


class IncidentUnlinkApi(APIView):
    """A case that needs more work leaves the incident before it is resolved (recorded on the
    case and the incident). `{"unlinked": false}` when it was not linked; 409 once resolved."""

    permission_classes = [ManageIncidents]

    @extend_schema(request=IncidentUnlinkInput, responses={200: dict})
    def post(self, request, incident_id: int):
        incident = incident_selectors.incident_by_id(incident_id)
        serializer = IncidentUnlinkInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        case = incident_selectors.case_named(serializer.validated_data["case"])
        unlinked = case is not None and incidents.unlink_case(
            actor=request.user, incident=incident, case=case
        )
        return Response({"unlinked": unlinked, "incident": incident.id})


class IncidentResolveApi(APIView):
    """Resolve the incident and its open linked cases; a second call answers 409."""

    permission_classes = [ManageIncidents]

    @extend_schema(request=None, responses={200: dict})
    def post(self, request, incident_id: int):
        incident = incident_selectors.incident_by_id(incident_id)
        result = incidents.resolve_incident(actor=request.user, incident=incident)
        return Response(
            {
                "incident": incident.id,
                "status": result.incident.status,
                "resolved_cases": len(result.resolved_case_ids),
                "left_open": result.left_open,
            }
        )
