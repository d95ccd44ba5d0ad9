"""REST endpoints of the contracts app: parse, call a selector or a service, render."""

from datetime import datetime

from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from config import access_log
from config.errors import InvalidInput
from config.inputs import whole_number
from config.parsers import StrictJSONParser
from config.permissions import ANY_ROLE, capability
from contracts import selectors, services
from contracts.exceptions import ImportFileTooLarge
from contracts.imports import FileTooLarge, UnreadableFile, read_upload
from contracts.lookup import look_up_callers
from contracts.models import BusinessCalendar, Client, EndUser
from contracts.serializers import (
    AmendmentInput,
    CalendarInput,
    CalendarSerializer,
    ClientInput,
    ClientSerializer,
    ContractDetailSerializer,
    ContractInput,
    ContractSerializer,
    ContractUpdateInput,
    ContractVersionSerializer,
    EndUserImportInput,
    EndUserInput,
    EndUserSerializer,
    LookupInput,
    LookupMatchSerializer,
    LookupResultSerializer,
    OrderValidationInput,
    OrderValidationSerializer,
    SlaPreviewQuery,
    SlaPreviewSerializer,
)

ManageContracts = capability("manage_contracts", read=ANY_ROLE)
ManageDirectory = capability("manage_contracts", "work_backoffice")
# The caller lookup shows a person's data: only to the roles that answer callers (managers
# see aggregates, DESIGN.md section 2; administrators hold handle_cases).
AnswerCallers = capability("handle_cases", "work_backoffice")


def _valid(serializer_class, request, **kwargs):
    kwargs.setdefault("data", request.data)
    serializer = serializer_class(**kwargs)
    serializer.is_valid(raise_exception=True)
    return serializer


# --- Clients --------------------------------------------------------------------------------


class ClientListCreateApi(generics.ListAPIView):
    permission_classes = [ManageContracts]
    serializer_class = ClientSerializer
    filterset_fields = ["segment", "province", "is_active"]

    def get_queryset(self):
        return Client.objects.prefetch_related("account_team", "referents").order_by("name")

    @extend_schema(request=ClientInput, responses={201: ClientSerializer})
    def post(self, request):
        data = _valid(ClientInput, request).service_arguments()
        data.pop("is_active")
        client = services.create_client(actor=request.user, **data)
        return Response(
            ClientSerializer(client, context={"request": request}).data,
            status=status.HTTP_201_CREATED,
        )


class ClientDetailApi(APIView):
    permission_classes = [ManageContracts]

    @extend_schema(responses=ClientSerializer)
    def get(self, request, pk: int):
        client = get_object_or_404(Client, pk=pk)
        return Response(ClientSerializer(client, context={"request": request}).data)

    @extend_schema(request=ClientInput, responses=ClientSerializer)
    def put(self, request, pk: int):
        client = get_object_or_404(Client, pk=pk)
        data = _valid(ClientInput, request).service_arguments()
        client = services.update_client(actor=request.user, client=client, **data)
        return Response(ClientSerializer(client, context={"request": request}).data)


# --- Calendars ------------------------------------------------------------------------------


class CalendarListCreateApi(generics.ListAPIView):
    permission_classes = [ManageContracts]
    serializer_class = CalendarSerializer

    def get_queryset(self):
        return selectors.calendars_with_rules().order_by("name")

    @extend_schema(request=CalendarInput, responses={201: CalendarSerializer})
    def post(self, request):
        data = _valid(CalendarInput, request).validated_data
        calendar = services.create_calendar(
            actor=request.user,
            name=data["name"],
            timezone_name=data["timezone"],
            province=data["province"],
            always_open=data["always_open"],
            hours=data["hours"],
            closures=data["closures"],
        )
        calendar = selectors.calendars_with_rules().get(id=calendar.id)
        return Response(CalendarSerializer(calendar).data, status=status.HTTP_201_CREATED)


class CalendarDetailApi(APIView):
    permission_classes = [ManageContracts]

    @extend_schema(responses=CalendarSerializer)
    def get(self, request, pk: int):
        return Response(
            CalendarSerializer(get_object_or_404(selectors.calendars_with_rules(), pk=pk)).data
        )

    @extend_schema(request=CalendarInput, responses=CalendarSerializer)
    def put(self, request, pk: int):
        calendar = get_object_or_404(BusinessCalendar, pk=pk)
        data = _valid(CalendarInput, request).validated_data
        services.update_calendar(
            actor=request.user,
            calendar=calendar,
            name=data["name"],
            timezone_name=data["timezone"],
            province=data["province"],
            always_open=data["always_open"],
            hours=data["hours"],
            closures=data["closures"],
        )
        calendar = selectors.calendars_with_rules().get(id=calendar.id)
        return Response(CalendarSerializer(calendar).data)


# --- Contracts ------------------------------------------------------------------------------


class ContractListCreateApi(generics.ListAPIView):
    """Every role reads contract cards; managers create contracts."""

    permission_classes = [ManageContracts]
    serializer_class = ContractSerializer

    @extend_schema(
        parameters=[
            OpenApiParameter("search", str),
            OpenApiParameter("client", int),
            OpenApiParameter("segment", str),
            OpenApiParameter("service", str),
            OpenApiParameter("status", str),
        ]
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        params = self.request.query_params
        client = params.get("client", "")
        return selectors.contract_list(
            search=params.get("search", "").strip(),
            client_id=whole_number(client),
            segment=params.get("segment", ""),
            service=params.get("service", ""),
            status=params.get("status", ""),
        )

    @extend_schema(request=ContractInput, responses={201: ContractDetailSerializer})
    def post(self, request):
        serializer = _valid(ContractInput, request)
        data = serializer.validated_data
        contract = services.create_contract(
            actor=request.user,
            code=data["code"],
            client=data["client"],
            calendar=data["calendar"],
            services=data["services"],
            valid_from=data["valid_from"],
            valid_to=data["valid_to"],
            terms=serializer.to_terms(),
        )
        contract = selectors.contract_by_code(contract.code)
        return Response(ContractDetailSerializer(contract).data, status=status.HTTP_201_CREATED)


class ContractDetailApi(APIView):
    permission_classes = [ManageContracts]

    @extend_schema(responses=ContractDetailSerializer)
    def get(self, request, code: str):
        return Response(ContractDetailSerializer(selectors.contract_by_code(code)).data)

    @extend_schema(request=ContractUpdateInput, responses=ContractDetailSerializer)
    def patch(self, request, code: str):
        contract = selectors.contract_by_code(code)
        data = _valid(ContractUpdateInput, request).validated_data
        services.update_contract(
            actor=request.user,
            contract=contract,
            calendar=data.get("calendar", contract.calendar),
            services=data.get("services", contract.services),
            valid_to=data.get("valid_to", contract.valid_to),
            status=data.get("status", contract.status),
            retention_months=data.get("retention_months", contract.retention_months),
            mail_signature=data.get("mail_signature"),
            acknowledge_phone_cases=data.get("acknowledge_phone_cases"),
        )
        return Response(ContractDetailSerializer(selectors.contract_by_code(code)).data)


class ContractOrderValidationApi(APIView):
    """Who validates the contract's orders: a second person (default), or the submitter
    alone when a manager allowed it, with a reason (audited)."""

    permission_classes = [capability("manage_contracts", read=("manage_contracts",))]

    @extend_schema(responses=OrderValidationSerializer)
    def get(self, request, code: str):
        return Response(OrderValidationSerializer(selectors.contract_by_code(code)).data)

    @extend_schema(request=OrderValidationInput, responses=OrderValidationSerializer)
    def post(self, request, code: str):
        data = _valid(OrderValidationInput, request).validated_data
        contract = services.set_order_validation(
            actor=request.user,
            contract=selectors.contract_by_code(code),
            single_person=data["single_person"],
            reason=data["reason"],
        )
        return Response(OrderValidationSerializer(contract).data)


class ContractAmendApi(APIView):
    permission_classes = [capability("manage_contracts")]

    @extend_schema(request=AmendmentInput, responses={201: ContractVersionSerializer})
    def post(self, request, code: str):
        contract = selectors.contract_by_code(code)
        serializer = _valid(AmendmentInput, request)
        version = services.amend_contract(
            actor=request.user,
            contract=contract,
            effective_from=serializer.validated_data["effective_from"],
            terms=serializer.to_terms(),
        )
        version = selectors.versions_with_terms().get(id=version.id)
        return Response(ContractVersionSerializer(version).data, status=status.HTTP_201_CREATED)


class ContractSlaPreviewApi(APIView):
    permission_classes = [ManageContracts]

    @extend_schema(
        parameters=[
            OpenApiParameter("priority", str, required=True),
            OpenApiParameter(
                "opened_at",
                datetime,
                required=False,
                description="ISO 8601 with offset; default now. A `+` sent unencoded "
                "(read as a space) is accepted.",
            ),
        ],
        responses=SlaPreviewSerializer,
    )
    def get(self, request, code: str):
        contract = selectors.contract_by_code(code)
        query = _valid(SlaPreviewQuery, request, data=request.query_params).validated_data
        priority = query["priority"]
        opened_at = query.get("opened_at") or timezone.now()
        due = selectors.sla_due(contract, priority=priority, opened_at=opened_at)
        return Response(
            SlaPreviewSerializer(
                {
                    "priority": priority,
                    "opened_at": opened_at,
                    "clock_starts_at": due.clock_starts_at,
                    "first_response_due": due.first_response_due,
                    "resolution_due": due.resolution_due,
                    "first_response_minutes": due.first_response_minutes,
                    "resolution_minutes": due.resolution_minutes,
                }
            ).data
        )


# --- End users ------------------------------------------------------------------------------


def _end_user_data(data) -> services.EndUserData:
    phones = [*([data["phone"]] if data["phone"] else []), *data["phones"]]
    return services.EndUserData(
        first_name=data["first_name"],
        last_name=data["last_name"],
        phones=phones,
        email=data["email"],
        employee_code=data["employee_code"],
        codice_fiscale=data["codice_fiscale"],
        language=data.get("language", "it"),
    )


class EndUserListCreateApi(generics.ListAPIView):
    """The directory is listed to managers and back-office only; operators use the lookup."""

    permission_classes = [ManageDirectory]
    serializer_class = EndUserSerializer
    filterset_fields = ["client"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # the schema generator has no user
            return EndUser.objects.none()
        return selectors.end_users_visible_to(self.request.user)

    def list(self, request, *args, **kwargs):
        response = super().list(request, *args, **kwargs)
        rows = response.data.get("results", []) if isinstance(response.data, dict) else []
        access_log.note(request, end_users=[row["id"] for row in rows])
        return response

    @extend_schema(request=EndUserInput, responses={201: EndUserSerializer})
    def post(self, request):
        data = _valid(EndUserInput, request).validated_data
        end_user = services.create_end_user(
            actor=request.user, client=data["client"], data=_end_user_data(data)
        )
        return Response(
            EndUserSerializer(
                selectors.end_user_list().get(id=end_user.id), context={"request": request}
            ).data,
            status=status.HTTP_201_CREATED,
        )


class EndUserDetailApi(APIView):
    permission_classes = [ManageDirectory]

    @extend_schema(responses=EndUserSerializer)
    def get(self, request, pk: int):
        end_user = get_object_or_404(selectors.end_users_visible_to(request.user), pk=pk)
        return Response(EndUserSerializer(end_user, context={"request": request}).data)

    @extend_schema(request=EndUserInput, responses=EndUserSerializer)
    def put(self, request, pk: int):
        end_user = get_object_or_404(selectors.end_users_visible_to(request.user), pk=pk)
        data = _valid(EndUserInput, request).validated_data
        if data["client"].id != end_user.client_id:
            raise InvalidInput(fields={"client": [_("An end user cannot change client.")]})
        services.update_end_user(
            actor=request.user,
            end_user=end_user,
            data=_end_user_data(data),
            is_active=data["is_active"],
        )
        return Response(
            EndUserSerializer(
                selectors.end_user_list().get(id=pk), context={"request": request}
            ).data
        )


class EndUserImportApi(APIView):
    """CSV or XLSX; `dry_run` reports every bad row without writing anything."""

    permission_classes = [ManageDirectory]
    parser_classes = [MultiPartParser, FormParser, StrictJSONParser]

    @extend_schema(request={"multipart/form-data": EndUserImportInput}, responses=dict)
    def post(self, request):
        data = _valid(EndUserImportInput, request).validated_data
        try:
            rows = read_upload(data["file"])
        except FileTooLarge as exc:
            raise ImportFileTooLarge(str(exc), fields={"file": [str(exc)]}) from None
        except UnreadableFile as exc:
            raise InvalidInput(str(exc), fields={"file": [str(exc)]}) from None
        report = services.import_end_users(
            actor=request.user,
            client=data["client"],
            rows=rows,
            dry_run=data["dry_run"],
            all_or_nothing=data["all_or_nothing"],
        )
        return Response(
            {
                "rows": report.rows,
                "valid": report.valid,
                "created": report.created,
                "dry_run": report.dry_run,
                "all_or_nothing": report.all_or_nothing,
                "errors": [
                    {
                        "line": e.line,
                        "field": e.field,
                        "field_label": e.field_label,
                        "message": e.message,
                    }
                    for e in report.errors
                ],
            },
            status=status.HTTP_201_CREATED if report.created else status.HTTP_200_OK,
        )


# --- Caller lookup --------------------------------------------------------------------------


class CallerLookupApi(APIView):
    """POST, so the phone number travels in the body and never in a logged URL."""

    permission_classes = [AnswerCallers]

    @extend_schema(request=LookupInput, responses=LookupResultSerializer)
    def post(self, request):
        data = _valid(LookupInput, request).validated_data
        matches = look_up_callers(request, on=timezone.localdate(), **data)
        return Response({"results": LookupMatchSerializer(matches, many=True).data})
