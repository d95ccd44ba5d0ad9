"""The back-office step of the benchmark data set (config/bench/back_office.py): added once to
a data set that lacks it, the rows consistent with how the services leave them."""

from collections import Counter
from datetime import date

import pytest

from config import roles
from config.bench import back_office, data
from contracts import services
from contracts.models import (
    CLOSED_ORDER_STATES,
    Contract,
    ContractOrder,
    LoyaltyAction,
    LoyaltyItem,
    OrderEvent,
    OrderLine,
    OrderSequence,
)
from tests.contract_terms import terms

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


@pytest.fixture
def contracts(contract, manager):
    """Twelve contracts: most come up for renewal within the data set's window."""
    for n in range(11):
        services.create_contract(
            actor=manager,
            code=f"RSIC-B{n:02d}",
            client=contract.client,
            calendar=contract.calendar,
            services=["mobile", "data"],
            valid_from=date(2026, 1, 1),
            valid_to=date(2028, 12, 31),
            terms=terms(),
        )
    return list(Contract.objects.order_by("id"))


def test_the_step_adds_orders_and_loyalty_once_as_the_services_would_leave_them(
    contracts, user_factory, now
):
    worker = user_factory("bench001", roles.BACKOFFICE)
    data._write_marker(scale="bench-small", seed=1, as_of=now, seconds=1.0, counts={})
    quiet = data.Progress(quiet=True)

    counts = back_office.build_back_office(seed=1, progress=quiet)

    days = data.SCALES["bench-small"].days
    per_contract = days * back_office.ORDERS_PER_CONTRACT_DAY
    assert counts["contracts.ContractOrder"] == round(len(contracts) * per_contract)
    assert ContractOrder.objects.count() == counts["contracts.ContractOrder"]
    assert OrderLine.objects.count() == counts["contracts.OrderLine"] > 0
    assert LoyaltyItem.objects.count() == counts["contracts.LoyaltyItem"] > 0
    assert LoyaltyAction.objects.count() == counts["contracts.LoyaltyAction"] > 0
    assert data.read_marker()["counts"]["contracts.ContractOrder"] == ContractOrder.objects.count()

    orders = list(ContractOrder.objects.all())
    states = Counter(o.state for o in orders)
    assert states["completed"] > states["rejected"] + states["cancelled"]
    assert set(states) - set(CLOSED_ORDER_STATES)  # some still being worked
    for order in orders:
        closed = order.state in CLOSED_ORDER_STATES
        assert (order.closed_at is not None) == closed
        assert order.state_due_at is None if closed else order.state_due_at is not None
        assert not (closed and order.is_late)
        assert order.owner_id == worker.id
        assert order.created_at <= order.state_entered_at <= now
    created = OrderEvent.objects.filter(kind=OrderEvent.Kind.CREATED)
    assert created.count() == len(orders)
    last_event = OrderEvent.objects.filter(kind=OrderEvent.Kind.STATE_CHANGED).order_by("-at")
    assert last_event.first().at <= now
    # The next order of the year follows the loaded ones.
    year = now.year
    loaded = ContractOrder.objects.filter(reference__startswith=f"OR-{year}-").count()
    assert OrderSequence.objects.get(year=year).last == loaded
    for item in LoyaltyItem.objects.all():
        assert (item.closed_at is None) == item.is_open
        assert item.actions.exists()

    assert back_office.build_back_office(seed=1, progress=quiet) == {}  # once only
    assert ContractOrder.objects.count() == len(orders)
