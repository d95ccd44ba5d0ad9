"""Every route of the project is declared in config/access_routes.py (issue 26, point 7):
either what personal data it shows, and then a request to it writes its access-log row, or
why it shows none, and then an administrator (who sees everything in full) finds no
personal data in its answer.

Routes are read from the URLconf: a route added tomorrow fails the first test until it is
declared. The objects come from the IDOR matrix's two universes (tests/config/test_idor.py):
the foreign end user and referent carry canary values.
"""

import json
from dataclasses import dataclass
from urllib.parse import urlencode

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from config.access_routes import ROUTES, LoggedRoute, NoPersonalData, declared
from config.models import AccessLog
from tests.config import test_idor
from tests.config.test_idor import ALL_ROUTES, CLASSIFIED, EU_PHONE, _body, canaries_in

pytestmark = pytest.mark.django_db

universe = test_idor.universe  # the matrix's fixture: its two universes, built once here

NAMES = sorted({name for _ns, name, _takes, _text in ALL_ROUTES})
PEOPLE = ("eu_last_name", "eu_phone", "eu_email", "eu_cf", "eu_code")
PEOPLE += ("ref_last_name", "ref_phone", "ref_email")


def test_every_route_of_the_project_is_declared():
    """A new route says whether it shows personal data (and what) before it ships."""
    undeclared = [name or "<unnamed>" for name in NAMES if declared(name) is None]
    assert undeclared == [], f"declare these routes in config/access_routes.py: {undeclared}"


def test_the_registry_names_only_routes_that_exist():
    namespaces = {name.split(":", 1)[0] for name in NAMES if ":" in name}
    stale = [
        key
        for key in ROUTES
        if key not in NAMES and not (key.endswith(":*") and key[:-2] in namespaces)
    ]
    assert stale == []


# --- Declared as showing personal data: a representative request writes its row ------------


@dataclass(frozen=True)
class Call:
    method: str = "GET"
    kwargs: object = lambda u: {}
    query: object = None
    data: object = None
    multipart: bool = False


def _ref(attr):
    return lambda u: {"reference": getattr(u, attr).reference}


def _pk(attr, key="pk"):
    return lambda u: {key: getattr(u, attr).pk}


def _invalid_form(attr="case_b"):
    """A case action refused by its form: the case page is shown again, with the caller."""
    return Call("POST", _ref(attr), data=lambda u: {})


def _with_version(attr, **values):
    return lambda u: {**values, "row_version": getattr(u, attr).row_version}


CASE_B = _ref("case_b")

CALLS: dict[str, Call] = {
    "api:lookup": Call("POST", data=lambda u: {"phone": EU_PHONE}),
    "contracts:lookup": Call("POST", data=lambda u: {"phone": EU_PHONE}),
    "contracts:lookup-panel": Call("POST", data=lambda u: {"phone": EU_PHONE}),
    "care:intake": Call(query=lambda u: {"phone": EU_PHONE}),
    "api:end-user-list": Call(query=lambda u: {"client": u.client_b.pk}),
    "api:case-search": Call("POST", data=lambda u: {"q": "SIM"}),
    "care:case-list": Call(),
    "care:my-cases": Call(),
    "api:case-list": Call(),
    "api:end-user-detail": Call(kwargs=_pk("eu_b")),
    "care:intake-caller": Call(
        "POST", data=lambda u: {"end_user": u.eu_b.pk, "contract": u.contract_b.code}
    ),
    "care:case-detail": Call(kwargs=CASE_B),
    "care:case-add-note": _invalid_form(),
    "care:case-transition": _invalid_form(),
    "care:case-handoff": _invalid_form(),
    "care:case-handoff-answer": Call(
        "POST",
        lambda u: {"reference": u.case_b_unit.reference, "handoff_id": u.handoff_b.pk},
        data=lambda u: {},
    ),
    "care:case-reopen": _invalid_form("case_b_resolved"),
    "care:case-merge": _invalid_form(),
    "care:case-link": _invalid_form(),
    "api:case-detail": Call(kwargs=CASE_B),
    "api:reply-list": Call(query=lambda u: {"case": u.case_b.reference}),
    "api:case-notes": Call(kwargs=CASE_B),
    "api:case-transition": Call(
        "POST", CASE_B, data=_with_version("case_b", to="waiting_customer")
    ),
    "api:case-reopen": Call(
        "POST", _ref("case_b_resolved"), data=_with_version("case_b_resolved", reason="Di nuovo")
    ),
    "api:case-contact": Call(
        "POST",
        CASE_B,
        data=lambda u: {
            "end_user": u.eu_b.pk,
            "subject": "Richiamata",
            "description": "Ha richiamato",
            "row_version": u.case_b.row_version,
        },
    ),
    "api:case-handoff": Call(
        "POST", CASE_B, data=_with_version("case_b", unit="assurance", request="Verifica")
    ),
    "api:case-handoff-answer": Call(
        "POST",
        lambda u: {"reference": u.case_b_unit.reference, "handoff_id": u.handoff_b.pk},
        data=lambda u: {"answer": "Cella riparata", "outcome": "bounced"},
    ),
    "care:attachment-download": Call(kwargs=_pk("attachment_b", "attachment_id")),
    "api:telephony-call-list": Call(),
    "api:telephony-call-detail": Call(kwargs=lambda u: {"call_id": u.call_b.call_id}),
    "api:telephony-call-recording": Call(kwargs=lambda u: {"call_id": u.call_b.call_id}),
    "routing:callbacks": Call(),
    "care:mail-triage": Call(),
    "care:mail-triage-item": Call(kwargs=_pk("mail_b", "mail_id")),
    "api:client-list": Call(),
    "api:client-detail": Call(kwargs=_pk("client_b")),
    "contracts:client-edit": Call(kwargs=_pk("client_b")),
    "api:order-list": Call(),
    "api:order-detail": Call(kwargs=_ref("order_b")),
    "api:order-transition": Call(
        "POST", _ref("order_b"), data=_with_version("order_b", to="submitted")
    ),
    "api:order-notes": Call(
        "POST", _ref("order_b"), data=lambda u: {"body": "Richiamare", "visibility": "internal"}
    ),
    "api:order-next": Call("POST"),
    "backoffice:order-detail": Call(kwargs=_ref("order_b")),
    "backoffice:order-create": Call(query=lambda u: {"contract": u.contract_b.code}),
    "backoffice:order-document-download": Call(
        kwargs=lambda u: {"reference": u.order_b.reference, "document_id": u.document_b.pk}
    ),
    "api:end-user-import": Call(
        "POST",
        data=lambda u: {
            "client": u.client_b.pk,
            "file": SimpleUploadedFile("utenti.csv", b"first_name,last_name\nAda,Neri\n"),
        },
        multipart=True,
    ),
    "contracts:end-user-import": Call("POST", data=lambda u: {"client": u.client_b.pk}),
    "reports:report": Call(
        kwargs=lambda u: {"name": "cases"},
        query=lambda u: {"date_from": "2026-11-01", "date_to": "2026-11-30"},
    ),
    "api:report-detail": Call(
        kwargs=lambda u: {"name": "cases"},
        query=lambda u: {"date_from": "2026-11-01", "date_to": "2026-11-30"},
    ),
    "reports:job-download": Call(kwargs=_pk("job_b", "job_id")),
    "api:report-job-download": Call(kwargs=_pk("job_b", "job_id")),
    "care:subject-search": Call("POST", data=lambda u: {"query": EU_PHONE}),
    "care:subject-request": Call(kwargs=_pk("eu_b", "end_user_id")),
    "care:subject-export": Call(kwargs=_pk("eu_b", "end_user_id")),
    "care:subject-erase": Call(
        "POST",
        _pk("eu_b", "end_user_id"),
        data=lambda u: {"mode": "anonymise", "request_reference": "PROT-1", "confirm": "on"},
    ),
    # The admin site, declared as a whole: its directory of end users, list and page.
    "admin:contracts_enduser_changelist": Call(),
    "admin:contracts_enduser_change": Call(kwargs=lambda u: {"object_id": u.eu_b.pk}),
}

LOGGED = sorted(name for name in NAMES if isinstance(declared(name), LoggedRoute))
REPRESENTED = sorted(name for name in LOGGED if not name.startswith("admin:"))
REPRESENTED += ["admin:contracts_enduser_changelist", "admin:contracts_enduser_change"]


def test_every_route_declared_as_showing_personal_data_has_a_representative_call():
    missing = [name for name in LOGGED if name not in CALLS and not name.startswith("admin:")]
    assert missing == [], f"add a representative request to CALLS: {missing}"


def _call(client, name: str, call: Call, u):
    url = reverse(name, kwargs=call.kwargs(u))
    if call.query:
        url += "?" + urlencode(call.query(u))
    data = call.data(u) if call.data else {}
    if call.method == "GET":
        return client.get(url)
    if name.startswith("api:") and not call.multipart:
        return client.generic(call.method, url, json.dumps(data), content_type="application/json")
    return client.post(url, data)


@pytest.mark.parametrize("name", REPRESENTED)
def test_a_request_to_a_route_that_shows_personal_data_writes_one_row(client, universe, name):
    client.force_login(universe.adm)
    before = AccessLog.objects.count()
    response = _call(client, name, CALLS[name], universe)
    assert response.status_code < 500, (response.status_code, _body(response)[:300])
    _body(response)  # a streamed file is read to its end, as a browser would
    rows = list(AccessLog.objects.order_by("id")[before:])
    assert [(row.route, row.method) for row in rows] == [(name, CALLS[name].method)], (
        response.status_code
    )
    assert rows[0].username == universe.adm.username


# --- Declared as showing none: an administrator finds no personal data in the answer -------

UNLOGGED_GETS = sorted(
    name
    for name in NAMES
    if isinstance(declared(name), NoPersonalData)
    and name
    and not name.startswith("admin:")
    and name not in ("logout", "set_language")
)


def _sample_request(name: str, u) -> str:
    probes = CLASSIFIED.get(name, ())
    probe = next((probe for probe in probes if probe.method == "GET"), None)
    probe = probe or (probes[0] if probes else None)
    url = reverse(name, kwargs=probe.kwargs(u) if probe else {})
    if probe and probe.query and probe.method == "GET":
        url += "?" + urlencode(probe.query(u))
    return url


@pytest.mark.parametrize("name", UNLOGGED_GETS)
def test_a_route_declared_as_showing_none_shows_no_personal_data(client, universe, name):
    client.force_login(universe.adm)
    before = AccessLog.objects.count()
    response = client.get(_sample_request(name, universe), follow=False)
    body = _body(response)
    assert response.status_code < 500, (response.status_code, body[:300])
    assert canaries_in(body, PEOPLE) == [], f"{name} shows personal data: declare it logged"
    assert AccessLog.objects.count() == before


# --- Pages that show people found earlier ----------------------------------------------------


def test_the_intake_page_showing_the_chosen_caller_writes_a_view_row(client, universe):
    """After the lookup, the intake page shows the chosen caller on every visit: each visit
    is a view of their data (not a new search: it does not extend `found_recently`)."""
    client.force_login(universe.op)
    client.post(reverse("care:intake"), {"action": "lookup", "query": "+393471234567"})
    client.get(reverse("care:intake"))  # the lookup runs: one match, chosen
    before = AccessLog.objects.count()
    page = client.get(reverse("care:intake"))
    assert page.status_code == 200
    assert "Russo" in page.content.decode()
    [row] = AccessLog.objects.order_by("id")[before:]
    assert (row.route, row.action) == ("care:intake", "view")
    assert row.detail["end_users"] == [universe.eu_a.pk]


def test_a_list_writes_one_row_naming_every_caller_on_its_page(client, universe):
    client.force_login(universe.adm)
    before = AccessLog.objects.count()
    listed = client.get(reverse("api:case-list")).json()["results"]
    [row] = AccessLog.objects.order_by("id")[before:]
    shown = {case["end_user"]["id"] for case in listed if case["end_user"]}
    assert shown == {universe.eu_a.pk, universe.eu_b.pk}
    assert (row.action, row.route) == ("view", "api:case-list")
    assert set(row.subjects.values_list("end_user_id", flat=True)) == shown
