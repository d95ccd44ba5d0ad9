import ipaddress
import logging
import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpResponse, JsonResponse
from django.middleware import locale as django_locale
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from django.views.defaults import page_not_found

from config import access_log, sessions, two_factor
from config.api import error_body
from config.errors import NotFound
from config.inputs import unstorable
from config.log_filters import PERSONAL_PARAMETER

logger = logging.getLogger(__name__)

LOGIN_AT_KEY = "presidio_login_at"
ACTIVE_AT_KEY = "presidio_active_at"  # the last request that was not a page's own polling
POLL_HEADER = "X-Presidio-Poll"


def remember_login_time(sender, request, user, **kwargs) -> None:
    """Signal receiver: the absolute session lifetime, and the idle time, count from here
    (stamped at login, so the first page after it does not have to write the session)."""
    now = int(time.time())
    request.session[LOGIN_AT_KEY] = now
    request.session[ACTIVE_AT_KEY] = now


def record_session_at_login(sender, request, user, **kwargs) -> None:
    """Signal receiver: the user's list of their own sessions gains this one."""
    if request is not None:
        sessions.remember_session(
            request=request, user=user, address=client_address(request), now=timezone.now()
        )


def say_goodbye(sender, request, user, **kwargs) -> None:
    """Signal receiver: the login page shown after logout confirms it."""
    if request is not None and user is not None:
        messages.info(request, _("You have signed out."))


def client_address(request) -> str | None:
    """The client's address: the connection's, or behind TRUSTED_PROXY_COUNT proxies the one
    the outermost of them appended to X-Forwarded-For (the entries left of it are the
    client's own say, never trusted). Falls back to the connection's address."""
    remote = request.META.get("REMOTE_ADDR")
    count = settings.TRUSTED_PROXY_COUNT
    forwarded = [item.strip() for item in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    if count == 0 or len(forwarded) < count:
        return remote
    try:
        return str(ipaddress.ip_address(forwarded[-count]))
    except ValueError:
        return remote


ACTIVITY_STEP = 60  # seconds: activity is written at most once a minute


class SessionLifetimeMiddleware:
    """Ends a session after SESSION_COOKIE_AGE without activity, and SESSION_MAX_AGE after
    login however active it is. A page's own polling (htmx elements send POLL_HEADER) is
    answered but is not activity: a console left open does not keep its session alive.
    Django's own idle expiry cannot tell a poll apart, so the idle time is kept here, and
    written at most once a minute (each write pushes the session cookie's expiry)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.user.is_authenticated and hasattr(request, "session"):
            now = int(time.time())
            login_at = request.session.setdefault(LOGIN_AT_KEY, now)
            active_at = request.session.setdefault(ACTIVE_AT_KEY, now)
            if (
                now - login_at > settings.SESSION_MAX_AGE
                or now - active_at > settings.SESSION_COOKIE_AGE
            ):
                logout(request)
                messages.info(request, _("Your session has expired: please sign in again."))
            elif POLL_HEADER not in request.headers and now - active_at >= ACTIVITY_STEP:
                request.session[ACTIVE_AT_KEY] = now  # the save pushes the cookie's expiry
                sessions.note_activity(
                    request=request,
                    user=request.user,
                    address=client_address(request),
                    now=timezone.now(),
                )
        return self.get_response(request)


class SecurityHeadersMiddleware:
    """Scripts and styles from our own origin only (templates carry no inline script), and
    nothing shown to a signed-in user is kept by the browser's or a proxy's cache: pages
    and API answers hold personal data. It sits outside every middleware that may answer
    in the view's place (the access log's 503, the input guard's 400), so those answers carry
    the same headers; only static files, served before it, are left to be cached."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", settings.CONTENT_SECURITY_POLICY)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            add_never_cache_headers(response)
        return response


class SecondFactorMiddleware:
    """Managers and administrators signed in with the password alone reach nothing but the
    second-factor page (and sign-out) until they give a TOTP code. API calls with a session
    get a 403 JSON; calls with a token do not pass here (DRF authenticates them later)."""

    ALLOWED = ("/accounts/two-factor/", "/accounts/logout/", "/i18n/", "/static/", "/healthz")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path.startswith(self.ALLOWED) or not two_factor.second_factor_pending(
            request.user
        ):
            return self.get_response(request)
        if request.path.startswith("/api/"):
            message = _("Confirm your sign-in with the code of your authenticator app first.")
            return JsonResponse(error_body("second_factor_required", message), status=403)
        # Back to the page afterwards, but never with personal data in the address (a screen
        # pop's ?phone=): that part of the way back is dropped.
        query = request.META.get("QUERY_STRING", "")
        back = request.path if PERSONAL_PARAMETER.search(query) else request.get_full_path()
        return redirect_to_login(back, reverse("two_factor"))


class AccessLogMiddleware:
    """One access-log row for each request that searched, viewed, imported or exported
    personal data (declared in config.access_routes.ROUTES), whatever its outcome. If the row cannot
    be written the answer is withheld: personal data never leaves unlogged."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        try:
            access_log.record(request, response)
        except Exception:
            logger.exception("access log not written: answer withheld")
            message = _("The service is not available: try again in a moment.")
            if request.path.startswith("/api/"):
                return JsonResponse(error_body("unavailable", message), status=503)
            return HttpResponse(message, status=503, content_type="text/plain; charset=utf-8")
        return response


class UnstorableInputMiddleware:
    """The input rule of `config.inputs` at the door: a path with NUL names nothing (404); a
    query string with NUL, or a lone surrogate, in a name or a value is refused (400), and
    so is a page's form body (fields and file names), before any view, filter or selector
    sends it to the database. API bodies are the parser's and the serializers' to refuse,
    field by field. A page view that checks its query string itself says so
    (`config.inputs.checks_its_own_query`: the intake tells a screen pop what is wrong with
    its number). Django decodes the address and form bodies as UTF-8 with replacement, so a
    surrogate cannot arrive there; the check holds anyway."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if unstorable(request.path):
            if request.path.startswith("/api/"):
                return JsonResponse(error_body("not_found", _("No such API resource.")), status=404)
            return page_not_found(request, Http404())
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        api = request.path.startswith("/api/")
        sources = [] if getattr(view_func, "checks_its_own_query", False) else [request.GET]
        if not api and request.method == "POST":
            sources += [request.POST, request.FILES]
        problems = {
            name: [problem]
            for source in sources
            for name, values in source.lists()
            if (problem := unstorable([name, *values]))
        }
        if not problems:
            return None
        message = _("The request holds characters that are not allowed.")
        if api:
            return JsonResponse(error_body("invalid", message, problems), status=400)
        details = " ".join(problem for [problem] in problems.values())
        return HttpResponse(
            f"{message} {details}", status=400, content_type="text/plain; charset=utf-8"
        )


class ApiErrorMiddleware:
    """An unexpected error under /api/ answers JSON (logged with its traceback), never HTML;
    on pages, a not-found raised by a selector becomes the 404 page."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not request.path.startswith("/api/"):
            # Pages: a service's "not found" is the usual 404 page, never a 500.
            if isinstance(exception, NotFound):
                return page_not_found(request, Http404())
            return None
        logger.exception("Unhandled error on %s %s", request.method, request.path)
        from django.http import JsonResponse

        return JsonResponse(
            error_body("server_error", _("Internal error: the operation was not carried out.")),
            status=500,
        )


class LocaleMiddleware(django_locale.LocaleMiddleware):
    """Pages speak Italian unless the user chose English with the language switch.

    The browser's Accept-Language is ignored on pages (the unit works in Italian whatever
    the workstation's setup) and honoured under /api/, where integrations choose by header.
    """

    def process_request(self, request):
        if not request.path.startswith("/api/"):
            request.META.pop("HTTP_ACCEPT_LANGUAGE", None)
        super().process_request(request)
