"""Four eyes on contract orders: whoever submitted an order cannot validate it; a colleague
can; a manager may allow single-person validation per contract (audited, with a reason); two
validations at once: one wins, the other is told (#19 point 8)."""

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client

from contracts import services as contract_services
from contracts.models import AuditEvent, ContractOrder
from contracts.orders import services as order_services
from contracts.orders.services import (
    OrderAlreadyInState,
    OrderChangedMeanwhile,
    SecondPersonRequired,
)
from tests.backoffice.conftest import snapshot

pytestmark = pytest.mark.django_db


def allow_single_person(manager, contract, *, allowed=True, reason="Cliente con un solo referente"):
    return contract_services.set_order_validation(
        actor=manager, contract=contract, single_person=allowed, reason=reason
    )


# --- Services -------------------------------------------------------------------------------


def test_the_submitter_cannot_validate_their_own_order_and_nothing_is_written(
    submitted_order, backoffice_user
):
    before = snapshot()
    with pytest.raises(SecondPersonRequired) as refused:
        order_services.transition_order(
            actor=backoffice_user, order=submitted_order, to="validated"
        )
    assert refused.value.status == 403
    assert refused.value.code == "second_person_required"
    assert snapshot() == before


def test_a_colleague_validates_and_then_anyone_may_provision_and_complete(
    submitted_order, backoffice_user, other_backoffice
):
    order = order_services.transition_order(
        actor=other_backoffice, order=submitted_order, to="validated"
    )
    assert order.state == "validated"
    event = order.events.latest("id")
    assert (event.actor, event.to_state) == (other_backoffice, "validated")
    assert "single_person" not in event.detail
    # Validation was the check: the submitter may carry the checked order through.
    order = order_services.transition_order(actor=backoffice_user, order=order, to="provisioning")
    order = order_services.transition_order(actor=backoffice_user, order=order, to="completed")
    assert order.state == "completed"


def test_the_submitter_is_whoever_last_sent_it_to_validation(
    order_factory, backoffice_user, other_backoffice
):
    """Created by one, submitted by the other: the submitter is the one who may not validate."""
    order = order_factory()
    order = order_services.transition_order(actor=other_backoffice, order=order, to="submitted")
    with pytest.raises(SecondPersonRequired):
        order_services.transition_order(actor=other_backoffice, order=order, to="validated")
    order = order_services.transition_order(actor=backoffice_user, order=order, to="validated")
    assert order.state == "validated"


def test_the_submitter_may_still_cancel_their_own_order(submitted_order, backoffice_user):
    order = order_services.transition_order(
        actor=backoffice_user, order=submitted_order, to="cancelled", reason="Inviato per errore"
    )
    assert order.state == "cancelled"


def test_a_manager_allows_single_person_validation_per_contract_and_it_is_audited(
    submitted_order, backoffice_user, manager, contract, order_factory
):
    allow_single_person(manager, contract)
    audit = AuditEvent.objects.get(kind="order_validation_changed")
    assert (audit.actor, audit.contract_id) == (manager, contract.id)
    assert audit.detail == {
        "single_person": True,
        "before": False,
        "reason": "Cliente con un solo referente",
    }
    order = order_services.transition_order(
        actor=backoffice_user, order=submitted_order, to="validated"
    )
    assert order.events.latest("id").detail["single_person"] is True  # the timeline says so

    allow_single_person(manager, contract, allowed=False, reason="Secondo referente nominato")
    assert AuditEvent.objects.filter(kind="order_validation_changed").count() == 2
    again = order_factory()
    again = order_services.transition_order(actor=backoffice_user, order=again, to="submitted")
    with pytest.raises(SecondPersonRequired):
        order_services.transition_order(actor=backoffice_user, order=again, to="validated")


def test_only_a_manager_with_a_reason_changes_the_validation_rule(
    backoffice_user, manager, contract
):
    with pytest.raises(contract_services.ManagersOnly):
        allow_single_person(backoffice_user, contract)
    with pytest.raises(contract_services.InvalidContractData) as refused:
        allow_single_person(manager, contract, reason="  ")
    assert "reason" in refused.value.fields
    contract.refresh_from_db()
    assert contract.single_person_order_validation is False
    assert not AuditEvent.objects.filter(kind="order_validation_changed").exists()


def test_two_validations_at_once_one_wins_and_the_other_is_a_conflict(
    submitted_order, other_backoffice, user_factory, contract
):
    """The second validator read the order before the first one's validation landed: with
    the version it read, a conflict; without, the order is already validated."""
    from config import roles

    third = user_factory("bo.neri", roles.BACKOFFICE)
    contract.client.account_team.add(third)
    seen = submitted_order.row_version
    order_services.transition_order(
        actor=other_backoffice, order=submitted_order, to="validated", expected_version=seen
    )
    before = snapshot()
    with pytest.raises(OrderChangedMeanwhile) as stale:
        order_services.transition_order(
            actor=third, order=submitted_order, to="validated", expected_version=seen
        )
    assert stale.value.status == 409
    with pytest.raises(OrderAlreadyInState) as again:
        order_services.transition_order(actor=third, order=submitted_order, to="validated")
    assert again.value.status == 409
    assert "Validato" in str(again.value.message) or "Validated" in str(again.value.message)
    assert snapshot() == before
    assert submitted_order.events.filter(to_state="validated").count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_validators_racing_on_postgresql_validate_once(
    order_factory, backoffice_user, other_backoffice, user_factory, contract, now
):
    from config import roles

    third = user_factory("bo.neri", roles.BACKOFFICE)
    contract.client.account_team.add(third)
    order = order_factory()
    order = order_services.transition_order(actor=backoffice_user, order=order, to="submitted")
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def validate(actor):
        try:
            barrier.wait(timeout=10)
            order_services.transition_order(
                actor=actor, order=order, to="validated", now=now + timedelta(minutes=1)
            )
            outcomes.append("validated")
        except OrderAlreadyInState:
            outcomes.append("conflict")
        finally:
            connection.close()

    threads = [threading.Thread(target=validate, args=(a,)) for a in (other_backoffice, third)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes) == ["conflict", "validated"]
    assert ContractOrder.objects.get(id=order.id).events.filter(to_state="validated").count() == 1


# --- API ------------------------------------------------------------------------------------


def test_the_api_refuses_the_submitters_validation_in_the_callers_language(
    submitted_order, backoffice_api
):
    url = f"/api/v1/orders/{submitted_order.reference}/transition/"
    italian = backoffice_api.post(
        url, {"to": "validated"}, format="json", HTTP_ACCEPT_LANGUAGE="it"
    )
    assert italian.status_code == 403
    assert italian.json()["code"] == "second_person_required"
    assert "collega" in italian.json()["message"]
    english = backoffice_api.post(
        url, {"to": "validated"}, format="json", HTTP_ACCEPT_LANGUAGE="en"
    )
    assert english.status_code == 403
    assert "colleague" in english.json()["message"]


def test_the_api_lets_a_colleague_validate_and_a_second_validation_is_a_409(
    submitted_order, other_backoffice
):
    from rest_framework.test import APIClient

    colleague = APIClient()
    colleague.force_authenticate(other_backoffice)
    url = f"/api/v1/orders/{submitted_order.reference}/transition/"
    first = colleague.post(url, {"to": "validated"}, format="json")
    assert first.status_code == 200
    assert first.json()["state"] == "validated"
    second = colleague.post(url, {"to": "validated"}, format="json")
    assert second.status_code == 409
    assert second.json()["code"] == "order_already_in_state"


def test_a_manager_sets_single_person_validation_through_the_api(manager_api, contract):
    url = f"/api/v1/contracts/{contract.code}/order-validation/"
    assert manager_api.get(url).json() == {
        "contract": contract.code,
        "single_person_order_validation": False,
        "changes": [],
    }
    missing = manager_api.post(url, {"single_person": True}, format="json")
    assert missing.status_code == 400
    assert "reason" in missing.json()["fields"]
    done = manager_api.post(
        url, {"single_person": True, "reason": "Un solo referente"}, format="json"
    )
    assert done.status_code == 200
    body = done.json()
    assert body["single_person_order_validation"] is True
    assert body["changes"][0]["reason"] == "Un solo referente"
    assert body["changes"][0]["actor"] == "man.gialli"


def test_back_office_cannot_change_the_validation_rule_through_the_api(backoffice_api, contract):
    url = f"/api/v1/contracts/{contract.code}/order-validation/"
    refused = backoffice_api.post(url, {"single_person": True, "reason": "x"}, format="json")
    assert refused.status_code == 403
    contract.refresh_from_db()
    assert contract.single_person_order_validation is False


# --- Pages ----------------------------------------------------------------------------------


def _signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_order_page_tells_the_submitter_a_colleague_validates_and_refuses_clearly(
    submitted_order, backoffice_user
):
    page = _signed_in(backoffice_user)
    url = f"/backoffice/orders/{submitted_order.reference}/"
    shown = page.get(url)
    assert shown.context["own_submission"] is True
    assert "un collega" in shown.content.decode()
    assert 'data-testid="order-move-validated"' not in shown.content.decode()  # no false button
    refused = page.post(
        url + "transition/",
        {"to": "validated", "row_version": submitted_order.row_version},
        follow=True,
    )
    messages = [str(m) for m in refused.context["messages"]]
    assert any("deve validarlo un collega" in m for m in messages)
    submitted_order.refresh_from_db()
    assert submitted_order.state == "submitted"


def test_a_colleague_validates_from_the_order_page(submitted_order, other_backoffice):
    page = _signed_in(other_backoffice)
    url = f"/backoffice/orders/{submitted_order.reference}/"
    assert page.get(url).context["own_submission"] is False
    page.post(url + "transition/", {"to": "validated", "row_version": submitted_order.row_version})
    submitted_order.refresh_from_db()
    assert submitted_order.state == "validated"


def test_a_manager_allows_single_person_validation_from_the_contract_page(manager, contract):
    page = _signed_in(manager)
    detail = page.get(f"/contracts/{contract.code}/")
    assert "Quattro occhi" in detail.content.decode()
    url = f"/contracts/{contract.code}/order-validation/"
    refused = page.post(url, {"single_person": "on", "reason": ""})
    assert refused.status_code == 200
    assert refused.context["form"].errors["reason"]
    done = page.post(url, {"single_person": "on", "reason": "Un solo referente"}, follow=True)
    assert done.redirect_chain[-1][0] == f"/contracts/{contract.code}/"
    contract.refresh_from_db()
    assert contract.single_person_order_validation is True
    shown = done.content.decode()
    assert "Una sola persona" in shown
    assert "Un solo referente" in shown


def test_back_office_cannot_open_the_validation_rule_page(browser_backoffice, contract):
    response = browser_backoffice.get(f"/contracts/{contract.code}/order-validation/")
    assert response.status_code == 403


@pytest.fixture
def browser_backoffice(backoffice_user) -> Client:
    return _signed_in(backoffice_user)


def test_on_a_single_person_contract_the_submitter_sees_and_uses_validate(
    submitted_order, backoffice_user, manager, contract
):
    allow_single_person(manager, contract)
    page = _signed_in(backoffice_user)
    url = f"/backoffice/orders/{submitted_order.reference}/"
    html = page.get(url).content.decode()
    assert 'data-testid="order-move-validated"' in html
    assert "ti consente di validarlo da solo" in html
    page.post(url + "transition/", {"to": "validated", "row_version": submitted_order.row_version})
    submitted_order.refresh_from_db()
    assert submitted_order.state == "validated"
