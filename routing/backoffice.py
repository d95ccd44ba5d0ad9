"""The back-office pull, "Prossimo ordine": contract orders reach back-office operators through
the share of their capacity that front-office work may not take (`backoffice_share`).

It lives in routing because it reads the operator's profile and the engine's capacity rule,
and contracts imports no other app. The service, and the thin page and API views around it
(wired by config/urls.py), are kept together in this one module.

Exactly-once under concurrency as `take_next_case`: the operator's profile is locked (two
tabs of one operator are serialised against their capacity) and the chosen order row is
locked with `ORDER BY … LIMIT 1 FOR UPDATE OF contracts_contractorder SKIP LOCKED` on
PostgreSQL; on SQLite the IMMEDIATE transaction serialises writers.
"""

from datetime import datetime

from django.contrib import messages
from django.db import transaction
from django.db.models import F
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from config.errors import Conflict, PresidioError
from config.permissions import capability, capability_required
from contracts import selectors as contract_selectors
from contracts.models import ContractOrder, OrderState
from contracts.orders import services as order_services
from contracts.orders.selectors import submitted_by_someone_else, works_backoffice
from contracts.orders.serializers import OrderDetailSerializer
from contracts.orders.services import BackofficeOnly
from routing import engine
from routing.exceptions import NoOperatorProfile
from routing.models import OperatorProfile

# Orders an operator holds against their back-office capacity, and those the pool offers.
HELD_STATES = (OrderState.SUBMITTED, OrderState.VALIDATED, OrderState.PROVISIONING)
POOL_STATES = (OrderState.SUBMITTED, OrderState.VALIDATED)


class BackofficeCapacityReached(Conflict):
    code = "backoffice_capacity_reached"
    default_message = gettext_lazy(
        "You already hold as many orders as your back-office share of capacity allows."
    )


def backoffice_capacity(profile: OperatorProfile) -> int:
    """The part of the capacity that front-office work may not take outside emergencies."""
    front = engine.front_office_limit(
        profile.capacity, float(profile.backoffice_share), emergency=False
    )
    return max(0, profile.capacity - front)


def _lock_first_free(candidates) -> ContractOrder | None:
    return candidates.select_for_update(skip_locked=True, of=("self",)).first()


def take_next_order(*, operator, now: datetime | None = None) -> ContractOrder | None:
    """Give the operator the most urgent order of the pool (unowned, submitted or validated:
    earliest state due time, then oldest), or None when the pool is empty. An order they sent
    for validation themselves is left to a colleague (four eyes).

    Raises `NoOperatorProfile`, `BackofficeOnly`, or `BackofficeCapacityReached` when the
    orders they hold (submitted, validated or provisioning) fill their back-office capacity.
    """
    now = now or timezone.now()
    if not works_backoffice(operator):
        raise BackofficeOnly()
    with transaction.atomic(durable=True):
        profile = (
            OperatorProfile.objects.select_for_update().filter(user_id=operator.id).order_by("id")
        ).first()
        if profile is None:
            raise NoOperatorProfile()
        held = ContractOrder.objects.filter(owner_id=operator.id, state__in=HELD_STATES).count()
        if held >= backoffice_capacity(profile):
            raise BackofficeCapacityReached()
        candidates = contract_selectors.of_their_clients(
            ContractOrder.objects.filter(owner__isnull=True, state__in=POOL_STATES).filter(
                submitted_by_someone_else(operator)  # four eyes: not one they cannot validate
            ),
            operator,
        ).order_by(F("state_due_at").asc(nulls_last=True), "created_at", "id")
        order = _lock_first_free(candidates)
        if order is None:
            return None
        return order_services.assign_order(
            actor=operator,
            order=order,
            owner=operator,
            now=now,
            how=order_services.PULLED,
        )


# --- Thin interfaces ------------------------------------------------------------------------


@capability_required("work_backoffice")
@require_POST
def take_next_order_page(request):
    """The workspace's "Prossimo ordine" button: the order's page, or back with a message."""
    try:
        order = take_next_order(operator=request.user)
    except PresidioError as error:
        messages.error(request, str(error.message))
        return redirect("backoffice:workspace")
    if order is None:
        messages.info(request, _("No order is waiting in the pool right now."))
        return redirect("backoffice:workspace")
    messages.success(request, _("Order %(ref)s is yours.") % {"ref": order.reference})
    return redirect("backoffice:order-detail", reference=order.reference)


class TakeNextOrderApi(APIView):
    """POST: take the next order of the back-office pool; 204 when there is none."""

    permission_classes = [capability("work_backoffice")]

    @extend_schema(request=None, responses={200: OrderDetailSerializer, 204: None})
    def post(self, request):
        order = take_next_order(operator=request.user)
        if order is None:
            return Response(status=status.HTTP_204_NO_CONTENT)
        return Response(OrderDetailSerializer(order).data)
