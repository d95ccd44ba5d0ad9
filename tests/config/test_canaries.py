"""Canary values go through every path that handles a caller's identity; the session-wide
watch in tests/conftest.py fails the run if any of them reaches a log (here or anywhere else
in the suite)."""

import logging
from urllib.parse import quote

import pytest

from tests.conftest import (
    CANARY_CODICE_FISCALE,
    CANARY_PHONE,
    CANARY_PHONE_AS_TYPED,
    _CanaryWatch,
)

pytestmark = pytest.mark.django_db


def test_the_watch_catches_a_canary_and_ignores_a_redacted_one():
    watch = _CanaryWatch()
    logger = logging.getLogger("tests.canary-watch")
    logger.addHandler(watch)
    logger.propagate = False
    try:
        logger.warning("GET /care/intake/?phone=%s", CANARY_PHONE)  # redacted: not a leak
        assert watch.leaks == []
        logger.warning("caller %s not found", CANARY_CODICE_FISCALE)
        assert len(watch.leaks) == 1
    finally:
        logger.removeHandler(watch)
        logger.propagate = True


def _encoded(text: str, times: int) -> str:
    for _ in range(times):
        text = quote(text, safe="/")
    return text


@pytest.mark.parametrize("times", [1, 2, 3])
@pytest.mark.parametrize("name", ["phone", "q", "codice_fiscale"])
def test_the_watch_ignores_a_canary_url_encoded_inside_a_login_url(name, times):
    """A login's `next` carries the screen-pop URL encoded once (`phone%3D%2B39...`), a
    proxy may encode it again (`phone%253D%252B39...`): redacted all the same."""
    value = CANARY_CODICE_FISCALE if name == "codice_fiscale" else CANARY_PHONE
    next_url = _encoded(f"/care/intake/?x=1&{name}={value}", times)
    assert value[3:] in next_url  # the line would leak the canary if left as it is
    watch = _CanaryWatch()
    logger = logging.getLogger("tests.canary-watch")
    logger.addHandler(watch)
    logger.propagate = False
    try:
        logger.warning('"GET /accounts/login/?next=%s HTTP/1.1" 200 1234', next_url)
        assert watch.leaks == []
    finally:
        logger.removeHandler(watch)
        logger.propagate = True


@pytest.fixture
def canary_caller(manager_api, contract):
    response = manager_api.post(
        "/api/v1/end-users/",
        {
            "client": contract.client_id,
            "first_name": "Lucia",
            "last_name": "Canarino",
            "phone": CANARY_PHONE_AS_TYPED,
            "codice_fiscale": CANARY_CODICE_FISCALE,
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    return response.json()


def test_canaries_through_the_directory_lookup_and_intake(
    canary_caller, manager_api, operator_api, client, operator, contract, settings
):
    duplicate = manager_api.post(
        "/api/v1/end-users/",
        {
            "client": contract.client_id,
            "first_name": "Altro",
            "last_name": "Utente",
            "phone": CANARY_PHONE,
            "codice_fiscale": CANARY_CODICE_FISCALE,
        },
        format="json",
    )
    assert duplicate.status_code == 400
    found = operator_api.post("/api/v1/lookup/", {"phone": CANARY_PHONE_AS_TYPED}, format="json")
    assert found.json()["results"]
    bad = operator_api.post("/api/v1/lookup/", {"phone": CANARY_PHONE + "99999"}, format="json")
    assert bad.status_code in {200, 400}
    client.force_login(operator)
    pop = client.get("/care/intake/", {"phone": CANARY_PHONE_AS_TYPED})
    assert pop.status_code == 302
    assert client.get(pop["Location"]).status_code == 200
    client.post("/contracts/lookup/", {"query": CANARY_PHONE})
    settings.LOOKUPS_PER_MINUTE = 0
    assert (
        operator_api.post("/api/v1/lookup/", {"phone": CANARY_PHONE}, format="json").status_code
        == 429
    )


def test_a_canary_screen_pop_to_a_signed_out_browser_stays_out_of_every_url(
    canary_caller, client, operator
):
    pop = client.get("/care/intake/", {"phone": CANARY_PHONE})
    assert pop["Location"] == "/accounts/login/?next=/care/intake/"
    signed_in = client.post(
        pop["Location"], {"username": operator.username, "password": "correct-horse-battery"}
    )
    assert signed_in["Location"] == "/care/intake/"
    assert "Canarino" in client.get(signed_in["Location"]).content.decode()


def test_canaries_in_a_case_and_its_errors(canary_caller, operator_api, contract):
    operator_api.post("/api/v1/lookup/", {"phone": CANARY_PHONE}, format="json")
    opened = operator_api.post(
        "/api/v1/cases/",
        {
            "contract": contract.code,
            "end_user": canary_caller["id"],
            "category": "sim-lost",
            "channel": "phone",
            "subject": "SIM rubata",
            "description": f"Richiamare il {CANARY_PHONE}, CF {CANARY_CODICE_FISCALE}.",
        },
        format="json",
    )
    assert opened.status_code == 201, opened.content
    reference = opened.json()["reference"]
    refused = operator_api.post(
        f"/api/v1/cases/{reference}/transition/", {"to": CANARY_PHONE}, format="json"
    )
    assert refused.status_code == 400
    assert operator_api.get(f"/api/v1/cases/{reference}/").status_code == 200
