"""The API skeleton: authentication, the error contract, the schema and its docs."""

import subprocess
import sys
from pathlib import Path

import pytest
from django.urls import reverse

from tests.factories import issued_secret

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]


def test_api_refuses_anonymous_calls_with_json_401(anonymous_api):
    response = anonymous_api.get("/api/v1/me/")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    body = response.json()
    assert body["code"] == "not_authenticated"
    assert body["message"]
    assert body["fields"] == {}


def test_token_authentication_identifies_the_user(anonymous_api, operator):
    anonymous_api.credentials(HTTP_AUTHORIZATION=f"Token {issued_secret(operator)}")
    body = anonymous_api.get("/api/v1/me/").json()
    assert body["username"] == operator.username
    assert body["roles"] == ["operatore"]
    assert body["capabilities"] == ["handle_cases"]


def test_session_authentication_works_for_the_portals_own_pages(client, supervisor):
    client.force_login(supervisor)
    body = client.get("/api/v1/me/").json()
    assert body["roles"] == ["supervisore"]
    assert body["language"] == "it"


def test_api_root_lists_its_endpoints(operator_api):
    body = operator_api.get("/api/v1/").json()
    assert body["me"].endswith("/api/v1/me/")
    assert body["docs"].endswith("/api/docs/")


@pytest.mark.parametrize("path", ["/api/v1/nothing-here/", "/api/nope", "/api/v2/cases/"])
def test_unknown_api_urls_answer_json_404(operator_api, anonymous_api, path):
    for api in (operator_api, anonymous_api):
        response = api.get(path)
        assert response.status_code == 404
        assert response["Content-Type"] == "application/json"
        assert response.json()["code"] == "not_found"


def test_wrong_method_answers_json_405(operator_api):
    response = operator_api.delete("/api/v1/me/")
    assert response.status_code == 405
    assert response.json()["code"] == "method_not_allowed"


@pytest.mark.urls("tests.config.urls_for_errors")
def test_validation_errors_name_each_field(operator_api):
    response = operator_api.post("/api/v1/test/echo/", {"quantity": 0}, format="json")
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert body["message"] == "I dati inviati non sono validi."
    assert list(body["fields"]) == ["quantity"]


@pytest.mark.urls("tests.config.urls_for_errors")
def test_malformed_json_is_a_400_with_a_message(operator_api):
    response = operator_api.post(
        "/api/v1/test/echo/", data="{not json", content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json()["code"] == "parse_error"


@pytest.mark.urls("tests.config.urls_for_errors")
def test_business_errors_keep_their_code_status_and_message(operator_api):
    response = operator_api.post("/api/v1/test/conflict/")
    assert response.status_code == 409
    assert response.json() == {
        "code": "conflict",
        "message": "La pratica è già chiusa.",
        "fields": {},
    }


@pytest.mark.urls("tests.config.urls_for_errors")
def test_a_bug_answers_json_500_without_a_traceback(operator_api):
    response = operator_api.get("/api/v1/test/broken/")
    assert response.status_code == 500
    assert response["Content-Type"] == "application/json"
    assert response.json()["code"] == "server_error"
    assert "boom" not in response.content.decode()
    assert "Traceback" not in response.content.decode()


def test_error_messages_follow_the_requested_language(anonymous_api):
    italian = anonymous_api.get("/api/v1/me/").json()["message"]
    english = anonymous_api.get("/api/v1/me/", HTTP_ACCEPT_LANGUAGE="en").json()["message"]
    assert italian != english
    assert "credentials were not provided" in english


def test_schema_needs_login_and_describes_the_api(anonymous_api, operator_api):
    assert anonymous_api.get(reverse("api-schema")).status_code == 401
    response = operator_api.get(
        reverse("api-schema"), HTTP_ACCEPT="application/vnd.oai.openapi+json"
    )
    assert response.status_code == 200
    assert "/api/v1/me/" in response.json()["paths"]


def test_schema_generates_without_warnings(tmp_path):
    result = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "spectacular",
            "--fail-on-warn",
            "--validate",
            "--file",
            str(tmp_path / "schema.yml"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr


def test_docs_page_needs_login_and_uses_only_local_assets(client, operator):
    assert client.get(reverse("api-docs")).status_code == 302
    client.force_login(operator)
    page = client.get(reverse("api-docs")).content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in page
    assert "cdn" not in page.lower()
    assert "<script>" not in page  # the init script is a separate file (CSP)


def test_the_api_has_a_request_budget_per_user(operator_api, monkeypatch):
    from rest_framework.throttling import UserRateThrottle

    monkeypatch.setattr(UserRateThrottle, "THROTTLE_RATES", {"user": "3/min", "anon": "30/min"})
    statuses = [operator_api.get("/api/v1/me/").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    assert operator_api.get("/api/v1/me/").json()["code"] == "throttled"


def test_the_throttle_message_is_one_translated_sentence_italian_by_default(
    operator_api, monkeypatch
):
    """DRF formats its "Expected available in N seconds" before translating it, so it never
    was: the answer was half Italian, half English (issue #26 point 10)."""
    from rest_framework.throttling import UserRateThrottle

    monkeypatch.setattr(UserRateThrottle, "THROTTLE_RATES", {"user": "1/min", "anon": "30/min"})
    operator_api.get("/api/v1/me/")
    refused = operator_api.get("/api/v1/me/")
    assert refused.status_code == 429
    seconds = int(refused.headers["Retry-After"])
    message = refused.json()["message"]
    assert message.startswith("Troppe richieste: riprova tra ")
    assert str(seconds) in message
    assert "Expected" not in message
    assert "throttled" not in message
    english = operator_api.get("/api/v1/me/", HTTP_ACCEPT_LANGUAGE="en")
    assert english.json()["message"].startswith("Too many requests: try again in ")


def test_the_throttle_message_counts_one_second_in_the_singular():
    from django.utils import translation

    from config.api import throttled_message

    with translation.override("it"):
        assert throttled_message(0.4) == "Troppe richieste: riprova tra 1 secondo."
        assert throttled_message(59.2) == "Troppe richieste: riprova tra 60 secondi."
        assert throttled_message(None) == "Troppe richieste: riprova tra un momento."
