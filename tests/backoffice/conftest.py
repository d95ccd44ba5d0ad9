"""Fixtures of the back-office tests: back-office users, orders opened through the real
services, and a snapshot of every back-office table to prove that a refusal wrote nothing."""

import itertools
from datetime import date, timedelta

import pytest
from rest_framework.test import APIClient

from config import roles
from contracts.models import (
    ContractOrder,
    LoyaltyAction,
    LoyaltyItem,
    OrderDocument,
    OrderEvent,
    OrderKind,
    OrderLine,
    OrderNote,
    OrderSequence,
    Referent,
)
from contracts.orders import services as order_services
from contracts.orders.services import LineData
from tests.care.conftest import end_user, open_case_for

__all__ = ["end_user", "open_case_for"]  # the care fixtures, shared here

BACKOFFICE_TABLES = [
    ContractOrder,
    OrderLine,
    OrderEvent,
    OrderNote,
    OrderDocument,
    OrderSequence,
    LoyaltyItem,
    LoyaltyAction,
]


def snapshot() -> dict:
    """Every back-office row, as values: equal snapshots mean nothing was written."""
    return {
        model.__name__: list(model.objects.order_by("pk").values()) for model in BACKOFFICE_TABLES
    }


@pytest.fixture
def other_backoffice(user_factory, contract):
    user = user_factory("bo.bruni", roles.BACKOFFICE, first_name="Sara", last_name="Bruni")
    contract.client.account_team.add(user)
    return user


@pytest.fixture(autouse=True)
def backoffice_in_the_account_team(request, backoffice_user):
    """Back-office works its clients' orders: the test client's account team holds the
    back-office user (tests of the scope itself build their own client)."""
    if "contract" in request.fixturenames:
        request.getfixturevalue("contract").client.account_team.add(backoffice_user)


@pytest.fixture
def backoffice_api(backoffice_user):
    client = APIClient()
    client.force_authenticate(backoffice_user)
    return client


@pytest.fixture
def referent(contract):
    return Referent.objects.create(
        client=contract.client, first_name="Giovanni", last_name="Lo Cascio", role="CIO"
    )


@pytest.fixture
def order_factory(backoffice_user, contract, now):
    """Each call a different order: an identical open one would be refused as a duplicate
    (`create_order`), so the second and later summaries carry their number."""
    made = itertools.count(1)

    def factory(**kwargs):
        number = next(made)
        values = {
            "actor": backoffice_user,
            "kind": OrderKind.ACTIVATION,
            "contract": contract,
            "lines": [LineData(service="mobile", quantity=10, target_date=date(2026, 12, 20))],
            "summary": "Attivazione 10 SIM" + (f" ({number})" if number > 1 else ""),
            "now": now,
        }
        values.update(kwargs)
        return order_services.create_order(**values)

    return factory


@pytest.fixture
def submitted_order(order_factory, backoffice_user, now):
    order = order_factory(owner=None)
    return order_services.transition_order(
        actor=backoffice_user, order=order, to="submitted", now=now + timedelta(minutes=5)
    )
