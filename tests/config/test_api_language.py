"""Every API message in the caller's language: Italian by default and with
`Accept-Language: it`, English when asked; DRF's own errors included (#19 point 4)."""

import pytest
from django.utils import translation
from rest_framework import exceptions

from config.api import exception_handler

pytestmark = pytest.mark.django_db

ITALIAN = {"HTTP_ACCEPT_LANGUAGE": "it"}
ENGLISH = {"HTTP_ACCEPT_LANGUAGE": "en"}


def _both(call):
    """The message by default, with Accept-Language: it, and with Accept-Language: en."""
    default, italian, english = call({}), call(ITALIAN), call(ENGLISH)
    assert default.json() == italian.json()
    return italian, english


def test_not_signed_in(anonymous_api):
    italian, english = _both(lambda h: anonymous_api.get("/api/v1/me/", **h))
    assert italian.status_code == 401
    assert italian.json()["message"].startswith("Credenziali di autenticazione mancanti")
    assert english.json()["message"].startswith("Authentication credentials were not provided")


def test_a_wrong_token(anonymous_api):
    anonymous_api.credentials(HTTP_AUTHORIZATION="Token sbagliato")
    italian, english = _both(lambda h: anonymous_api.get("/api/v1/me/", **h))
    assert (italian.status_code, italian.json()["code"]) == (401, "authentication_failed")
    assert italian.json()["message"] == "Il token o le credenziali non sono validi."
    assert english.json()["message"] == "The token or the credentials are not valid."


def test_a_capability_the_caller_lacks(operator_api):
    italian, english = _both(
        lambda h: operator_api.post("/api/v1/clients/", {"name": "X"}, format="json", **h)
    )
    assert (italian.status_code, italian.json()["code"]) == (403, "permission_denied")
    assert italian.json()["message"] == "Non hai i permessi per questa operazione."
    assert english.json()["message"] == "You do not have permission for this operation."


def test_a_method_the_endpoint_does_not_take(operator_api):
    italian, english = _both(lambda h: operator_api.delete("/api/v1/me/", **h))
    assert italian.status_code == 405
    assert italian.json()["message"] == "Il metodo DELETE non è consentito qui."
    assert english.json()["message"] == "Method DELETE is not allowed here."


@pytest.mark.urls("tests.config.urls_for_errors")
def test_invalid_json_says_where_without_pythons_english(operator_api):
    def post(headers):
        return operator_api.post(
            "/api/v1/test/echo/", data='{"quantity": }', content_type="application/json", **headers
        )

    italian, english = _both(post)
    assert (italian.status_code, italian.json()["code"]) == (400, "parse_error")
    assert italian.json()["message"] == (
        "Il corpo della richiesta non è un JSON valido (riga 1, colonna 14)."
    )
    assert english.json()["message"] == "The body is not valid JSON (line 1, column 14)."
    assert "Expecting" not in italian.json()["message"]


@pytest.mark.urls("tests.config.urls_for_errors")
def test_a_body_that_is_not_json(operator_api):
    def post(headers):
        return operator_api.post(
            "/api/v1/test/echo/", data="quantity=1", content_type="text/plain", **headers
        )

    italian, english = _both(post)
    assert (italian.status_code, italian.json()["code"]) == (415, "unsupported_media_type")
    assert italian.json()["message"] == "Il tipo di contenuto «text/plain» non è accettato qui."
    assert english.json()["message"] == "Content type “text/plain” is not accepted here."


@pytest.mark.parametrize(
    ("language", "wait", "message"),
    [
        ("it", 2.2, "Troppe richieste: riprova tra 3 secondi."),
        ("it", 0.4, "Troppe richieste: riprova tra 1 secondo."),
        ("en", 2.2, "Too many requests: try again in 3 seconds."),
        ("it", None, "Troppe richieste: riprova tra un momento."),
    ],
)
def test_throttled_callers_are_told_when_to_come_back(language, wait, message):
    with translation.override(language):
        response = exception_handler(exceptions.Throttled(wait=wait), {"request": None})
    assert (response.status_code, response.data["code"]) == (429, "throttled")
    assert response.data["message"] == message


def test_a_missing_resource(operator_api):
    italian, english = _both(lambda h: operator_api.get("/api/v1/cases/CS-1999-000001/", **h))
    assert italian.status_code == 404
    assert italian.json()["message"] != english.json()["message"]
