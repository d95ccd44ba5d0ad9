"""The back-office pull ("Prossimo ordine"): the pool's most urgent order, within the share
of capacity that front-office work may not take, exactly once under concurrency."""

import threading
from collections import Counter
from datetime import timedelta

import pytest
from django.db import connection
from rest_framework.test import APIClient

from config import roles
from contracts.models import ContractOrder, OrderEvent
from contracts.orders import services as order_services
from contracts.orders.services import BackofficeOnly
from routing import engine
from routing.backoffice import BackofficeCapacityReached, backoffice_capacity, take_next_order
from routing.exceptions import NoOperatorProfile
from tests.routing.conftest import make_profile

THREAD_TIMEOUT = 60


def submit(order, actor, *, now, to="submitted"):
    return order_services.transition_order(actor=actor, order=order, to=to, now=now)


@pytest.fixture
def pool(order_factory, other_backoffice, now):
    """Three submitted orders in the pool, due at different times, and one draft; sent for
    validation by a colleague of `backoffice_user`, who may validate them (four eyes)."""
    orders = []
    for minutes in (30, 10, 20):
        order = order_factory()
        orders.append(submit(order, other_backoffice, now=now + timedelta(minutes=minutes)))
    order_factory()  # a draft: not in the pool
    return orders


@pytest.mark.django_db
def test_the_back_office_capacity_is_what_the_front_office_may_not_take(backoffice_user, now):
    profile = make_profile(backoffice_user, capacity=5, backoffice_share="0.40", now=now)
    assert engine.front_office_limit(5, 0.4, emergency=False) == 3
    assert backoffice_capacity(profile) == 2


@pytest.mark.django_db
def test_the_pull_takes_the_most_urgent_order_then_stops_at_the_back_office_share(
    pool, backoffice_user, now
):
    make_profile(backoffice_user, capacity=5, backoffice_share="0.40", now=now)
    first = take_next_order(operator=backoffice_user, now=now + timedelta(hours=1))
    second = take_next_order(operator=backoffice_user, now=now + timedelta(hours=1))
    # submitted at +10 and +20 minutes: the earliest due first
    assert [first.reference, second.reference] == [pool[1].reference, pool[2].reference]
    assert first.owner == backoffice_user
    event = first.events.latest("id")
    assert (event.kind, event.detail["to"]) == ("owner_changed", "bo.verdi")
    with pytest.raises(BackofficeCapacityReached):
        take_next_order(operator=backoffice_user, now=now + timedelta(hours=1))
    assert ContractOrder.objects.get(id=pool[0].id).owner is None


@pytest.mark.django_db
def test_completing_an_order_frees_back_office_capacity(pool, backoffice_user, now):
    make_profile(backoffice_user, capacity=5, backoffice_share="0.20", now=now)  # 1 order
    order = take_next_order(operator=backoffice_user, now=now)
    with pytest.raises(BackofficeCapacityReached):
        take_next_order(operator=backoffice_user, now=now)
    for state in ("validated", "provisioning", "completed"):  # a colleague submitted it
        order = order_services.transition_order(actor=backoffice_user, order=order, to=state)
    assert take_next_order(operator=backoffice_user, now=now) is not None


@pytest.mark.django_db
def test_the_pull_leaves_an_order_to_a_colleague_of_whoever_sent_it_for_validation(
    pool, backoffice_user, other_backoffice, manager, contract, now
):
    """Four eyes: the pool does not give back an order its submitter cannot validate, unless
    the contract allows single-person validation."""
    from contracts import services as contract_services

    make_profile(other_backoffice, capacity=5, backoffice_share="1", now=now)
    assert take_next_order(operator=other_backoffice, now=now) is None
    contract_services.set_order_validation(
        actor=manager, contract=contract, single_person=True, reason="Un solo referente"
    )
    assert take_next_order(operator=other_backoffice, now=now).reference == pool[1].reference


@pytest.mark.django_db
def test_with_no_back_office_share_nothing_can_be_pulled(pool, backoffice_user, now):
    make_profile(backoffice_user, capacity=5, backoffice_share="0", now=now)
    with pytest.raises(BackofficeCapacityReached):
        take_next_order(operator=backoffice_user, now=now)


@pytest.mark.django_db
def test_an_empty_pool_gives_nothing_and_owned_or_draft_orders_are_not_offered(
    order_factory, backoffice_user, other_backoffice, now
):
    make_profile(backoffice_user, capacity=5, now=now)
    owned = order_factory(owner=other_backoffice)
    submit(owned, backoffice_user, now=now)
    order_factory()
    assert take_next_order(operator=backoffice_user, now=now) is None


@pytest.mark.django_db
def test_only_back_office_operators_with_a_profile_pull(pool, operator, backoffice_user, now):
    make_profile(operator, capacity=5, now=now)
    with pytest.raises(BackofficeOnly):
        take_next_order(operator=operator, now=now)
    with pytest.raises(NoOperatorProfile):
        take_next_order(operator=backoffice_user, now=now)


@pytest.mark.django_db
def test_the_button_and_the_api_take_the_next_order(pool, backoffice_user, now):
    from django.test import Client

    make_profile(backoffice_user, capacity=10, backoffice_share="0.50", now=now)
    client = Client()
    client.force_login(backoffice_user)
    response = client.post("/backoffice/next/")
    assert response.status_code == 302
    assert response.url == f"/backoffice/orders/{pool[1].reference}/"
    api = APIClient()
    api.force_authenticate(backoffice_user)
    assert api.post("/api/v1/backoffice/next/").json()["reference"] == pool[2].reference
    assert api.post("/api/v1/backoffice/next/").json()["reference"] == pool[0].reference
    assert api.post("/api/v1/backoffice/next/").status_code == 204
    assert client.post("/backoffice/next/").url == "/backoffice/"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_back_office_operators_racing_on_the_pool_take_every_order_exactly_once(
    user_factory, order_factory, contract, now
):
    operators = [user_factory(f"bo.corsa{n}", roles.BACKOFFICE) for n in range(6)]
    contract.client.account_team.add(*operators)  # back-office works its clients' orders
    for user in operators:
        make_profile(user, capacity=20, backoffice_share="1", now=now)
    orders = [
        submit(order_factory(actor=operators[0]), operators[0], now=now + timedelta(minutes=n))
        for n in range(20)
    ]
    barrier = threading.Barrier(len(operators))
    results: list = [None] * len(operators)

    def drain(index, user):
        try:
            barrier.wait(timeout=THREAD_TIMEOUT)
            taken = []
            while (order := take_next_order(operator=user, now=now)) is not None:
                taken.append(order.id)
            results[index] = taken
        except Exception as error:  # reported to the test thread
            results[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=drain, args=(i, u)) for i, u in enumerate(operators)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=THREAD_TIMEOUT)
    assert not any(isinstance(r, Exception) for r in results), results
    taken = [order_id for ids in results for order_id in ids]
    assert sorted(taken) == sorted(o.id for o in orders)
    per_order = Counter(
        OrderEvent.objects.filter(kind="owner_changed").values_list("order_id", flat=True)
    )
    assert set(per_order.values()) == {1}, "an order was taken twice"
    owners = dict(ContractOrder.objects.values_list("id", "owner_id"))
    by_thread = {order_id: operators[i].id for i, ids in enumerate(results) for order_id in ids}
    assert owners == by_thread


@pytest.mark.django_db
def test_the_pool_offers_only_the_orders_of_ones_clients(
    pool, backoffice_user, user_factory, contract, now
):
    """Back-office works its clients (the account teams it is in): a colleague of another
    team finds the pool empty, and a refusal to open an order on a foreign client is clear."""
    stranger = user_factory("bo.altro", roles.BACKOFFICE)
    make_profile(stranger, capacity=10, backoffice_share="0.50", now=now)
    assert take_next_order(operator=stranger, now=now) is None
    with pytest.raises(order_services.InvalidInput) as refused:
        order_services.create_order(
            actor=stranger,
            kind="activation",
            contract=contract,
            lines=[],
            summary="Fuori dal mio portafoglio",
            now=now,
        )
    assert "contract" in refused.value.fields
    contract.client.account_team.add(stranger)
    assert take_next_order(operator=stranger, now=now) is not None
