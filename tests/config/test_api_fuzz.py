"""Schemathesis over the whole OpenAPI schema: whatever it sends, no answer is a 5xx and every
documented answer matches the schema. Requests go through the real WSGI stack, signed in with
an administrator's API token (every endpoint open to it), against the test database."""

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, settings
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance


@schemathesis.serializer("message/rfc822")
def _raw_message(ctx, value) -> bytes:
    """`POST mail/inbound/` takes a raw e-mail: whatever was generated, as bytes."""
    if isinstance(value, bytes):
        return value
    return str(value).encode("utf-8", "surrogatepass")


SPEC = SchemaGenerator().get_schema(request=None, public=True)
schema = schemathesis.openapi.from_dict(SPEC)
schema.app = get_wsgi_application()

pytestmark = pytest.mark.django_db


@pytest.fixture
def _connection_kept_across_requests():
    """Django closes the database connection when a request finishes; its test client
    switches that off, and so must a test that calls the WSGI application directly (on
    PostgreSQL the test's transaction would go with the connection)."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def admin_token(admin_user, contract, _connection_kept_across_requests):
    """An administrator's token, with one contract in place so paths have something to hit."""
    return Token.objects.create(user=admin_user).key


@schema.parametrize()
@settings(
    max_examples=8,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_no_request_breaks_the_api(case, admin_token):
    response = case.call(headers={"Authorization": f"Token {admin_token}"})
    case.validate_response(response, checks=[not_a_server_error, response_schema_conformance])
