"""The order timeline says who took an order by name and how, in the reader's language, from
facts (issue #19, points 1 and 14): no stored «back-office pull»."""

import html
import importlib
import re
from datetime import timedelta

import pytest
from django.apps import apps

from config import roles
from contracts.models import OrderEvent
from contracts.orders import services as order_services
from routing.backoffice import take_next_order
from tests.routing.conftest import make_profile

pytestmark = pytest.mark.django_db

order_facts = importlib.import_module("contracts.migrations.0006_order_owner_facts")


def timeline_of(client, order, language: str) -> str:
    client.cookies["django_language"] = language
    response = client.get(f"/backoffice/orders/{order.reference}/")
    assert response.status_code == 200
    items = re.findall(
        r'<li class="tl-event" data-testid="order-event".*?</li>',
        response.content.decode(),
        re.DOTALL,
    )
    texts = [re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", i))) for i in items]
    return " | ".join(text.replace(" : ", ": ").strip() for text in texts)


@pytest.fixture
def pulled(order_factory, backoffice_user, user_factory, django_user_model, now):
    """An order submitted by a colleague, then taken from the pool by Giulia Verdi
    (bo.verdi): four eyes, nobody pulls an order they submitted."""
    django_user_model.objects.filter(id=backoffice_user.id).update(
        first_name="Giulia", last_name="Verdi"
    )
    make_profile(backoffice_user, capacity=5, backoffice_share="0.40", now=now)
    order = order_services.transition_order(
        actor=user_factory("bo.bianchi", roles.BACKOFFICE),
        order=order_factory(),
        to="submitted",
        now=now,
    )
    taken = take_next_order(operator=backoffice_user, now=now + timedelta(minutes=5))
    assert taken.id == order.id
    return order


def test_the_pull_is_stored_as_facts(pulled, backoffice_user):
    event = pulled.events.filter(kind=OrderEvent.Kind.OWNER_CHANGED).get()
    assert event.detail == {
        "from": "",
        "to": "bo.verdi",
        "from_user": None,
        "to_user": backoffice_user.id,
        "how": "pull",
    }


@pytest.mark.parametrize(
    ("language", "said"),
    [
        ("it", "Giulia Verdi (preso dal pool del back-office)"),
        ("en", "Giulia Verdi (taken from the back-office pool)"),
    ],
)
def test_the_order_timeline_names_the_owner_and_says_the_pull(
    client, pulled, backoffice_user, language, said
):
    client.force_login(backoffice_user)
    text = timeline_of(client, pulled, language)
    assert said in text
    assert "back-office pull" not in text
    assert "bo.verdi" not in text


def test_an_order_given_back_says_so(client, pulled, backoffice_user):
    order_services.assign_order(actor=backoffice_user, order=pulled, owner=None)
    client.force_login(backoffice_user)
    assert "rimesso nel pool" in timeline_of(client, pulled, "it")


def test_old_pulls_become_facts_and_other_reasons_stay(client, pulled, backoffice_user):
    event = pulled.events.filter(kind=OrderEvent.Kind.OWNER_CHANGED).get()
    OrderEvent.objects.filter(id=event.id).update(
        detail={"from": "", "to": "bo.verdi", "reason": "back-office pull"}
    )
    order_services.assign_order(actor=backoffice_user, order=pulled, owner=None)
    other = pulled.events.filter(kind=OrderEvent.Kind.OWNER_CHANGED).latest("id")
    OrderEvent.objects.filter(id=other.id).update(
        detail={"from": "bo.verdi", "to": "", "reason": "ferie"}
    )
    order_facts.forward(apps, None)
    order_facts.forward(apps, None)  # twice changes nothing more
    event.refresh_from_db()
    other.refresh_from_db()
    assert event.detail == {"from": "", "to": "bo.verdi", "how": "pull"}
    assert other.detail["reason"] == "ferie"
    client.force_login(backoffice_user)
    text = timeline_of(client, pulled, "it")
    assert "Giulia Verdi (preso dal pool del back-office)" in text
    assert "«ferie»" in text
