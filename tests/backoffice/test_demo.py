"""The back-office demo is written through the services and is safe to run twice."""

import pytest

from config import roles
from contracts.models import ContractOrder, LoyaltyAction, LoyaltyItem, OrderEvent
from contracts.orders.demo import EXPIRING_CODE, seed_orders_demo

pytestmark = pytest.mark.django_db


def test_the_back_office_demo_seeds_orders_and_a_loyalty_worklist_once(user_factory, contract):
    backoffice = user_factory("backoffice", roles.BACKOFFICE)
    colleague = user_factory("backoffice2", roles.BACKOFFICE)
    user_factory("manager", roles.MANAGER)
    first = seed_orders_demo()
    assert first["orders"] == 4
    assert first["loyalty items"] >= 1
    states = sorted(ContractOrder.objects.values_list("state", flat=True))
    assert states == ["draft", "provisioning", "submitted", "validated"]
    validations = OrderEvent.objects.filter(to_state="validated")
    assert {event.actor for event in validations} == {colleague}  # four eyes
    submissions = OrderEvent.objects.filter(to_state="submitted").order_by("order__reference")
    assert [event.actor for event in submissions] == [colleague, backoffice, backoffice]
    assert LoyaltyItem.objects.filter(contract__code=EXPIRING_CODE).count() == 1
    assert LoyaltyAction.objects.count() == 1
    assert seed_orders_demo() == {"orders": 0, "loyalty items": 0}
    assert ContractOrder.objects.count() == 4
    assert LoyaltyAction.objects.count() == 1


def test_without_the_demo_logins_it_does_nothing(contract):
    assert seed_orders_demo() == {"orders": 0, "loyalty items": 0}
