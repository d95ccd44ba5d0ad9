"""API tokens (issue #20 point 4): scopes, expiry, last use, revocation, shown once, the
DRF tokens migrated, and the pages and API administrators issue them with."""

import hashlib
from datetime import timedelta
from importlib import import_module

import pytest
from django.apps import apps as global_apps
from django.urls import URLPattern, URLResolver
from rest_framework.test import APIClient

from config import tokens
from config.models import ApiToken, ConfigChange
from config.urls import api_v1

pytestmark = pytest.mark.django_db


def _api_route_names() -> list[str]:
    names = []

    def walk(entries):
        for entry in entries:
            if isinstance(entry, URLResolver):
                walk(entry.url_patterns)
            elif isinstance(entry, URLPattern):
                names.append(entry.name)

    walk(api_v1[0])
    return names


def _issue(admin, owner, *, scopes=("account",), days=30, now):
    return tokens.issue_token(
        actor=admin,
        owner=owner,
        name="CRM",
        scopes=list(scopes),
        expires_at=now + timedelta(days=days),
        now=now,
    )


def _caller(secret: str, keyword: str = "Token") -> APIClient:
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"{keyword} {secret}")
    return api


# --- The catalogue ----------------------------------------------------------------------------


def test_every_api_route_belongs_to_exactly_one_group():
    names = _api_route_names()
    listed = [route for group in tokens.GROUPS.values() for route in group.routes]
    assert sorted(name for name in names if name not in listed) == [], "give these a group"
    assert len(listed) == len(set(listed)), "a route is in two groups"
    assert sorted(set(listed) - set(names) - {"api-schema"}) == [], "groups name gone routes"


def test_split_groups_read_with_safe_methods_and_write_otherwise():
    assert tokens.scope_for("api:case-list", "GET") == "cases:read"
    assert tokens.scope_for("api:case-list", "POST") == "cases:write"
    assert tokens.scope_for("api:case-search", "POST") == "cases:read"
    assert tokens.scope_for("api:lookup", "POST") == "lookup"
    assert tokens.scope_for("api-schema", "GET") == "account"
    assert tokens.scope_for("api:no-such-route", "GET") is None


# --- Issue, use, last use ---------------------------------------------------------------------


def test_issued_token_authenticates_and_records_its_last_use_once_a_minute(
    admin_user, operator, now, time_machine, django_assert_max_num_queries
):
    token, secret = _issue(admin_user, operator, now=now)
    assert token.last_used_at is None
    assert token.key_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert secret.startswith(token.prefix)
    assert len(secret) > 40

    api = _caller(secret)
    assert api.get("/api/v1/me/").json()["username"] == operator.username
    token.refresh_from_db()
    first_use = token.last_used_at
    assert first_use is not None

    time_machine.move_to(now + timedelta(seconds=30))
    with django_assert_max_num_queries(3):  # the token, the permissions: no write
        assert api.get("/api/v1/me/").status_code == 200
    token.refresh_from_db()
    assert token.last_used_at == first_use

    time_machine.move_to(now + timedelta(minutes=2))
    assert _caller(secret, "Bearer").get("/api/v1/me/").status_code == 200
    token.refresh_from_db()
    assert token.last_used_at > first_use


def test_expired_revoked_unknown_and_inactive_owner_answer_401(admin_user, operator, now):
    _expired, expired_secret = _issue(admin_user, operator, days=1, now=now - timedelta(days=2))
    revoked, revoked_secret = _issue(admin_user, operator, now=now)
    tokens.revoke_token(actor=admin_user, token_id=revoked.pk, reason="leaked", now=now)
    cases = {
        expired_secret: "token_expired",
        revoked_secret: "token_revoked",
        "prs_nessuno": "authentication_failed",
    }
    for secret, code in cases.items():
        response = _caller(secret).get("/api/v1/me/")
        assert response.status_code == 401
        assert response["WWW-Authenticate"] == "Token"
        assert response.json()["code"] == code
        assert response.json()["message"]

    _token, secret = _issue(admin_user, operator, now=now)
    operator.is_active = False
    operator.save(update_fields=["is_active"])
    response = _caller(secret).get("/api/v1/me/")
    assert response.status_code == 401
    assert response.json()["code"] == "owner_inactive"


def test_a_token_outside_its_scopes_gets_403_token_scope(admin_user, operator, now):
    _token, secret = _issue(admin_user, operator, scopes=["cases:read"], now=now)
    api = _caller(secret)
    assert api.get("/api/v1/cases/").status_code == 200
    refused = api.post("/api/v1/cases/", {}, format="json")
    assert refused.status_code == 403
    assert refused.json()["code"] == "token_scope"
    assert "cases:write" in refused.json()["message"]
    assert api.get("/api/v1/me/").json()["code"] == "token_scope"
    assert api.get("/api/v1/reports/").json()["code"] == "token_scope"


def test_the_owners_role_still_applies_on_top_of_the_scopes(admin_user, operator, now):
    _token, secret = _issue(admin_user, operator, scopes=["tokens"], now=now)
    response = _caller(secret).get("/api/v1/tokens/")
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"


def test_session_callers_are_not_concerned_by_scopes(client, operator):
    client.force_login(operator)
    assert client.get("/api/v1/reports/").status_code in (200, 403)
    assert client.get("/api/v1/me/").status_code == 200


# --- The API ----------------------------------------------------------------------------------


def test_api_issues_a_token_shown_once_and_lists_it_without_the_secret(admin_api, operator):
    response = admin_api.post(
        "/api/v1/tokens/",
        {
            "name": "PBX Palermo",
            "owner": operator.username,
            "scopes": ["telephony", "lookup"],
            "expires_at": "2027-06-01T00:00:00+02:00",
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    secret = body["secret"]
    assert body["scopes"] == ["lookup", "telephony"]
    assert body["status"] == "active"
    listed = admin_api.get("/api/v1/tokens/")
    assert listed.status_code == 200
    assert secret not in listed.content.decode()
    assert "secret" not in listed.json()["results"][0]
    assert listed.json()["results"][0]["prefix"] == secret[: tokens.PREFIX_LENGTH]
    change = ConfigChange.objects.get(target_type="token", action="created")
    assert change.after["name"] == "PBX Palermo"
    assert change.after["owner"] == operator.pk
    assert secret not in str(change.after)
    assert secret[8:] not in str(change.after)
    token = ApiToken.objects.get()
    assert change.target_id == str(token.pk)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"name": ""}, "name"),
        ({"scopes": ["cases:read", "everything"]}, "scopes"),
        ({"scopes": []}, "scopes"),
        ({"expires_at": "2026-11-01T00:00:00+01:00"}, "expires_at"),
        ({"expires_at": "2028-12-01T00:00:00+01:00"}, "expires_at"),
        ({"owner": "nessuno"}, "owner"),
    ],
)
def test_bad_token_input_is_a_field_error_and_writes_nothing(admin_api, operator, change, field):
    data = {
        "name": "CRM",
        "owner": operator.username,
        "scopes": ["lookup"],
        "expires_at": "2027-06-01T00:00:00+02:00",
        **change,
    }
    response = admin_api.post("/api/v1/tokens/", data, format="json")
    assert response.status_code == 400
    assert field in response.json()["fields"]
    assert not ApiToken.objects.exists()
    assert not ConfigChange.objects.exists()


def test_api_revokes_with_a_reason_on_record(admin_api, admin_user, operator, now):
    token, secret = _issue(admin_user, operator, now=now)
    response = admin_api.post(
        f"/api/v1/tokens/{token.pk}/revoke/", {"reason": "leaked"}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["status"] == "revoked"
    assert _caller(secret).get("/api/v1/me/").status_code == 401
    change = ConfigChange.objects.get(target_type="token", action="revoked")
    assert change.reason == "leaked"
    assert change.before["revoked_at"] is None
    assert change.after["revoked_at"]
    assert admin_api.post("/api/v1/tokens/999999/revoke/").status_code == 404


def test_only_administrators_reach_the_token_api(operator_api, manager_api):
    for api in (operator_api, manager_api):
        assert api.get("/api/v1/tokens/").status_code == 403
        assert api.post("/api/v1/tokens/", {}, format="json").status_code == 403


# --- The pages --------------------------------------------------------------------------------


def test_the_page_issues_a_token_shows_its_secret_once_and_revokes_it(client, admin_user, operator):
    client.force_login(admin_user)
    page = client.get("/api-tokens/")
    assert page.status_code == 200
    response = client.post(
        "/api-tokens/issue/",
        {
            "name": "CRM",
            "owner": operator.pk,
            "scopes": ["cases:read", "lookup"],
            "expires_on": "2027-03-01",
        },
    )
    assert response.status_code == 200
    token = ApiToken.objects.get()
    secret = response.context["secret"]
    assert secret.startswith(token.prefix)
    assert secret in response.content.decode()
    again = client.get("/api-tokens/")
    assert secret not in again.content.decode()
    assert token.prefix in again.content.decode()

    revoked = client.post(f"/api-tokens/{token.pk}/revoke/", {"reason": "fine progetto"})
    assert revoked.status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert token.revoked_by == admin_user
    assert ConfigChange.objects.filter(target_type="token").count() == 2


def test_the_page_shows_field_errors_for_bad_input(client, admin_user, operator):
    client.force_login(admin_user)
    response = client.post(
        "/api-tokens/issue/",
        {"name": "", "owner": operator.pk, "scopes": ["nope"], "expires_on": "2030-01-01"},
    )
    assert response.status_code == 400
    form = response.context["form"]
    assert {"name", "scopes"} <= set(form.errors)
    response = client.post(
        "/api-tokens/issue/",
        {"name": "CRM", "owner": operator.pk, "scopes": ["lookup"], "expires_on": "2030-01-01"},
    )
    assert "expires_on" in response.context["form"].errors
    response = client.post(
        "/api-tokens/issue/",
        {"name": "CRM", "owner": operator.pk, "scopes": ["lookup"], "expires_on": "2026-01-01"},
    )
    assert "expires_on" in response.context["form"].errors
    assert not ApiToken.objects.exists()


def test_the_pages_are_for_administrators_and_the_menu_says_so(client, operator, admin_user):
    client.force_login(operator)
    assert client.get("/api-tokens/").status_code == 403
    assert "/api-tokens/" not in client.get("/").content.decode()
    client.force_login(admin_user)
    assert "/api-tokens/" in client.get("/").content.decode()


# --- DRF tokens migrated ----------------------------------------------------------------------


def test_the_migration_turns_drf_tokens_into_scoped_ones_keeping_the_secret(operator):
    from rest_framework.authtoken.models import Token

    key = Token.objects.create(user=operator).key
    migration = import_module("config.migrations.0011_drf_tokens_become_scoped_tokens")
    migration.convert(global_apps, None)
    token = ApiToken.objects.get(owner=operator)
    assert token.name == "migrated"
    # The catalogue frozen when the migration was written; scopes added later are not given.
    assert token.scopes == migration.ALL_SCOPES
    assert set(migration.ALL_SCOPES) <= set(tokens.SCOPES)
    assert not Token.objects.exists()
    response = _caller(key).get("/api/v1/me/")
    assert response.status_code == 200
    assert response.json()["username"] == operator.username
