"""The access log of personal data: one hash-chained row per request that searched, viewed,
imported or exported it, whatever the outcome.

Which requests count is declared once, by route name, for every route of the project
(`config.access_routes.ROUTES`), so a denied attempt (403, 404, 429) is logged as surely as
a successful one and no view can forget it.
A view may add what it knows (`note`: e.g. how many matches a search found, the purpose of
an override); the middleware writes the row when the answer is ready.
"""

import hashlib
import json
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db import transaction
from django.utils import timezone

from config.access_routes import LoggedRoute, logged_route
from config.models import AccessChainHead, AccessLog, AccessLogSubject

logger = logging.getLogger(__name__)

GENESIS = "0" * 64
UNSTORABLE_CHARACTERS = re.compile("[\x00\ud800-\udfff]")
Action = AccessLog.Action


# Routes whose allowed rows mean "this user found these end users by a search": the only way
# to name an end user in a new case (`found_recently`), on the page and in the API alike.
FINDING_ROUTES = (
    "api:lookup",
    "contracts:lookup",
    "contracts:lookup-panel",
    "care:intake",
    "care:mail-triage-item",  # the callers an e-mail's address (or a search) finds
)
FOUND_VALID_FOR = timedelta(minutes=30)

# Which end users a request touched, when the route's kwargs say it (a case's caller): the
# apps that know register a resolver by target kind (`subject_resolvers["case"] = ...`).
# Views that list or find people say it themselves with `note(request, end_users=[...])`.
subject_resolvers: dict[str, Callable[[dict], list[int]]] = {
    "end_user": lambda kwargs: [kwargs[key] for key in ("pk", "end_user_id") if key in kwargs],
}

_NOTE = "_access_log_note"
# Query keys worth keeping as "what was searched"; anything else is left out of the row.
SEARCH_KEYS = ("phone", "query", "q", "search", "name", "email", "employee_code", "codice_fiscale")


def note(request, *, purpose: str = "", denied: bool = False, **detail) -> None:
    """Add what the view knows to the row the middleware will write for this request:
    what was searched, how many matched, the purpose of an override, or that the request was
    refused although it answered 200 (a search over the rate limit shown as a form error)."""
    request = getattr(request, "_request", request)  # DRF's Request wraps Django's
    noted = getattr(request, _NOTE, None) or {"purpose": "", "detail": {}, "denied": False}
    if purpose:
        noted["purpose"] = purpose[:300]
    noted["denied"] = noted.get("denied", False) or denied
    noted["detail"] |= detail
    setattr(request, _NOTE, noted)


def found_recently(user, end_user_id: int, *, now: datetime) -> bool:
    """Whether `user` found this end user by a caller search in the last `FOUND_VALID_FOR`:
    a case may name only such a caller, so the directory cannot be walked by id."""
    return AccessLogSubject.objects.filter(
        user_id=user.pk,
        end_user_id=end_user_id,
        at__gte=now - FOUND_VALID_FOR,
        at__lte=now,
        entry__route__in=FINDING_ROUTES,
        entry__action=Action.SEARCH,  # showing a caller found before does not find it again
        entry__outcome=AccessLog.Outcome.ALLOWED,
    ).exists()


def route_of(request) -> tuple[str, LoggedRoute] | None:
    match = getattr(request, "resolver_match", None)
    if match is None or not match.view_name:
        return None
    logged = logged_route(match.view_name)
    if logged is None or request.method not in logged.methods:
        return None
    if logged.when is not None and not logged.when(request):
        return None
    return match.view_name, logged


def _searched(request) -> dict:
    """The search terms of a GET query or a JSON/form body (for the audit, not for logs)."""
    found = {key: request.GET[key] for key in SEARCH_KEYS if request.GET.get(key)}
    if request.method == "POST":
        try:
            if request.content_type == "application/json":
                body = json.loads(request.body or b"{}")
            else:
                body = request.POST
            if isinstance(body, dict) or hasattr(body, "getlist"):
                found |= {key: str(body.get(key)) for key in SEARCH_KEYS if body.get(key)}
        except Exception:  # a body DRF already read, or one the view refused
            logger.debug("access log: search terms left to the view's note")
    return {key: value[:100] for key, value in found.items()}


def record(request, response) -> AccessLog | None:
    """Write the request's row if its route is one that touches personal data."""
    routed = route_of(request)
    if routed is None:
        return None
    name, logged = routed
    if logged.unless_redirected and 300 <= response.status_code < 400:
        return None  # nothing shown: the page it leads to is logged when asked
    noted = getattr(request, _NOTE, None) or {"purpose": "", "detail": {}, "denied": False}
    searched = {}
    if logged.action == Action.SEARCH or logged.lists:
        searched = noted["detail"].pop("searched", None) or _searched(request)
    action = logged.action
    if logged.needs_query and not searched:
        if not noted["detail"].get("end_users"):
            return None  # a search page opened empty searched and showed nothing
        action = Action.VIEW  # no search, but it shows people it found before (the intake)
    if logged.lists and searched:
        action = Action.SEARCH
    elif logged.exported_when is not None and logged.exported_when(request):
        action = Action.EXPORT
    kwargs = request.resolver_match.kwargs
    target = ":".join([logged.target, *(str(value) for value in kwargs.values())])
    user = request.user if request.user.is_authenticated else None
    denied = user is None or response.status_code >= 400 or noted.get("denied", False)
    end_users = noted["detail"].pop("end_users", None)
    # Refused attempts too: the person may ask who tried, and the watch counts them.
    if end_users is None and logged.target in subject_resolvers:
        end_users = subject_resolvers[logged.target](kwargs)
    if end_users:
        noted["detail"]["end_users"] = sorted({int(value) for value in end_users})
    return append(
        outcome=AccessLog.Outcome.DENIED if denied else AccessLog.Outcome.ALLOWED,
        at=timezone.now(),
        user_id=user.pk if user else None,
        username=user.get_username() if user else "",
        action=action,
        route=name,
        method=request.method,
        target=target[:200],
        purpose=noted["purpose"],
        status_code=response.status_code,
        detail={**({"searched": searched} if searched else {}), **noted["detail"]},
    )


def _storable(value):
    """Text as both databases store it: PostgreSQL refuses NUL and unpaired UTF-16 surrogates
    in text and in JSON, and a search term is evidence, not something to fail the request on
    (the row keeps U+FFFD in their place)."""
    if isinstance(value, str):
        return UNSTORABLE_CHARACTERS.sub("\ufffd", value)
    if isinstance(value, dict):
        return {_storable(key): _storable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_storable(item) for item in value]
    return value


def row_hash(previous_hash: str, values: dict) -> str:
    """The chained hash of one row: its content, canonical, after the previous hash."""
    canonical = json.dumps(values, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(f"{previous_hash}|{canonical}".encode()).hexdigest()


def _hashed_values(entry: AccessLog) -> dict:
    at: datetime = entry.at
    return {
        "at": at.astimezone(UTC).isoformat(),
        "user": entry.user_id,
        "username": entry.username,
        "action": entry.action,
        "route": entry.route,
        "method": entry.method,
        "target": entry.target,
        "purpose": entry.purpose,
        "outcome": entry.outcome,
        "status": entry.status_code,
        "detail": entry.detail,
    }


def append(**values) -> AccessLog:
    """Append one row to the chain. Writers queue on the chain head's row lock, so the
    chain never forks however many web processes write at once. The row's INSERT is the
    only other statement: the database moves the head to its hash and lists the end users
    of its `detail` in the index (`AccessLogSubject`), see migration 0010.

    No savepoint: the middleware calls it outside any transaction, where the block is the
    transaction itself; inside another one (a test's) a failure here fails that one too."""
    with transaction.atomic(savepoint=False):
        head, _created = AccessChainHead.objects.select_for_update().get_or_create(
            id=1, defaults={"last_hash": GENESIS}
        )
        entry = AccessLog(previous_hash=head.last_hash, **_storable(values))
        entry.row_hash = row_hash(head.last_hash, _hashed_values(entry))
        entry.save()  # one INSERT: the database refuses any later change
    return entry


@dataclass(frozen=True)
class ChainCheck:
    rows: int
    first_broken_id: int | None

    @property
    def intact(self) -> bool:
        return self.first_broken_id is None


def verify_chain(*, chunk_size: int = 20_000) -> ChainCheck:
    """Recompute every hash in order: the first row whose content or predecessor does not
    match is reported (an edit, a deletion or an insertion in the middle)."""
    previous = GENESIS
    rows = 0
    fields = ["at", "user_id", "username", "action", "route", "method", "target"]
    fields += ["purpose", "outcome", "status_code", "detail", "previous_hash", "row_hash"]
    for entry in AccessLog.objects.order_by("id").only(*fields).iterator(chunk_size=chunk_size):
        rows += 1
        if entry.previous_hash != previous or entry.row_hash != row_hash(
            previous, _hashed_values(entry)
        ):
            logger.error("access log chain broken at row %s", entry.id)
            return ChainCheck(rows=rows, first_broken_id=entry.id)
        previous = entry.row_hash
    head = AccessChainHead.objects.filter(id=1).first()
    if head is not None and rows and head.last_hash != previous:
        return ChainCheck(rows=rows, first_broken_id=-1)  # rows removed at the end
    return ChainCheck(rows=rows, first_broken_id=None)


def check_chain_nightly(sender=None, **kwargs) -> dict:
    """The nightly integrity check (a `config.nightly` receiver): a broken chain is logged as
    an error, which the operations team is alerted on."""
    check = verify_chain()
    if not check.intact:
        logger.error("access log integrity check failed at row %s", check.first_broken_id)
    return {"rows": check.rows, "intact": check.intact, "first_broken_id": check.first_broken_id}
