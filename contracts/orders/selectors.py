"""Reads of contract orders and the loyalty worklist that pages, the API and other apps share.

Visibility: a back-office user sees the orders and loyalty items of its clients (the account
teams it is in: `selectors.of_their_clients`); managers and administrators read every
client's. Anyone else sees nothing, and "missing" and "not yours" answer the same not-found.
"""

import django_filters
from django.contrib.auth import get_user_model
from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet
from django.utils.translation import gettext_lazy as _

from config.errors import InvalidInput, NotFound
from config.filters import MAX_ID
from config.inputs import FilterForm
from contracts.models import (
    OPEN_ORDER_STATES,
    ContractOrder,
    LoyaltyAction,
    LoyaltyItem,
    LoyaltyOutcome,
    OrderEvent,
    OrderKind,
    OrderNote,
    OrderState,
)
from contracts.selectors import of_their_clients

WORKS_BACKOFFICE = "config.work_backoffice"
READS_ORDERS = (WORKS_BACKOFFICE, "config.manage_contracts")


class OrderNotFound(NotFound):
    code = "order_not_found"
    default_message = _("Order not found.")


class LoyaltyItemNotFound(NotFound):
    code = "loyalty_item_not_found"
    default_message = _("Loyalty item not found.")


def works_backoffice(user) -> bool:
    return bool(user and user.is_active and user.has_perm(WORKS_BACKOFFICE))


def reads_orders(user) -> bool:
    return bool(user and user.is_authenticated and any(user.has_perm(p) for p in READS_ORDERS))


def backoffice_users() -> QuerySet:
    """Active users holding `work_backoffice` through a group, directly, or as superusers."""
    config_perm = {"codename": "work_backoffice", "content_type__app_label": "config"}
    through_group = Q(**{f"groups__permissions__{k}": v for k, v in config_perm.items()})
    direct = Q(**{f"user_permissions__{k}": v for k, v in config_perm.items()})
    ids = (
        get_user_model().objects.filter(through_group | direct | Q(is_superuser=True)).values("id")
    )
    return (
        get_user_model()
        .objects.filter(is_active=True, id__in=ids)
        .order_by("last_name", "first_name", "username")
    )


# --- Orders ---------------------------------------------------------------------------------


def orders_visible_to(user) -> QuerySet[ContractOrder]:
    orders = ContractOrder.objects.select_related("client", "contract", "owner", "requester")
    if not reads_orders(user):
        return orders.none()
    return of_their_clients(orders, user)


def similar_open_orders(
    *, contract_id: int, kind: str, summary: str, lines: list[tuple]
) -> list[ContractOrder]:
    """Open orders that ask the same as a new one would: same contract, kind and summary
    (whatever the case and blanks), the same lines (service, quantity, target date), in
    any order. A double submission finds the first; `create_order` offers them instead."""
    candidates = (
        ContractOrder.objects.filter(
            contract_id=contract_id,
            kind=kind,
            state__in=OPEN_ORDER_STATES,
            summary__iexact=summary.strip(),
        )
        .prefetch_related("lines")
        .order_by("-created_at", "-id")
    )
    wanted = sorted(_line_key(*line) for line in lines)
    return [
        order
        for order in candidates
        if sorted(
            _line_key(line.service, line.quantity, line.target_date) for line in order.lines.all()
        )
        == wanted
    ][:5]


def _line_key(service, quantity, target_date) -> tuple[str, str, str]:
    return (str(service), str(quantity), target_date.isoformat() if target_date else "")


def order_for(user, reference: str) -> ContractOrder:
    """One order with everything its page and the API detail show."""
    order = (
        orders_visible_to(user)
        .select_related("created_by")
        .prefetch_related(
            "lines",
            "documents",
            Prefetch("events", queryset=OrderEvent.objects.select_related("actor")),
            Prefetch("notes", queryset=OrderNote.objects.select_related("author")),
            Prefetch(
                "loyalty_items",
                queryset=LoyaltyItem.objects.select_related("contract"),
            ),
        )
        .filter(reference=(reference or "").strip().upper())
        .first()
    )
    if order is None:
        raise OrderNotFound()
    return order


def order_submitter_id(order_id: int) -> int | None:
    """Who last sent the order to validation (the last move into `submitted`)."""
    return (
        OrderEvent.objects.filter(
            order_id=order_id,
            kind=OrderEvent.Kind.STATE_CHANGED,
            to_state=OrderState.SUBMITTED,
        )
        .order_by("-at", "-id")
        .values_list("actor_id", flat=True)
        .first()
    )


def submitted_by_someone_else(user) -> Q:
    """Orders `user` may take to validate: not submitted by them, unless their contract
    allows single-person validation (the rule itself is in services.transition_order)."""
    own = OrderEvent.objects.filter(
        order_id=OuterRef("pk"),
        kind=OrderEvent.Kind.STATE_CHANGED,
        to_state=OrderState.SUBMITTED,
        actor_id=user.id,
    )
    return (
        ~Q(state=OrderState.SUBMITTED)
        | Q(contract__single_person_order_validation=True)
        | Q(~Exists(own))
    )


class OrderFilter(django_filters.FilterSet):
    state = django_filters.MultipleChoiceFilter(choices=OrderState.choices)
    kind = django_filters.ChoiceFilter(choices=OrderKind.choices)
    client = django_filters.NumberFilter(method="filter_client", label=_("client"))
    contract = django_filters.CharFilter(field_name="contract__code", lookup_expr="iexact")
    owner = django_filters.CharFilter(method="filter_owner", label=_("owner (username or none)"))
    late = django_filters.BooleanFilter(field_name="is_late")
    open = django_filters.BooleanFilter(method="filter_open", label=_("open"))
    case = django_filters.CharFilter(field_name="case_reference", lookup_expr="iexact")

    class Meta:
        model = ContractOrder
        form = FilterForm  # the input rule of config.inputs
        fields = ["state", "kind", "client", "contract", "owner", "late", "open", "case"]

    def filter_client(self, queryset, name, value):
        return queryset.filter(client_id=int(value)) if 0 < value <= MAX_ID else queryset.none()

    def filter_owner(self, queryset, name, value):
        if value.lower() in ("none", "-"):
            return queryset.filter(owner__isnull=True)
        return queryset.filter(owner__username=value)

    def filter_open(self, queryset, name, value):
        if value is None:
            return queryset
        if value:
            return queryset.filter(state__in=OPEN_ORDER_STATES)
        return queryset.exclude(state__in=OPEN_ORDER_STATES)


def order_list(user, params=None) -> QuerySet[ContractOrder]:
    """Orders the user may read, filtered by `params` (query string), by due date."""
    orders = orders_visible_to(user).order_by("state_due_at", "created_at", "id")
    if params:
        filterset = OrderFilter(params, queryset=orders)
        if not filterset.is_valid():
            raise InvalidInput(fields={k: [str(m) for m in v] for k, v in filterset.errors.items()})
        orders = filterset.qs
    return orders


def orders_for_case(reference: str) -> list[ContractOrder]:
    """Orders opened from a case (for the case page): few fields, one query."""
    if not reference:
        return []
    return list(
        ContractOrder.objects.filter(case_reference=reference.strip().upper())
        .only("reference", "kind", "state", "summary", "state_due_at", "is_late", "case_reference")
        .order_by("created_at", "id")
    )


def _by_due(orders: QuerySet) -> QuerySet:
    return orders.order_by("state_due_at", "created_at", "id")


def backoffice_workspace(user, *, limit: int = 50) -> dict:
    """The four lists of the back-office workspace, each bounded to `limit` rows."""
    visible = orders_visible_to(user).filter(state__in=OPEN_ORDER_STATES)
    waiting = visible.filter(
        Q(created_by=user),
        Q(state=OrderState.PROVISIONING)
        | Q(state=OrderState.SUBMITTED) & (Q(owner__isnull=True) | ~Q(owner=user)),
    )
    return {
        "mine": list(_by_due(visible.filter(owner=user))[:limit]),
        "team": list(_by_due(visible.exclude(owner=user))[:limit]),
        "waiting": list(_by_due(waiting)[:limit]),
        "loyalty": list(
            loyalty_items_visible_to(user).filter(outcome=LoyaltyOutcome.PENDING)[:limit]
        ),
        "pool_size": visible.filter(
            owner__isnull=True, state__in=(OrderState.SUBMITTED, OrderState.VALIDATED)
        ).count(),
    }


# --- Loyalty --------------------------------------------------------------------------------


def loyalty_items_visible_to(user) -> QuerySet[LoyaltyItem]:
    items = LoyaltyItem.objects.select_related(
        "contract", "client", "owner", "renewal_order"
    ).annotate(action_count=Count("actions"))
    if not reads_orders(user):
        return items.none()
    return of_their_clients(items, user).order_by("valid_to", "id")


def loyalty_item_for(user, item_id) -> LoyaltyItem:
    item = (
        loyalty_items_visible_to(user)
        .prefetch_related(
            Prefetch("actions", queryset=LoyaltyAction.objects.select_related("actor"))
        )
        .filter(id=item_id)
        .first()
        if str(item_id).isdigit() and int(item_id) <= MAX_ID
        else None
    )
    if item is None:
        raise LoyaltyItemNotFound()
    return item


class LoyaltyFilter(django_filters.FilterSet):
    outcome = django_filters.ChoiceFilter(choices=LoyaltyOutcome.choices)
    client = django_filters.NumberFilter(method="filter_client", label=_("client"))
    contract = django_filters.CharFilter(field_name="contract__code", lookup_expr="iexact")
    owner = django_filters.CharFilter(field_name="owner__username")
    expires_before = django_filters.DateFilter(field_name="valid_to", lookup_expr="lte")

    class Meta:
        model = LoyaltyItem
        form = FilterForm  # the input rule of config.inputs
        fields = ["outcome", "client", "contract", "owner", "expires_before"]

    filter_client = OrderFilter.filter_client


def loyalty_list(user, params=None) -> QuerySet[LoyaltyItem]:
    items = loyalty_items_visible_to(user)
    if params:
        filterset = LoyaltyFilter(params, queryset=items)
        if not filterset.is_valid():
            raise InvalidInput(fields={k: [str(m) for m in v] for k, v in filterset.errors.items()})
        items = filterset.qs
    return items
