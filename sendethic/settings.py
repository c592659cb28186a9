"""Settings, read from the environment (12-factor).

Two modes:
- development (the default, `make run`): SQLite in WAL mode, Celery on the kombu filesystem
  transport under var/, mail kept in the local outbox. Nothing to install.
- production (SENDETHIC_ENV=production): PostgreSQL and Redis from DATABASE_URL / REDIS_URL,
  a SECRET_KEY that must be given, HTTPS-only cookies and HSTS.
"""

import os
from datetime import timedelta
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(environ.Env().str("SENDETHIC_VAR_DIR", default=str(BASE_DIR / "var")))

env = environ.Env()
env.read_env(BASE_DIR / ".env", overwrite=False)

SENDETHIC_ENV = env.str("SENDETHIC_ENV", default="development")
if SENDETHIC_ENV not in {"development", "production"}:
    raise ImproperlyConfigured("SENDETHIC_ENV must be 'development' or 'production'.")
PRODUCTION = SENDETHIC_ENV == "production"

DEBUG = env.bool("DEBUG", default=not PRODUCTION)

if PRODUCTION:
    # A production instance must never fall back to a known key: fail at start-up instead.
    SECRET_KEY = env.str("SECRET_KEY", default="")
    if len(SECRET_KEY) < 50:
        raise ImproperlyConfigured("SECRET_KEY must be set (at least 50 characters) in production.")
    ALLOWED_HOSTS = env.list("ALLOWED_HOSTS")
else:
    SECRET_KEY = env.str("SECRET_KEY", default="dev-only-insecure-key-do-not-use-in-production")
    ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])

CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
# On the embedded default the links in sent mail follow the port `make run` serves on
# (WEB_PORT); an explicit PUBLIC_BASE_URL (production, behind a proxy) always wins.
PUBLIC_BASE_URL = env.str(
    "PUBLIC_BASE_URL", default=f"http://127.0.0.1:{env.int('WEB_PORT', default=8000)}"
).rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "django_celery_beat",
    "anymail",
    "phonenumber_field",
    "axes",
    "sendethic",
    "accounts",
    "apikeys",
    "contacts",
    "campaigns",
    "sms",
    "stats",
    "connectors",
    "automations",
]

MIDDLEWARE = [
    "sendethic.health.HealthCheckMiddleware",
    "sendethic.security.RejectNulBytesMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "accounts.middleware.CurrentAccountMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "sendethic.urls"
WSGI_APPLICATION = "sendethic.wsgi.application"

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
                "accounts.context_processors.current_account",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers and one writer work at once; IMMEDIATE transactions take the write lock
    # up front, so two transactions can never both read then both write (e.g. the API-key limit).
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
    # A file, not memory: with an in-memory test database Django's live server shares one
    # connection between its threads, and two requests calling the SHA-256 SQL function at once
    # deadlock inside sqlite3. One file per test run, so two runs never share it.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test-db-{os.getpid()}.sqlite3")}
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache and broker -------------------------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL or "filesystem://")
if CELERY_BROKER_URL.startswith("filesystem://"):
    _broker_dir = VAR_DIR / "broker"
    for _sub in ("queue", "processed", "control"):
        (_broker_dir / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "data_folder_processed": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }
else:
    # Longer than any task may run, so a late-acked task is not redelivered while it still runs.
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=3600)
    }
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_DEFAULT_QUEUE = "default"
# Queues by kind of work, so a big import never delays a campaign send (DESIGN §5).
CELERY_TASK_ROUTES = (
    "sendethic.celery.route_sends_by_channel",
    {
        "contacts.tasks.*": {"queue": "default"},
        "campaigns.tasks.*": {"queue": "email"},
        "stats.tasks.*": {"queue": "default"},
        "sms.tasks.*": {"queue": "sms"},
        "connectors.tasks.*": {"queue": "sync"},
        "automations.tasks.*": {"queue": "default"},
    },
)
CELERY_TASK_SOFT_TIME_LIMIT = 600
CELERY_TASK_TIME_LIMIT = 900
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_BEAT_SCHEDULE = {
    "start-due-campaigns": {"task": "campaigns.tasks.start_due_campaigns_task", "schedule": 30.0},
    "ingest-tracking-hits": {"task": "stats.tasks.ingest_tracking_hits_task", "schedule": 5.0},
    "resume-sms-after-legal-hours": {
        "task": "sms.tasks.resume_after_legal_hours_task",
        "schedule": 60.0,
    },
    "recover-expired-leases": {
        "task": "campaigns.tasks.recover_expired_leases_task",
        "schedule": 60.0,
    },
    "prune-outbox": {"task": "campaigns.tasks.prune_outbox_task", "schedule": 24 * 3600.0},
    "start-due-shop-syncs": {"task": "connectors.tasks.start_due_syncs_task", "schedule": 300.0},
    # Automation timers are rows: the tick sends one message per due batch (no ETA tasks).
    "dispatch-due-automation-steps": {
        "task": "automations.tasks.dispatch_due_steps_task",
        "schedule": 10.0,
    },
    "run-automation-date-triggers": {
        "task": "automations.tasks.run_date_triggers_task",
        "schedule": 300.0,
    },
    "run-automation-segment-triggers": {
        "task": "automations.tasks.run_segment_triggers_task",
        "schedule": 900.0,
    },
    "poll-abandoned-carts": {
        "task": "connectors.tasks.poll_abandoned_carts_task",
        "schedule": 900.0,
    },
}
# The embedded default's outbox (campaigns.OutboxMessage) keeps this many days of mail.
OUTBOX_RETENTION_DAYS = env.int("OUTBOX_RETENTION_DAYS", default=30)
# A claimed automation step not finished within this time is given to another worker.
AUTOMATION_LEASE_SECONDS = env.int("AUTOMATION_LEASE_SECONDS", default=300)
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TIMEZONE = "UTC"

# --- Auth ----------------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "accounts:dashboard"
LOGOUT_REDIRECT_URL = "accounts:login"
# django-axes first: it refuses a locked-out login before the password is even checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Five failed logins for one address from one IP lock that pair out for 15 minutes (keyed on
# both, so nobody can lock someone else out from elsewhere). Signups are throttled in
# accounts.throttle. Failed attempts are kept in the database (the admin lists them).
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
# The login form posts the address as "username" (Django's AuthenticationForm); axes would
# otherwise look for USERNAME_FIELD ("email") and count every failure under no name.
AXES_USERNAME_FORM_FIELD = "username"
AXES_VERBOSE = False
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- I18n ------------------------------------------------------------------------------------
LANGUAGE_CODE = "fr"
LANGUAGES = [("fr", _("French")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
USE_TZ = True
TIME_ZONE = "UTC"
PHONENUMBER_DEFAULT_REGION = "FR"

# --- Static files --------------------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "staticfiles"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # whitenoise warns about a missing directory
STATICFILES_DIRS = [BASE_DIR / "static"]
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
MEDIA_ROOT = VAR_DIR / "media"
# Uploaded images (block editor) live on the local disk in the embedded default, served by the app;
# with a bucket named, on S3 or any S3-compatible store (django-storages), which serves them to
# the recipients' mail clients itself. Credentials: AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY,
# read by boto3 from the environment, never from settings.
MEDIA_S3_BUCKET = env.str("MEDIA_S3_BUCKET", default="")
if MEDIA_S3_BUCKET:
    STORAGES["default"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": MEDIA_S3_BUCKET,
            "endpoint_url": env.str("MEDIA_S3_ENDPOINT_URL", default="") or None,
            "region_name": env.str("MEDIA_S3_REGION", default="") or None,
            "custom_domain": env.str("MEDIA_S3_CUSTOM_DOMAIN", default="") or None,
            "location": "media",
            # Images in emails are read by anyone's mail client: public, unsigned addresses that
            # do not expire; an upload never replaces another (names are made unique).
            "querystring_auth": False,
            "file_overwrite": False,
            "default_acl": env.str("MEDIA_S3_ACL", default="") or None,
        },
    }
    MEDIA_URL = env.str("MEDIA_URL", default="s3/")  # set: images are addressed by the store

# --- Email -------------------------------------------------------------------------------------
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Sendethic <no-reply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
SMTP_BACKEND = "campaigns.backends.DkimSigningSmtpBackend"  # Django's, plus DKIM signatures
if env.str("EMAIL_URL", default=""):
    globals().update(env.email_url("EMAIL_URL"))
    if EMAIL_BACKEND == "django.core.mail.backends.smtp.EmailBackend":  # noqa: F821
        EMAIL_BACKEND = SMTP_BACKEND
elif PRODUCTION:
    EMAIL_BACKEND = SMTP_BACKEND
else:
    # The embedded default keeps outgoing mail in its database instead of delivering it; each
    # account reads its own at /email/outbox/.
    EMAIL_BACKEND = "campaigns.backends.OutboxBackend"

# An ESP instead of SMTP: EMAIL_BACKEND=anymail.backends.<esp>.EmailBackend, with its settings
# as JSON in ANYMAIL, e.g. ANYMAIL='{"MAILGUN_API_KEY": "...", "MAILGUN_SENDER_DOMAIN": "..."}'.
EMAIL_BACKEND = env.str("EMAIL_BACKEND", default=EMAIL_BACKEND)  # noqa: F821
# The ESP reports bounces and complaints to /anymail/<esp>/tracking/ (Mandrill: /anymail/mandrill/);
# anymail refuses unsigned calls, so the same JSON holds the ESP's webhook key, e.g.
# "MAILGUN_WEBHOOK_SIGNING_KEY", or "MANDRILL_WEBHOOK_KEY" (plus "MANDRILL_WEBHOOK_URL", the public
# URL Mandrill signs, when a proxy hides it); for ESPs that only offer basic auth,
# "WEBHOOK_SECRET": "user:password", also written in the webhook URL given to the ESP.
ANYMAIL = env.json("ANYMAIL", default={})
DKIM_ENCRYPTION_KEY = env.str("DKIM_ENCRYPTION_KEY", default="")
# Encrypts shop credentials at rest (connectors.credentials); derived from SECRET_KEY when empty.
CONNECTOR_ENCRYPTION_KEY = env.str("CONNECTOR_ENCRYPTION_KEY", default="")
# The only shop hosts connectors may call (e.g. "127.0.0.1,localhost"); empty: any host.
CONNECTOR_SHOP_HOSTS = env.list("CONNECTOR_SHOP_HOSTS", default=[])
# Whether a shop URL may lead to a private, loopback or link-local address (connectors.platforms):
# never in production, where a tenant could otherwise make the workers call internal services.
CONNECTOR_ALLOW_PRIVATE_HOSTS = env.bool("CONNECTOR_ALLOW_PRIVATE_HOSTS", default=not PRODUCTION)
# Messages per second per account, unless the account has its own SendingPolicy.
EMAIL_SEND_RATE_PER_ACCOUNT = env.int("EMAIL_SEND_RATE_PER_ACCOUNT", default=100)

# --- SMS -----------------------------------------------------------------------------------------
# Chosen like EMAIL_BACKEND: the embedded default keeps every SMS in the database (each account
# reads its own at /sms/outbox/); sms.backends.twilio.SmsBackend hands them to Twilio's REST API
# (TWILIO_*); sms.backends.console / locmem for a terminal and for tests.
SMS_BACKEND = env.str("SMS_BACKEND", default="sms.backends.outbox.SmsBackend")
TWILIO_ACCOUNT_SID = env.str("TWILIO_ACCOUNT_SID", default="")
TWILIO_AUTH_TOKEN = env.str("TWILIO_AUTH_TOKEN", default="")
TWILIO_API_URL = env.str("TWILIO_API_URL", default="https://api.twilio.com")
# Twilio POSTs delivery receipts to PUBLIC_BASE_URL/sms/hooks/twilio/status/ (signed with the
# auth token); off when Twilio cannot reach this host.
TWILIO_STATUS_CALLBACKS = env.bool("TWILIO_STATUS_CALLBACKS", default=True)
# sms.backends.smpp.SmsBackend: one SMPP 3.4 transceiver session to the operator's SMSC.
SMPP_HOST = env.str("SMPP_HOST", default="")
SMPP_PORT = env.int("SMPP_PORT", default=2775)
SMPP_SYSTEM_ID = env.str("SMPP_SYSTEM_ID", default="")
SMPP_PASSWORD = env.str("SMPP_PASSWORD", default="")
SMPP_SYSTEM_TYPE = env.str("SMPP_SYSTEM_TYPE", default="")
SMPP_TIMEOUT = env.int("SMPP_TIMEOUT", default=10)
SMPP_ENQUIRE_LINK_SECONDS = env.int("SMPP_ENQUIRE_LINK_SECONDS", default=30)
# SMS per second per account (the provider's own limit: Twilio's long codes take about 1/s,
# alphanumeric senders and short codes far more).
SMS_SEND_RATE_PER_ACCOUNT = env.int("SMS_SEND_RATE_PER_ACCOUNT", default=50)
# The opt-out mention marketing SMS carry unless the account sets its own (per provider too):
# the French operators' common STOP number.
SMS_OPT_OUT_MENTION = env.str("SMS_OPT_OUT_MENTION", default="STOP au 36180")
# Price of one segment by currency, then by the number's country (ISO 3166 code; "*" for any
# other), as a decimal string; an account estimates and is billed in its SMS currency. JSON in
# SMS_PRICES replaces the whole table.
SMS_PRICES = env.json(
    "SMS_PRICES",
    default={
        "EUR": {
            "FR": "0.0450", "RE": "0.0900", "YT": "0.0900", "GP": "0.0900", "MQ": "0.0900",
            "GF": "0.0900", "BL": "0.0900", "MF": "0.0900", "PM": "0.0900", "BE": "0.0750",
            "CH": "0.0600", "LU": "0.0700", "DE": "0.0850", "ES": "0.0700", "IT": "0.0700",
            "*": "0.1000",
        },
        "CHF": {"CH": "0.0550", "FR": "0.0450", "*": "0.1000"},
        "USD": {"US": "0.0080", "CA": "0.0080", "FR": "0.0500", "*": "0.1100"},
    },
)  # fmt: skip

# --- Tracking, bounces, complaints (DESIGN §6) ------------------------------------------------------
# Soft bounces in a row after which an address is treated as a hard bounce (and suppressed).
SOFT_BOUNCE_LIMIT = env.int("SOFT_BOUNCE_LIMIT", default=3)
# A running campaign pauses itself when complaints / sent passes this rate, once it has sent
# at least COMPLAINT_PAUSE_MIN_SENT messages (a single complaint among the first few is noise).
COMPLAINT_RATE_PAUSE_THRESHOLD = env.float("COMPLAINT_RATE_PAUSE_THRESHOLD", default=0.001)
COMPLAINT_PAUSE_MIN_SENT = env.int("COMPLAINT_PAUSE_MIN_SENT", default=200)
# Opens or clicks this soon after the message was sent are a scanner's, not a person's.
MACHINE_EVENT_SECONDS = env.int("MACHINE_EVENT_SECONDS", default=2)
# Return path for direct SMTP: bounces go to <local>+<token>@<domain> (VERP), read back by
# `manage.py process_bounces`. Empty: the sender's own address is the return path.
BOUNCE_ADDRESS = env.str("BOUNCE_ADDRESS", default="")

# --- API -------------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "apikeys.authentication.ApiKeyBearerAuthentication",
        "apikeys.authentication.ApiKeyBasicAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["apikeys.authentication.HasApiKey"],
    "DEFAULT_THROTTLE_CLASSES": ["apikeys.throttling.ApiKeyRateThrottle"],
    "DEFAULT_PAGINATION_CLASS": "accounts.api_conventions.CursorPagination",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["accounts.api_parsers.BoundedJSONParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "accounts.api_conventions.exception_handler",
    "UNAUTHENTICATED_USER": None,
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    # `?format=` belongs to the export endpoints (csv/xlsx), not to renderer selection.
    "URL_FORMAT_OVERRIDE": None,
}
API_KEY_RATE = env.str("API_KEY_RATE", default="1200/minute")
API_KEYS_PER_ACCOUNT = 5
# How long a worker may hold a claimed batch of messages before it is presumed dead.
SEND_LEASE_SECONDS = env.int("SEND_LEASE_SECONDS", default=600)

SPECTACULAR_SETTINGS = {
    "TITLE": "Sendethic API",
    "DESCRIPTION": (
        "Everything a marketer does in the Sendethic UI, programmatically. Authenticate with "
        "`Authorization: Bearer <key>` or HTTP Basic `account_number:key`. Errors always have the "
        "shape `{code, message, fields}`."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI and ReDoc assets are served from the installed sidecar package, not a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "ConsentStatusEnum": "contacts.models.ConsentStatus",
        "DuplicatePolicyEnum": "contacts.models.DuplicatePolicy",
        "ImportStatusEnum": "contacts.models.ContactImport.Status",
        "ListMembershipStatusEnum": "contacts.models.ListMembership.Status",
        "BulkRowStatusEnum": ["created", "updated", "skipped", "error"],
        "CampaignStatusEnum": "campaigns.engine.models.SendableCampaign.Status",
        "MessageStatusEnum": "campaigns.engine.models.SendableMessage.Status",
        "SmsKindEnum": "sms.models.SmsCampaign.Kind",
        "ScenarioStepKindEnum": "automations.flow.KINDS",
        "ScenarioStatusEnum": "automations.models.Scenario.Status",
        "EnrolmentStatusEnum": "automations.models.Enrolment.Status",
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "accounts.api_conventions.add_error_responses",
        "contacts.api.segment_rules.add_rule_components",
    ],
}

# --- Security ------------------------------------------------------------------------------------
X_FRAME_OPTIONS = "DENY"
# How many reverse proxies in front of the web service append to X-Forwarded-For (sendethic/proxies.py).
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True
if PRODUCTION:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31_536_000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
}
