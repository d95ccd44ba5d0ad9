"""Presidio settings: one module, read from the environment.

With no variables set this is the embedded default (SQLite and a file-system Celery broker
under `.tmp/`, debug on). Production sets DATABASE_URL, CELERY_BROKER_URL, REDIS_URL,
DJANGO_SECRET_KEY, DJANGO_DEBUG=0 and DJANGO_ALLOWED_HOSTS; see README.md.
"""

import secrets
from datetime import timedelta
from pathlib import Path

import dj_database_url

from config.env import env_bool, env_int, env_list, env_str, env_url, parse_or_fail

BASE_DIR = Path(__file__).resolve().parent.parent
TMP_DIR = BASE_DIR / ".tmp"

DEBUG = env_bool("DJANGO_DEBUG", default=True)


def _development_secret_key() -> str:
    """A random key kept under .tmp/, so no key ever sits in the repository."""
    key_file = TMP_DIR / "secret_key"
    if not key_file.exists():
        TMP_DIR.mkdir(exist_ok=True)
        key_file.write_text(secrets.token_urlsafe(50))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


SECRET_KEY = env_str("DJANGO_SECRET_KEY", None if not DEBUG else "") or _development_secret_key()
ALLOWED_HOSTS = env_list(
    "DJANGO_ALLOWED_HOSTS", None if not DEBUG else ["127.0.0.1", "localhost", "[::1]"]
)
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "config",
    "contracts",
    "care",
    "routing",
    "reports",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Outside everything below that may answer in a view's place (the access log's 503, the
    # input guard's 400/404, a redirect to sign in): every answer but a static file has them.
    "config.middleware.SecurityHeadersMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "config.middleware.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "config.middleware.UnstorableInputMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "config.middleware.SessionLifetimeMiddleware",
    "config.middleware.SecondFactorMiddleware",
    "config.middleware.AccessLogMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "config.middleware.ApiErrorMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "config.navigation.navigation",
                "care.context_processors.notifications",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
DATABASE_URL = env_str("DATABASE_URL", f"sqlite:///{TMP_DIR / 'presidio.sqlite3'}")
_database = parse_or_fail("DATABASE_URL", dj_database_url.parse, DATABASE_URL)
if _database["ENGINE"] == "django.db.backends.sqlite3":
    # One writer at a time, taken at BEGIN: no "database is locked" upgrade deadlocks, and
    # take-next is serialised (select_for_update does nothing on SQLite).
    _database["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
elif _database["ENGINE"] == "django.db.backends.postgresql":
    _database["CONN_MAX_AGE"] = 60
    _database["CONN_HEALTH_CHECKS"] = True
    # Server-side cursors (`.iterator()`) serve exports and batch jobs that read every row:
    # plan them for the whole result, not for the first tenth (PostgreSQL's default picks
    # ordered nested loops that made the million-case export 15 s slower than a sort).
    # Joins are planned in groups of 4, not 8: the ORM's joins are lookups from the main
    # table by primary key, written in a good order already, and weighing every order of the
    # case page's 10 tables took 6 ms of planning for 0.2 ms of execution (now 1 ms).
    # Statements run through `config.db.prepared_cursor` (take-next) are prepared at first
    # use and run on generic plans: planned once per connection, not at every call (their
    # plans are ordered index walks and key lookups, whatever the values). Django's own
    # cursors bind on the client and never prepare, so nothing else changes.
    _options = _database.setdefault("OPTIONS", {})
    _options.setdefault("prepare_threshold", 0)
    # First, so that `options` given in DATABASE_URL can still override them.
    _options["options"] = (
        "-c cursor_tuple_fraction=1 -c join_collapse_limit=4 "
        f"-c plan_cache_mode=force_generic_plan {_options.get('options', '')}"
    ).strip()
else:
    from config.env import ConfigurationError

    raise ConfigurationError("DATABASE_URL must be a sqlite:// or postgres:// URL.")
DATABASES = {"default": _database}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache and sessions ---------------------------------------------------------------------
REDIS_URL = env_url("REDIS_URL", schemes={"redis", "rediss"})
if not REDIS_URL:
    CACHES = {
        "default": {
            # Shared by the web server and the worker; nothing lives in process memory.
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(TMP_DIR / "cache"),
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            # A Redis that does not answer costs a request at most this, once per outage
            # (config.ratelimit then counts locally for a while).
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }

SESSION_ENGINE = "config.session_store"  # the database store, one statement a save (#25)
SESSION_COOKIE_AGE = 30 * 60  # idle timeout, kept by SessionLifetimeMiddleware
# Not every request: a session is written when it changes (activity is recorded once a
# minute). Saving it on every request let a concurrent request (a favicon, an asset) write
# back the session it had read before a sign-in step, undoing that step.
SESSION_SAVE_EVERY_REQUEST = False
SESSION_MAX_AGE = 12 * 60 * 60  # absolute: SessionLifetimeMiddleware ends older sessions
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True

# --- Authentication -------------------------------------------------------------------------
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    # ModelBackend, with the session's user and their permissions in one query (#25)
    "config.permissions.PermissionsInOneQuery",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
# Managers and administrators confirm their sign-in with a TOTP code (config.two_factor).
# Only the demo (`make run`) turns this off, and says so when it starts.
TWO_FACTOR_REQUIRED = env_bool("PRESIDIO_TWO_FACTOR", default=True)
OTP_TOTP_ISSUER = "Presidio"
# Waiting cases are offered to the operator idle longest (push) as well as taken with *Prossimo
# caso* (pull). The demo (`make run`) is pull-only unless asked, and says so when it starts.
ROUTING_AUTO_ASSIGN = env_bool("PRESIDIO_AUTO_ASSIGN", default=True)
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# The watch on unusual access (routing.access_watch): an operator is reported to their
# supervisors when, in one day, they viewed more end users outside their own cases than
# both this floor and this many times the median of their colleagues that day.
ACCESS_WATCH_MIN_END_USERS = 40
ACCESS_WATCH_PEER_FACTOR = 3

# Lock one username from one address: a mistyping operator cannot lock out the whole
# contact centre that sits behind one shared address.
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_RESET_ON_SUCCESS = True
# Behind reverse proxies every request comes from the last proxy's address: with this many
# trusted proxies in front, the client's address is the one they appended to X-Forwarded-For.
# 0: no proxy, the connection's address is the client's (a forwarded header is ignored).
TRUSTED_PROXY_COUNT = env_int("PRESIDIO_PROXY_COUNT", default=0)
AXES_CLIENT_IP_CALLABLE = "config.middleware.client_address"


# The PBX's shared secrets for signed telephony events (routing.signatures): the current one
# and, during a rotation, the previous. None set: the events endpoint answers 503. The demo
# (`make run`) makes a random one under .tmp/ for its call simulator.
def _development_telephony_secret() -> str:
    """The demo's PBX secret, random and kept under .tmp/ like the key: the portal and
    `manage.py simulate_calls` read the same one."""
    secret_file = TMP_DIR / "telephony_secret"
    if not secret_file.exists():
        TMP_DIR.mkdir(exist_ok=True)
        secret_file.write_text(secrets.token_urlsafe(32))
        secret_file.chmod(0o600)
    return secret_file.read_text().strip()


TELEPHONY_SECRETS = [
    env_str("PRESIDIO_TELEPHONY_SECRET", "") or (_development_telephony_secret() if DEBUG else ""),
    env_str("PRESIDIO_TELEPHONY_SECRET_PREVIOUS", ""),
]

# --- Internationalisation -------------------------------------------------------------------
LANGUAGE_CODE = "it"
# Each language is offered in its own name, untranslated.
LANGUAGES = [("it", "Italiano"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Europe/Rome"
USE_I18N = True
USE_TZ = True

# --- Static files ---------------------------------------------------------------------------
STATIC_URL = "/static/"
# Filled by `collectstatic` in production.
STATIC_ROOT = Path(env_str("DJANGO_STATIC_ROOT", str(BASE_DIR / "staticfiles")))
if DEBUG:
    STATIC_ROOT.mkdir(exist_ok=True)  # whitenoise serves from the finders but wants the folder
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
MEDIA_ROOT = env_str("DJANGO_MEDIA_ROOT", str(TMP_DIR / "media"))
# Report exports with more rows than this are written by a worker (progress, then a link).
REPORTS_ASYNC_EXPORT_ROWS = 50_000
MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024
# An end-user list (CSV or XLSX): 200,000 rows fit well within it (contracts.imports).
MAX_IMPORT_BYTES = 20 * 1024 * 1024
MAX_ATTACHMENTS_PER_NOTE = 5
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# --- Security -------------------------------------------------------------------------------
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; "
    "form-action 'self'; object-src 'none'"
)
if not DEBUG:
    SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
    # TLS ends at the reverse proxy, which must set X-Forwarded-Proto (README).
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = 365 * 24 * 60 * 60
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True

# --- E-mail ---------------------------------------------------------------------------------
if DEBUG:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
EMAIL_HOST = env_str("DJANGO_EMAIL_HOST", "localhost")
DEFAULT_FROM_EMAIL = env_str("DJANGO_DEFAULT_FROM_EMAIL", "presidio@localhost")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
EMAIL_PORT = env_int("DJANGO_EMAIL_PORT", default=25)
EMAIL_TIMEOUT = 20

# The e-mail channel (care.mail): the domain of the Message-IDs Presidio writes, the
# signature of every mail to an end user, the largest message accepted, and the mailboxes
# read over IMAP: PRESIDIO_MAILBOXES="assistenza=imaps://utente@imap.example.it:993/INBOX"
# (comma-separated), each with its password in PRESIDIO_MAILBOX_<NAME>_PASSWORD and
# optionally the category its new cases get in PRESIDIO_MAILBOX_<NAME>_CATEGORY.
MAIL_DOMAIN = DEFAULT_FROM_EMAIL.rpartition("@")[2] or "localhost"
MAIL_SIGNATURE = env_str("PRESIDIO_MAIL_SIGNATURE", "Servizio clienti")
# The portal's address as users reach it: the start of links sent by e-mail (config.users).
PRESIDIO_PORTAL_URL = env_str("PRESIDIO_PORTAL_URL", "http://localhost:8000")
MAIL_MAX_BYTES = env_int("PRESIDIO_MAIL_MAX_BYTES", default=10 * 1024 * 1024, minimum=1024)
MAILBOXES = env_list("PRESIDIO_MAILBOXES", [])
# Category of new cases per mailbox name ("*": any mailbox, the API and uploads included).
MAILBOX_CATEGORIES = {
    "*": env_str("PRESIDIO_MAIL_CATEGORY", ""),
    **{
        entry.partition("=")[0]: env_str(
            f"PRESIDIO_MAILBOX_{entry.partition('=')[0].upper()}_CATEGORY", ""
        )
        for entry in MAILBOXES
    },
}

# --- API ------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    # Token first: an unauthenticated call answers 401 with WWW-Authenticate, not 403.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "config.authentication.ScopedTokenAuthentication",  # Token or Bearer, scoped
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    # JSON without what nothing downstream can take: NUL, lone surrogates, deep nesting.
    "DEFAULT_PARSER_CLASSES": ["config.parsers.StrictJSONParser"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "config.api.exception_handler",
    # Every caller has a request budget (the shared cache counts it across web processes, and
    # a cache outage degrades to a local count: config.ratelimit);
    # the caller lookup has its own, tighter one (contracts.lookup).
    "DEFAULT_THROTTLE_CLASSES": [
        "config.ratelimit.UserThrottle",
        "config.ratelimit.AnonThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "user": env_str("PRESIDIO_API_RATE", "1200/min"),
        "anon": "30/min",
    },
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Presidio API",
    "DESCRIPTION": "Cases, contracts, routing and reports of the customer-care unit.",
    "VERSION": "1",
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "PriorityEnum": "contracts.models.Priority",
        "CaseStatusEnum": "care.models.CaseStatus",
        "SlaStateEnum": "care.models.SlaState",
        "OrderKindEnum": "contracts.models.OrderKind",
        "OrderStateEnum": "contracts.models.OrderState",
        "OrderEventKindEnum": "contracts.models.OrderEvent.Kind",
        "OrderNoteVisibilityEnum": "contracts.models.OrderNote.Visibility",
        "NoteVisibilityEnum": "care.models.Note.Visibility",  # beside the orders' own
        "LoyaltyOutcomeEnum": "contracts.models.LoyaltyOutcome",
        "LoyaltyActionKindEnum": "contracts.models.LoyaltyAction.Kind",
        "IncidentStatusEnum": "care.models.IncidentStatus",
        "ContractStatusEnum": "contracts.models.ContractStatus",
        "ServiceEnum": "contracts.models.Service",
        "ArticleStatusEnum": "care.models.ArticleStatus",
        "ArticleScopeEnum": "care.models.ArticleScope",
        "SavedReplyScopeEnum": "care.models.SavedReply.Scope",
    },
}

# Caller lookups per user per minute, on pages and API alike: nobody walks the directory.
LOOKUPS_PER_MINUTE = 60

# --- Celery ---------------------------------------------------------------------------------
CELERY_BROKER_URL = env_url(
    "CELERY_BROKER_URL",
    schemes={"redis", "rediss", "filesystem", "amqp"},
    default=REDIS_URL or "filesystem://",
)
CELERY_QUEUE_DIR = TMP_DIR / "celery" / "queue"
if CELERY_BROKER_URL.startswith("filesystem://"):
    CELERY_QUEUE_DIR.mkdir(parents=True, exist_ok=True)
    # kombu's filesystem transport with atomic writes and claims: see config/broker.py.
    CELERY_BROKER_TRANSPORT = "config.broker:Transport"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(CELERY_QUEUE_DIR),
        "data_folder_out": str(CELERY_QUEUE_DIR),
        "control_folder": str(TMP_DIR / "celery" / "control"),
    }
else:
    # Longer than any task's hard limit, so a slow task is not delivered twice.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = 240
CELERY_TASK_TIME_LIMIT = 300
CELERY_TASK_DEFAULT_QUEUE = "presidio"
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BEAT_SCHEDULE_FILENAME = str(TMP_DIR / "celerybeat-schedule")
CELERY_BEAT_SCHEDULE = {
    # Each entry expires after its interval: a late run is useless once the next is due.
    "worker-heartbeat": {
        "task": "config.tasks.record_worker_heartbeat_task",
        "schedule": 30.0,
        "options": {"expires": 30},
    },
    "sla-recompute": {
        "task": "care.tasks.recompute_sla_task",
        "schedule": 60.0,
        "options": {"expires": 60},
    },
    "routing-auto-assign-waiting": {
        "task": "routing.auto_assign_waiting",
        "schedule": 60.0,
        "options": {"expires": 60},
    },
    "mail-send-due": {  # the outbox: retries of what could not be sent at once
        "task": "care.tasks.send_due_mail_task",
        "schedule": 60.0,
        "options": {"expires": 60},
    },
    "mail-poll-mailboxes": {
        "task": "care.tasks.poll_mailboxes_task",
        "schedule": 60.0,
        "options": {"expires": 60},
    },
    "routing-end-after-call-work": {  # after-call work ends by itself within seconds
        "task": "routing.tasks.end_after_call_work_task",
        "schedule": 5.0,
        "options": {"expires": 5},
    },
    "routing-end-stale-calls": {
        "task": "routing.tasks.end_stale_calls_task",
        "schedule": 300.0,
        "options": {"expires": 300},
    },
    "routing-end-expired-emergencies": {
        "task": "routing.end_expired_emergencies",
        "schedule": 60.0,
        "options": {"expires": 60},
    },
    "orders-mark-late": {
        "task": "contracts.tasks.mark_late_orders_task",
        "schedule": 300.0,
        "options": {"expires": 300},
    },
    "sla-notifications": {
        "task": "routing.notifications.notify_sla_alerts_task",
        "schedule": 60.0,
        "options": {"expires": 60},
    },
    "incident-surge-detection": {  # a surge of cases raises a suspected major incident once
        "task": "care.tasks.detect_surges_task",
        "schedule": 300.0,
        "options": {"expires": 300},
    },
    "backlog-snapshot": {
        "task": "reports.tasks.snapshot_backlog_task",
        "schedule": 300.0,
        "options": {"expires": 300},
    },
    "nightly-jobs": {  # hourly trigger; runs the nightly hooks once per date from 02:00
        "task": "reports.tasks.nightly_jobs_task",
        "schedule": 3600.0,
        "options": {"expires": 3600},
    },
    "unusual-access-watch": {  # operators viewing many end users outside their cases
        "task": "routing.tasks.watch_unusual_access_task",
        "schedule": 900.0,
        "options": {"expires": 900},
    },
    "unusual-access-emails": {  # the alerts' e-mails due, retried with backoff after a failure
        "task": "routing.tasks.send_access_alert_emails_task",
        "schedule": 60.0,
        "options": {"expires": 60},
    },
    "scheduled-reports": {  # weekly and monthly subscriptions, each period sent once
        "task": "reports.tasks.send_due_reports_task",
        "schedule": 3600.0,
        "options": {"expires": 3600},
    },
    "purge-expired-exports": {  # export files are kept 24 h
        "task": "reports.tasks.purge_expired_exports_task",
        "schedule": 3600.0,
        "options": {"expires": 3600},
    },
    "heal-retention-runs": {  # "anonymise now" runs whose message or worker was lost
        "task": "care.tasks.heal_retention_runs_task",
        "schedule": 300.0,
        "options": {"expires": 300},
    },
    "resume-stalled-exports": {  # big exports left by a dead worker or a lost task
        "task": "reports.tasks.resume_stalled_exports_task",
        "schedule": 300.0,
        "options": {"expires": 300},
    },
}
# /healthz calls the worker stale when its heartbeat is older than this.
WORKER_HEARTBEAT_STALE_AFTER = timedelta(seconds=90)

# --- Logging --------------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    },
    "filters": {"redact": {"()": "config.log_filters.RedactPersonalData"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["redact"],
        }
    },
    "root": {"handlers": ["console"], "level": env_str("DJANGO_LOG_LEVEL", "INFO")},
    "loggers": {
        # Request lines carry URLs; personal data never travels in them (DESIGN.md §10).
        "django.server": {"level": "INFO", "handlers": ["console"], "propagate": False},
        "axes": {"level": "WARNING"},
    },
}
