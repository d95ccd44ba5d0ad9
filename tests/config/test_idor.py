"""IDOR matrix (issue 9, point 1): every role against every route that takes an object id or
reference, asking for an object of ANOTHER client, contract, queue or user.

Two universes are built once for the module (inside one transaction rolled back at the end;
each test runs in its own savepoint): the acting users' own client, contract, queue, case and
order, and a foreign one whose end user carries canary values (phone, e-mail, codice fiscale,
employee code, last name), with a referent, cases in three states, a note with an attachment,
a pending hand-off, an order with a document, a loyalty item, a notification, an export job
written unmasked, a report subscription and a retention run of other users.

Each case of the matrix requests the foreign object as one role and holds one expectation:

- `deny`: 403 or 404 (on the API a JSON body with a message), and nothing written;
- `masked`: the role may see the object, but no canary appears in full (masked forms are fine);
- `guarded`: either of the two above (where a fix may choose to refuse or to mask);
- `full`: the role sees the data in full, and the listed canaries must appear (this is the
  positive control that proves the canaries would be caught);
- `allowed`: the role may do it (administration, configuration, supervision); no error.

Routes are read from the URLconf: a new route with an id or reference in its path fails
`test_every_route_with_an_object_in_its_path_is_classified` until it has an entry in
`CLASSIFIED`. A case whose expectation the application does not meet is marked
`leak="LEAK: ..."` in its `Expect` and runs as a strict xfail (none today: the five found
when the matrix was written are fixed: attachments, back-office scope, the directory API,
referents through the client API, the intake caller chosen by id).
"""

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from types import SimpleNamespace
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.contrib.auth.management import create_permissions
from django.contrib.auth.models import Group, Permission
from django.contrib.sessions.backends.db import SessionStore
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.urls.resolvers import RegexPattern, RoutePattern
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from care import articles as care_articles
from care import incidents, replies, retention
from care import services as care_services
from care.models import InboundMail, Notification
from care.sla import recompute_sla_states
from config import roles, tokens
from config.models import UserSession
from contracts import services as contract_services
from contracts.models import LoyaltyItem, OrderKind, Referent
from contracts.orders import services as order_services
from contracts.orders.services import LineData
from contracts.phones import display_phone
from reports import subscriptions
from reports.exports import create_export_job, run_export_job
from routing import services as routing_services
from routing.models import (
    AccessAlert,
    Call,
    Callback,
    Certification,
    OperatorProfile,
    PresenceState,
    Queue,
    Site,
)
from routing.notifications import notify_sla_alerts
from tests.contract_terms import terms
from tests.factories import CLOSING_CODE, BusinessCalendarFactory, valid_vat_number

pytestmark = pytest.mark.django_db

ROME = ZoneInfo("Europe/Rome")
OPENED = datetime(2026, 11, 25, 10, 0, tzinfo=ROME)  # a Wednesday morning, in office hours
PERIOD = {"from": "2026-11-01", "to": "2026-11-30"}
HANDOFF_UNITS = [{"code": "assurance", "name": "Assurance rete"}]

# --- Canaries: the foreign end user's and referent's data, and the foreign files' contents ---

EU_PHONE = "+393389990417"
EU_EMAIL = "ottavia.zanzottera@comune-ct.example.it"
EU_CODICE_FISCALE = "ZNZTTV80A41C351V"
EU_EMPLOYEE_CODE = "MATR-58213"
REF_PHONE = "+393471110428"
REF_EMAIL = "g.brambillasca@comune-ct.example.it"


def _phone_forms(e164: str) -> list[str]:
    """Every way a number is written in full: E.164, national, grouped, and its middle digits
    (a mask keeps only the operator prefix and the last two)."""
    shown = display_phone(e164)  # "+39 338 999 0417"
    national = e164[3:]
    return [e164, national, shown, shown[4:], national[3:], shown[8:]]


CANARIES = {
    "eu_last_name": ["Zanzottera"],
    "eu_phone": _phone_forms(EU_PHONE),
    "eu_email": ["ottavia.zanzottera@"],
    "eu_cf": [EU_CODICE_FISCALE],
    "eu_code": [EU_EMPLOYEE_CODE],
    "ref_last_name": ["Brambillasca"],
    "ref_phone": _phone_forms(REF_PHONE),
    "ref_email": ["g.brambillasca@"],
    "case_file": ["VERBALE-77Q41"],  # inside the attachment of the foreign case
    "order_file": ["RISERVATO-55K12"],  # inside the document of the foreign order
}
EU_ALL = ("eu_last_name", "eu_phone", "eu_email", "eu_cf", "eu_code")
CASE_PAGE_SHOWS = ("eu_last_name", "eu_phone", "eu_email", "eu_code")  # no codice fiscale
REPORT_SHOWS = ("eu_last_name", "eu_phone")  # the cases report's caller columns


def canaries_in(body: str, names=tuple(CANARIES)) -> list[str]:
    text = body.lower()
    return [name for name in names if any(form.lower() in text for form in CANARIES[name])]


# --- Expectations -----------------------------------------------------------------------------

OP, BO, SUP, MAN, ADM = (
    roles.OPERATOR,
    roles.BACKOFFICE,
    roles.SUPERVISOR,
    roles.MANAGER,
    roles.ADMIN,
)
ROLES = (OP, BO, SUP, MAN, ADM)


@dataclass(frozen=True)
class Expect:
    kind: str  # deny | masked | guarded | full | allowed
    shown: tuple[str, ...] = ()  # `full`: canaries that must appear
    leak: str = ""  # today's behaviour differs: a strict xfail with this reason


DENY = Expect("deny")
MASKED = Expect("masked")
GUARDED = Expect("guarded")
ALLOWED = Expect("allowed")


def full(*shown: str) -> Expect:
    return Expect("full", shown=shown)


def by_role(default: Expect = DENY, *, op=None, bo=None, sup=None, man=None, adm=None) -> dict:
    given = {OP: op, BO: bo, SUP: sup, MAN: man, ADM: adm}
    return {role: expect or default for role, expect in given.items()}


# What the application decides today, role by role (DESIGN.md §2 and issue 9 point 1):
# operators, back-office and supervisors read any case (handle_cases) but see callers masked
# outside their scope, and change only the cases they work (care.working: a foreign case's
# write is refused, 403 on the API, a form error on the page, nothing written); managers see
# no case; administrators see and change everything.
CASE_READ = by_role(op=MASKED, bo=MASKED, sup=MASKED, adm=full(*CASE_PAGE_SHOWS))
CASE_READ_NO_CALLER = by_role(op=MASKED, bo=MASKED, sup=MASKED, adm=ALLOWED)
CASE_WRITE = by_role(op=GUARDED, bo=GUARDED, sup=GUARDED, adm=ALLOWED)
NOBODY_BUT_THE_OWNER = by_role()
# Clients, calendars and contracts are the managers' configuration; contract cards are
# everyone's (they hold no personal data).
CONFIGURATION = by_role(man=ALLOWED, adm=ALLOWED)
CONTRACT_CARD = by_role(op=MASKED, bo=MASKED, sup=MASKED, man=MASKED, adm=ALLOWED)
# Supervisors act on every queue, operator and case today: routing.services set_emergency,
# set_presence and reassign_case check the `supervise` capability only (DESIGN.md §2 says
# "their sites and queues"; issue 9 point 1 does not scope supervisors).
SUPERVISION = by_role(sup=ALLOWED, adm=ALLOWED)
ADMINISTRATION = by_role(adm=ALLOWED)
# Sites and queues (routing.administration): administrators (and managers for queues), and
# the site's or queue's own supervisors; another supervisor's answer is 404.
SITE_SETUP = by_role(adm=ALLOWED)
QUEUE_SETUP = by_role(man=ALLOWED, adm=ALLOWED)
# Major incidents are run by supervisors and managers (care.incidents); they name no caller.
INCIDENTS = by_role(sup=ALLOWED, man=ALLOWED, adm=ALLOWED)
# Knowledge-base articles: reviewers (supervisors, managers, admins) read every article; an
# operator or back-office user reads those of their reach only (care.article_selectors).
ARTICLES = by_role(sup=ALLOWED, man=ALLOWED, adm=ALLOWED)

# Back-office reaches only the orders and loyalty items of its clients' account teams.
BO_FOREIGN = DENY


def orders_read(*shown: str) -> dict:
    """Managers read orders (order_api, order_views READ); back-office only their clients'."""
    return by_role(bo=BO_FOREIGN, man=full(*shown) if shown else ALLOWED, adm=full(*shown))


ORDERS_WRITE = by_role(bo=BO_FOREIGN, adm=ALLOWED)


# --- Probes -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Probe:
    expect: dict
    method: str = "GET"
    kwargs: Callable = lambda u: {}
    query: Callable | None = None
    data: Callable | None = None
    variant: str = ""


def ref(attr: str) -> Callable:
    return lambda u: {"reference": getattr(u, attr).reference}


def pk(attr: str, key: str = "pk") -> Callable:
    return lambda u: {key: getattr(u, attr).pk}


def code(attr: str) -> Callable:
    return lambda u: {"code": getattr(u, attr).code}


def report_query(**extra) -> Callable:
    return lambda u: {**PERIOD, "client": u.client_b.pk, **extra}


def handoff_of(attr: str) -> Callable:
    """The foreign hand-off's id under the reference of the case `attr`."""
    return lambda u: {"reference": getattr(u, attr).reference, "handoff_id": u.handoff_b.pk}


def payload(**values) -> Callable:
    return lambda u: values


FOREIGN_CASE = ref("case_b")
INCIDENT = pk("incident_b", "incident_id")
ARTICLE = pk("article_b", "article_id")
REPLY = pk("reply_b", "reply_id")
FOREIGN_UNIT_CASE = handoff_of("case_b_unit")
OWN_CASE_FOREIGN_HANDOFF = handoff_of("case_a")
EMPTY = payload()
ORDER_NOTE = payload(body="Sonda IDOR", visibility="internal")


def seen(attr: str, **payload) -> Callable:
    """A case action as the page sends it: with the `row_version` the user saw (valid, so
    that a missing check would let the write through)."""
    return lambda u: {**payload, "row_version": getattr(u, attr).row_version}


OTHER_OPERATOR = pk("op_other", "user_id")


def OTHER_CERTIFICATION(u) -> dict:  # noqa: N802 -- kwargs, named like their siblings
    """The foreign operator's certification on the foreign contract."""
    certification = Certification.objects.get(profile__user=u.op_other)
    return {"user_id": u.op_other.pk, "certification_id": certification.pk}


ACCOUNT_CHANGE = payload(
    first_name="Sonda", last_name="IDOR", email="sonda@example.test", roles=["operatore"]
)


def PROFILE_CHANGE(u) -> dict:  # noqa: N802 -- a payload, named like its siblings
    return {"site": u.op_other.operator_profile.site_id, "capacity": 7, "backoffice_share": "0.4"}


NOTE = seen("case_b", body="Sonda IDOR", visibility="internal")
TRANSITION = seen("case_b", to="waiting_customer")
HANDOFF = seen("case_b", unit="assurance", request="Sonda IDOR")
ANSWER = seen("case_b_unit", answer="Sonda IDOR", outcome="bounced")
OWN_CASE_ANSWER = seen("case_a", answer="Sonda IDOR", outcome="bounced")
REOPEN = seen("case_b_resolved", reason="Sonda IDOR")


def CONTACT(u) -> dict:  # noqa: N802 -- a payload, named like its siblings
    """A new contact about the foreign case, from its own caller."""
    return {
        "end_user": u.case_b.end_user_id,
        "subject": "Sonda IDOR",
        "description": "Sonda IDOR",
        "row_version": u.case_b.row_version,
    }


def _client_form(u) -> dict:
    """The foreign client's form as a manager would send it, with a new name."""
    referent = u.referent_b
    return {
        "name": "Comune di Catania (sonda)",
        "segment": u.client_b.segment,
        "vat_number": u.client_b.vat_number,
        "province": u.client_b.province,
        "is_active": "on",
        "account_team": [u.bo_other.pk],
        "referents": f"{referent.first_name} | Sonda | | | | x",
    }


def _client_input(u) -> dict:
    return {
        "name": "Comune di Catania (sonda)",
        "segment": u.client_b.segment,
        "vat_number": u.client_b.vat_number,
        "province": u.client_b.province,
        "referents": [{"first_name": "Gualtiero", "last_name": "Sonda"}],
    }


def _end_user_input(u) -> dict:
    return {"client": u.client_b.pk, "first_name": "Ottavia", "last_name": "Sonda"}


def _order_document(u) -> dict:
    return {"file": SimpleUploadedFile("sonda.txt", b"sonda IDOR", content_type="text/plain")}


CLASSIFIED: dict[str, tuple[Probe, ...]] = {
    # --- contracts (pages) -------------------------------------------------------------------
    "contracts:client-edit": (
        Probe(by_role(man=full("ref_last_name"), adm=full("ref_last_name")), kwargs=pk("client_b")),
        Probe(CONFIGURATION, "POST", pk("client_b"), data=_client_form),
    ),
    "contracts:calendar-edit": (
        Probe(CONFIGURATION, kwargs=pk("calendar_b")),
        Probe(CONFIGURATION, "POST", pk("calendar_b"), data=lambda u: {"name": "Sonda"}),
    ),
    "contracts:contract-detail": (Probe(CONTRACT_CARD, kwargs=code("contract_b")),),
    "contracts:contract-amend": (
        Probe(CONFIGURATION, kwargs=code("contract_b")),
        Probe(CONFIGURATION, "POST", code("contract_b"), data=EMPTY),
    ),
    "contracts:contract-edit": (
        Probe(CONFIGURATION, kwargs=code("contract_b")),
        Probe(CONFIGURATION, "POST", code("contract_b"), data=lambda u: {"status": "suspended"}),
    ),
    "contracts:contract-order-validation": (
        Probe(CONFIGURATION, kwargs=code("contract_b")),
        Probe(CONFIGURATION, "POST", code("contract_b"), data=EMPTY),
    ),
    # --- care (pages) ------------------------------------------------------------------------
    "care:case-detail": (Probe(CASE_READ, kwargs=FOREIGN_CASE),),
    "care:incident-detail": (Probe(INCIDENTS, kwargs=INCIDENT),),
    "care:incident-edit": (
        Probe(INCIDENTS, kwargs=INCIDENT),
        Probe(INCIDENTS, "POST", INCIDENT, data=lambda u: {"title": "Sonda IDOR"}),
    ),
    "care:incident-link": (Probe(INCIDENTS, "POST", INCIDENT, data=lambda u: {"province": "CT"}),),
    "care:incident-unlink": (
        Probe(INCIDENTS, "POST", INCIDENT, data=lambda u: {"case": u.case_b.reference}),
    ),
    "care:article-detail": (Probe(ARTICLES, kwargs=ARTICLE),),
    "care:article-edit": (
        Probe(ARTICLES, kwargs=ARTICLE),
        Probe(
            ARTICLES,
            "POST",
            ARTICLE,
            data=lambda u: {"title": "Sonda IDOR", "body": "Sonda", "scope": "all"},
        ),
    ),
    "care:article-submit": (Probe(ARTICLES, "POST", ARTICLE, data=EMPTY),),
    "care:article-publish": (Probe(ARTICLES, "POST", ARTICLE, data=EMPTY),),
    "care:article-return": (Probe(ARTICLES, "POST", ARTICLE, data=EMPTY),),
    "care:article-archive": (Probe(ARTICLES, "POST", ARTICLE, data=EMPTY),),
    "care:incident-confirm": (Probe(INCIDENTS, "POST", INCIDENT, data=EMPTY),),
    "care:incident-resolve": (Probe(INCIDENTS, "POST", INCIDENT, data=EMPTY),),
    "care:case-add-note": (Probe(CASE_WRITE, "POST", FOREIGN_CASE, data=NOTE),),
    "care:case-transition": (Probe(CASE_WRITE, "POST", FOREIGN_CASE, data=TRANSITION),),
    "care:case-handoff": (Probe(CASE_WRITE, "POST", FOREIGN_CASE, data=HANDOFF),),
    "care:case-handoff-answer": (
        Probe(CASE_WRITE, "POST", FOREIGN_UNIT_CASE, data=ANSWER),
        # A case the user may work, with the id of another case's hand-off: nobody answers it.
        Probe(
            NOBODY_BUT_THE_OWNER,
            "POST",
            OWN_CASE_FOREIGN_HANDOFF,
            data=OWN_CASE_ANSWER,
            variant="other-case-handoff",
        ),
    ),
    "care:case-reopen": (Probe(CASE_WRITE, "POST", ref("case_b_resolved"), data=REOPEN),),
    "care:case-merge": (
        Probe(
            CASE_WRITE,
            "POST",
            FOREIGN_CASE,
            data=lambda u: {"into": u.case_b_unit.reference, "row_version": u.case_b.row_version},
        ),
    ),
    "care:case-link": (
        Probe(
            CASE_WRITE,
            "POST",
            FOREIGN_CASE,
            data=lambda u: {"other": u.case_a.reference, "row_version": u.case_b.row_version},
        ),
    ),
    "care:notification-read": (
        Probe(NOBODY_BUT_THE_OWNER, "POST", pk("notification_b", "notification_id"), data=EMPTY),
    ),
    "care:attachment-download": (
        Probe(
            by_role(
                op=GUARDED,
                bo=GUARDED,
                sup=GUARDED,
                adm=full("case_file", "eu_cf"),
            ),
            kwargs=pk("attachment_b", "attachment_id"),
        ),
    ),
    "care:retention-run": (Probe(CONFIGURATION, kwargs=pk("retention_run", "run_id")),),
    "care:subject-request": (Probe(by_role(adm=full(*EU_ALL)), kwargs=pk("eu_b", "end_user_id")),),
    "care:subject-export": (
        Probe(by_role(adm=full(*EU_ALL)), kwargs=pk("eu_b", "end_user_id")),
        Probe(
            by_role(adm=full(*EU_ALL)),
            kwargs=pk("eu_b", "end_user_id"),
            query=lambda u: {"format": "html"},
            variant="html",
        ),
    ),
    "care:subject-erase": (
        Probe(
            ADMINISTRATION,
            "POST",
            pk("eu_b", "end_user_id"),
            # Valid: refused for any role that may not, and for an administrator refused by
            # the service too (the person has open cases), so nothing is ever erased here.
            data=lambda u: {"mode": "anonymise", "request_reference": "PROT-1", "confirm": "on"},
        ),
    ),
    # The id travels in the body: choosing a caller the last lookup did not find.
    "care:intake-caller": (
        Probe(
            NOBODY_BUT_THE_OWNER,
            "POST",
            data=lambda u: {"end_user": u.eu_b.pk, "contract": u.contract_b.code},
            variant="unsearched-caller",
        ),
    ),
    # --- back-office (pages) -----------------------------------------------------------------
    "backoffice:order-detail": (Probe(orders_read("ref_last_name"), kwargs=ref("order_b")),),
    "backoffice:order-transition": (
        Probe(
            ORDERS_WRITE,
            "POST",
            ref("order_b"),
            data=lambda u: {"to": "submitted", "row_version": u.order_b.row_version},
        ),
    ),
    "backoffice:order-assign": (
        Probe(
            ORDERS_WRITE,
            "POST",
            ref("order_b"),
            data=lambda u: {"owner": "me", "row_version": u.order_b.row_version},
        ),
    ),
    "backoffice:order-note": (Probe(ORDERS_WRITE, "POST", ref("order_b"), data=ORDER_NOTE),),
    "backoffice:order-document": (
        Probe(ORDERS_WRITE, "POST", ref("order_b"), data=_order_document),
    ),
    "backoffice:order-document-download": (
        Probe(
            orders_read("order_file"),
            kwargs=lambda u: {"reference": u.order_b.reference, "document_id": u.document_b.pk},
        ),
        Probe(
            NOBODY_BUT_THE_OWNER,
            kwargs=lambda u: {"reference": u.order_a.reference, "document_id": u.document_b.pk},
            variant="other-order-document",
        ),
    ),
    "backoffice:loyalty-detail": (Probe(orders_read(), kwargs=pk("loyalty_b")),),
    "backoffice:loyalty-action": (
        Probe(
            ORDERS_WRITE,
            "POST",
            pk("loyalty_b"),
            data=lambda u: {"action-kind": "call", "action-note": "Sonda IDOR"},
        ),
    ),
    "backoffice:loyalty-close": (
        Probe(
            ORDERS_WRITE,
            "POST",
            pk("loyalty_b"),
            data=lambda u: {"close-outcome": "lost", "close-note": "Sonda IDOR"},
        ),
    ),
    # The contract code travels in the query: the new-order form lists its client's referents.
    "backoffice:order-create": (
        Probe(
            by_role(
                bo=GUARDED,
                adm=ALLOWED,
            ),
            query=lambda u: {"contract": u.contract_b.code},
            variant="other-client-contract",
        ),
    ),
    # --- routing and reports (pages) ---------------------------------------------------------
    "routing:site-edit": (
        Probe(SITE_SETUP, kwargs=code("site_b")),
        Probe(SITE_SETUP, "POST", code("site_b"), data=lambda u: {"name": "Sonda IDOR"}),
    ),
    "routing:site-delete": (Probe(SITE_SETUP, "POST", code("site_b"), data=EMPTY),),
    "routing:queue-edit": (
        Probe(QUEUE_SETUP, kwargs=code("queue_b")),
        Probe(QUEUE_SETUP, "POST", code("queue_b"), data=lambda u: {"wrap_up_seconds": "90"}),
    ),
    "routing:queue-archive": (Probe(QUEUE_SETUP, "POST", code("queue_b"), data=EMPTY),),
    "routing:queue-delete": (Probe(QUEUE_SETUP, "POST", code("queue_b"), data=EMPTY),),
    "routing:case-decisions": (Probe(CASE_READ_NO_CALLER, kwargs=FOREIGN_CASE),),
    # An unusual-access alert told to another queue's supervisor (administrators see all).
    "routing:console-access-alert-ack": (
        Probe(ADMINISTRATION, "POST", pk("access_alert_b", "alert_id"), data=EMPTY),
    ),
    "reports:report": (
        Probe(
            by_role(sup=MASKED, man=MASKED, adm=full(*REPORT_SHOWS)),
            kwargs=lambda u: {"name": "cases"},
            query=report_query(),
        ),
        Probe(
            by_role(man=MASKED, adm=full(*REPORT_SHOWS)),
            kwargs=lambda u: {"name": "cases"},
            query=report_query(export="csv"),
            variant="csv",
        ),
    ),
    "reports:subscribe": (
        Probe(
            by_role(man=MASKED, adm=ALLOWED),
            "POST",
            lambda u: {"name": "cases"},
            data=lambda u: {"frequency": "weekly", "format": "csv", "client": u.client_b.pk},
        ),
    ),
    "reports:unsubscribe": (
        Probe(
            NOBODY_BUT_THE_OWNER,
            "POST",
            pk("subscription_b", "subscription_id"),
            data=EMPTY,
        ),
    ),
    "reports:job-download": (Probe(NOBODY_BUT_THE_OWNER, kwargs=pk("job_b", "job_id")),),
    # --- API: contracts ----------------------------------------------------------------------
    "api:client-detail": (
        Probe(
            by_role(
                op=GUARDED,
                bo=GUARDED,
                sup=GUARDED,
                man=full("ref_last_name", "ref_phone", "ref_email"),
                adm=full("ref_last_name", "ref_phone", "ref_email"),
            ),
            kwargs=pk("client_b"),
        ),
        Probe(CONFIGURATION, "PUT", pk("client_b"), data=_client_input),
    ),
    "api:calendar-detail": (
        Probe(CONTRACT_CARD, kwargs=pk("calendar_b")),
        Probe(
            CONFIGURATION,
            "PUT",
            pk("calendar_b"),
            data=lambda u: {"name": "Sonda", "province": "CT", "always_open": True},
        ),
    ),
    "api:contract-detail": (
        Probe(CONTRACT_CARD, kwargs=code("contract_b")),
        Probe(CONFIGURATION, "PATCH", code("contract_b"), data=lambda u: {"status": "suspended"}),
    ),
    "api:contract-amend": (Probe(CONFIGURATION, "POST", code("contract_b"), data=EMPTY),),
    "api:contract-order-validation": (
        Probe(CONFIGURATION, kwargs=code("contract_b")),
        Probe(CONFIGURATION, "POST", code("contract_b"), data=EMPTY),
    ),
    "api:contract-sla-preview": (
        Probe(CONTRACT_CARD, kwargs=code("contract_b"), query=lambda u: {"priority": "P2"}),
    ),
    "api:end-user-detail": (
        Probe(
            by_role(
                bo=GUARDED,
                man=GUARDED,
                adm=full(*EU_ALL),
            ),
            kwargs=pk("eu_b"),
        ),
        Probe(
            by_role(
                bo=DENY,
                man=ALLOWED,
                adm=ALLOWED,
            ),
            "PUT",
            pk("eu_b"),
            data=_end_user_input,
        ),
    ),
    # The client id travels in the query: the directory filtered on another client.
    "api:end-user-list": (
        Probe(
            by_role(
                bo=GUARDED,
                man=GUARDED,
                adm=full(*EU_ALL),
            ),
            query=lambda u: {"client": u.client_b.pk},
            variant="other-client",
        ),
    ),
    # --- API: back-office --------------------------------------------------------------------
    "api:order-list": (
        Probe(
            by_role(
                bo=GUARDED,
                man=full("ref_last_name"),
                adm=full("ref_last_name"),
            ),
            query=lambda u: {"client": u.client_b.pk},
            variant="other-client",
        ),
    ),
    "api:order-detail": (Probe(orders_read("ref_last_name"), kwargs=ref("order_b")),),
    "api:order-transition": (
        Probe(
            ORDERS_WRITE,
            "POST",
            ref("order_b"),
            data=lambda u: {"to": "submitted", "row_version": u.order_b.row_version},
        ),
    ),
    "api:order-notes": (Probe(ORDERS_WRITE, "POST", ref("order_b"), data=ORDER_NOTE),),
    "api:loyalty-detail": (Probe(orders_read(), kwargs=pk("loyalty_b")),),
    "api:loyalty-actions": (
        Probe(ORDERS_WRITE, "POST", pk("loyalty_b"), data=lambda u: {"kind": "call"}),
    ),
    "api:loyalty-close": (
        Probe(ORDERS_WRITE, "POST", pk("loyalty_b"), data=lambda u: {"outcome": "lost"}),
    ),
    # --- API: care ---------------------------------------------------------------------------
    "api:case-list": (
        Probe(
            by_role(op=MASKED, bo=MASKED, sup=MASKED, adm=full("eu_last_name")),
            query=lambda u: {"client": u.client_b.pk},
            variant="other-client",
        ),
    ),
    "api:case-detail": (
        Probe(
            by_role(op=MASKED, bo=MASKED, sup=MASKED, adm=full("eu_last_name")), kwargs=FOREIGN_CASE
        ),
        Probe(CASE_WRITE, "PATCH", FOREIGN_CASE, data=lambda u: {"priority": "P1"}),
    ),
    "api:case-notes": (
        Probe(CASE_READ_NO_CALLER, kwargs=FOREIGN_CASE),
        Probe(CASE_WRITE, "POST", FOREIGN_CASE, data=NOTE),
    ),
    "api:case-transition": (Probe(CASE_WRITE, "POST", FOREIGN_CASE, data=TRANSITION),),
    "api:case-handoff": (Probe(CASE_WRITE, "POST", FOREIGN_CASE, data=HANDOFF),),
    "api:case-handoff-answer": (
        Probe(CASE_WRITE, "POST", FOREIGN_UNIT_CASE, data=ANSWER),
        Probe(
            NOBODY_BUT_THE_OWNER,
            "POST",
            OWN_CASE_FOREIGN_HANDOFF,
            data=OWN_CASE_ANSWER,
            variant="other-case-handoff",
        ),
    ),
    "api:case-reopen": (Probe(CASE_WRITE, "POST", ref("case_b_resolved"), data=REOPEN),),
    "api:case-contact": (Probe(CASE_WRITE, "POST", FOREIGN_CASE, data=CONTACT),),
    "api:case-sla-ledger": (
        Probe(CASE_READ_NO_CALLER, kwargs=FOREIGN_CASE),
        Probe(
            CASE_READ_NO_CALLER,
            kwargs=FOREIGN_CASE,
            query=lambda u: {"format": "csv"},
            variant="csv",
        ),
    ),
    "api:notification-read": (
        Probe(NOBODY_BUT_THE_OWNER, "POST", pk("notification_b", "notification_id"), data=EMPTY),
    ),
    # Calls: a supervisor or report reader sees every call with the number masked; an
    # operator sees only the calls they answered. Callbacks: taken by someone else, neither
    # taken again nor recorded.
    "routing:callback-take": (
        Probe(
            by_role(op=GUARDED, bo=GUARDED, sup=GUARDED, adm=GUARDED),
            "POST",
            pk("callback_b", "callback_id"),
            data=EMPTY,
        ),
    ),
    "care:mail-triage-item": (
        Probe(
            by_role(op=ALLOWED, bo=ALLOWED, sup=ALLOWED, adm=ALLOWED),
            kwargs=pk("mail_b", "mail_id"),
        ),
    ),
    "care:mail-triage-case": (
        Probe(
            by_role(op=GUARDED, bo=GUARDED, sup=GUARDED, adm=GUARDED),
            "POST",
            pk("mail_b", "mail_id"),
            data=lambda u: {"end_user": u.eu_b.pk, "contract": u.contract_b.code},
        ),
    ),
    "care:mail-triage-discard": (
        Probe(
            by_role(op=GUARDED, bo=GUARDED, sup=GUARDED, adm=GUARDED),
            "POST",
            pk("mail_b", "mail_id"),
            data=EMPTY,
        ),
    ),
    "routing:callback-done": (
        Probe(by_role(), "POST", pk("callback_b", "callback_id"), data=payload(reached="yes")),
    ),
    "api:telephony-call-detail": (
        Probe(
            by_role(sup=MASKED, man=MASKED, adm=MASKED),
            kwargs=lambda u: {"call_id": u.call_b.call_id},
        ),
    ),
    "api:telephony-call-recording": (
        Probe(
            by_role(sup=MASKED, man=MASKED, adm=MASKED),
            kwargs=lambda u: {"call_id": u.call_b.call_id},
        ),
    ),
    # --- saved replies: another operator's personal reply ------------------------------------
    "care:reply-edit": (
        Probe(NOBODY_BUT_THE_OWNER, kwargs=REPLY),
        Probe(NOBODY_BUT_THE_OWNER, "POST", REPLY, data=lambda u: {"title": "Sonda IDOR"}),
    ),
    "care:reply-delete": (Probe(NOBODY_BUT_THE_OWNER, "POST", REPLY, data=EMPTY),),
    "api:reply-detail": (
        Probe(NOBODY_BUT_THE_OWNER, kwargs=REPLY),
        Probe(NOBODY_BUT_THE_OWNER, "PATCH", REPLY, data=lambda u: {"title": "Sonda IDOR"}),
        Probe(NOBODY_BUT_THE_OWNER, "DELETE", REPLY, data=EMPTY),
    ),
    # --- API: incidents ----------------------------------------------------------------------
    "api:incident-detail": (
        Probe(INCIDENTS, kwargs=INCIDENT),
        Probe(INCIDENTS, "PATCH", INCIDENT, data=lambda u: {"title": "Sonda IDOR"}),
    ),
    "api:incident-link": (
        Probe(INCIDENTS, "POST", INCIDENT, data=lambda u: {"cases": [u.case_b.reference]}),
    ),
    "api:incident-unlink": (
        Probe(INCIDENTS, "POST", INCIDENT, data=lambda u: {"case": u.case_b.reference}),
    ),
    "api:incident-resolve": (Probe(INCIDENTS, "POST", INCIDENT, data=EMPTY),),
    # --- API: knowledge base -----------------------------------------------------------------
    "api:article-detail": (
        Probe(ARTICLES, kwargs=ARTICLE),
        Probe(ARTICLES, "PATCH", ARTICLE, data=lambda u: {"title": "Sonda IDOR"}),
    ),
    "api:article-publish": (Probe(ARTICLES, "POST", ARTICLE, data=EMPTY),),
    # --- API: routing ------------------------------------------------------------------------
    "api:routing-queue-emergency": (
        Probe(
            SUPERVISION,
            "POST",
            lambda u: {"code": u.queue_b.code},
            data=lambda u: {"minutes": 30, "reason": "Sonda IDOR"},
        ),
    ),
    "api:routing-operator-presence": (
        Probe(SUPERVISION, "PUT", pk("op_other", "user_id"), data=lambda u: {"state": "away"}),
    ),
    # The case reference travels in the body.
    "api:routing-assign": (
        Probe(
            SUPERVISION,
            "POST",
            data=lambda u: {"case": u.case_b.reference, "operator": u.op.pk},
            variant="foreign-case",
        ),
    ),
    # --- People: the foreign operator works at a site the supervisor does not run --------
    # Somebody else's password link without its token: "no longer valid", nothing revealed.
    "password-set": (
        Probe(
            by_role(ALLOWED),
            kwargs=lambda u: {
                "uidb64": urlsafe_base64_encode(force_bytes(u.op_other.pk)),
                "token": "cx1b2c-0123456789abcdef",
            },
        ),
    ),
    "routing:person": (Probe(ADMINISTRATION, kwargs=OTHER_OPERATOR),),
    "routing:person-account": (Probe(ADMINISTRATION, "POST", OTHER_OPERATOR, data=ACCOUNT_CHANGE),),
    "routing:person-profile": (Probe(ADMINISTRATION, "POST", OTHER_OPERATOR, data=PROFILE_CHANGE),),
    "routing:person-certification-add": (
        Probe(ADMINISTRATION, "POST", OTHER_OPERATOR, data=lambda u: {"client": u.client_b.pk}),
    ),
    "routing:person-certification-remove": (
        Probe(ADMINISTRATION, "POST", OTHER_CERTIFICATION, data=EMPTY),
    ),
    "routing:person-deactivate": (Probe(ADMINISTRATION, "POST", OTHER_OPERATOR, data=EMPTY),),
    "routing:person-sessions-end": (
        Probe(ADMINISTRATION, "POST", OTHER_OPERATOR, data=payload(reason="Sonda IDOR")),
    ),
    "routing:person-password-link": (Probe(ADMINISTRATION, "POST", OTHER_OPERATOR, data=EMPTY),),
    "api:person-password-link": (Probe(ADMINISTRATION, "POST", OTHER_OPERATOR, data=EMPTY),),
    "routing:person-reactivate": (Probe(ADMINISTRATION, "POST", OTHER_OPERATOR, data=EMPTY),),
    "api:person-detail": (
        Probe(ADMINISTRATION, kwargs=OTHER_OPERATOR),
        Probe(
            ADMINISTRATION,
            "PATCH",
            OTHER_OPERATOR,
            data=lambda u: {"profile": {"capacity": 7}},
        ),
    ),
    "api:person-deactivate": (Probe(ADMINISTRATION, "POST", OTHER_OPERATOR, data=EMPTY),),
    "api:person-sessions-end": (
        Probe(ADMINISTRATION, "POST", OTHER_OPERATOR, data=payload(reason="Sonda IDOR")),
    ),
    "api:person-reactivate": (Probe(ADMINISTRATION, "POST", OTHER_OPERATOR, data=EMPTY),),
    "api:person-certification-list": (
        Probe(ADMINISTRATION, "POST", OTHER_OPERATOR, data=lambda u: {"client": u.client_b.pk}),
    ),
    "api:person-certification-detail": (Probe(ADMINISTRATION, "DELETE", OTHER_CERTIFICATION),),
    # --- API tokens and own sessions ---------------------------------------------------------
    "token-revoke": (
        Probe(ADMINISTRATION, "POST", pk("token_b", "token_id"), data=payload(reason="Sonda")),
    ),
    "api:token-revoke": (
        Probe(ADMINISTRATION, "POST", pk("token_b", "token_id"), data=payload(reason="Sonda")),
    ),
    "my-session-end": (Probe(NOBODY_BUT_THE_OWNER, "POST", pk("session_b", "session_id")),),
    "api:me-session-end": (
        Probe(NOBODY_BUT_THE_OWNER, "POST", pk("session_b", "session_id"), data=EMPTY),
    ),
    # Another site or queue: its own supervisors (not ours), administrators and (queues)
    # managers set it up; missing and not ours answer the same 404.
    "api:routing-site-detail": (
        Probe(SITE_SETUP, kwargs=code("site_b")),
        Probe(SITE_SETUP, "PATCH", code("site_b"), data=lambda u: {"name": "Sonda IDOR"}),
        Probe(SITE_SETUP, "DELETE", code("site_b")),
    ),
    "api:routing-queue-detail": (
        Probe(QUEUE_SETUP, kwargs=code("queue_b")),
        Probe(QUEUE_SETUP, "PATCH", code("queue_b"), data=lambda u: {"wrap_up_seconds": 90}),
        Probe(QUEUE_SETUP, "DELETE", code("queue_b")),
    ),
    "api:routing-queue-archive": (Probe(QUEUE_SETUP, "POST", code("queue_b"), data=EMPTY),),
    # --- API: reports ------------------------------------------------------------------------
    "api:report-detail": (
        Probe(
            by_role(sup=MASKED, man=MASKED, adm=full(*REPORT_SHOWS)),
            kwargs=lambda u: {"name": "cases"},
            query=report_query(),
        ),
        Probe(
            by_role(man=MASKED, adm=full(*REPORT_SHOWS)),
            kwargs=lambda u: {"name": "cases"},
            query=report_query(format="csv"),
            variant="csv",
        ),
    ),
    "api:report-job": (Probe(NOBODY_BUT_THE_OWNER, kwargs=pk("job_b", "job_id")),),
    "api:report-job-download": (Probe(NOBODY_BUT_THE_OWNER, kwargs=pk("job_b", "job_id")),),
}


# --- Routes from the URLconf ------------------------------------------------------------------


def _has_arguments(pattern) -> bool:
    if isinstance(pattern, RoutePattern):
        return bool(pattern.converters)
    if isinstance(pattern, RegexPattern):
        return bool(pattern.regex.groups)
    return False  # pragma: no cover - Django has no other kind


def _walk(entries, namespace: tuple = (), inherited: bool = False, prefix: str = ""):
    """(namespace, full name or "", takes arguments, route text) of every URL pattern."""
    for entry in entries:
        takes = inherited or _has_arguments(entry.pattern)
        if isinstance(entry, URLResolver):
            inner = (*namespace, entry.namespace) if entry.namespace else namespace
            yield from _walk(entry.url_patterns, inner, takes, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            name = ":".join((*namespace, entry.name)) if entry.name else ""
            yield namespace, name, takes, prefix + str(entry.pattern)


ALL_ROUTES = list(_walk(get_resolver().url_patterns))
# The admin is its own site (staff only): walked as a whole by the last test of this module.
ADMIN_ROUTES = sorted(
    {(name, text) for ns, name, takes, text in ALL_ROUTES if ns[:1] == ("admin",) and takes}
)
ROUTES_WITH_ARGUMENTS = sorted(
    {
        name or f"<unnamed {text}>"
        for ns, name, takes, text in ALL_ROUTES
        if ns[:1] != ("admin",) and takes
    }
)


def test_every_route_with_an_object_in_its_path_is_classified():
    """A new route with an id, reference, code or name in its path must get an entry in
    CLASSIFIED (how to build its arguments and what each role may see) before it ships."""
    unclassified = [name for name in ROUTES_WITH_ARGUMENTS if name not in CLASSIFIED]
    assert unclassified == [], f"classify these routes in CLASSIFIED: {unclassified}"


def test_the_matrix_names_every_role_and_only_routes_that_exist():
    assert set(ROLES) == set(roles.ROLE_LABELS), "a new role needs a column in the matrix"
    known = {name for _ns, name, _takes, _text in ALL_ROUTES}
    assert sorted(set(CLASSIFIED) - known) == []
    assert len(ROUTES_WITH_ARGUMENTS) > 40
    assert len(ADMIN_ROUTES) > 20


# --- The two universes ------------------------------------------------------------------------


def _user(username: str, role: str, **extra):
    user = get_user_model().objects.create_user(
        username=username, password="correct-horse-battery", **extra
    )
    user.groups.add(Group.objects.get(name=role))
    return user


def _profile(user, site, contract) -> OperatorProfile:
    profile = OperatorProfile.objects.create(user=user, site=site, skills=["mobile"])
    Certification.objects.create(profile=profile, contract=contract)
    return routing_services.set_presence(
        actor=user, profile=profile, state=PresenceState.AVAILABLE, now=OPENED - timedelta(hours=1)
    )


def _open(actor, contract, end_user, category: str = "sim-lost", override: str = ""):
    return care_services.open_case(
        actor=actor,
        request=care_services.CaseRequest(
            contract_code=contract.code,
            category_code=category,
            channel="phone",
            subject="SIM rubata",
            description="Denuncia presentata: sì",
            end_user_id=end_user.id,
            duplicate_override_reason=override,
        ),
        now=OPENED,
    )


def _build() -> SimpleNamespace:
    create_permissions(apps.get_app_config("config"), verbosity=0)
    roles.sync_role_groups(Group, Permission)
    u = SimpleNamespace()
    # The acting users, one per role, and the owners of the foreign objects.
    u.op = _user("idor.op", OP)
    u.bo = _user("idor.bo", BO)
    u.sup = _user("idor.sup", SUP)
    u.man = _user("idor.man", MAN, email="man@example.test")
    u.adm = _user("idor.adm", ADM, is_staff=True)
    u.op_other = _user("altro.op", OP, first_name="Bruno", last_name="Altieri")
    u.bo_other = _user("altro.bo", BO)
    u.sup_other = _user("altro.sup", SUP)
    u.man_other = _user("altro.man", MAN, email="altro.man@example.test")
    u.adm_other = _user("altro.adm", ADM, is_staff=True)
    u.actors = {OP: u.op, BO: u.bo, SUP: u.sup, MAN: u.man, ADM: u.adm}

    # Own universe: the acting users' client, contract, queue and site.
    u.calendar_a = BusinessCalendarFactory(name="Palermo uffici", province="PA")
    u.client_a = contract_services.create_client(
        actor=u.man,
        name="Regione Siciliana",
        segment="PA",
        vat_number=valid_vat_number(9001),
        province="PA",
        account_team=[u.bo],
    )
    u.contract_a = contract_services.create_contract(
        actor=u.man,
        code="IDOR-A-2026",
        client=u.client_a,
        calendar=u.calendar_a,
        services=["mobile"],
        valid_from=date(2026, 1, 1),
        valid_to=date(2030, 12, 31),
        terms=terms(handoff_units=HANDOFF_UNITS),
    )
    u.eu_a = contract_services.create_end_user(
        actor=u.man,
        client=u.client_a,
        data=contract_services.EndUserData(
            first_name="Maria", last_name="Russo", phones=["+393471234567"]
        ),
    )
    u.queue_a = Queue.objects.create(code="idor-own", name="Regione", client=u.client_a)
    u.queue_a.supervisors.add(u.sup)
    site_a = Site.objects.create(code="pa", name="Palermo", province="PA")
    _profile(u.op, site_a, u.contract_a)

    # Foreign universe: another client, contract, queue, site and their people.
    u.calendar_b = BusinessCalendarFactory(name="Catania uffici", province="CT")
    u.client_b = contract_services.create_client(
        actor=u.man_other,
        name="Comune di Catania",
        segment="PA",
        vat_number=valid_vat_number(9002),
        province="CT",
        account_team=[u.bo_other],
        referents=[
            contract_services.ReferentData(
                first_name="Gualtiero",
                last_name="Brambillasca",
                role="Dirigente ICT",
                phone=REF_PHONE,
                email=REF_EMAIL,
                is_primary=True,
            )
        ],
    )
    u.referent_b = Referent.objects.get(client=u.client_b)
    u.contract_b = contract_services.create_contract(
        actor=u.man_other,
        code="IDOR-B-2026",
        client=u.client_b,
        calendar=u.calendar_b,
        services=["mobile"],
        valid_from=date(2026, 1, 1),
        valid_to=date(2030, 12, 31),
        terms=terms(handoff_units=HANDOFF_UNITS),
    )
    u.eu_b = contract_services.create_end_user(
        actor=u.man_other,
        client=u.client_b,
        data=contract_services.EndUserData(
            first_name="Ottavia",
            last_name="Zanzottera",
            phones=[EU_PHONE],
            email=EU_EMAIL,
            employee_code=EU_EMPLOYEE_CODE,
            codice_fiscale=EU_CODICE_FISCALE,
        ),
    )
    u.queue_b = Queue.objects.create(code="idor-foreign", name="Catania", client=u.client_b)
    u.queue_b.supervisors.add(u.sup_other)
    site_b = Site.objects.create(code="ct", name="Catania", province="CT")
    site_b.supervisors.add(u.sup_other)
    u.site_b = site_b
    _profile(u.op_other, site_b, u.contract_b)

    # Cases: the acting operator's own, and three foreign ones of the canary end user.
    u.case_a = _open(u.op, u.contract_a, u.eu_a)
    care_services.assign_case(actor=u.op, case=u.case_a, assignee=u.op, now=OPENED)
    case_b = _open(u.op_other, u.contract_b, u.eu_b)
    case_b = care_services.assign_case(
        actor=u.op_other, case=case_b, assignee=u.op_other, now=OPENED
    )
    case_b = care_services.transition_case(
        actor=u.op_other, case=case_b, to="in_progress", now=OPENED + timedelta(minutes=1)
    )
    note = care_services.add_note(
        actor=u.op_other,
        case=case_b,
        body="Allegata la denuncia.",
        attachments=[
            SimpleUploadedFile(
                "denuncia.txt",
                f"VERBALE-77Q41 denuncia di Ottavia Zanzottera, CF {EU_CODICE_FISCALE}".encode(),
                content_type="text/plain",
            )
        ],
        now=OPENED + timedelta(minutes=2),
    )
    u.attachment_b = note.attachments.get()
    u.case_b_unit = _open(u.op_other, u.contract_b, u.eu_b, "roaming", override="altro problema")
    u.handoff_b = care_services.send_handoff(
        actor=u.op_other,
        case=u.case_b_unit,
        unit_code="assurance",
        request="Verifica cella",
        now=OPENED + timedelta(minutes=3),
    )
    resolved = _open(u.op_other, u.contract_b, u.eu_b, override="nuova segnalazione")
    u.case_b_resolved = care_services.transition_case(
        actor=u.op_other,
        case=resolved,
        to="resolved",
        resolution_code=CLOSING_CODE,
        now=OPENED + timedelta(minutes=4),
    )
    # A breached first response tells the assignee (and the queue's supervisors).
    recompute_sla_states(now=OPENED + timedelta(hours=3))
    notify_sla_alerts(now=OPENED + timedelta(hours=3))
    u.notification_b = Notification.objects.filter(recipient=u.op_other).first()

    # Back-office: an own order, and a foreign order with a note and a document.
    u.order_a = order_services.create_order(
        actor=u.bo,
        kind=OrderKind.ACTIVATION,
        contract=u.contract_a,
        lines=[LineData(service="mobile", quantity=5)],
        summary="Attivazione 5 SIM",
        owner=u.bo,
        now=OPENED,
    )
    order_b = order_services.create_order(
        actor=u.bo_other,
        kind=OrderKind.ACTIVATION,
        contract=u.contract_b,
        lines=[LineData(service="mobile", quantity=10)],
        summary="Attivazione 10 SIM",
        requester=u.referent_b,
        owner=u.bo_other,
        now=OPENED,
    )
    order_services.add_order_note(actor=u.bo_other, order=order_b, body="Chiamare il referente.")
    u.document_b = order_services.attach_document(
        actor=u.bo_other,
        order=order_b,
        upload=SimpleUploadedFile(
            "ordine.txt", b"RISERVATO-55K12 condizioni riservate", content_type="text/plain"
        ),
    )
    u.order_b = type(order_b).objects.get(id=order_b.id)
    order_services.feed_loyalty_worklist(today=date(2030, 12, 1), contract_ids=[u.contract_b.id])
    u.loyalty_b = LoyaltyItem.objects.get(contract=u.contract_b)

    # Reports of other users: an export written unmasked for an administrator, a
    # subscription of another manager; and a retention run another manager started.
    job = create_export_job(
        user=u.adm_other,
        report="cases",
        filters={**PERIOD, "client": str(u.client_b.pk)},
        fmt="csv",
        total=3,
    )
    run_export_job(job_id=job.id)
    u.job_b = type(job).objects.get(id=job.id)
    u.subscription_b = subscriptions.subscribe(
        user=u.man_other,
        report="cases",
        frequency="weekly",
        fmt="csv",
        filters={"client": u.client_b.pk},
    )
    u.retention_run = retention.request_retention_run(actor=u.man_other, now=OPENED)
    u.access_alert_b = AccessAlert.objects.create(
        operator=u.op_other, day=OPENED.date(), end_users=40, threshold=10, created_at=OPENED
    )
    u.access_alert_b.supervisors.set([u.sup_other])
    # A call of the canary end user answered by another operator, and their callback taken.
    u.call_b = Call.objects.create(
        call_id="call-b",
        caller_number=EU_PHONE,
        operator=u.op_other,
        offered_at=OPENED,
        answered_at=OPENED,
        outcome="talking",
        recording_ref="rec://pbx/call-b",
        updated_at=OPENED,
    )
    # An e-mail waiting in triage (the triage is national: every handler works it).
    u.mail_b = InboundMail.objects.create(
        message_id="<idor@example.it>",
        mailbox="assistenza",
        received_at=OPENED,
        sender="sconosciuto@example.it",
        subject="Richiesta",
        text="Testo",
        reply="Testo",
        outcome="triage",
        reason="unknown_sender",
        triage="open",
    )
    u.callback_b = Callback.objects.create(
        end_user=u.eu_b,
        client=u.client_b,
        day=OPENED.date(),
        created_at=OPENED,
        due_at=OPENED,
        status="taken",
        assignee=u.op_other,
    )

    # A major incident of the foreign client's province, the foreign case linked to it.
    # Another operator's personal saved reply: nobody else finds it, not even an admin.
    u.reply_b = replies.create_reply(
        actor=u.op_other,
        data=replies.ReplyData(title="Sonda", body="Gentile {{ nome_chiamante }}"),
        now=OPENED,
    )
    u.incident_b = incidents.open_incident(
        actor=u.sup_other,
        data=incidents.IncidentData(
            title="Rete mobile Catania", services=["mobile"], provinces=["CT"], started_at=OPENED
        ),
        now=OPENED,
    )
    incidents.link_cases(
        actor=u.sup_other, incident=u.incident_b, references=[case_b.reference], now=OPENED
    )

    # An article of the foreign contract, written by its operator, published by its supervisor.
    article_b = care_articles.create_article(
        actor=u.op_other,
        data=care_articles.ArticleData(
            title="Procedura Catania",
            body="Solo per il contratto di Catania.",
            scope="contract",
            contract_code=u.contract_b.code,
        ),
        submit=True,
        now=OPENED,
    ).article
    care_articles.publish_article(actor=u.sup_other, article=article_b, now=OPENED)
    u.article_b = type(article_b).objects.get(id=article_b.id)

    # Another user's API token (issued by another administrator) and signed-in session.
    u.token_b, _secret = tokens.issue_token(
        actor=u.adm_other,
        owner=u.op_other,
        name="Sonda",
        scopes=["lookup"],
        expires_at=OPENED + timedelta(days=30),
        now=OPENED,
    )
    browser = SessionStore()
    browser.create()
    u.session_b = UserSession.objects.create(
        session_id=browser.session_key,
        user=u.op_other,
        user_agent="Sonda",
        network="10.9.9.0/24",
        signed_in_at=OPENED,
        last_seen_at=OPENED,
    )

    u.case_b = type(case_b).objects.get(id=case_b.id)
    u.case_b_unit = type(case_b).objects.get(id=u.case_b_unit.id)
    return u


@pytest.fixture(scope="module")
def universe(django_db_setup, django_db_blocker):
    """Built once for the module inside a transaction that is rolled back at the end; each
    test runs in a savepoint of it (pytest-django's `db`), so a write a test lets through is
    undone before the next one."""
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer._from_testcase = True  # services' durable blocks run as they do in a TestCase
        outer.__enter__()
        try:
            built = _build()
        except BaseException:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)
            raise
    yield built
    with django_db_blocker.unblock():
        transaction.set_rollback(True)
        outer.__exit__(None, None, None)


def test_the_universes_are_what_the_matrix_assumes(universe):
    u = universe
    assert u.case_b.status == "in_progress"
    assert u.case_b.queue_code == u.queue_b.code
    assert u.case_b_unit.status == "waiting_unit"
    assert u.case_b_resolved.status == "resolved"
    assert u.notification_b is not None
    assert u.job_b.status == "ready"
    assert (u.order_b.requester_name, u.loyalty_b.client_id) == (
        "Gualtiero Brambillasca",
        u.client_b.id,
    )
    assert u.bo not in u.client_b.account_team.all()


# --- The matrix -------------------------------------------------------------------------------

DOMAIN_APPS = ("contracts", "care", "routing", "reports")


def _domain_rows() -> dict:
    """Every row of the domain tables (access log, sessions and devices aside)."""
    return {
        model._meta.label: list(model.objects.order_by("pk").values())
        for app in DOMAIN_APPS
        for model in apps.get_app_config(app).get_models(include_auto_created=True)
    }


def _changed(before: dict, after: dict) -> list[str]:
    return [label for label in before if before[label] != after[label]]


def _body(response) -> str:
    """The whole body. Reading a streamed one to the end closes it the way the test client
    does (without `close_old_connections`, which would close the module's transaction on
    PostgreSQL); so never `response.close()` here."""
    content = b"".join(response.streaming_content) if response.streaming else response.content
    return content.decode("utf-8", "replace")


def _request(client, route: str, probe: Probe, u):
    url = reverse(route, kwargs=probe.kwargs(u))
    if probe.query:
        url += "?" + urlencode(probe.query(u))
    data = probe.data(u) if probe.data else None
    if route.startswith("api:"):
        if probe.method == "GET":
            return client.get(url)
        body = json.dumps(data if data is not None else {})
        return client.generic(probe.method, url, body, content_type="application/json")
    if probe.method == "GET":
        return client.get(url, follow=True)
    return client.post(url, data or {}, follow=True)


def _case_id(role: str, route: str, probe: Probe) -> str:
    parts = [f"{role}-{route}"]
    if probe.method != "GET":
        parts.append(probe.method)
    if probe.variant:
        parts.append(probe.variant)
    return ":".join(parts)


def _matrix():
    for role in ROLES:
        for route, probes in CLASSIFIED.items():
            for probe in probes:
                expect = probe.expect[role]
                marks = [pytest.mark.xfail(strict=True, reason=expect.leak)] if expect.leak else []
                yield pytest.param(role, route, probe, marks=marks, id=_case_id(role, route, probe))


MATRIX = list(_matrix())


@pytest.mark.parametrize(("role", "route", "probe"), MATRIX)
def test_a_foreign_object_reveals_nothing_the_role_may_not_see(
    client, universe, role, route, probe
):
    expect = probe.expect[role]
    client.force_login(universe.actors[role])
    writes = probe.method != "GET"
    before = _domain_rows() if writes and expect.kind in ("deny", "guarded") else None
    response = _request(client, route, probe, universe)
    status = response.status_code
    is_json = response.get("Content-Type", "").startswith("application/json")
    body = _body(response)
    assert status < 500, (status, body[:500])

    denied = status in (403, 404)
    if before is not None:
        assert _changed(before, _domain_rows()) == [], "a foreign object was written"
    if expect.kind == "deny" or (expect.kind == "guarded" and denied):
        assert denied, f"expected 403/404, got {status}: {body[:300]}"
        if route.startswith("api:"):
            # The body is the JSON error; a `?format=csv` request gets it under the negotiated
            # CSV content type (care/api.py LedgerCsvRenderer), hence no header check there.
            assert is_json or probe.variant == "csv", (response["Content-Type"], body[:300])
            assert json.loads(body).get("message"), body
        assert canaries_in(body) == []
        return
    if probe.method == "GET":
        assert status == 200, (status, body[:300])
    if expect.kind in ("masked", "guarded"):
        assert canaries_in(body) == [], "personal data of a foreign object shown in full"
    elif expect.kind == "full":
        assert status == 200, (status, body[:300])
        assert canaries_in(body, expect.shown) == list(expect.shown)


# --- The admin site: every object route, for everyone who is not an administrator -------------


def _admin_sample(text: str, u) -> str:
    """`admin/contracts/enduser/<path:object_id>/change/` -> a path with a foreign object."""
    text = re.sub(r"<(?:\w+:)?\w+>", str(u.eu_b.pk), text)
    text = re.sub(r"\(\?P<\w+>(\w+)(?:\|[^)]*)?\)", r"\1", text)  # first alternative
    text = re.sub(r"\(\?P<\w+>[^)]*\)", "x", text)
    return "/" + text.replace("^", "").replace("$", "").replace("\\Z", "")


@pytest.mark.parametrize(
    "role", [OP, BO, SUP, MAN], ids=[f"{r}-admin:*" for r in (OP, BO, SUP, MAN)]
)
def test_the_admin_site_sends_everyone_but_administrators_to_its_login(client, universe, role):
    client.force_login(universe.actors[role])
    for name, text in ADMIN_ROUTES:
        path = _admin_sample(text, universe)
        response = client.get(path)
        body = _body(response)
        assert response.status_code == 302, (name, path, response.status_code)
        assert response["Location"].startswith("/admin/login/"), (name, response["Location"])
        assert canaries_in(body) == []
