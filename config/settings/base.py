"""Settings shared by every environment, read from the environment with django-environ.

Every variable is listed, with its default, in the README's Configuration section.
"""

from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent.parent
env = environ.Env()
if (BASE_DIR / ".env").exists():
    environ.Env.read_env(BASE_DIR / ".env")

# Runtime state of the embedded default (SQLite file, filesystem broker, beat schedule).
VAR_DIR = Path(env("REDRESS_VAR_DIR", default=str(BASE_DIR / "var")))

# --- Core -------------------------------------------------------------------------------
DEBUG = env.bool("DJANGO_DEBUG", default=False)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])

INSTALLED_APPS = [
    "config.apps.RedressAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "axes",
    "csp",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "accounts",
    "complaints",
    "escalation",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Content-Security-Policy on every page, error pages included (policy at the end).
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # A clash between two saves at the same moment is a clear page, never a database error.
    "complaints.middleware.IntegrityErrorMiddleware",
    # Last, as its documentation asks: turns a locked-out login into the lockout page.
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
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "complaints.context_processors.company",
            ],
        },
    },
]

# --- Database ---------------------------------------------------------------------------
# SQLite by default (no server needed); PostgreSQL when DATABASE_URL is set.
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'redress.sqlite3'}"),
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Web, worker and beat share one file: take the write lock at BEGIN (no deadlock
    # upgrades), wait for it rather than fail, and let readers run beside a writer.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
else:
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"].endswith("postgresql"):
    # No JIT compiling: it is for long analytical queries, and on ours it added 50-80 ms to
    # each large dashboard query and 1.7 s to one register query at 1M (bench/README.md).
    options = DATABASES["default"].setdefault("OPTIONS", {})
    if "jit" not in options.get("options", ""):
        options["options"] = f"{options.get('options', '')} -c jit=off".strip()
# Keep each process's connection between requests: opening one (and, on SQLite, running
# the PRAGMAs above) cost more than a whole signed-in page's queries (bench/pages.py).
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("DJANGO_CONN_MAX_AGE", default=60))
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Auth -------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "complaints:my-complaints"
LOGOUT_REDIRECT_URL = "complaints:home"
AUTHENTICATION_BACKENDS = [
    # Refuses logins while an address or an account is locked out for guessing.
    "axes.backends.AxesStandaloneBackend",
    # ModelBackend, with the permissions read in one query instead of two.
    "accounts.backends.PermissionsBackend",
]
# Login throttling (django-axes, accounts/throttle.py): 5 failures for one account from one
# address pause that account from that address only (so nobody can lock a named person
# out everywhere), and 50 from one address across accounts pause that address, for 15
# minutes. The client address is REMOTE_ADDR, or taken from X-Forwarded-For only as far
# as REDRESS_TRUSTED_PROXIES proxies of ours set it, so a forged header cannot reset it.
AXES_FAILURE_LIMIT = env.int("REDRESS_LOGIN_FAILURE_LIMIT", default=5)
REDRESS_LOGIN_ADDRESS_FAILURE_LIMIT = env.int("REDRESS_LOGIN_ADDRESS_FAILURE_LIMIT", default=50)
AXES_COOLOFF_TIME = env.float("REDRESS_LOGIN_COOLOFF_HOURS", default=0.25)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_HANDLER = "accounts.throttle.AccountAndAddressHandler"
AXES_USERNAME_CALLABLE = "accounts.throttle.login_name"
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "accounts.throttle.client_ip"
AXES_LOCKOUT_CALLABLE = "accounts.throttle.lockout_response"
AXES_VERBOSE = False
REDRESS_TRUSTED_PROXIES = env.int("REDRESS_TRUSTED_PROXIES", default=0)
# Staff sign in with a one-time code from an authenticator app as well as their password
# (django-otp, TOTP). Enrol a member of staff with `manage.py staff_totp EMAIL`.
REDRESS_STAFF_2FA = env.bool("REDRESS_STAFF_2FA", default=False)
# Signed links in emails (confirm your email address) stop working after this long.
REDRESS_CONFIRM_LINK_DAYS = env.int("REDRESS_CONFIRM_LINK_DAYS", default=3)
# Issue 16 item 4: the satisfaction question's signed link in a closing notice works this
# long; notices written by the deadline jobs (no request) name the portal at this address.
REDRESS_SATISFACTION_LINK_DAYS = env.int("REDRESS_SATISFACTION_LINK_DAYS", default=90)
REDRESS_PORTAL_URL = env("REDRESS_PORTAL_URL", default="http://127.0.0.1:8000")
# Files a customer may attach to a complaint or a reply.
REDRESS_PORTAL_MAX_FILES = 5
# Issue 15: a customer's recorded needs are due for review this many months after they
# were recorded (or last reviewed); the desk's "Needs due for review" list shows them.
REDRESS_NEEDS_REVIEW_MONTHS = env.int("REDRESS_NEEDS_REVIEW_MONTHS", default=12)
# UK GDPR retention: a customer's personal data is anonymised this long after their last
# complaint closed (the case history is kept); see accounts/retention.py.
REDRESS_RETENTION_YEARS = env.int("REDRESS_RETENTION_YEARS", default=6)
# Subject access requests: warn this many working days before one is due, and write to the
# data-protection lead at this address (empty: the alerts are in the staff desk only).
REDRESS_SAR_WARNING_WORKING_DAYS = env.int("REDRESS_SAR_WARNING_WORKING_DAYS", default=5)
REDRESS_DATA_PROTECTION_EMAIL = env("REDRESS_DATA_PROTECTION_EMAIL", default="")
# Recurring problems (issue 16 item 2): managers are alerted once when this many complaints
# share a root cause, or a category and product, within this many working days.
REDRESS_RECURRING_THRESHOLD = env.int("REDRESS_RECURRING_THRESHOLD", default=5)
REDRESS_RECURRING_WINDOW_WORKING_DAYS = env.int("REDRESS_RECURRING_WINDOW_WORKING_DAYS", default=10)
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- Internationalisation -------------------------------------------------------------
# The service is in English only. With translation off every label is used as written
# (a translation lookup per label cost the staff queue 15%); dates keep the en-GB formats.
LANGUAGE_CODE = "en-gb"
TIME_ZONE = "Europe/London"
USE_I18N = False
USE_TZ = True

# --- Static files -----------------------------------------------------------------------
STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env("DJANGO_STATIC_ROOT", default=str(BASE_DIR / "staticfiles")))
MEDIA_ROOT = Path(env("DJANGO_MEDIA_ROOT", default=str(VAR_DIR / "media")))
MEDIA_URL = "media/"

# --- Stored files (attachments, letters, raw emails, bundles) ---------------------------
# The embedded default keeps them on this host's disk (MEDIA_ROOT). With REDRESS_S3_BUCKET
# set they go to a private S3 (or S3-compatible) bucket shared by every web and worker host
# (issue 17; complaints/storage.py). Downloads always go through our permission-checked
# views, which stream from storage; no link to the bucket is ever handed out.
# Empty credentials fall back to boto3's own chain (AWS_* variables, an instance role).
REDRESS_S3_BUCKET = env("REDRESS_S3_BUCKET", default="")
if REDRESS_S3_BUCKET:
    _S3_OPTIONS = {
        "bucket_name": REDRESS_S3_BUCKET,
        "endpoint_url": env("REDRESS_S3_ENDPOINT_URL", default=""),
        "region_name": env("REDRESS_S3_REGION", default=""),
        "access_key": env("REDRESS_S3_ACCESS_KEY_ID", default=""),
        "secret_key": env("REDRESS_S3_SECRET_ACCESS_KEY", default=""),
        "addressing_style": env("REDRESS_S3_ADDRESSING_STYLE", default=""),
        "location": env("REDRESS_S3_PREFIX", default="").strip("/"),
    }
    STORAGE_DEFAULT = {
        "BACKEND": "complaints.storage.PrivateS3Storage",
        "OPTIONS": {k: v for k, v in _S3_OPTIONS.items() if v or k == "location"},
    }
else:
    STORAGE_DEFAULT = {"BACKEND": "django.core.files.storage.FileSystemStorage"}
STORAGES = {
    "default": STORAGE_DEFAULT,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# --- Email ------------------------------------------------------------------------------
EMAIL_BACKEND = env(
    "DJANGO_EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend"
)
DEFAULT_FROM_EMAIL = env("DJANGO_DEFAULT_FROM_EMAIL", default="complaints@sovisionit.com")

# --- Celery -----------------------------------------------------------------------------
# Default: kombu's filesystem transport under var/, which needs no server and works with
# a real `celery worker` and `celery beat` in separate processes. Production: Redis.
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default="filesystem://")
CELERY_BROKER_FILESYSTEM_DIR = VAR_DIR / "broker"
if CELERY_BROKER_URL.startswith("filesystem://"):
    # kombu's transport, writing each message atomically (see config/kombu_filesystem.py).
    CELERY_BROKER_TRANSPORT = "config.kombu_filesystem:Transport"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(CELERY_BROKER_FILESYSTEM_DIR / "queue"),
        "data_folder_out": str(CELERY_BROKER_FILESYSTEM_DIR / "queue"),
        "processed_folder": str(CELERY_BROKER_FILESYSTEM_DIR / "processed"),
        "control_folder": str(CELERY_BROKER_FILESYSTEM_DIR / "control"),
        "store_processed": False,
        # kombu waits this long between looks at the folder; its default of 1 s caps a
        # worker at about one task per second whenever it is at its prefetch limit.
        "polling_interval": 0.1,
    }
else:
    # A task not acknowledged within this time is redelivered; no countdown may exceed it.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_TASK_IGNORE_RESULT = True
CELERY_RESULT_BACKEND = None
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=300)
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=240)
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
# Where the daily checkpoint of the case history is appended (checkpoints.jsonl and its
# heads files): point it at storage the application cannot rewrite (README, Reliability).
REDRESS_HISTORY_CHECKPOINT_DIR = Path(
    env("REDRESS_HISTORY_CHECKPOINT_DIR", default=str(VAR_DIR / "history-checkpoints"))
)
# Seconds between beat heartbeats (proves worker and beat are alive).
REDRESS_HEARTBEAT_SECONDS = env.float("REDRESS_HEARTBEAT_SECONDS", default=60.0)

# --- The Code: calendar and policy -----------------------------------------------------
# Working days: Monday to Friday less bank holidays of this country and subdivision
# (holidays package; "ENG" gives England and Wales).
REDRESS_HOLIDAY_COUNTRY = env("REDRESS_HOLIDAY_COUNTRY", default="GB")
REDRESS_HOLIDAY_SUBDIVISION = env("REDRESS_HOLIDAY_SUBDIVISION", default="ENG")
REDRESS_OFFICE_OPENS = env("REDRESS_OFFICE_OPENS", default="09:00")
REDRESS_OFFICE_CLOSES = env("REDRESS_OFFICE_CLOSES", default="17:00")
# Which set of policy versions applies to newly made complaints: "code" (the Code's own
# numbers) or "regulator-2026" (the regulator's rules as reported in 2025-26).
REDRESS_POLICY_SET = env("REDRESS_POLICY_SET", default="code")

# --- The company and the ADR scheme (COP-02, COP-20): shown on pages and letters --------
REDRESS_COMPANY = {
    "name": env("REDRESS_COMPANY_NAME", default="soVision IT Ltd"),
    "phone": env("REDRESS_COMPANY_PHONE", default="0117 986 4026"),
    "office_hours": env("REDRESS_OFFICE_HOURS_TEXT", default="9am to 5pm, Monday to Friday"),
    "support_email": env("REDRESS_SUPPORT_EMAIL", default="support@sovision.com"),
    "accounts_email": env("REDRESS_ACCOUNTS_EMAIL", default="accounts@sovisionit.com"),
    "postal_address": env(
        "REDRESS_POSTAL_ADDRESS",
        default="Customer Services - Complaints, soVision IT Ltd, Avon House, "
        "Avon Mill Lane, Keynsham, Bristol BS31 2UG",
    ),
    "company_secretary_address": env(
        "REDRESS_COMPANY_SECRETARY_ADDRESS",
        default="Company Secretary, soVision IT Ltd, Avon House, Avon Mill Lane, "
        "Keynsham, Bristol BS31 2UG",
    ),
    "registration": env("REDRESS_COMPANY_REGISTRATION", default="Company Reg. 10714018"),
    "website": env("REDRESS_COMPANY_WEBSITE", default="www.sovisionit.com"),
}
REDRESS_ADR_SCHEME = {
    "name": env("REDRESS_ADR_NAME", default="Ombudsman Services: Communications"),
    "postal_address": env("REDRESS_ADR_ADDRESS", default="PO Box 730, Warrington WA4 6WU"),
    "phone": env("REDRESS_ADR_PHONE", default="0330 440 1614 or 01925 430 049"),
    "email": env("REDRESS_ADR_EMAIL", default="enquiries@os-communications.org"),
    "website": env(
        "REDRESS_ADR_WEBSITE", default="http://www.ombudsman-services.org/communications.html"
    ),
}

# --- Logging ----------------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("DJANGO_LOG_LEVEL", default="INFO")},
    # django-axes logs every successful login at INFO; lockouts are still logged.
    "loggers": {"axes": {"level": "WARNING"}},
}

# --- Deadline jobs ----------------------------------------------------------------------
# Seconds between sweeps of due deadlines and of the outbox (Celery beat).
REDRESS_SWEEP_SECONDS = env.float("REDRESS_SWEEP_SECONDS", default=60.0)
REDRESS_OUTBOX_SECONDS = env.float("REDRESS_OUTBOX_SECONDS", default=60.0)
# Attempts at sending one notice before it is marked failed for staff to act on.
REDRESS_OUTBOX_MAX_ATTEMPTS = env.int("REDRESS_OUTBOX_MAX_ATTEMPTS", default=8)
# PostgreSQL: the deadline sweep's transactions (one per complaint) commit without waiting
# for their WAL to reach the disk (synchronous_commit off for the sweep's session, issue
# 17). A crash of the database server can lose the last fraction of a second of them,
# each whole: its alarms come back with it and the next sweep fires them again. Nothing
# leaves the system from one before it is on disk: the notice and webhook outboxes claim a
# row in a transaction of their own, committed and flushed before they send, and a flush
# covers every commit before it.
REDRESS_SWEEP_ASYNCHRONOUS_COMMIT = env.bool("REDRESS_SWEEP_ASYNCHRONOUS_COMMIT", default=True)
# Working days before the ADR scheme's deadline for our case file that the reviewing
# senior manager and the managers are reminded (COP-18); an overdue alert follows at it.
REDRESS_CASE_FILE_WARNING_WORKING_DAYS = env.int(
    "REDRESS_CASE_FILE_WARNING_WORKING_DAYS", default=2
)

# --- Inbound email (COP-05) -----------------------------------------------------------------
# Which department each complaints mailbox feeds. Defaults: the Code's own two addresses.
REDRESS_MAILBOXES = {
    REDRESS_COMPANY["support_email"].lower(): "technical_support",
    REDRESS_COMPANY["accounts_email"].lower(): "accounts",
}
# What each department does first, told to the customer in the acknowledgement (COP-05).
REDRESS_IMMEDIATE_ACTION = {
    "technical_support": env(
        "REDRESS_IMMEDIATE_ACTION_TECHNICAL",
        default="A member of our technical support team will review your complaint, check "
        "your service and our system records, and contact any supplier involved.",
    ),
    "accounts": env(
        "REDRESS_IMMEDIATE_ACTION_ACCOUNTS",
        default="A member of our accounts department will review your account, invoices "
        "and payments to find out what went wrong.",
    ),
    "company_secretary": env(
        "REDRESS_IMMEDIATE_ACTION_COMPANY_SECRETARY",
        default="Our Company Secretary will review how we applied our Complaints Code of "
        "Practice to your case.",
    ),
}
# Our receiving mail server's authserv-id (RFC 8601): the topmost Authentication-Results
# header it writes decides whether a message's From address is believed (SPF, DKIM,
# DMARC). Empty: no header is trusted and senders are not checked.
REDRESS_MAIL_AUTHSERV_ID = env("REDRESS_MAIL_AUTHSERV_ID", default="")
# IMAP poller: credentials come from the environment only, never the database.
REDRESS_IMAP_HOST = env("REDRESS_IMAP_HOST", default="")
REDRESS_IMAP_PORT = env.int("REDRESS_IMAP_PORT", default=993)
REDRESS_IMAP_SSL = env.bool("REDRESS_IMAP_SSL", default=True)
REDRESS_IMAP_USER = env("REDRESS_IMAP_USER", default="")
REDRESS_IMAP_PASSWORD = env("REDRESS_IMAP_PASSWORD", default="")
REDRESS_IMAP_FOLDER = env("REDRESS_IMAP_FOLDER", default="INBOX")
REDRESS_IMAP_SECONDS = env.float("REDRESS_IMAP_SECONDS", default=60.0)
# The longest text (a description, a reply, a note) kept in full on a case's pages, on every
# channel; longer text is cut there and kept whole as a file (complaints/services/texts.py).
REDRESS_TEXT_LIMIT = env.int("REDRESS_TEXT_LIMIT", default=20_000)
# Largest email and attachment kept, in bytes.
REDRESS_MAX_EMAIL_BYTES = env.int("REDRESS_MAX_EMAIL_BYTES", default=25 * 1024 * 1024)
REDRESS_MAX_ATTACHMENT_BYTES = env.int("REDRESS_MAX_ATTACHMENT_BYTES", default=10 * 1024 * 1024)

# --- The cache: rate limits of the API, shared by every process -------------------------
# A file cache in var/ on the embedded default (shared by the processes of one machine);
# Redis in production (REDRESS_CACHE_URL, else the broker's Redis), shared by every host.
_CACHE_DEFAULT = f"filecache://{VAR_DIR / 'cache'}"
if CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
    _CACHE_DEFAULT = CELERY_BROKER_URL
CACHES = {"default": env.cache_url("REDRESS_CACHE_URL", default=_CACHE_DEFAULT)}

# --- The REST API (issue 14): complaints/api/ ----------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["complaints.api.auth.ApiKeyAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["complaints.api.permissions.HasScope"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [
        "rest_framework.parsers.JSONParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_THROTTLE_CLASSES": [
        "complaints.api.throttles.KeyRateThrottle",
        "complaints.api.throttles.AddressRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "api_key": env("REDRESS_API_KEY_RATE", default="600/min"),
        "api_address": env("REDRESS_API_ADDRESS_RATE", default="1200/min"),
    },
    "EXCEPTION_HANDLER": "complaints.api.problems.problem_exception_handler",
    "UNAUTHENTICATED_USER": None,
    "SCHEMA_COERCE_PATH_PK": False,  # the schema names path parameters as the URLs do
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Redress API",
    "DESCRIPTION": (
        "Complaints, their clocks and the staff actions of the desk, for a CRM or other "
        "system. Every write appears in the case history under the integration's name."
    ),
    "VERSION": "1",
    "OAS_VERSION": "3.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "ChannelEnum": "complaints.models.Channel",
        "ContactMethodEnum": "accounts.models.ContactMethod",
    },
}

# --- Webhooks (issue 14): complaints/webhooks/ ---------------------------------------------
# Targets on loopback, link-local or private addresses are refused unless this is on (tests
# run a receiver on 127.0.0.1); production also refuses anything but https://.
REDRESS_WEBHOOK_ALLOW_PRIVATE_TARGETS = env.bool(
    "REDRESS_WEBHOOK_ALLOW_PRIVATE_TARGETS", default=False
)
REDRESS_WEBHOOK_REQUIRE_HTTPS = env.bool("REDRESS_WEBHOOK_REQUIRE_HTTPS", default=False)
REDRESS_WEBHOOK_SECONDS = env.float("REDRESS_WEBHOOK_SECONDS", default=30.0)
REDRESS_WEBHOOK_TIMEOUT_SECONDS = env.float("REDRESS_WEBHOOK_TIMEOUT_SECONDS", default=10.0)
REDRESS_WEBHOOK_MAX_ATTEMPTS = env.int("REDRESS_WEBHOOK_MAX_ATTEMPTS", default=10)
# A subscription whose deliveries failed this many times in a row is disabled, and
# managers are alerted.
REDRESS_WEBHOOK_DISABLE_AFTER = env.int("REDRESS_WEBHOOK_DISABLE_AFTER", default=20)
# The site's address (e.g. https://complaints.example.com) to make payloads' API links absolute.
REDRESS_WEBHOOK_API_BASE = env("REDRESS_WEBHOOK_API_BASE", default="")

# --- Content-Security-Policy (django-csp) -------------------------------------------------
# Everything the pages use is our own: scripts and styles come only from files under
# /static/ (no inline <script>, <style>, style= or on*= anywhere, tests/security/test_csp.py),
# nothing is fetched from another origin, no page may be framed, and forms post only to us.
# The same policy in every environment, so the browser tests see what production sends.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    },
}
