"""REST endpoints of contract orders and the loyalty worklist: parse, call a selector or a
service, render.

Back-office users (`work_backoffice`) read and write; managers (`manage_contracts`) read.
A back-office user reaches the orders of its clients only (`selectors.of_their_clients`).
"""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, status
from rest_framework.response import Response
from rest_framework.views import APIView

from config.permissions import capability
from contracts.models import LoyaltyOutcome, OrderKind, OrderState
from contracts.orders import selectors, services
from contracts.orders.serializers import (
    LoyaltyActionInput,
    LoyaltyActionSerializer,
    LoyaltyCloseInput,
    LoyaltyItemDetailSerializer,
    LoyaltyItemSerializer,
    OrderDetailSerializer,
    OrderInput,
    OrderNoteInput,
    OrderNoteSerializer,
    OrderSerializer,
    OrderTransitionInput,
)

BackofficeWork = capability("work_backoffice", read=("work_backoffice", "manage_contracts"))


def _valid(serializer_class, request):
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return serializer


ORDER_FILTERS = [
    OpenApiParameter("state", str, many=True, enum=OrderState.values),
    OpenApiParameter("kind", str, enum=OrderKind.values),
    OpenApiParameter("client", int),
    OpenApiParameter("contract", str, description="contract code"),
    OpenApiParameter("owner", str, description="username, or `none` for the pool"),
    OpenApiParameter("late", bool),
    OpenApiParameter("open", bool),
    OpenApiParameter("case", str, description="reference of the case it was opened from"),
]


class OrderListCreateApi(generics.ListAPIView):
    permission_classes = [BackofficeWork]
    serializer_class = OrderSerializer
    filter_backends: list = []  # the selector applies OrderFilter

    @extend_schema(parameters=ORDER_FILTERS)
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        return selectors.order_list(self.request.user, self.request.query_params)

    @extend_schema(request=OrderInput, responses={201: OrderDetailSerializer})
    def post(self, request):
        order = services.create_order(
            actor=request.user, **_valid(OrderInput, request).service_arguments()
        )
        order = selectors.order_for(request.user, order.reference)
        return Response(OrderDetailSerializer(order).data, status=status.HTTP_201_CREATED)


class OrderDetailApi(APIView):
    permission_classes = [BackofficeWork]

    @extend_schema(responses=OrderDetailSerializer)
    def get(self, request, reference: str):
        return Response(OrderDetailSerializer(selectors.order_for(request.user, reference)).data)


class OrderTransitionApi(APIView):
    permission_classes = [BackofficeWork]

    @extend_schema(request=OrderTransitionInput, responses=OrderDetailSerializer)
    def post(self, request, reference: str):
        order = selectors.order_for(request.user, reference)
        data = _valid(OrderTransitionInput, request).validated_data
        services.transition_order(
            actor=request.user,
            order=order,
            to=data["to"],
            reason=data["reason"],
            expected_version=data["row_version"],
        )
        return Response(OrderDetailSerializer(selectors.order_for(request.user, reference)).data)


class OrderNoteCreateApi(APIView):
    permission_classes = [BackofficeWork]

    @extend_schema(request=OrderNoteInput, responses={201: OrderNoteSerializer})
    def post(self, request, reference: str):
        order = selectors.order_for(request.user, reference)
        data = _valid(OrderNoteInput, request).validated_data
        note = services.add_order_note(actor=request.user, order=order, **data)
        return Response(OrderNoteSerializer(note).data, status=status.HTTP_201_CREATED)


class LoyaltyListApi(generics.ListAPIView):
    permission_classes = [BackofficeWork]
    serializer_class = LoyaltyItemSerializer
    filter_backends: list = []  # the selector applies LoyaltyFilter

    @extend_schema(
        parameters=[
            OpenApiParameter("outcome", str, enum=LoyaltyOutcome.values),
            OpenApiParameter("client", int),
            OpenApiParameter("contract", str),
            OpenApiParameter("owner", str),
            OpenApiParameter("expires_before", str, description="YYYY-MM-DD"),
        ]
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        return selectors.loyalty_list(self.request.user, self.request.query_params)


class LoyaltyDetailApi(APIView):
    permission_classes = [BackofficeWork]

    @extend_schema(responses=LoyaltyItemDetailSerializer)
    def get(self, request, pk: int):
        item = selectors.loyalty_item_for(request.user, pk)
        return Response(LoyaltyItemDetailSerializer(item).data)


class LoyaltyActionCreateApi(APIView):
    permission_classes = [BackofficeWork]

    @extend_schema(request=LoyaltyActionInput, responses={201: LoyaltyActionSerializer})
    def post(self, request, pk: int):
        item = selectors.loyalty_item_for(request.user, pk)
        data = _valid(LoyaltyActionInput, request).validated_data
        action = services.record_loyalty_action(actor=request.user, item=item, **data)
        return Response(LoyaltyActionSerializer(action).data, status=status.HTTP_201_CREATED)


class LoyaltyCloseApi(APIView):
    permission_classes = [BackofficeWork]

    @extend_schema(request=LoyaltyCloseInput, responses=LoyaltyItemDetailSerializer)
    def post(self, request, pk: int):
        item = selectors.loyalty_item_for(request.user, pk)
        data = _valid(LoyaltyCloseInput, request).validated_data
        services.close_loyalty_item(actor=request.user, item=item, **data)
        item = selectors.loyalty_item_for(request.user, pk)
        return Response(LoyaltyItemDetailSerializer(item).data)
