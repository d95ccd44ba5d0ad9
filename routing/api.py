"""REST endpoints of the routing app: parse, fetch through a selector, call one service,
render.

Operators take cases and set their own presence (`handle_cases`); the console's reads and
writes on others (operators' load, their presence, emergencies, assignments) need
`supervise`, and reach only the supervisor's sites and queues (`routing.scope`; managers and
administrators the whole unit): an operator or queue outside them answers 404 like a missing
one, the operator list leaves them out, and a supervisor who runs no site and no queue gets
an empty list. Every refusal is a `PresidioError`: 4xx JSON `{"code", "message", "fields"}`.
"""

from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from care import selectors as care_selectors
from config.permissions import capability
from routing import administration, selectors, services
from routing.scope import supervisor_scope
from routing.serializers import (
    AssignedCaseSerializer,
    AssignInput,
    EmergencyInput,
    EmergencySerializer,
    OperatorFilterInput,
    OperatorOverviewSerializer,
    OperatorPresenceSerializer,
    PresenceInput,
    PresenceSerializer,
    QueueArchiveInput,
    QueueDetailSerializer,
    QueueInput,
    QueueOverviewSerializer,
    SiteInput,
    SiteSerializer,
    TakenCaseSerializer,
)

HandleCases = capability("handle_cases")
Supervise = capability("supervise")
# The queue figures: whoever works, supervises or reports on cases; new queues:
# administrators and managers (`routing.administration` decides the rest).
SetUpQueues = capability(
    "administer", "manage_contracts", read=("handle_cases", "supervise", "view_reports")
)
SeeQueueSetUp = capability("administer", "manage_contracts", "supervise")
SeeSites = capability("administer", "supervise")


def _valid(serializer_class, data):
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def _valid_partial(serializer_class, data):
    """A PATCH body: only the fields sent, each checked as in a full one."""
    serializer = serializer_class(data=data, partial=True)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


class RoutingNextApi(APIView):
    """Take the next case: the best one the caller may take now, assigned to them."""

    permission_classes = [HandleCases]

    @extend_schema(
        request=None,
        responses={200: TakenCaseSerializer, 204: OpenApiResponse(description="No case now.")},
    )
    def post(self, request):
        case = services.take_next_case(operator=request.user)
        if case is None:
            return Response(status=status.HTTP_204_NO_CONTENT)
        return Response(TakenCaseSerializer(case).data)


class RoutingPresenceApi(APIView):
    """The caller's presence; PUT `{"state": "available"}` changes it."""

    permission_classes = [HandleCases]

    @extend_schema(responses=PresenceSerializer)
    def get(self, request):
        return Response(PresenceSerializer(selectors.profile_of(request.user)).data)

    @extend_schema(request=PresenceInput, responses=PresenceSerializer)
    def put(self, request):
        data = _valid(PresenceInput, request.data)
        profile = services.set_presence(
            actor=request.user, profile=selectors.profile_of(request.user), state=data["state"]
        )
        return Response(PresenceSerializer(profile).data)


class QueueListApi(APIView):
    """GET: every queue with waiting cases, oldest wait, open cases at risk, emergency while
    on. POST (administrators and managers): a new queue; waiting cases its criteria fit
    better move to it (`moved` says how many)."""

    permission_classes = [SetUpQueues]

    @extend_schema(responses=QueueOverviewSerializer(many=True))
    def get(self, request):
        rows = selectors.queue_overview(now=timezone.now())
        return Response(QueueOverviewSerializer(rows, many=True).data)

    @extend_schema(request=QueueInput, responses={201: QueueDetailSerializer})
    def post(self, request):
        data = _valid(QueueInput, request.data)
        change = administration.create_queue(actor=request.user, now=timezone.now(), values=data)
        body = QueueDetailSerializer(change.queue).data | {"moved": change.moved}
        return Response(body, status=status.HTTP_201_CREATED)


class QueueDetailApi(APIView):
    """One queue (GET), changed (PATCH: administrators and managers; its supervisors the
    thresholds; a criteria change re-files the waiting cases, `moved`), deleted (DELETE:
    only a queue that never had a case; else 409 `queue_has_cases`: archive it)."""

    permission_classes = [SeeQueueSetUp]

    @extend_schema(responses=QueueDetailSerializer)
    def get(self, request, code: str):
        return Response(QueueDetailSerializer(selectors.queue_visible_to(request.user, code)).data)

    @extend_schema(request=QueueInput, responses=QueueDetailSerializer)
    def patch(self, request, code: str):
        queue = selectors.queue_visible_to(request.user, code)
        data = _valid_partial(QueueInput, request.data)
        change = administration.update_queue(
            actor=request.user, queue=queue, now=timezone.now(), changes=data
        )
        return Response(QueueDetailSerializer(change.queue).data | {"moved": change.moved})

    @extend_schema(request=None, responses={204: None})
    def delete(self, request, code: str):
        queue = selectors.queue_visible_to(request.user, code)
        administration.delete_queue(actor=request.user, queue=queue, now=timezone.now())
        return Response(status=status.HTTP_204_NO_CONTENT)


class QueueArchiveApi(APIView):
    """Archive a queue (administrators and managers): `{"refile": true}` files its waiting
    cases in the other queues first; without it a queue with waiting cases is refused (409
    `queue_has_waiting_cases`)."""

    permission_classes = [SeeQueueSetUp]

    @extend_schema(request=QueueArchiveInput, responses=QueueDetailSerializer)
    def post(self, request, code: str):
        queue = selectors.queue_visible_to(request.user, code)
        data = _valid(QueueArchiveInput, request.data)
        change = administration.archive_queue(
            actor=request.user, queue=queue, now=timezone.now(), refile=data["refile"]
        )
        return Response(QueueDetailSerializer(change.queue).data | {"moved": change.moved})


class SiteListApi(APIView):
    """GET: the sites the caller sees (administrators all, supervisors theirs). POST
    (administrators): a new site."""

    permission_classes = [SeeSites]

    @extend_schema(responses=SiteSerializer(many=True))
    def get(self, request):
        sites = selectors.sites_visible_to(request.user)
        return Response(SiteSerializer(sites, many=True).data)

    @extend_schema(request=SiteInput, responses={201: SiteSerializer})
    def post(self, request):
        data = _valid(SiteInput, request.data)
        site = administration.create_site(actor=request.user, now=timezone.now(), values=data)
        return Response(SiteSerializer(site).data, status=status.HTTP_201_CREATED)


class SiteDetailApi(APIView):
    """One site (GET), changed (PATCH: administrators; its supervisors name and calendar),
    deleted (DELETE: administrators; 409 `site_has_operators` while it has operators)."""

    permission_classes = [SeeSites]

    @extend_schema(responses=SiteSerializer)
    def get(self, request, code: str):
        return Response(SiteSerializer(selectors.site_visible_to(request.user, code)).data)

    @extend_schema(request=SiteInput, responses=SiteSerializer)
    def patch(self, request, code: str):
        site = selectors.site_visible_to(request.user, code)
        data = _valid_partial(SiteInput, request.data)
        site = administration.update_site(
            actor=request.user, site=site, now=timezone.now(), changes=data
        )
        return Response(SiteSerializer(site).data)

    @extend_schema(request=None, responses={204: None})
    def delete(self, request, code: str):
        site = selectors.site_visible_to(request.user, code)
        administration.delete_site(actor=request.user, site=site, now=timezone.now())
        return Response(status=status.HTTP_204_NO_CONTENT)


class OperatorListApi(APIView):
    """The operators of the supervisor's sites (managers and administrators: all) with
    presence and load; `?site=<code>` keeps one site. Empty for a supervisor of no site."""

    permission_classes = [Supervise]

    @extend_schema(
        parameters=[OpenApiParameter("site", str, description="A site code.")],
        responses=OperatorOverviewSerializer(many=True),
    )
    def get(self, request):
        data = _valid(OperatorFilterInput, request.query_params)
        site = selectors.site_by_code(data["site"]) if data.get("site") else None
        rows = selectors.operator_overview(
            site=site, now=timezone.now(), scope=supervisor_scope(request.user)
        )
        return Response(OperatorOverviewSerializer(rows, many=True).data)


class OperatorPresenceApi(APIView):
    """A supervisor changes the presence of an operator of their sites: PUT
    `{"state": "away"}` (another site's operator: 404)."""

    permission_classes = [Supervise]

    @extend_schema(request=PresenceInput, responses=OperatorPresenceSerializer)
    def put(self, request, user_id: int):
        data = _valid(PresenceInput, request.data)
        profile = services.set_presence(
            actor=request.user,
            profile=selectors.operator_profile_by_user_id(
                user_id, scope=supervisor_scope(request.user)
            ),
            state=data["state"],
        )
        return Response(OperatorPresenceSerializer(profile).data)


class QueueEmergencyApi(APIView):
    """A supervisor switches the emergency of one of their queues on for `minutes` (0
    switches it off; a queue they do not supervise: 404)."""

    permission_classes = [Supervise]

    @extend_schema(request=EmergencyInput, responses=EmergencySerializer)
    def post(self, request, code: str):
        data = _valid(EmergencyInput, request.data)
        queue = services.set_emergency(
            actor=request.user,
            queue=selectors.queue_by_code(code, scope=supervisor_scope(request.user)),
            minutes=data["minutes"],
            reason=data.get("reason", ""),
        )
        return Response(EmergencySerializer(queue).data)


class AssignApi(APIView):
    """A supervisor gives a case to an operator; an operator not qualified for it, of a site
    they do not supervise, or a case neither in their queues nor held by their operators
    needs an `override_reason` (else 409 `target_not_eligible` or 403
    `outside_scope_needs_reason`), kept on the decision and the case's timeline.
    `row_version` (optional) refuses a change based on a stale page."""

    permission_classes = [Supervise]

    @extend_schema(request=AssignInput, responses=AssignedCaseSerializer)
    def post(self, request):
        data = _valid(AssignInput, request.data)
        case = care_selectors.case_by_reference(request.user, data["case"])
        case = services.reassign_case(
            actor=request.user,
            case=case,
            operator=selectors.user_by_id(data["operator"]),
            override_reason=data.get("override_reason", ""),
            expected_version=data.get("row_version"),
        )
        return Response(AssignedCaseSerializer(case).data)
