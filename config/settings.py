"""The one settings module. Every production behaviour is switched by an
environment variable (listed in .env.example); the defaults run on a laptop:
SQLite, Celery jobs inline, e-mail printed to the console."""

from datetime import date, timedelta
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from config.env import env_bool, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("VAR_DIR", str(BASE_DIR / "var")))

_env = environ.Env()

DEBUG = env_bool("DEBUG", True)
_DEV_SECRET = "dev-only-secret-key-not-for-production-9f3b7c1e5a2d8f4b6c0e1a3d5f7b9c2e"
SECRET_KEY = env_str("SECRET_KEY") or (_DEV_SECRET if DEBUG else None)
if not SECRET_KEY:
    raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

# Demo users with the password "demo" may only be created where this is on.
DEMO_MODE = env_bool("DEMO_MODE", DEBUG)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "crispy_forms",
    "crispy_bootstrap5",
    "import_export",
    "simple_history",
    "django_filters",
    "django_htmx",
    "axes",
    "common",
    "accounts",
    "customers",
    "orders",
    "delivery",
    "satisfaction",
    "complaints",
    "improvement",
    "samples",
    "customer_property",
    # Read from every app above; nothing reads from them.
    "dashboard",
    "records",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Hostile input refused before anything reads it (NUL bytes, an oversized login form); the security
    # headers (CSP, no caching of signed-in pages) on every response the app makes (issue 10).
    "common.middleware.HostileInputMiddleware",
    "common.middleware.SecurityHeadersMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "accounts.middleware.UserLanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # "Your change is saved; its e-mails and jobs wait for the queue" (common.jobs; after MessageMiddleware).
    "common.jobs.JobsWaitingMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # django-axes wants to be last (PITFALLS.md).
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
                "accounts.context_processors.navigation",
            ],
        },
    },
]

if not env_str("DATABASE_URL"):
    # The laptop default keeps its SQLite file under var/; make sure the folder exists.
    VAR_DIR.mkdir(parents=True, exist_ok=True)
DATABASES = {
    "default": _env.db_url_config(env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'db.sqlite3'}")),
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Wait for a writer instead of failing at once with "database is locked".
    DATABASES["default"].setdefault("OPTIONS", {})["timeout"] = 20
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env_int("DB_CONN_MAX_AGE", 60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    # PostgreSQL's JIT compiles the plans of the larger page queries (the delivery sheet: 4 s of compiling for a
    # query that runs in 0.3 s) on every request: off for this app's short queries (bench/loadtest).
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("options", "-c jit=off -c random_page_cost=1.1")

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

AUTHENTICATION_BACKENDS = [
    # django-axes first, so that a locked-out login never reaches the password check.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "accounts:my_work"
LOGOUT_REDIRECT_URL = "login"

# Login throttling: a few failures per user name and address, then a cool-off.
AXES_ENABLED = env_bool("AXES_ENABLED", True)
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("LOGIN_COOLOFF_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
# Behind the proxy every request comes from the proxy's address: the client's is the one the proxy appended to
# X-Forwarded-For (accounts.middleware.client_ip), so a stranger's failures never lock out someone else.
AXES_CLIENT_IP_CALLABLE = "accounts.middleware.client_ip"
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"

SESSION_COOKIE_AGE = env_int("SESSION_HOURS", 10) * 3600
SESSION_EXPIRE_AT_BROWSER_CLOSE = env_bool("SESSION_EXPIRE_AT_BROWSER_CLOSE", True)

LANGUAGE_CODE = env_str("LANGUAGE_CODE", "zh-hans")
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env_str("TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(VAR_DIR / "media")))
# Behind nginx: the app checks who may see a file and nginx sends it from an ``internal`` location with this prefix
# (README, "Production"). Empty: the app streams the file itself.
MEDIA_ACCEL_PREFIX = env_str("MEDIA_ACCEL_PREFIX", "")
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
# Request bodies: form fields (files excluded) at most this much; uploads are limited per type (scans,
# order originals, imports) where they are cleaned (common.uploads); the login form takes a few fields only.
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("DATA_UPLOAD_MAX_MB", 5) * 1024 * 1024
DATA_UPLOAD_MAX_NUMBER_FIELDS = 5000
DATA_UPLOAD_MAX_NUMBER_FILES = 20
LOGIN_MAX_BODY_BYTES = env_int("LOGIN_MAX_BODY_BYTES", 4 * 1024)
# The largest request body, checked against Content-Length before the body is received (413 beyond it;
# common.middleware): a form with files (scans: signed notes, originals, evidence) at most SCAN_MAX_BODY_MB, the
# customer import its file's limit, the login form LOGIN_MAX_BODY_BYTES, any other form DATA_UPLOAD_MAX_MEMORY_SIZE.
# A little is added for the form's other fields and the multipart framing.
_FORM_FRAMING = 256 * 1024
UPLOAD_MAX_BODY_BYTES = env_int("SCAN_MAX_BODY_MB", 20) * 1024 * 1024 + _FORM_FRAMING

STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        # Hashed names need `collectstatic`; on a laptop (DEBUG) files come straight from static/.
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if env_bool("STATIC_MANIFEST", not DEBUG)
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        ),
    },
}

# Labels start with a capital, decimals show without trailing zeros, in every form (common.forms).
FORM_RENDERER = "common.forms.FormRenderer"
CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# --- Jobs: Celery on Redis when REDIS_URL is set, otherwise inline in the web process.
REDIS_URL = env_str("REDIS_URL", "")
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_RESULT_BACKEND = REDIS_URL
    CELERY_TASK_ALWAYS_EAGER = False
    CACHES = {
        "default": {
            # A Redis outage makes it an empty cache instead of a server error (common.cache).
            "BACKEND": "common.cache.ResilientRedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env_str("CACHE_PREFIX", "orderreview"),
        }
    }
    # Sessions read from Redis, written through to the database: one query less on every page, and a Redis outage
    # (an empty cache, above) falls back to the database without signing anyone out.
    SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
else:
    CELERY_TASK_ALWAYS_EAGER = True
    CELERY_TASK_EAGER_PROPAGATES = True
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_IGNORE_RESULT = True
# If the broker is down, give up quickly so that the web request can say so.
CELERY_BROKER_CONNECTION_TIMEOUT = 3
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.5}
# WeasyPrint leaks in long-lived workers (PITFALLS.md).
CELERY_WORKER_MAX_TASKS_PER_CHILD = env_int("CELERY_MAX_TASKS_PER_CHILD", 200)

# --- E-mail: EMAIL_URL in the usual URL form (smtp://user:pass@host:587, consolemail://, filemail:///dir).
_email_url = env_str("EMAIL_URL", "consolemail://")
vars().update(_env.email_url_config(_email_url))
if _email_url.startswith("filemail:///"):
    # filemail:///var/mail/app is the absolute directory /var/mail/app; django-environ drops the leading slash,
    # which would put the mail relative to wherever the process was started.
    EMAIL_FILE_PATH = "/" + _email_url[len("filemail:///") :].lstrip("/")
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "order-review@localhost")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# The address of the app as users reach it, for links in e-mails.
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000")

# --- Printed documents (WeasyPrint). The CJK font is named explicitly (PITFALLS.md): a font file with
# Simplified Chinese glyphs; Debian's fonts-wqy-microhei is installed by `make setup`.
PDF_CJK_FONT = env_str("PDF_CJK_FONT", "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")
# The fallback for the rarer characters of company names the main font lacks (Debian's fonts-noto-cjk, installed
# by `make setup`); empty: no fallback.
PDF_CJK_FALLBACK_FONT = env_str("PDF_CJK_FALLBACK_FONT", "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")
COMPANY_NAME_ZH = env_str("COMPANY_NAME_ZH", "示例制造有限公司")
COMPANY_NAME_EN = env_str("COMPANY_NAME_EN", "Example Manufacturing Co., Ltd.")

# --- Delivery. The continuous form for multi-copy delivery notes is 241 mm wide; its height varies by printer.
DELIVERY_FORM_HEIGHT_MM = env_int("DELIVERY_FORM_HEIGHT_MM", 140)
# Delivery notes not signed back after this many days are chased in My work (§5.8).
SIGNBACK_CHASE_DAYS = env_int("SIGNBACK_CHASE_DAYS", 3)

# --- Orders.
ORDER_ORIGINAL_MAX_MB = env_int("ORDER_ORIGINAL_MAX_MB", 15)
# Review steps waiting longer than this many working days (common.workdays) are shown as overdue.
REVIEW_OVERDUE_WORKING_DAYS = env_int("REVIEW_OVERDUE_WORKING_DAYS", 2)

# --- Imports.
IMPORT_EXPORT_USE_TRANSACTIONS = True
IMPORT_EXPORT_SKIP_ADMIN_LOG = False
IMPORT_EXPORT_ESCAPE_FORMULAE_ON_EXPORT = True
IMPORT_MAX_UPLOAD_MB = env_int("IMPORT_MAX_UPLOAD_MB", 10)
# Refused before a reader loads it (common.uploads.check_xlsx): what the zip unpacks to, and any cell's text.
IMPORT_MAX_UNPACKED_MB = env_int("IMPORT_MAX_UNPACKED_MB", 100)
IMPORT_MAX_CELL_CHARS = env_int("IMPORT_MAX_CELL_CHARS", 2000)
# Request body limits by URL name (common.middleware.body_limit); other addresses: see UPLOAD_MAX_BODY_BYTES.
REQUEST_BODY_LIMITS = {
    "login": LOGIN_MAX_BODY_BYTES,
    "admin:customers_customer_import": IMPORT_MAX_UPLOAD_MB * 1024 * 1024 + _FORM_FRAMING,
}
# Files with more rows than this are previewed and imported by a background job.
IMPORT_INLINE_MAX_ROWS = env_int("IMPORT_INLINE_MAX_ROWS", 300)

# --- Security. Off on a laptop, on by default as soon as DEBUG is off.
BEHIND_TLS_PROXY = env_bool("BEHIND_TLS_PROXY", False)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if BEHIND_TLS_PROXY else None
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", not DEBUG)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# Django 5.2 has no CSP of its own (common.middleware sets the header). No inline script anywhere: page
# behaviour lives in static/js; styles may be inline (htmx and Chart.js set them).
CONTENT_SECURITY_POLICY = env_str(
    "CONTENT_SECURITY_POLICY",
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "
    "frame-ancestors 'self'",
)

# --- Odd input: typed dates outside this range are refused (notes, batches, incidents, transfers).
SANE_DATE_MIN = date(2000, 1, 1)
SANE_DATE_MAX_YEARS_AHEAD = env_int("SANE_DATE_MAX_YEARS_AHEAD", 5)
X_FRAME_OPTIONS = "DENY"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        # WeasyPrint reports missing glyphs here; keep them visible.
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "ERROR"},
    },
}

SITE_NAME = _("Order review & customer satisfaction")

# --- Delivery: the daily delivery-progress sheet 《订单交货进度表》 (§5.4.2), e-mailed by Celery beat.
from celery.schedules import crontab  # noqa: E402

DELIVERY_SHEET_TIME = env_str("DELIVERY_SHEET_TIME", "08:00")  # HH:MM, local time (TIME_ZONE)
try:
    _sheet_hour, _sheet_minute = (int(part) for part in DELIVERY_SHEET_TIME.split(":"))
    if not (0 <= _sheet_hour < 24 and 0 <= _sheet_minute < 60):
        raise ValueError
except ValueError:
    raise ImproperlyConfigured(f"DELIVERY_SHEET_TIME={DELIVERY_SHEET_TIME!r} is not a time HH:MM") from None
# Empty: the active users of Customer Service, Marketing, PMC, Quality, Warehouse and Customs.
DELIVERY_SHEET_RECIPIENTS = env_list("DELIVERY_SHEET_RECIPIENTS", [])
CELERY_BEAT_SCHEDULE = vars().get("CELERY_BEAT_SCHEDULE", {})
CELERY_BEAT_SCHEDULE["delivery-progress-sheet"] = {
    "task": "delivery.tasks.send_daily_sheet",
    "schedule": crontab(hour=_sheet_hour, minute=_sheet_minute),
}
# §5.5.1: batches due tomorrow and not ready are announced every afternoon at this hour (local time).
DELIVERY_READINESS_HOUR = env_int("DELIVERY_READINESS_HOUR", 16)
CELERY_BEAT_SCHEDULE["delivery-not-ready"] = {
    "task": "delivery.note_tasks.announce_not_ready",
    "schedule": crontab(hour=DELIVERY_READINESS_HOUR, minute=0),
}

# --- The outbox (common.outbox): every e-mail is a row first, delivered by a worker; swept every minute.
OUTBOX_MAX_ATTEMPTS = env_int("OUTBOX_MAX_ATTEMPTS", 5)
# The on-time rate (§5.5.2): a month is closed this many days after its end and kept as a record.
ONTIME_CLOSE_DAYS = env_int("ONTIME_CLOSE_DAYS", 5)
# The managers' dashboard draws the on-time rate against this target (percent, e.g. 95 or 97.5).
try:
    from decimal import Decimal as _Decimal
    from decimal import InvalidOperation as _InvalidOperation

    ONTIME_TARGET = _Decimal((env_str("ONTIME_TARGET", "") or "95").strip())
    if not 0 <= ONTIME_TARGET <= 100:
        raise ValueError
except (ValueError, _InvalidOperation):
    raise ImproperlyConfigured("ONTIME_TARGET must be a percentage from 0 to 100, e.g. 95") from None
CELERY_BEAT_SCHEDULE["ontime-close-months"] = {
    "task": "delivery.tasks.close_ontime_months",
    "schedule": crontab(hour=6, minute=10),
}
CELERY_BEAT_SCHEDULE["outbox-sweep"] = {"task": "common.tasks.deliver_outbox", "schedule": 60.0}
# The managers' dashboard: its figures are counted in the background this often and kept (dashboard.snapshot).
DASHBOARD_REFRESH_SECONDS = 300
CELERY_BEAT_SCHEDULE["dashboard-figures"] = {
    "task": "dashboard.tasks.refresh_figures",
    "schedule": DASHBOARD_REFRESH_SECONDS,
}

# --- Background jobs whose worker died (killed, out of memory): a job still "in progress" after its kind's age
# limit (minutes since its last sign of life) is failed with a reason and a "try again" (common.stale). Swept by
# beat and also when its page is shown. An import or print job reports progress as it goes; keep each limit well
# above the longest step (one chunk of notes, a whole 10,000-row import, an e-mail with its retries).
JOB_STALE_MINUTES = {
    "import": env_int("JOB_STALE_MINUTES_IMPORT", 30),
    "print": env_int("JOB_STALE_MINUTES_PRINT", 15),
    "acknowledgement": env_int("JOB_STALE_MINUTES_ACKNOWLEDGEMENT", 30),
    "sheet": env_int("JOB_STALE_MINUTES_SHEET", 60),
    "archive": env_int("JOB_STALE_MINUTES_ARCHIVE", 30),  # records archives (records.archive)
}
if any(minutes < 1 for minutes in JOB_STALE_MINUTES.values()):
    raise ImproperlyConfigured(f"JOB_STALE_MINUTES_* must be at least 1 minute: {JOB_STALE_MINUTES}")
# Fault injection (tests/faults only): a folder where jobs pause at common.faults.pause_point. Never set in production.
FAULT_PAUSE_DIR = env_str("FAULT_PAUSE_DIR", "")
CELERY_BEAT_SCHEDULE["stale-imports"] = {"task": "customers.tasks.sweep_stale_imports", "schedule": 300.0}
CELERY_BEAT_SCHEDULE["stale-acknowledgements"] = {
    "task": "orders.tasks.sweep_stale_acknowledgements",
    "schedule": 300.0,
}
# Also sends today's sheet when its time has passed and it was not sent (beat or worker down at that time).
CELERY_BEAT_SCHEDULE["stale-delivery-jobs"] = {"task": "delivery.tasks.sweep_stale_jobs", "schedule": 300.0}
CELERY_BEAT_SCHEDULE["stale-record-archives"] = {"task": "records.tasks.sweep_stale_archives", "schedule": 300.0}

# --- Customer satisfaction surveys (§5.11, §5.12.4).
# Half-year rounds are opened as drafts on these days (MM-DD: the first for H1, the second for H2).
SURVEY_OPEN_DAYS = env_list("SURVEY_OPEN_DAYS", ["06-20", "12-20"])
try:
    if len(SURVEY_OPEN_DAYS) != 2:
        raise ValueError
    SURVEY_OPEN_DAYS = [tuple(int(part) for part in day.split("-")) for day in SURVEY_OPEN_DAYS]
    for _month, _day in SURVEY_OPEN_DAYS:
        if not (1 <= _month <= 12 and 1 <= _day <= 31):
            raise ValueError
except ValueError:
    raise ImproperlyConfigured("SURVEY_OPEN_DAYS must be two days MM-DD, e.g. 06-20,12-20") from None
SURVEY_RESPONSE_DAYS = env_int("SURVEY_RESPONSE_DAYS", 30)  # a new round's deadline: this many days after opening
SURVEY_TARGET_PERCENT = env_int("SURVEY_TARGET_PERCENT", 80)  # §5.11.1: at least 80% of customers answer
# §5.11.1 "20WPCS以上、送货3次以上": the thresholds, and whether both (and) or either (or) must hold.
SURVEY_MIN_QUANTITY = env_int("SURVEY_MIN_QUANTITY", 200_000)
SURVEY_MIN_DELIVERIES = env_int("SURVEY_MIN_DELIVERIES", 3)
SURVEY_VOLUME_RULE = env_str("SURVEY_VOLUME_RULE", "and")
if SURVEY_VOLUME_RULE not in ("and", "or"):
    raise ImproperlyConfigured("SURVEY_VOLUME_RULE must be 'and' or 'or'")
# Reminders: at most this many per invitation, at least this many days apart.
SURVEY_REMINDER_MAX = env_int("SURVEY_REMINDER_MAX", 3)
SURVEY_REMINDER_GAP_DAYS = env_int("SURVEY_REMINDER_GAP_DAYS", 5)
SURVEY_REMINDER_HOUR = env_int("SURVEY_REMINDER_HOUR", 9)
# §5.12.4 bands: the lowest score of very satisfied, satisfied, fairly satisfied, dissatisfied (below the last:
# very dissatisfied). Scores have one decimal: "above 98" starts at 98.1.
SURVEY_BANDS = env_list("SURVEY_BANDS", ["98.1", "90.1", "75.1", "60"])
try:
    from decimal import Decimal as _Decimal

    SURVEY_BANDS = [_Decimal(value) for value in SURVEY_BANDS]
    if len(SURVEY_BANDS) != 4 or SURVEY_BANDS != sorted(SURVEY_BANDS, reverse=True):
        raise ValueError
except (ValueError, ArithmeticError):
    raise ImproperlyConfigured("SURVEY_BANDS must be four falling scores, e.g. 98.1,90.1,75.1,60") from None
# When a customer both answered our form and sent its own scorecard in a round's period: which counts.
SURVEY_SCORECARD_PRECEDENCE = env_str("SURVEY_SCORECARD_PRECEDENCE", "survey")
if SURVEY_SCORECARD_PRECEDENCE not in ("survey", "scorecard"):
    raise ImproperlyConfigured("SURVEY_SCORECARD_PRECEDENCE must be 'survey' or 'scorecard'")
# The round's score: the plain mean of its customers' scores ("customer") or weighted by quantity delivered.
SURVEY_ROUND_WEIGHTING = env_str("SURVEY_ROUND_WEIGHTING", "customer")
if SURVEY_ROUND_WEIGHTING not in ("customer", "quantity"):
    raise ImproperlyConfigured("SURVEY_ROUND_WEIGHTING must be 'customer' or 'quantity'")
# The public survey page: requests per minute from one address.
SURVEY_PUBLIC_RATE_LIMIT = env_int("SURVEY_PUBLIC_RATE_LIMIT", 60)
CELERY_BEAT_SCHEDULE["survey-open-rounds"] = {
    "task": "satisfaction.tasks.open_due_rounds",
    "schedule": crontab(hour=7, minute=30),
}
CELERY_BEAT_SCHEDULE["survey-reminders"] = {
    "task": "satisfaction.tasks.send_reminders",
    "schedule": crontab(hour=SURVEY_REMINDER_HOUR, minute=0),
}

# --- Complaints (§5.10.2): working days (common.workdays) each step may take before it shows as overdue.
COMPLAINT_ACK_DAYS = env_int("COMPLAINT_ACK_DAYS", 1)  # received → acknowledged to the customer
COMPLAINT_INVESTIGATE_DAYS = env_int("COMPLAINT_INVESTIGATE_DAYS", 5)  # acknowledged → investigated
COMPLAINT_ANSWER_DAYS = env_int("COMPLAINT_ANSWER_DAYS", 2)  # investigated → answer sent to the customer
COMPLAINT_ACCEPT_DAYS = env_int("COMPLAINT_ACCEPT_DAYS", 10)  # answered → closed (the customer's acceptance)

# --- Corrective actions (§5.12.6): owners of overdue actions and of actions to verify are e-mailed daily.
ACTION_REMINDER_HOUR = env_int("ACTION_REMINDER_HOUR", 8)
CELERY_BEAT_SCHEDULE["action-reminders"] = {
    "task": "improvement.tasks.remind_actions",
    "schedule": crontab(hour=ACTION_REMINDER_HOUR, minute=30),
}
