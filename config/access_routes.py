"""Which routes show personal data, declared for every route of the project, in one place.

Each URL name maps either to a `LoggedRoute` (what it shows; the access-log middleware
writes one row for each such request, whatever its outcome) or to `NoPersonalData` with the
reason it shows none. A test walks the URLconf (tests/config/test_access_routes.py): a new
route without a declaration fails it, and every logged route is called once and must write
its row.

What counts as personal data here: an end user's or a referent's identity or contact data,
masked or not (a masked name still designates a person, and lists are logged in bulk), and
a case's free text that may hold them (description, notes, hand-off texts, attachments,
order documents). A subject line alone is a title: it is masked like the caller for
readers who see the caller masked (care.privacy), and not logged on its own, so the hot
paths that show only the user's own work (take-next, the workspace and its polling) write
nothing. Staff names and usernames are not in scope: they are not the callers' data.
"""

from collections.abc import Callable
from dataclasses import dataclass

from config.models import AccessLog

Action = AccessLog.Action
ALL_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


@dataclass(frozen=True)
class LoggedRoute:
    action: str
    target: str  # what kind of thing: end_user, case, caller, report, order, client
    methods: tuple[str, ...] = ALL_METHODS
    needs_query: bool = False  # a search page opened empty searched nothing
    when: Callable | None = None  # only requests it accepts (e.g. a page asked for a file)
    # A list: a search when a term was given, a view of the page otherwise.
    lists: bool = False
    # The action when this returns True (a report asked as a file is an export).
    exported_when: Callable | None = None
    # A form that redirects on success shows nothing then (the page it redirects to is
    # logged); refused, it shows the page again with its errors, and that is logged.
    unless_redirected: bool = False


@dataclass(frozen=True)
class NoPersonalData:
    why: str


def _asks_file(key: str) -> Callable:
    def asks(request) -> bool:
        return (request.GET.get(key) or "").lower() in ("csv", "xlsx")

    return asks


def _case_form(target: str = "case") -> LoggedRoute:
    """A case action of the case page: refused, it shows the case page again."""
    return LoggedRoute(Action.VIEW, target, ("POST",), unless_redirected=True)


CONFIGURATION = NoPersonalData("configuration: clients, calendars, contracts, SLA terms")
UNIT_SETUP = NoPersonalData("the unit's set-up: sites and queues, their staff's usernames")
CONTRACT_CARD = NoPersonalData("the contract card: terms, procedures, calendars")
OWN_ACCOUNT = NoPersonalData("the signed-in user's own account or session")
# A major incident names services, clients and provinces, never a caller (care.incidents).
INCIDENT = "a major incident's scope, message, timeline and counts"
# Knowledge-base articles are answers written for every caller of a scope, never about one
# (care.articles); a proposal from a case copies its subject line masked as the caller.
ARTICLE = "knowledge-base articles: title, text, scope, versions and their staff authors"
REDIRECTS = NoPersonalData("answers a redirect to a page that is logged, or an error")
OWN_WORK = NoPersonalData(
    "references, statuses and subject lines of the user's own work or of queues; each "
    "case opened from it is logged"
)
SAVED_REPLY = NoPersonalData("saved replies' titles and texts with their variables unfilled")
COUNTS = NoPersonalData("counts, states and staff names; no caller, referent or case text")
# The unit's own people (accounts, roles, profiles, certifications): staff, not callers.
STAFF = NoPersonalData("staff accounts, roles, operator profiles and certifications")
API_TOKENS = NoPersonalData("API tokens: names, staff owners, scopes and dates; never a secret")
ADMIN_PLUMBING = NoPersonalData("the admin site's sign-in, scripts and password pages")

ROUTES: dict[str, LoggedRoute | NoPersonalData] = {
    # --- Searches by phone, name or e-mail ----------------------------------------------------
    "api:lookup": LoggedRoute(Action.SEARCH, "caller", ("POST",)),
    "contracts:lookup": LoggedRoute(Action.SEARCH, "caller", ("POST",), needs_query=True),
    "contracts:lookup-panel": LoggedRoute(Action.SEARCH, "caller", ("POST",), needs_query=True),
    "care:intake": LoggedRoute(Action.SEARCH, "caller", ("GET", "POST"), needs_query=True),
    # An e-mail in triage: its text and sender, and the callers its address finds.
    "care:mail-triage-item": LoggedRoute(Action.SEARCH, "caller", ("GET",)),
    "api:end-user-list": LoggedRoute(Action.SEARCH, "end_user", ("GET",)),
    "api:case-search": LoggedRoute(Action.VIEW, "case", ("POST",), lists=True),
    "care:case-list": LoggedRoute(Action.VIEW, "case", ("GET",), lists=True),
    "care:my-cases": LoggedRoute(Action.VIEW, "case", ("GET",), lists=True),
    "api:case-list": LoggedRoute(Action.VIEW, "case", ("GET", "POST"), lists=True),
    # --- Views of a person's data, or of a case's ------------------------------------------
    "api:end-user-detail": LoggedRoute(Action.VIEW, "end_user"),
    "care:intake-caller": LoggedRoute(Action.VIEW, "caller"),
    "care:case-detail": LoggedRoute(Action.VIEW, "case", ("GET",)),
    "care:case-add-note": _case_form(),
    "care:case-transition": _case_form(),
    "care:case-handoff": _case_form(),
    "care:case-handoff-answer": _case_form(),
    "care:case-reopen": _case_form(),
    "care:case-merge": _case_form(),
    "care:case-link": _case_form(),
    "api:case-detail": LoggedRoute(Action.VIEW, "case", ("GET", "PATCH")),
    "api:case-notes": LoggedRoute(Action.VIEW, "case", ("GET", "POST")),
    "api:case-transition": LoggedRoute(Action.VIEW, "case", ("POST",)),
    "api:case-reopen": LoggedRoute(Action.VIEW, "case", ("POST",)),
    "api:case-contact": LoggedRoute(Action.VIEW, "case", ("POST",)),
    "api:case-handoff": LoggedRoute(Action.VIEW, "case", ("POST",)),
    "api:case-handoff-answer": LoggedRoute(Action.VIEW, "case", ("POST",)),
    "care:attachment-download": LoggedRoute(Action.VIEW, "attachment", ("GET",)),
    # Calls: the caller's number (masked for all but who answered), the callbacks' callers
    # (masked names; in full with the number for the operator who took one).
    "api:telephony-call-list": LoggedRoute(Action.VIEW, "call", ("GET",)),
    "api:telephony-call-detail": LoggedRoute(Action.VIEW, "call", ("GET",)),
    "api:telephony-call-recording": LoggedRoute(Action.VIEW, "call", ("GET",)),
    "routing:callbacks": LoggedRoute(Action.VIEW, "callback", ("GET",)),
    # The e-mail triage list: senders' names and addresses (and an uploaded message).
    "care:mail-triage": LoggedRoute(Action.VIEW, "mail", ("GET", "POST")),
    "care:mail-triage-case": REDIRECTS,
    "care:mail-triage-discard": REDIRECTS,
    "api:mail-inbound": NoPersonalData(
        "a message in (administrators, integrations); the answer is its outcome and reference"
    ),
    # A client's referents (names, phones, e-mails) and an order's requester.
    "api:client-list": LoggedRoute(Action.VIEW, "client", ("GET", "POST")),
    "api:client-detail": LoggedRoute(Action.VIEW, "client"),
    "contracts:client-edit": LoggedRoute(
        Action.VIEW, "client", ("GET", "POST"), unless_redirected=True
    ),
    "api:order-list": LoggedRoute(Action.VIEW, "order", ("GET", "POST")),
    "api:order-detail": LoggedRoute(Action.VIEW, "order", ("GET",)),
    "api:order-transition": LoggedRoute(Action.VIEW, "order", ("POST",)),
    "api:order-notes": LoggedRoute(Action.VIEW, "order", ("POST",)),
    "api:order-next": LoggedRoute(Action.VIEW, "order", ("POST",)),
    "backoffice:order-detail": LoggedRoute(Action.VIEW, "order", ("GET",)),
    # The new-order form lists the contract's client's referents as requesters.
    "backoffice:order-create": LoggedRoute(
        Action.VIEW, "order", ("GET", "POST"), unless_redirected=True
    ),
    "backoffice:order-document-download": LoggedRoute(Action.VIEW, "order_document", ("GET",)),
    # --- Bulk movements of personal data ---------------------------------------------------
    "api:end-user-import": LoggedRoute(Action.IMPORT, "end_user", ("POST",)),
    "contracts:end-user-import": LoggedRoute(Action.IMPORT, "end_user", ("POST",)),
    # Reports show callers (masked unless granted) and case text: every view, every export.
    "reports:report": LoggedRoute(
        Action.VIEW, "report", ("GET",), exported_when=_asks_file("export")
    ),
    "api:report-detail": LoggedRoute(
        Action.VIEW, "report", ("GET",), exported_when=_asks_file("format")
    ),
    "reports:job-download": LoggedRoute(Action.EXPORT, "export_job", ("GET",)),
    "api:report-job-download": LoggedRoute(Action.EXPORT, "export_job", ("GET",)),
    # --- Data-subject requests (administrators): the export of everything held, erasure ----
    "care:subject-search": LoggedRoute(Action.SEARCH, "end_user", ("POST",), needs_query=True),
    "care:subject-request": LoggedRoute(Action.VIEW, "end_user", ("GET",)),
    "care:subject-export": LoggedRoute(Action.EXPORT, "end_user", ("GET",)),
    "care:subject-erase": LoggedRoute(Action.ERASE, "end_user", ("POST",)),
    # --- The admin site: administrators see everything, every access logged (DESIGN §2) ----
    "admin:*": LoggedRoute(Action.VIEW, "admin", ("GET",), unless_redirected=True),
    "admin:login": ADMIN_PLUMBING,
    "admin:logout": ADMIN_PLUMBING,
    "admin:jsi18n": ADMIN_PLUMBING,
    "admin:password_change": ADMIN_PLUMBING,
    "admin:password_change_done": ADMIN_PLUMBING,
    "admin:view_on_site": REDIRECTS,
    # --- Routes that show none -------------------------------------------------------------
    "": NoPersonalData("the JSON 404 of unknown API paths"),
    "home": NoPersonalData("the home page: the user's roles and links"),
    "healthz": NoPersonalData("the state of the database, broker, cache and worker"),
    "login": OWN_ACCOUNT,
    "logout": OWN_ACCOUNT,
    "two_factor": OWN_ACCOUNT,
    "my-sessions": OWN_ACCOUNT,
    "my-session-end": OWN_ACCOUNT,
    "my-sessions-end-others": OWN_ACCOUNT,
    "token-list": API_TOKENS,
    "token-issue": API_TOKENS,
    "token-revoke": API_TOKENS,
    "set_language": OWN_ACCOUNT,
    "api-docs": NoPersonalData("the API's documentation"),
    "api-schema": NoPersonalData("the API's OpenAPI schema"),
    "api:root": NoPersonalData("the API's index of links"),
    "api:me": OWN_ACCOUNT,
    "api:me-session-list": OWN_ACCOUNT,
    "api:me-session-end": OWN_ACCOUNT,
    "api:token-list": API_TOKENS,
    "api:token-revoke": API_TOKENS,
    "api:calendar-list": CONFIGURATION,
    "api:calendar-detail": CONFIGURATION,
    "api:contract-list": CONTRACT_CARD,
    "api:contract-detail": CONTRACT_CARD,
    "api:contract-amend": CONFIGURATION,
    "api:contract-order-validation": CONFIGURATION,
    "api:contract-sla-preview": NoPersonalData("two due times computed from a contract"),
    "api:case-sla-ledger": NoPersonalData("a case's due times and why; no caller or case text"),
    "api:loyalty-list": NoPersonalData("contracts nearing expiry and their owners (staff)"),
    "api:loyalty-detail": NoPersonalData("a contract nearing expiry and staff actions"),
    "api:loyalty-actions": NoPersonalData("the staff action just recorded"),
    "api:loyalty-close": NoPersonalData("a contract nearing expiry and staff actions"),
    "api:notification-list": NoPersonalData("case references and SLA states"),
    "api:notification-read": NoPersonalData("case references and SLA states"),
    "api:notification-read-all": NoPersonalData("a count"),
    "api:article-list": NoPersonalData(ARTICLE),
    "api:article-detail": NoPersonalData(ARTICLE),
    "api:article-publish": NoPersonalData(ARTICLE),
    # Saved replies: their texts hold variables, not people; with `?case=` the list is
    # rendered for that case (its caller's name, masked as on the case page): logged.
    "api:reply-list": LoggedRoute(
        Action.VIEW, "case", ("GET",), when=lambda request: bool(request.GET.get("case"))
    ),
    "api:reply-detail": SAVED_REPLY,
    "care:reply-list": SAVED_REPLY,
    "care:reply-edit": SAVED_REPLY,
    "care:reply-delete": REDIRECTS,
    "api:incident-list": NoPersonalData(INCIDENT),
    "api:incident-detail": NoPersonalData(INCIDENT),
    "api:incident-link": NoPersonalData("counts of cases linked, or the references refused"),
    "api:incident-unlink": NoPersonalData("whether the named case left the incident"),
    "api:incident-resolve": NoPersonalData("counts of cases resolved"),
    "api:report-list": NoPersonalData("the names of the reports"),
    "api:change-list": NoPersonalData("configuration changes: staff and set-up values"),
    "api:audit-list": NoPersonalData("configuration changes: staff and set-up values"),
    "api:report-job": NoPersonalData("an export's progress; its file is logged on download"),
    "api:routing-next": OWN_WORK,
    "api:routing-assign": OWN_WORK,
    "api:routing-presence": OWN_ACCOUNT,
    "api:routing-operator-list": COUNTS,
    "api:routing-operator-presence": COUNTS,
    "api:routing-queue-list": COUNTS,
    "api:routing-queue-emergency": COUNTS,
    "api:routing-queue-detail": UNIT_SETUP,
    "api:routing-queue-archive": UNIT_SETUP,
    "api:routing-site-list": UNIT_SETUP,
    "api:routing-site-detail": UNIT_SETUP,
    "backoffice:workspace": OWN_WORK,
    "backoffice-next": REDIRECTS,
    "backoffice:order-list": NoPersonalData("order references, clients and owners (staff)"),
    "backoffice:order-assign": REDIRECTS,
    "backoffice:order-document": REDIRECTS,
    "backoffice:order-note": REDIRECTS,
    "backoffice:order-transition": REDIRECTS,
    "backoffice:loyalty-detail": NoPersonalData("a contract nearing expiry and staff actions"),
    "backoffice:loyalty-action": REDIRECTS,
    "backoffice:loyalty-close": REDIRECTS,
    "care:notifications": NoPersonalData("case references and SLA states"),
    "care:incident-list": NoPersonalData(INCIDENT),
    "care:incident-create": NoPersonalData(INCIDENT),
    "care:incident-detail": NoPersonalData(
        "an incident's scope and timeline; its cases by reference, status, client, category"
    ),
    "care:incident-edit": NoPersonalData(INCIDENT),
    "care:incident-link": REDIRECTS,
    "care:incident-unlink": REDIRECTS,
    "care:incident-confirm": REDIRECTS,
    "care:incident-resolve": REDIRECTS,
    "care:article-list": NoPersonalData(ARTICLE),
    "care:article-create": NoPersonalData(
        ARTICLE + "; from a case, its category, contract, resolution code and masked subject"
    ),
    "care:article-review": NoPersonalData(ARTICLE),
    "care:article-suggest": NoPersonalData(ARTICLE),
    "care:article-use": NoPersonalData("nothing: 204 once the use is recorded"),
    "care:article-detail": NoPersonalData(ARTICLE),
    "care:article-edit": NoPersonalData(ARTICLE),
    "care:article-submit": REDIRECTS,
    "care:article-publish": REDIRECTS,
    "care:article-return": REDIRECTS,
    "care:article-archive": REDIRECTS,
    "care:notification-read": REDIRECTS,
    "care:notifications-read-all": REDIRECTS,
    "care:retention": NoPersonalData("counts of cases due for retention, per contract"),
    "care:retention-run": NoPersonalData("a retention run's progress"),
    "care:retention-start": REDIRECTS,
    "contracts:contract-list": CONTRACT_CARD,
    "contracts:contract-detail": CONTRACT_CARD,
    "contracts:contract-create": CONFIGURATION,
    "contracts:contract-amend": CONFIGURATION,
    "contracts:contract-edit": CONFIGURATION,
    "contracts:contract-order-validation": CONFIGURATION,
    "contracts:calendar-list": CONFIGURATION,
    "contracts:calendar-create": CONFIGURATION,
    "contracts:calendar-edit": CONFIGURATION,
    "contracts:client-list": NoPersonalData("clients' names, segments, VAT numbers"),
    "contracts:client-create": CONFIGURATION,
    "reports:dashboard": NoPersonalData("aggregates and the references of urgent cases"),
    "reports:subscribe": REDIRECTS,
    # Staff names and set-up values (users, profiles, sites, queues, tokens; clients,
    # calendars, contracts); the contracts' end-user events are left out of it.
    "reports:change-list": NoPersonalData("configuration changes: staff and set-up values"),
    "reports:unsubscribe": REDIRECTS,
    "routing:workspace": OWN_WORK,
    "routing:workspace-live": OWN_WORK,
    "routing:take-next": REDIRECTS,
    "routing:my-presence": OWN_ACCOUNT,
    "routing:case-decisions": NoPersonalData("why a case went where it went; its subject line"),
    "routing:console": COUNTS,
    "routing:presence-board": COUNTS,
    "routing:presence-history": OWN_ACCOUNT,
    "routing:console-live": COUNTS,
    "routing:console-reassign": REDIRECTS,
    "routing:console-presence": REDIRECTS,
    "routing:console-emergency": REDIRECTS,
    "routing:console-emergency-off": REDIRECTS,
    "routing:console-access-alert-ack": REDIRECTS,
    "routing:callback-take": REDIRECTS,
    "routing:callback-next": REDIRECTS,
    "routing:callback-done": REDIRECTS,
    "routing:site-list": UNIT_SETUP,
    "routing:site-create": UNIT_SETUP,
    "routing:site-edit": UNIT_SETUP,
    "routing:site-delete": UNIT_SETUP,
    "routing:queue-list": UNIT_SETUP,
    "routing:queue-create": UNIT_SETUP,
    "routing:queue-edit": UNIT_SETUP,
    "routing:queue-archive": UNIT_SETUP,
    "routing:queue-delete": UNIT_SETUP,
    "routing:wallboard": COUNTS,
    "routing:wallboard-live": COUNTS,
    "routing:my-call": NoPersonalData("the id of the user's own current call and their presence"),
    # --- People: administrators and supervisors (routing.staff) ---------------------------
    "password-set": OWN_ACCOUNT,
    "password-set-done": OWN_ACCOUNT,
    "routing:people": STAFF,
    "routing:person-new": STAFF,
    "routing:people-import": STAFF,
    "routing:person": STAFF,
    "routing:person-account": STAFF,
    "routing:person-profile": STAFF,
    "routing:person-certification-add": STAFF,
    "routing:person-certification-remove": REDIRECTS,
    "routing:person-deactivate": STAFF,
    "routing:person-sessions-end": STAFF,
    "routing:person-password-link": REDIRECTS,
    "api:person-password-link": NoPersonalData("an empty answer: the link goes to the user"),
    "routing:person-reactivate": STAFF,
    "api:person-list": STAFF,
    "api:person-import": STAFF,
    "api:person-detail": STAFF,
    "api:person-deactivate": STAFF,
    "api:person-sessions-end": STAFF,
    "api:person-reactivate": STAFF,
    "api:person-certification-list": STAFF,
    "api:person-certification-detail": STAFF,
    "api:telephony-events": NoPersonalData(
        "the PBX's events in (signed, no user); the answer is the call's id and state"
    ),
}


# Lists browsed without a search: each row names the end users on the page, for "who
# consulted my data", but the watch on unusual access does not count them (callers on a
# list are mostly masked, and paging through the backlog is everyone's work).
LIST_ROUTES = tuple(
    name for name, route in ROUTES.items() if isinstance(route, LoggedRoute) and route.lists
)


def declared(name: str) -> LoggedRoute | NoPersonalData | None:
    """The declaration of a URL name: its own, else its namespace's (`admin:*`)."""
    found = ROUTES.get(name)
    if found is None and ":" in name:
        found = ROUTES.get(name.split(":", 1)[0] + ":*")
    return found


def logged_route(name: str) -> LoggedRoute | None:
    found = declared(name)
    return found if isinstance(found, LoggedRoute) else None
