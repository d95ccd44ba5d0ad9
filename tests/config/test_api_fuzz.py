"""Schemathesis over the whole OpenAPI schema: whatever it sends, no answer is a 5xx and every
documented answer matches the schema. Requests go through the real WSGI stack, signed in with
an administrator's API token (every endpoint open to it), against the test database.

Left alone, schemathesis sends what the schema describes and rarely gets past validation: it
never sent a NUL, a lone surrogate, 2^31 or year 9999, so it missed every 500 of issue #26.
`hostile_case` (a schema hook) therefore turns most examples into a request that would
succeed (real path parameters and a valid body, from a small world of real rows) with one
value replaced by something the database or the calendar arithmetic cannot take: NUL, a lone
UTF-16 surrogate, integers at and past the 32- and 64-bit limits, 1.5 where an integer is
due, dates and instants near year 1 or 9999 or impossible ones. One hostile value at a time,
so nothing else in the request is refused first.
"""

import re

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections, transaction
from django.utils import timezone
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from rest_framework.test import APIClient
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from care import services as care_services
from contracts import services as contract_services
from contracts.orders import services as order_services
from tests.conftest import look_up
from tests.contract_terms import terms
from tests.factories import EndUserFactory, issued_secret


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

# --- What the database, the renderer or the calendar arithmetic cannot take ------------------

HOSTILE_TEXT = ["nul\x00here", "\x00", "lone \udcff surrogate", "\ud800", "x" * 5_000]
HOSTILE_NUMBERS = [2**31, -(2**31) - 1, 2**63, -(2**63) - 1, 10**30, 1.5, -0.5]
HOSTILE_DATES = ["0001-01-01", "9999-12-31", "2026-02-30", "1900-01-01"]
HOSTILE_INSTANTS = [
    "0001-01-01T00:00:00+01:00",
    "9999-12-31T23:59:59-12:00",
    "9999-12-31T23:59:59.999999+00:00",
    "2026-02-30T10:00:00+01:00",
    "2026-12-02T25:00:00+01:00",
    "2026-12-02T10:00:00+99:00",
]
# Query strings and paths carry text: a lone surrogate cannot even be encoded into them.
HOSTILE_PARAMETER_TEXT = ["nul\x00here", "\x00"]
HOSTILE_PARAMETER_NUMBERS = ["2147483648", "-2147483649", "99999999999999999999", "1.5"]
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
INSTANT = re.compile(r"^\d{4}-\d{2}-\d{2}T")


def _hostile_for(value) -> list:
    """Values to put in place of `value`: its own kind's extremes, and text no one can store."""
    if isinstance(value, bool) or value is None:
        return [*HOSTILE_NUMBERS, *HOSTILE_TEXT]
    if isinstance(value, int | float):
        return HOSTILE_NUMBERS
    if DATE.match(value):
        return [*HOSTILE_DATES, *HOSTILE_TEXT]
    if INSTANT.match(value):
        return [*HOSTILE_INSTANTS, *HOSTILE_TEXT]
    return HOSTILE_TEXT


def _hostile_parameter(value) -> list:
    text = str(value)
    if text.lstrip("-").isdigit():
        return [*HOSTILE_PARAMETER_NUMBERS, *HOSTILE_PARAMETER_TEXT]
    if DATE.match(text):
        return [*HOSTILE_DATES, *HOSTILE_PARAMETER_TEXT]
    if INSTANT.match(text):
        return [*HOSTILE_INSTANTS, *HOSTILE_PARAMETER_TEXT]
    return [*HOSTILE_PARAMETER_TEXT, *HOSTILE_PARAMETER_NUMBERS]


# Filled by the `world` fixture before any example is drawn: real rows to aim at.
WORLD: dict = {}


def _bodies(w: dict) -> dict:
    """A request body each operation would accept, aimed at the world's rows."""
    version = {
        "at_risk_share": 0.2,
        "sla_targets": [
            {"priority": "P2", "first_response_minutes": 60, "resolution_minutes": 960}
        ],
        "categories": [{"code": "sim-lost", "name": "SIM", "default_priority": "P2"}],
        "card_markdown": "## Chi",
        "entitlements": {"who": "tutti", "limits": {"sim": 3}},
        "handoff_units": [{"code": "net", "name": "Rete"}],
        "escalation_contacts": [{"name": "Sala", "phone": "091 123456"}],
        "change_summary": "fuzz",
    }
    calendar = {
        "name": "Fuzz",
        "timezone": "Europe/Rome",
        "province": "PA",
        "always_open": False,
        "hours": {"mon": [["08:30", "13:00"]]},
        "closures": ["2026-12-24", {"day": "2026-12-31", "reason": "chiuso"}],
    }
    client = {
        "name": "Fuzz SpA",
        "segment": "TOP",
        "vat_number": "00743110157",
        "province": "MI",
        "account_team": [w["username"]],
        "referents": [{"first_name": "Ada", "last_name": "Neri", "phone": "3471234567"}],
    }
    end_user = {
        "client": w["client"],
        "first_name": "Ada",
        "last_name": "Neri",
        "phone": "347 765 4321",
        "email": "ada@example.it",
        "employee_code": "F1",
    }
    return {
        ("POST", "/api/v1/calendars/"): calendar,
        ("PUT", "/api/v1/calendars/{id}/"): calendar,
        ("POST", "/api/v1/cases/"): {
            "contract": w["contract"],
            "end_user": w["end_user"],
            "category": "roaming",
            "priority": "P3",
            "channel": "phone",
            "subject": "Roaming",
            "description": "Non va",
            "duplicate_override_reason": "fuzz",
        },
        ("PATCH", "/api/v1/cases/{reference}/"): {"priority": "P1", "row_version": None},
        ("POST", "/api/v1/cases/{reference}/contacts/"): {
            "end_user": w["end_user"],
            "subject": "Ancora",
            "description": "Richiama",
        },
        ("POST", "/api/v1/cases/{reference}/handoff/"): {"unit": "net", "request": "Verificate"},
        ("POST", "/api/v1/cases/{reference}/handoff/{handoff_id}/answer/"): {
            "answer": "Fatto",
            "outcome": "resolved",
        },
        ("POST", "/api/v1/cases/{reference}/notes/"): {"body": "Nota", "visibility": "internal"},
        ("POST", "/api/v1/cases/{reference}/reopen/"): {"reason": "Di nuovo"},
        ("POST", "/api/v1/cases/{reference}/transition/"): {"to": "in_progress"},
        ("POST", "/api/v1/cases/search/"): {
            "q": "Roaming",
            "status": ["new"],
            "priority": ["P3"],
            "client": w["client"],
            "contract": w["contract"],
            "assignee": w["user_id"],
            "opened_after": "2026-01-01",
            "opened_before": "2026-12-31",
        },
        ("POST", "/api/v1/clients/"): client,
        ("PUT", "/api/v1/clients/{id}/"): {**client, "name": "Regione Siciliana"},
        ("POST", "/api/v1/contracts/"): {
            **version,
            "code": "FUZZ-1",
            "client": w["client"],
            "calendar": w["calendar"],
            "services": ["mobile"],
            "valid_from": "2026-01-01",
            "valid_to": "2028-12-31",
        },
        ("PATCH", "/api/v1/contracts/{code}/"): {"valid_to": "2029-12-31", "retention_months": 24},
        ("POST", "/api/v1/contracts/{code}/versions/"): {**version, "effective_from": "2027-01-01"},
        ("POST", "/api/v1/end-users/"): end_user,
        ("PUT", "/api/v1/end-users/{id}/"): {**end_user, "employee_code": "E1"},
        ("POST", "/api/v1/lookup/"): {"employee_code": "E1"},
        ("POST", "/api/v1/orders/"): {
            "kind": "activation",
            "contract": w["contract"],
            "summary": "Nuove SIM",
            "description": "Per gli uffici",
            "owner": w["username"],
            "lines": [
                {"service": "mobile", "quantity": 10, "target_date": "2027-01-15"},
                {"service": "data", "quantity": 2, "description": "router"},
            ],
        },
        ("POST", "/api/v1/orders/{reference}/notes/"): {"body": "Nota", "visibility": "internal"},
        ("POST", "/api/v1/orders/{reference}/transition/"): {"to": "submitted", "reason": "ok"},
        ("POST", "/api/v1/routing/assign/"): {"case": w["case"], "operator": w["user_id"]},
        ("PUT", "/api/v1/routing/operators/{user_id}/presence/"): {"state": "available"},
        ("PUT", "/api/v1/routing/presence/"): {"state": "available"},
        ("POST", "/api/v1/routing/queues/{code}/emergency/"): {"minutes": 30, "reason": "fuzz"},
        ("POST", "/api/v1/routing/sites/"): {
            "code": "fz",
            "name": "Fuzz",
            "province": "MI",
            "calendar": w["calendar"],
            "supervisors": [w["user_id"]],
        },
        ("PATCH", "/api/v1/routing/sites/{code}/"): {"name": "Fuzz", "calendar": w["calendar"]},
        ("POST", "/api/v1/routing/queues/"): {
            "code": "fz",
            "name": "Fuzz",
            "segment": "PA",
            "service": "mobile",
            "category_codes": ["roaming"],
            "client": w["client"],
            "language": "en",
            "overflow_client_minutes": 5,
            "overflow_national_minutes": 20,
            "supervisors": [w["user_id"]],
        },
        ("PATCH", "/api/v1/routing/queues/{code}/"): {
            "overflow_client_minutes": 5,
            "category_codes": ["sim-lost"],
        },
        ("POST", "/api/v1/routing/queues/{code}/archive/"): {"refile": True},
    }


def _queries(w: dict) -> dict:
    """Query strings worth aiming at (the rest: what schemathesis generated)."""
    period = {"from": "2026-11-01", "to": "2026-11-30"}
    return {
        "/api/v1/contracts/{code}/sla-preview/": {
            "priority": "P2",
            "opened_at": "2026-12-02T10:00:00+01:00",
        },
        "/api/v1/reports/{name}/": {**period, "format": "json", "client": w["client"]},
        "/api/v1/cases/": {"opened_after": "2026-01-01", "client": w["client"], "assignee": "1"},
        "/api/v1/orders/": {"client": w["client"], "contract": w["contract"], "state": "draft"},
        "/api/v1/loyalty/": {"client": w["client"], "expires_before": "2027-01-01"},
        "/api/v1/contracts/": {"client": w["client"], "search": "RSIC"},
        "/api/v1/end-users/": {"client": w["client"]},
    }


def _path_value(path: str, name: str, w: dict):
    """The world's row for a path parameter (None: keep the generated value)."""
    by_prefix = {
        "code": [
            ("/api/v1/contracts/", w["contract"]),
            ("/api/v1/routing/queues/", "default"),
            ("/api/v1/routing/sites/", "fz"),
        ],
        "id": [
            ("/api/v1/calendars/", w["calendar"]),
            ("/api/v1/clients/", w["client"]),
            ("/api/v1/end-users/", w["end_user"]),
        ],
        "reference": [("/api/v1/cases/", w["case"]), ("/api/v1/orders/", w["order"])],
    }
    direct = {"handoff_id": w["handoff"], "user_id": w["user_id"], "name": "cases"}
    if name in direct:
        return direct[name]
    return next(
        (value for prefix, value in by_prefix.get(name, []) if path.startswith(prefix)), None
    )


def _leaves(value, trail=()):
    """Paths to every scalar inside a JSON value."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _leaves(item, (*trail, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _leaves(item, (*trail, index))
    else:
        yield trail


def _replaced(value, trail, new):
    if not trail:
        return new
    head, rest = trail[0], trail[1:]
    if isinstance(value, dict):
        return {**value, head: _replaced(value[head], rest, new)}
    copy = list(value)
    copy[head] = _replaced(copy[head], rest, new)
    return copy


def _one_hostile_value(data, choices=_hostile_for):
    """A strategy: `data` with one of its leaves replaced by a hostile value."""
    leaves = list(_leaves(data))
    if not leaves:
        return st.just(data)
    return st.sampled_from(leaves).flatmap(
        lambda trail: st.sampled_from(choices(_leaf(data, trail))).map(
            lambda new: _replaced(data, trail, new)
        )
    )


def _leaf(value, trail):
    for step in trail:
        value = value[step]
    return value


@schema.hook
def flatmap_case(context, case):
    """Most examples: a request aimed at real rows with one hostile value in its body, query
    or path. The rest: schemathesis's own example, untouched."""
    if not WORLD:
        return st.just(case)
    body = _bodies(WORLD).get((case.method.upper(), case.path))
    if case.media_type != "application/json":
        body = None  # multipart (the import, attachments): tested on their own
    query = {**case.query, **_queries(WORLD).get(case.path, {})}
    path = {
        name: str(_path_value(case.path, name, WORLD) or value)
        for name, value in case.path_parameters.items()
    }
    aimed = {"path_parameters": path, "query": query, **({"body": body} if body else {})}

    def hostile(where: str):
        if where == "body" and body:
            return _one_hostile_value(body).map(lambda new: _with(case, **{**aimed, "body": new}))
        if where == "path" and path:
            return _one_hostile_value(path, _hostile_parameter).map(
                lambda new: _with(case, **{**aimed, "path_parameters": new})
            )
        if query:
            return _one_hostile_value(query, _hostile_parameter).map(
                lambda new: _with(case, **{**aimed, "query": new})
            )
        return st.just(_with(case, **aimed))

    return st.sampled_from(["body", "body", "query", "path", "generated"]).flatmap(
        lambda where: st.just(case) if where == "generated" else hostile(where)
    )


def _with(case, **parts):
    """`case` with these parts replaced. Set past schemathesis's change tracking: it would
    validate the hostile values against the schema again, and its validator cannot even
    encode a lone surrogate."""
    for name, value in parts.items():
        object.__setattr__(case, name, value)
    return case


# --- The run --------------------------------------------------------------------------------


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
def world(admin_user, contract):
    """Real rows for the requests to hit: a caller the administrator has looked up, a case
    of theirs with a pending hand-off, an order. Published in WORLD for the schema hook."""
    contract_services.amend_contract(
        actor=admin_user,
        contract=contract,
        effective_from=timezone.localdate(),
        terms=terms(handoff_units=[{"code": "net", "name": "Rete"}]),
    )
    end_user = EndUserFactory(client=contract.client, employee_code="E1")
    api = APIClient()
    api.force_authenticate(admin_user)
    look_up(api, end_user)
    case = care_services.open_case(
        actor=admin_user,
        request=care_services.CaseRequest(
            contract_code=contract.code,
            category_code="sim-lost",
            channel="phone",
            subject="SIM persa",
            description="Persa ieri",
            end_user_id=end_user.id,
        ),
    )
    order = order_services.create_order(
        actor=admin_user,
        kind="change",
        contract=contract,
        summary="Cambio piano",
        lines=[order_services.LineData(service="mobile", quantity=3)],
    )
    handoff_case = care_services.open_case(
        actor=admin_user,
        request=care_services.CaseRequest(
            contract_code=contract.code,
            category_code="roaming",
            channel="phone",
            subject="Roaming",
            description="Non va",
            end_user_id=end_user.id,
        ),
    )
    WORLD.update(
        contract=contract.code,
        client=contract.client_id,
        calendar=contract.calendar_id,
        end_user=end_user.id,
        case=case.reference,
        order=order.reference,
        handoff=care_services.send_handoff(
            actor=admin_user, case=handoff_case, unit_code="net", request="Rete?"
        ).id,
        user_id=admin_user.id,
        username=admin_user.username,
    )
    yield WORLD
    WORLD.clear()


@pytest.fixture
def admin_token(world, admin_user, _connection_kept_across_requests):
    """After the world: its lookup went through the test client, which reconnects the
    signals when it finishes."""
    return issued_secret(admin_user)


@schema.parametrize()
@settings(
    max_examples=30,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_no_request_breaks_the_api(case, admin_token):
    # Each request on its own, as a server runs it in its own transaction: a statement the
    # database refused must not poison the requests after it (nor its writes pile up).
    savepoint = transaction.savepoint()
    try:
        response = case.call(headers={"Authorization": f"Token {admin_token}"})
    finally:
        transaction.savepoint_rollback(savepoint)
    case.validate_response(response, checks=[not_a_server_error, response_schema_conformance])
