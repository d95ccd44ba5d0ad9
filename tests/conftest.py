import logging
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.auth.models import Group
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from rest_framework.test import APIClient

from config import ratelimit, roles
from config.log_filters import RedactPersonalData
from tests.factories import national_closing_codes

pytest_plugins = ["tests.fixtures_contracts"]

ROME = ZoneInfo("Europe/Rome")


# Seeded canary values (tests/config/test_canaries.py feeds them to every path that handles
# a caller). They must never be written to a log, in any test, through any logger.
CANARY_PHONE = "+393470007777"
CANARY_PHONE_AS_TYPED = "347 000 7777"
CANARY_CODICE_FISCALE = "CNRLCU85M41G273D"
CANARIES = (CANARY_PHONE, CANARY_PHONE[3:], CANARY_PHONE_AS_TYPED, CANARY_CODICE_FISCALE)


class _CanaryWatch(logging.Handler):
    """Sees every record as the console handler would write it (after redaction)."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.addFilter(RedactPersonalData())
        self.leaks: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        text = record.getMessage()
        if record.exc_info:
            text += logging.Formatter().formatException(record.exc_info)
        text += record.exc_text or ""  # the traceback as the redaction filter left it
        if any(canary.lower() in text.lower() for canary in CANARIES):
            self.leaks.append(f"{record.name}: {text[:200]}")


@pytest.fixture(scope="session", autouse=True)
def _canaries_never_reach_a_log():
    watch = _CanaryWatch()
    loggers = [logging.getLogger(), *(logging.getLogger(name) for name in ("django.server",))]
    for logger in loggers:
        logger.addHandler(watch)
    yield
    for logger in loggers:
        logger.removeHandler(watch)
    assert not watch.leaks, f"personal data written to the logs: {watch.leaks[:5]}"


@pytest.fixture(autouse=True)
def _isolated_cache():
    """Throttles and lockouts from one test never reach the next."""
    cache.clear()
    ratelimit.forget_outage()
    yield
    cache.clear()
    ratelimit.forget_outage()


def confirmed_totp_device(user):
    """The user's confirmed TOTP device (created on first use): tests compute its codes."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    return device or TOTPDevice.objects.create(user=user, name="test", confirmed=True)


_password_only_login = Client.force_login


@pytest.fixture(autouse=True)
def _force_login_is_a_complete_sign_in(monkeypatch):
    """`client.force_login` stands for a whole sign-in: the password and, for managers and
    admins, the second factor. tests/config/test_two_factor.py signs in the real way."""

    def force_login(self, user, backend=None):
        _password_only_login(self, user, backend)
        if roles.needs_second_factor(user):
            session = self.session
            session[DEVICE_ID_SESSION_KEY] = confirmed_totp_device(user).persistent_id
            session.save()

    monkeypatch.setattr(Client, "force_login", force_login)


@pytest.fixture
def role_groups(db):
    """The role groups as the migration made them; a transactional test's flush removes them."""
    from django.apps import apps
    from django.contrib.auth.management import create_permissions
    from django.contrib.auth.models import Permission

    create_permissions(apps.get_app_config("config"), verbosity=0)
    roles.sync_role_groups(Group, Permission)


@pytest.fixture(autouse=True)
def _national_closing_codes(request):
    """A transactional test's flush empties the national list of closing codes that a
    migration seeded (contracts 0006): such a test gets it back, as cases are resolved
    with its codes."""
    marker = request.node.get_closest_marker("django_db")
    transactional = (marker is not None and marker.kwargs.get("transaction")) or (
        "transactional_db" in request.fixturenames or "live_server" in request.fixturenames
    )
    if transactional:
        request.getfixturevalue("transactional_db")
        national_closing_codes()


@pytest.fixture(autouse=True)
def _skip_by_database(request):
    if request.node.get_closest_marker("postgres") and connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only")


@pytest.fixture
def now():
    """A fixed aware instant: a Wednesday morning in Rome."""
    return datetime(2026, 12, 2, 10, 0, tzinfo=ROME)


def pytest_addoption(parser):
    parser.addoption(
        "--clock-at",
        metavar="ISO_INSTANT",
        help="Start the process clock at this instant (e.g. 2027-08-15T10:00:00+02:00) and let "
        "it tick: the date pass of scripts/test.sh proves no test depends on today's date.",
    )


@pytest.fixture(scope="session", autouse=True)
def _process_clock(pytestconfig):
    """The clock that tests which keep their own clock run on: the machine's, or the
    `--clock-at` instant, ticking from the start of the session."""
    at = pytestconfig.getoption("clock_at")
    if not at:
        yield
        return
    start = datetime.fromisoformat(at)
    if start.tzinfo is None:
        raise pytest.UsageError("--clock-at needs an offset, e.g. 2027-08-15T10:00:00+02:00")
    with time_machine.travel(start, tick=True):
        yield


# A browser keeps the machine's clock, and so do processes a test starts: these tests run on
# the process clock (which `--clock-at` moves) and must hold on any date.
_OWN_CLOCK_FIXTURES = {"worker_process", "live_server", "browser"}


@pytest.fixture(autouse=True)
def _clock_starts_at_now(request, _process_clock):
    """Every other test runs on a clock that starts at `now` and ticks from there: code that
    reads `timezone.now()` or `time.time()` sees the same Wednesday as the test, whatever
    today's date, weekday, DST or time zone. A test that needs another instant moves it with
    the `time_machine` fixture (`time_machine.move_to(...)`) or passes its own `now` to the
    service. One way, everywhere: no test reads the wall clock."""
    if _OWN_CLOCK_FIXTURES & set(request.fixturenames) or request.node.get_closest_marker(
        "browser"
    ):
        yield None
        return
    with time_machine.travel(request.getfixturevalue("now"), tick=True) as traveller:
        yield traveller


def look_up(api, end_user) -> None:
    """The caller lookup that must come before an API case names `end_user` (care.api)."""
    response = api.post("/api/v1/lookup/", {"employee_code": end_user.employee_code}, format="json")
    assert response.status_code == 200, response.json()
    assert end_user.id in [row["end_user"]["id"] for row in response.json()["results"]]


def make_user(django_user_model, username: str, role: str | None, **extra):
    user = django_user_model.objects.create_user(
        username=username, password="correct-horse-battery", **extra
    )
    if role:
        user.groups.add(Group.objects.get(name=role))
    return user


@pytest.fixture
def user_factory(role_groups, django_user_model):
    def factory(username: str = "utente", role: str | None = roles.OPERATOR, **extra):
        return make_user(django_user_model, username, role, **extra)

    return factory


@pytest.fixture
def operator(user_factory):
    return user_factory("op.rossi", roles.OPERATOR, first_name="Mario", last_name="Rossi")


@pytest.fixture
def backoffice_user(user_factory):
    return user_factory("bo.verdi", roles.BACKOFFICE)


@pytest.fixture
def supervisor(user_factory):
    return user_factory("sup.neri", roles.SUPERVISOR)


@pytest.fixture
def manager(user_factory):
    return user_factory("man.gialli", roles.MANAGER)


@pytest.fixture
def admin_user(user_factory):
    return user_factory("adm.blu", roles.ADMIN, is_staff=True)


def _api_client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def operator_api(operator):
    return _api_client_for(operator)


@pytest.fixture
def supervisor_api(supervisor):
    return _api_client_for(supervisor)


@pytest.fixture
def manager_api(manager):
    return _api_client_for(manager)


@pytest.fixture
def admin_api(admin_user):
    return _api_client_for(admin_user)


@pytest.fixture
def anonymous_api():
    return APIClient()


@pytest.fixture(autouse=True)
def _broker_back_up():
    """A test that took the broker down must not leave the next ones thinking it still is
    (`config.tasks.enqueue` leaves a down broker alone for a while)."""
    yield
    from config import tasks

    tasks._broker_down_until = 0.0


@pytest.fixture(scope="session")
def imap_server():
    """A real IMAP server (Debian's Dovecot) on a loopback port for the whole session."""
    import os

    from tests import imap_server as dovecot

    if not dovecot.available():
        if os.environ.get("CI") == "true":
            pytest.fail("Dovecot is required under CI=true (apt-get install dovecot-imapd)")
        pytest.skip("Dovecot is not installed (apt-get install dovecot-imapd)")
    with dovecot.running() as server:
        yield server


@pytest.fixture
def imap_mailbox(imap_server, settings, monkeypatch):
    """The IMAP server's inbox, empty, configured as the mailbox `assistenza` (its password
    in the environment, as in production)."""
    imap_server.empty()
    settings.MAILBOXES = [f"assistenza={imap_server.url()}"]
    monkeypatch.setenv("PRESIDIO_MAILBOX_ASSISTENZA_PASSWORD", imap_server.password)
    return imap_server
