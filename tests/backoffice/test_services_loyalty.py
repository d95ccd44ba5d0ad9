"""The loyalty worklist: fed from contracts nearing expiry (idempotent), worked with actions,
closed with an outcome that may open a renewal order."""

from datetime import date

import pytest

from contracts import services
from contracts.models import ContractOrder, LoyaltyItem, OrderKind, OrderState
from contracts.orders import services as order_services
from contracts.orders.services import InvalidOrderData, LoyaltyItemClosed
from tests.backoffice.conftest import snapshot
from tests.contract_terms import terms
from tests.factories import ClientFactory

pytestmark = pytest.mark.django_db

TODAY = date(2026, 12, 2)


@pytest.fixture
def expiring_contract(manager, office_calendar, backoffice_user):
    client = ClientFactory(name="Polizia di Stato", segment="PA")
    client.account_team.add(manager, backoffice_user)  # the manager is not back-office
    return services.create_contract(
        actor=manager,
        code="POL-MOB-2024",
        client=client,
        calendar=office_calendar,
        services=["mobile", "data"],
        valid_from=date(2024, 3, 1),
        valid_to=date(2027, 2, 28),  # 88 days after TODAY
        terms=terms(),
    )


@pytest.fixture
def item(expiring_contract):
    order_services.feed_loyalty_worklist(today=TODAY)
    return LoyaltyItem.objects.get(contract=expiring_contract)


def test_contracts_expiring_within_90_days_join_the_worklist_once(
    expiring_contract, contract, backoffice_user
):
    assert order_services.feed_loyalty_worklist(today=TODAY) == 1
    assert order_services.feed_loyalty_worklist(today=TODAY) == 0  # idempotent
    assert order_services.feed_loyalty_worklist(today=date(2026, 12, 3)) == 0
    item = LoyaltyItem.objects.get()
    assert (item.contract, item.valid_to, item.outcome) == (
        expiring_contract,
        date(2027, 2, 28),
        "pending",
    )
    assert item.client == expiring_contract.client
    assert item.owner == backoffice_user  # the back-office member of the account team
    # The other contract (valid to 2028) joins 90 days before its end, not before.
    assert order_services.feed_loyalty_worklist(today=date(2028, 10, 2)) == 1
    assert order_services.feed_loyalty_worklist(today=date(2028, 10, 3)) == 0


def test_an_extended_contract_comes_back_with_its_new_expiry(expiring_contract, manager):
    order_services.feed_loyalty_worklist(today=TODAY)
    services.update_contract(
        actor=manager,
        contract=expiring_contract,
        calendar=expiring_contract.calendar,
        services=expiring_contract.services,
        valid_to=date(2027, 3, 31),
        status=expiring_contract.status,
    )
    assert order_services.feed_loyalty_worklist(today=date(2027, 1, 5)) == 1
    assert LoyaltyItem.objects.filter(contract=expiring_contract).count() == 2


def test_the_nightly_signal_feeds_the_worklist(expiring_contract):
    from django.utils import timezone

    from config.nightly import nightly

    answers = dict(nightly.send_robust(sender=None, date=TODAY, now=timezone.now()))
    assert {"loyalty_items": 1} in answers.values()
    assert LoyaltyItem.objects.filter(contract=expiring_contract).count() == 1


def test_actions_are_recorded_on_an_open_item(item, backoffice_user):
    action = order_services.record_loyalty_action(
        actor=backoffice_user, item=item, kind="call", note="Interessati al rinnovo"
    )
    assert (action.kind, action.actor, action.note) == (
        "call",
        backoffice_user,
        "Interessati al rinnovo",
    )
    before = snapshot()
    with pytest.raises(InvalidOrderData):
        order_services.record_loyalty_action(actor=backoffice_user, item=item, kind="fax")
    assert snapshot() == before


def test_closing_with_a_renewal_opens_a_draft_renewal_order_linked_to_the_item(
    item, backoffice_user
):
    item = order_services.close_loyalty_item(
        actor=backoffice_user, item=item, outcome="renewed", note="Tre anni", open_renewal=True
    )
    order = item.renewal_order
    assert (item.outcome, item.closed_by, item.outcome_note) == (
        "renewed",
        backoffice_user,
        "Tre anni",
    )
    assert (order.kind, order.state, order.owner) == (
        OrderKind.RENEWAL,
        OrderState.DRAFT,
        backoffice_user,
    )
    assert order.contract == item.contract
    assert sorted(order.lines.values_list("service", "quantity")) == [("data", 1), ("mobile", 1)]
    assert order.events.get().detail["loyalty_item"] == item.id
    before = snapshot()
    with pytest.raises(LoyaltyItemClosed):
        order_services.close_loyalty_item(actor=backoffice_user, item=item, outcome="lost")
    with pytest.raises(LoyaltyItemClosed):
        order_services.record_loyalty_action(actor=backoffice_user, item=item, kind="call")
    assert snapshot() == before


def test_a_lost_contract_cannot_open_a_renewal_and_pending_is_no_outcome(item, backoffice_user):
    before = snapshot()
    with pytest.raises(InvalidOrderData) as refused:
        order_services.close_loyalty_item(
            actor=backoffice_user, item=item, outcome="lost", open_renewal=True
        )
    assert "open_renewal" in refused.value.fields
    with pytest.raises(InvalidOrderData) as refused:
        order_services.close_loyalty_item(actor=backoffice_user, item=item, outcome="pending")
    assert "outcome" in refused.value.fields
    assert snapshot() == before
    item = order_services.close_loyalty_item(actor=backoffice_user, item=item, outcome="lost")
    assert item.renewal_order is None
    assert ContractOrder.objects.count() == 0


def test_an_operator_cannot_work_the_worklist(item, operator):
    before = snapshot()
    with pytest.raises(order_services.BackofficeOnly):
        order_services.close_loyalty_item(actor=operator, item=item, outcome="renewed")
    assert snapshot() == before
