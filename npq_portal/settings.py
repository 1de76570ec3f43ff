"""Settings for the NPQ Portal, read from the environment (django-environ).

One module with one switch, DJANGO_ENV:
- ``local`` (default): SQLite and Celery tasks run eagerly unless DATABASE_URL /
  CELERY_BROKER_URL are set, so a newcomer sees the portal work at once.
- ``test``: as local, used by pytest (fast password hashing, in-memory email).
- ``production``: every secret must come from the environment; start-up fails without them;
  ``manage.py check --deploy`` is clean.

Every variable is listed in README.md's configuration table.
"""

from datetime import timedelta
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

from npq_portal import schedule
from npq_portal.observability import logging_config, sentry_init

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()

DJANGO_ENV = env.str("DJANGO_ENV", default="local")
if DJANGO_ENV not in {"local", "test", "production"}:
    raise ImproperlyConfigured(f"DJANGO_ENV must be local, test or production, not {DJANGO_ENV!r}")
PRODUCTION = DJANGO_ENV == "production"


def _required_in_production(name: str, default: str) -> str:
    """A setting that has a working default only outside production."""
    if PRODUCTION:
        value = env.str(name, default="")
        if not value:
            raise ImproperlyConfigured(f"{name} must be set when DJANGO_ENV=production")
        return value
    return env.str(name, default=default)


# --- Core -----------------------------------------------------------------------------------
SECRET_KEY = _required_in_production(
    "SECRET_KEY", default="django-insecure-local-development-key-never-used-in-production"
)
DEBUG = env.bool("DEBUG", default=DJANGO_ENV == "local")
ALLOWED_HOSTS = env.list(
    "ALLOWED_HOSTS",
    default=[] if PRODUCTION else ["127.0.0.1", "localhost", "testserver", "[::1]"],
)
if PRODUCTION and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS must be set when DJANGO_ENV=production")
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.forms",
    "django.contrib.sites",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "csp",
    "crispy_forms",
    "crispy_forms_gds",
    "simple_history",
    "accounts",
    "programmes",
    "engagement",
    "applications",
    "funding",
    "assessment",
    "notifications",
    "privacy",
    "dfe",
    "npq_portal",  # the top floor: demo data (seed_demo), template tags, wiring
]

MIDDLEWARE = [
    "npq_portal.observability.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "accounts.middleware.StaffTwoFactorMiddleware",
    "csp.middleware.CSPMiddleware",
    "npq_portal.security_headers.SecurityHeadersMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "privacy.middleware.AccessLogMiddleware",
    "npq_portal.bad_input.NulByteMiddleware",
]

ROOT_URLCONF = "npq_portal.urls"
# Form widgets render through TEMPLATES, so the portal may override a widget's template
# (templates/admin/widgets/split_datetime.html labels the date and time inputs).
FORM_RENDERER = "django.forms.renderers.TemplatesSetting"
WSGI_APPLICATION = "npq_portal.wsgi.application"
SITE_ID = 1

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "npq_portal.context_processors.service",
                "npq_portal.context_processors.navigation",
            ],
            "builtins": ["npq_portal.templatetags.portal"],
        },
    },
]

# --- Database ---------------------------------------------------------------------------------
# No DATABASE_URL: a SQLite file beside manage.py (the embedded default). Production must say.
if PRODUCTION and not env.str("DATABASE_URL", default=""):
    raise ImproperlyConfigured("DATABASE_URL must be set when DJANGO_ENV=production")
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60 if PRODUCTION else 0)
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Wait for a writer rather than fail at once when the eager worker and a request overlap.
    DATABASES["default"].setdefault("OPTIONS", {})["timeout"] = 20
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache (login rate limiting, used TOTP codes, locks) ---------------------------------------
# Rate-limit counters must be shared by every web worker, so production needs Redis (or another
# shared cache): a per-process memory cache would give each gunicorn worker its own counter.
CACHES = {"default": env.cache("CACHE_URL", default="locmemcache://")}
if PRODUCTION and not CACHES["default"]["BACKEND"].endswith(("RedisCache", "PyMemcacheCache")):
    raise ImproperlyConfigured(
        "CACHE_URL must name a shared cache (redis://...) when DJANGO_ENV=production, "
        "so that sign-in rate limits hold across web workers"
    )

# --- Users and sign-in (django-allauth) -------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
# Only allauth's backend: every sign-in, hub administration included, goes through allauth's
# rate limits, email verification and two-factor step (it also answers permission checks).
AUTHENTICATION_BACKENDS = ["allauth.account.auth_backends.AuthenticationBackend"]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "home"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_LOGOUT_REDIRECT_URL = "home"
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[NPQ Portal] "
ACCOUNT_DEFAULT_HTTP_PROTOCOL = "https" if PRODUCTION else "http"
ACCOUNT_SESSION_REMEMBER = None
# allauth's forms in the portal's words (sentence-case labels, "Enter your email address").
ACCOUNT_FORMS = {
    "login": "accounts.forms.SignInForm",
    "signup": "accounts.forms.CreateAccountForm",
    "reset_password": "accounts.forms.ResetPasswordForm",
    "reset_password_from_key": "accounts.forms.NewPasswordForm",
    "change_password": "accounts.forms.ChangePasswordForm",
    "set_password": "accounts.forms.SetPasswordForm",
    "add_email": "accounts.forms.AddEmailForm",
    "reauthenticate": "accounts.forms.ReauthenticateForm",
}
# Failed sign-ins are limited per account and per address (allauth counts them in the cache).
ACCOUNT_RATE_LIMITS = {
    "login_failed": env.str("LOGIN_FAILED_RATE_LIMIT", default="5/5m/key,20/5m/ip"),
}

# Two-factor authentication (allauth.mfa): an authenticator app (TOTP) with recovery codes.
# Staff and superusers must have it before any admin or marking page opens
# (accounts.middleware.StaffTwoFactorMiddleware); participants and headteachers may opt in.
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = env.str("SERVICE_NAME", default="NPQ Portal")
MFA_RECOVERY_CODE_COUNT = 10

# --- Forms (GOV.UK Design System) -------------------------------------------------------------
CRISPY_ALLOWED_TEMPLATE_PACKS = ["gds"]
CRISPY_TEMPLATE_PACK = "gds"

# --- Email ----------------------------------------------------------------------------------
EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
# GOV.UK Notify, when a key is set: every email goes through one Notify template whose
# personalisation fields are ((subject)) and ((body)).
NOTIFY_API_KEY = env.str("NOTIFY_API_KEY", default="")
NOTIFY_TEMPLATE_ID = env.str("NOTIFY_TEMPLATE_ID", default="")
if NOTIFY_API_KEY:
    EMAIL_BACKEND = "notifications.backends.NotifyEmailBackend"
# Notifications are an outbox (docs/decisions.md, 29): quick attempts with doubling delays, then
# `failed` ones retried on the long schedule until NOTIFICATION_GIVE_UP_HOURS after they were
# recorded, when they are given up (shown as not delivered; staff may send them again).
NOTIFICATION_MAX_ATTEMPTS = env.int("NOTIFICATION_MAX_ATTEMPTS", default=5)
NOTIFICATION_RETRY_BACKOFF_SECONDS = env.int("NOTIFICATION_RETRY_BACKOFF_SECONDS", default=60)
NOTIFICATION_GIVE_UP_HOURS = env.int("NOTIFICATION_GIVE_UP_HOURS", default=24)
# A worker's claim on a notification it is sending; renewed while it sends, taken back when not.
NOTIFICATION_CLAIM_SECONDS = env.int("NOTIFICATION_CLAIM_SECONDS", default=120)
# The sweeper queues a row whose own delivery has not reached a worker this long after it was
# due, and queues it again at most this often while it waits (`make chaos` shortens both).
NOTIFICATION_DISPATCH_GRACE_SECONDS = env.int("NOTIFICATION_DISPATCH_GRACE_SECONDS", default=60)
NOTIFICATION_REDISPATCH_SECONDS = env.int("NOTIFICATION_REDISPATCH_SECONDS", default=300)
# Seconds before a silent mail server counts as a failed attempt (Django's default waits for ever).
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=30)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="NPQ Portal <no-reply@npq-portal.test>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Internationalisation -------------------------------------------------------------------
LANGUAGE_CODE = "en-gb"
TIME_ZONE = "Europe/London"
USE_I18N = True
USE_TZ = True

# --- Static files (GOV.UK Frontend is vendored under static/vendor by scripts/) ----------------
STATIC_URL = "/static/"
STATIC_ROOT = env.path("STATIC_ROOT", default=BASE_DIR / "staticfiles")
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / "media")
MEDIA_URL = "/media/"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}

# --- Celery ---------------------------------------------------------------------------------
# No CELERY_BROKER_URL: tasks run eagerly in the web process (the embedded default).
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="")
if PRODUCTION and not CELERY_BROKER_URL:
    raise ImproperlyConfigured("CELERY_BROKER_URL must be set when DJANGO_ENV=production")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
if not CELERY_BROKER_URL:
    CELERY_BROKER_URL = "memory://"
CELERY_RESULT_BACKEND = env.str(
    "CELERY_RESULT_BACKEND",
    default=CELERY_BROKER_URL if CELERY_BROKER_URL.startswith("redis") else "cache+memory://",
)
CELERY_RESULT_EXPIRES = timedelta(days=1)
CELERY_TASK_DEFAULT_QUEUE = env.str("CELERY_TASK_DEFAULT_QUEUE", default="celery")
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
# A task is acknowledged only after it finishes, and re-queued if its worker dies mid-way,
# so every task must be safe to run twice (see docs/decisions.md).
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=240)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=300)
# Jobs, deliveries and tallies retried after a database or broker error: the first wait (up to
# this many seconds, jittered), doubling to at most 10 minutes (docs/decisions.md, 29).
TASK_RETRY_BACKOFF_SECONDS = env.int("TASK_RETRY_BACKOFF_SECONDS", default=30)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

# The one place where scheduled jobs are declared (run by `make beat`): npq_portal/schedule.py.
CELERY_BEAT_SCHEDULE = schedule.CELERY_BEAT_SCHEDULE
# /healthz fails when a scheduled job has not finished a run in time (npq_portal/health.py).
# On by default only with a broker: with eager tasks (`make run`) no beat runs the jobs.
HEALTHZ_CHECK_JOBS = env.bool("HEALTHZ_CHECK_JOBS", default=not CELERY_TASK_ALWAYS_EAGER)

# --- Security -------------------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=60 * 60 * 8)
X_FRAME_OPTIONS = "DENY"
# Content-Security-Policy (django-csp): scripts only from the portal's own static files, never
# inline. Inline style *attributes* stay allowed (a progress bar's width, Django admin's and
# django-simple-history's templates use them); they cannot run code. data: images carry the
# two-factor QR code.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "style-src-attr": ["'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}
# Features no page of the portal uses are switched off for every page.
PERMISSIONS_POLICY = (
    "accelerometer=(), autoplay=(), camera=(), display-capture=(), geolocation=(), gyroscope=(), "
    "magnetometer=(), microphone=(), midi=(), payment=(), usb=()"
)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if PRODUCTION:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    # /healthz is probed over plain HTTP by the container orchestrator.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True

if DJANGO_ENV == "test":
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"

# --- Logs and error reports (npq_portal/observability.py) --------------------------------------
# JSON lines in production (with the request id, or the Celery task id and name), plain text
# elsewhere unless LOG_FORMAT=json.
LOG_FORMAT = env.str("LOG_FORMAT", default="json" if PRODUCTION else "plain")
if LOG_FORMAT not in {"plain", "json"}:
    raise ImproperlyConfigured(f"LOG_FORMAT must be plain or json, not {LOG_FORMAT!r}")
LOGGING = logging_config(log_format=LOG_FORMAT, level=env.str("LOG_LEVEL", default="INFO"))
# Errors go to Sentry only when a DSN is set, scrubbed of personal data before they leave.
SENTRY_DSN = env.str("SENTRY_DSN", default="")
SENTRY_ENVIRONMENT = env.str("SENTRY_ENVIRONMENT", default=DJANGO_ENV)
if SENTRY_DSN:
    sentry_init(dsn=SENTRY_DSN, environment=SENTRY_ENVIRONMENT)

# --- Portal ---------------------------------------------------------------------------------
SERVICE_NAME = env.str("SERVICE_NAME", default="NPQ Portal")
# Applications: days to complete the form once started; days an endorsement link works.
APPLICATION_COMPLETION_DAYS = env.int("APPLICATION_COMPLETION_DAYS", default=5)
ENDORSEMENT_LINK_DAYS = env.int("ENDORSEMENT_LINK_DAYS", default=14)
# Engagement: seconds to wait after a register save or import before re-tallying the course.
TALLY_DEBOUNCE_SECONDS = env.int("TALLY_DEBOUNCE_SECONDS", default=30)
# Assessment: largest upload, and the share of passes a moderator second-marks (all fails are).
# The upload limit is the whole request to the upload page (the file and the typed fields):
# assessment.uploads stops reading at it; the proxy in docker-compose.yml refuses larger bodies.
ASSESSMENT_MAX_UPLOAD_MB = env.int("ASSESSMENT_MAX_UPLOAD_MB", default=10)
ASSESSMENT_MODERATION_PASS_SHARE = env.float("ASSESSMENT_MODERATION_PASS_SHARE", default=0.1)
# Resubmissions kept per participant (the latest; older ones and their files are deleted).
ASSESSMENT_MAX_SUBMISSIONS_KEPT = max(env.int("ASSESSMENT_MAX_SUBMISSIONS_KEPT", default=10), 1)
# Largest LMS completion export staff may import at once (it is read whole, in one transaction).
LMS_IMPORT_MAX_MB = max(env.int("LMS_IMPORT_MAX_MB", default=20), 1)
# Form fields (not files) read into memory per request; a file over 5 MB goes to a temporary file.
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
# The funding round whose rules the public "check your funding" pages apply; empty: the round in
# force today (FundingRound.in_force_from).
FUNDING_CHECK_ROUND = env.str("FUNDING_CHECK_ROUND", default="")
# Imports: a run whose worker has written nothing for this long is failed by a sweep.
IMPORT_STALE_MINUTES = max(env.int("IMPORT_STALE_MINUTES", default=10), 1)
PHASE = env.str("SERVICE_PHASE", default="Beta")
# Privacy notice (privacy/views.py): who controls the data and how to reach them, and the template
# of its words (a hub's own privacy/notice_text_hub_<id>.html wins for that hub).
PRIVACY_CONTROLLER = env.str("PRIVACY_CONTROLLER", default="The teaching school hub that runs your NPQ")
PRIVACY_CONTACT_EMAIL = env.str("PRIVACY_CONTACT_EMAIL", default="")
PRIVACY_NOTICE_TEMPLATE = env.str("PRIVACY_NOTICE_TEMPLATE", default="privacy/notice_text.html")
# DfE's lead provider API v3 (dfe/, decisions.md 38). No DFE_API_URL: the link is off and the
# portal works on its own. Tokens are stored encrypted with DFE_TOKEN_KEY (a Fernet key).
DFE_API_URL = env.str("DFE_API_URL", default="")
DFE_TOKEN_KEY = env.str("DFE_TOKEN_KEY", default="")
DFE_CONNECT_TIMEOUT = env.float("DFE_CONNECT_TIMEOUT", default=5.0)
DFE_READ_TIMEOUT = env.float("DFE_READ_TIMEOUT", default=30.0)
# Reads (and writes DfE refused with 429) are retried with backoff: up to this many seconds at
# first, jittered, doubling to at most a minute; 5 tries in all.
DFE_RETRY_BACKOFF_SECONDS = env.float("DFE_RETRY_BACKOFF_SECONDS", default=1.0)
