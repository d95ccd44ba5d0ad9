"""Walk every URL pattern of the project: none answers an anonymous user with content, every
answer carries the security headers, and nothing a signed-in user sees may be cached.

New routes are covered the day they are added: the walk reads the URLconf, not a list.
"""

import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from django.urls.resolvers import RegexPattern, RoutePattern

pytestmark = pytest.mark.django_db

# Routes that must answer anonymous users: signing in, the load balancer's probe, the
# language switch (POST only) and the JSON 404 of unknown API paths.
# The password pages answer whoever holds a one-time link (config.users): a new user who
# cannot sign in yet; without a valid link they say so and show nothing.
PUBLIC = {"login", "healthz", "set_language", "logout", "password-set", "password-set-done"}
SAMPLE_ARGUMENTS = {"id": "1", "int": "1", "str": "x", "slug": "x", "uuid": "0" * 32, "path": "x"}
ANONYMOUS_REFUSALS = {302, 401, 403, 404, 405}


def _route_sample(route: str) -> str:
    """`cases/<str:reference>/notes/` -> `cases/x/notes/`."""

    def sample(match: re.Match) -> str:
        converter = match.group(1) or "str"
        return SAMPLE_ARGUMENTS.get(converter, "x")

    return re.sub(r"<(?:(\w+):)?\w+>", sample, route)


def _regex_sample(regex: str) -> str | None:
    """A path matching a simple regex pattern, or None for ones too clever to sample."""
    text = regex.lstrip("^").rstrip("$").replace("\\Z", "")
    text = re.sub(r"\(\?P<\w+>[^)]*\)", "1", text)
    text = text.replace("\\.", ".").replace("\\/", "/")
    return None if re.search(r"[()\[\]*+?|\\]", text) else text


def _walk(resolvers, prefix: str = "", names: tuple = ()):
    for entry in resolvers:
        pattern = entry.pattern
        if isinstance(pattern, RoutePattern):
            part = _route_sample(str(pattern))
        elif isinstance(pattern, RegexPattern):
            part = _regex_sample(pattern._regex)
            if part is None:
                continue
        else:  # pragma: no cover - Django has no other kind
            continue
        if isinstance(entry, URLResolver):
            if (entry.app_name or "") == "admin":
                # The admin is its own login-protected site: check its entry point only.
                yield "/" + prefix + part, "admin:index"
                continue
            namespace = (*names, entry.namespace) if entry.namespace else names
            yield from _walk(entry.url_patterns, prefix + part, namespace)
        elif isinstance(entry, URLPattern):
            name = ":".join((*names, entry.name)) if entry.name else ""
            yield "/" + prefix + part, name


ROUTES = sorted(set(_walk(get_resolver().url_patterns)))


def _has_security_headers(response) -> list[str]:
    missing = []
    if response.headers.get("X-Content-Type-Options") != "nosniff":
        missing.append("X-Content-Type-Options")
    if response.headers.get("Referrer-Policy") != "same-origin":
        missing.append("Referrer-Policy")
    csp = response.headers.get("Content-Security-Policy", "")
    if "script-src 'self'" not in csp or "unsafe-inline" in csp.split("style-src")[0]:
        missing.append("Content-Security-Policy")
    return missing


def test_the_walk_finds_the_project_routes():
    paths = {path for path, _name in ROUTES}
    assert {"/care/intake/", "/api/v1/cases/", "/api/v1/routing/next/"} <= paths
    assert len(ROUTES) > 40


@pytest.mark.parametrize(("path", "name"), ROUTES, ids=[p for p, _n in ROUTES])
def test_no_route_answers_an_anonymous_user_and_every_answer_has_the_headers(client, path, name):
    response = client.get(path)
    if name.split(":")[-1] not in PUBLIC:
        assert response.status_code in ANONYMOUS_REFUSALS, (path, response.status_code)
        if response.status_code == 302:
            assert "/login/" in response["Location"], response["Location"]
    assert _has_security_headers(response) == [], path


@pytest.mark.parametrize(("path", "name"), ROUTES, ids=[p for p, _n in ROUTES])
def test_nothing_shown_to_a_signed_in_user_may_be_cached(client, admin_user, path, name):
    client.force_login(admin_user)
    response = client.get(path)
    assert "no-store" in response.headers.get("Cache-Control", ""), (path, response.status_code)
    assert _has_security_headers(response) == [], path


def test_production_answers_carry_hsts(client, settings):
    settings.SECURE_HSTS_SECONDS = 31_536_000
    settings.SECURE_SSL_REDIRECT = False
    response = client.get("/accounts/login/", secure=True)
    assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000")
