"""Closing codes in the configuration audit: the codes a new contract or an amendment adds,
changes or drops against the version before each write one configuration change (target
"closing_code") in the version's transaction, through the API and the amendment page, and
the audit browser lists them under their filter."""

from datetime import date

import pytest
from django.urls import reverse

from config.models import ConfigChange
from contracts import services
from contracts.exceptions import InvalidContractData
from tests.contract_terms import terms
from tests.contracts.test_api_contracts import contract_payload
from tests.contracts.test_closing_codes import ROAMING, SIM, client_and_calendar

pytestmark = pytest.mark.django_db
__all__ = ["client_and_calendar"]

Code = services.ClosingCodeTerms


def code_changes(after_id: int = 0):
    return list(
        ConfigChange.objects.filter(target_type="closing_code", id__gt=after_id)
        .order_by("target_id", "id")
        .values_list("action", "target_id", "before", "after")
    )


def test_a_contract_created_with_its_codes_records_each_one(
    manager_api, manager, client_and_calendar
):
    payload = contract_payload(*client_and_calendar, closing_codes=[SIM, ROAMING])
    assert manager_api.post("/api/v1/contracts/", payload, format="json").status_code == 201
    context = {"contract": "RSIC-MOB-2026", "version": 1}
    assert code_changes() == [
        (
            "created",
            "RSIC-MOB-2026/roaming-attivato",
            {},
            {
                "code": "roaming-attivato",
                "name_it": "Roaming attivato",
                "name_en": "Roaming switched on",
                "category_code": "sim-lost",
            }
            | context,
        ),
        (
            "created",
            "RSIC-MOB-2026/sim-sbloccata",
            {},
            {
                "code": "sim-sbloccata",
                "name_it": "SIM sbloccata",
                "name_en": "SIM unlocked",
                "category_code": "",
            }
            | context,
        ),
    ]
    assert set(ConfigChange.objects.values_list("actor", flat=True)) == {manager.id}


def test_an_amendment_records_the_codes_added_changed_and_dropped_only(manager, contract):
    services.amend_contract(
        actor=manager,
        contract=contract,
        effective_from=date(2027, 1, 1),
        terms=terms(closing_codes=[Code("a", "Uno", "One"), Code("b", "Due", "Two")]),
    )
    last = ConfigChange.objects.order_by("id").last().id
    services.amend_contract(
        actor=manager,
        contract=contract,
        effective_from=date(2027, 6, 1),
        terms=terms(closing_codes=[Code("b", "Due bis", "Two"), Code("c", "Tre", "Three")]),
    )
    rows = code_changes(after_id=last)
    assert [(action, target) for action, target, _b, _a in rows] == [
        ("deleted", f"{contract.code}/a"),
        ("changed", f"{contract.code}/b"),
        ("created", f"{contract.code}/c"),
    ]
    _action, _target, before, after = rows[1]
    assert (before["name_it"], before["version"]) == ("Due", 2)
    assert (after["name_it"], after["version"]) == ("Due bis", 3)
    assert rows[0][3] == {}


def test_an_amendment_with_the_same_codes_records_nothing(manager, contract):
    same = [Code("a", "Uno", "One")]
    for day in (date(2027, 1, 1), date(2027, 6, 1)):
        services.amend_contract(
            actor=manager, contract=contract, effective_from=day, terms=terms(closing_codes=same)
        )
    assert len(code_changes()) == 1


def test_a_refused_amendment_records_nothing(manager, contract):
    with pytest.raises(InvalidContractData):
        services.amend_contract(
            actor=manager,
            contract=contract,
            effective_from=date(2027, 1, 1),
            terms=terms(closing_codes=[Code("a", "Uno", "One"), Code("a", "Due", "Two")]),
        )
    assert code_changes() == []


def test_the_amendment_page_records_its_codes_and_the_audit_browser_lists_them(
    client, manager, contract
):
    client.force_login(manager)
    response = client.post(
        reverse("contracts:contract-amend", args=[contract.code]),
        {
            "effective_from": "2027-01-01",
            "at_risk_share": "0.2",
            "P2_first_response": "45",
            "P2_resolution": "600",
            "categories": "sim-lost | SIM smarrita | P2",
            "closing_codes": "sim-sbloccata | SIM sbloccata | SIM unlocked",
        },
    )
    assert response.status_code == 302
    assert [row[:2] for row in code_changes()] == [
        ("created", f"{contract.code}/sim-sbloccata"),
    ]
    listed = client.get(reverse("reports:change-list"), {"what": "closing_code"})
    (row,) = listed.context["page"].object_list
    assert row["target_type"] == "closing_code"
    text = listed.content.decode()
    assert "codice di chiusura" in text
    assert "SIM sbloccata" in text
