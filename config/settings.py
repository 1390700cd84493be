"""Rundbrief settings, read only from the environment (see .env.example and README.md).

Defaults are production-safe: DEBUG is off and SECRET_KEY must be set. `make run` sets
its development values explicitly. With no DATABASE_URL and no REDIS_URL, Rundbrief runs
embedded: SQLite, a file-based Celery broker and cache, and a dev outbox for mail.
"""

from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import environ
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from config import mail
from config.env import (
    check_secret_key,
    env_bool,
    env_choice,
    env_float,
    env_int,
    env_list,
    env_prefixed,
    env_str,
)

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("RUNDBRIEF_VAR_DIR", str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

DEBUG = env_bool("DEBUG", False)
SECRET_KEY = env_str("SECRET_KEY")
if not DEBUG:
    check_secret_key(SECRET_KEY)
elif not SECRET_KEY:
    raise ImproperlyConfigured("SECRET_KEY is not set (make run sets a development key).")
# Production mode (the default) must never run with DEBUG on: tracebacks leak secrets.
RUNDBRIEF_ENV = env_choice("RUNDBRIEF_ENV", ("production", "development", "test"), "production")
if RUNDBRIEF_ENV == "production" and DEBUG:
    raise ImproperlyConfigured("DEBUG must be off when RUNDBRIEF_ENV=production.")

SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000").rstrip("/")
SITE_NAME = env_str("SITE_NAME", "Rundbrief")
_site = urlsplit(SITE_URL)
if _site.scheme not in ("http", "https") or not _site.hostname:
    raise ImproperlyConfigured(f"SITE_URL={SITE_URL!r} must be an absolute http(s) URL.")
SITE_DOMAIN = _site.hostname
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", SITE_DOMAIN)
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", f"{_site.scheme}://{_site.netloc}")

INSTALLED_APPS = [
    "staff.admin_apps.StaffAdminConfig",  # django.contrib.admin with the two-factor-aware site
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.sitemaps",
    "django.contrib.humanize",
    "anymail",
    "newsletter",
    "subscribers",
    "staff",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "backups",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "config.middleware.ContentSecurityPolicyMiddleware",
    "config.health.LoopbackHealthMiddleware",  # before CommonMiddleware's host check
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "staff.middleware.TwoFactorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",  # last: turns a lockout into the 429 page
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
                "config.context_processors.site",
            ],
        },
    },
]

# --- Database: PostgreSQL (psycopg 3) from DATABASE_URL, else embedded SQLite ---------
DATABASE_URL = env_str("DATABASE_URL")
SQLITE_OPTIONS = {
    # Web server and worker processes share the file: wait for locks, use WAL, and take
    # the write lock at BEGIN so concurrent claims cannot deadlock on lock upgrades.
    "timeout": 20,
    "transaction_mode": "IMMEDIATE",
    "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
}
if DATABASE_URL:
    DATABASES = {"default": environ.Env.db_url_config(DATABASE_URL)}
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(VAR_DIR / "rundbrief.sqlite3"),
            # Tests with a real worker process need a file, not an in-memory database.
            "TEST": {"NAME": str(VAR_DIR / "test.sqlite3")},
        }
    }
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    DATABASES["default"]["OPTIONS"] = SQLITE_OPTIONS
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env_int("DATABASE_CONN_MAX_AGE", 60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
IS_POSTGRES = DATABASES["default"]["ENGINE"].endswith("postgresql")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: Celery broker, cache and rate limits; embedded fallbacks need no server ----
REDIS_URL = env_str("REDIS_URL")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "config.redis_cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env_str("CACHE_KEY_PREFIX", "rundbrief"),
        }
    }
    CELERY_BROKER_URL = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
        }
    }
    # kombu's filesystem transport: a real broker shared by separate processes, no server.
    _broker_dir = VAR_DIR / "broker"
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }
    for _folder in ("queue", "control"):
        (_broker_dir / _folder).mkdir(parents=True, exist_ok=True)

# --- Celery -------------------------------------------------------------------------
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = env_int("CELERY_TASK_SOFT_TIME_LIMIT", 300)
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 360)
CELERY_TIMEZONE = "UTC"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Mail that a reader waits for (confirmation, welcome, test sends) goes on "priority",
# which has workers of its own, so a large newsletter send on "bulk" never delays it.
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_ROUTES = {
    # Exact names win over patterns in Celery's MapRoute (patterns go in order after):
    # imports are background work, not mail a reader waits for.
    "subscribers.run_import": {"queue": "default"},
    "subscribers.*": {"queue": "priority"},
    "newsletter.send_test": {"queue": "priority"},
    "newsletter.send_batch": {"queue": "bulk"},
}
CELERY_BEAT_SCHEDULE = {
    # https://crontab.guru/#*_*_*_*_* : publish scheduled issues when they fall due
    "send-due-issues": {"task": "newsletter.send_due_issues", "schedule": crontab()},
    # every 30 s: re-enqueue deliveries the broker lost (flushed Redis, killed worker)
    "sweep-deliveries": {"task": "newsletter.sweep_deliveries", "schedule": 30.0},
    # https://crontab.guru/#17_3_*_*_* : purge unconfirmed subscriptions past their time
    "purge-pending": {"task": "subscribers.purge_pending", "schedule": crontab(minute=17, hour=3)},
}
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")

# --- Mail ---------------------------------------------------------------------------
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", f"Rundbrief <newsletter@{SITE_DOMAIN}>")
SERVER_EMAIL = env_str("SERVER_EMAIL", DEFAULT_FROM_EMAIL)
EMAIL_PROVIDER = env_str("EMAIL_PROVIDER").strip().lower()
EMAIL_URL = env_str("EMAIL_URL")
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 30)
OUTBOX_DIR = VAR_DIR / "outbox"
# Message-IDs and List-Id use the sending domain, not the machine's host name.
MAIL_DOMAIN = env_str("MAIL_DOMAIN", SITE_DOMAIN)
FEEDBACK_ID_SENDER = env_str("FEEDBACK_ID_SENDER")
DKIM_PRIVATE_KEY = env_str("DKIM_PRIVATE_KEY")
DKIM_SELECTOR = env_str("DKIM_SELECTOR")
DKIM_DOMAIN = env_str("DKIM_DOMAIN")
SEND_RATE_PER_SECOND = env_float("SEND_RATE_PER_SECOND", 0)  # 0: no limit
SEND_RATE_PER_HOUR = env_int("SEND_RATE_PER_HOUR", 0)
SEND_RATE_PER_DAY = env_int("SEND_RATE_PER_DAY", 0)
SEND_BATCH_SIZE = env_int("SEND_BATCH_SIZE", 0)  # 0: the provider's own maximum
# Sending engine (newsletter/sending/__init__.py); see docs/sending.md.
SEND_LANES = env_int("SEND_LANES", 4)  # parallel batch chains per issue
SEND_CLAIM_SIZE = env_int("SEND_CLAIM_SIZE", 200)  # rows one worker claims at a time (SMTP)
# SMTP connections each worker process sends over at once (also the most mails a killed
# process can leave sent but unrecorded, so sent again).
SMTP_CONNECTIONS_PER_WORKER = env_int("SMTP_CONNECTIONS_PER_WORKER", 4)
SEND_LEASE_SECONDS = env_int("SEND_LEASE_SECONDS", 300)  # then a claimed row is re-sent
SEND_MAX_ATTEMPTS = env_int("SEND_MAX_ATTEMPTS", 8)
SEND_RETRY_BASE_SECONDS = env_float("SEND_RETRY_BASE_SECONDS", 30)
SEND_RETRY_MAX_SECONDS = env_float("SEND_RETRY_MAX_SECONDS", 3600)
SEND_BREAKER_THRESHOLD = env_int("SEND_BREAKER_THRESHOLD", 20)  # consecutive transient errors
SEND_BREAKER_COOLDOWN_SECONDS = env_float("SEND_BREAKER_COOLDOWN_SECONDS", 30)
SEND_RATE_PER_DOMAIN = env_str("SEND_RATE_PER_DOMAIN")  # "gmail.com=20,outlook.com=10" per s
SEND_WARMUP_START = env_str("SEND_WARMUP_START")  # YYYY-MM-DD: first day of the warm-up
SEND_WARMUP_DAILY = env_str("SEND_WARMUP_DAILY")  # "50,100,500,1000": mails per day 1, 2, …
SEND_ESP_TEMPLATE = env_str("SEND_ESP_TEMPLATE")  # pass-through template (Postmark batch)
# Postmark: store each issue as a template of its own (0: always the pass-through template).
SEND_ESP_STORE_TEMPLATES = env_bool("SEND_ESP_STORE_TEMPLATES", True)
SEND_ESP_MESSAGE_STREAM = env_str("SEND_ESP_MESSAGE_STREAM")  # Postmark broadcast stream

EMAIL_BACKEND = mail.email_backend(EMAIL_PROVIDER, EMAIL_URL)
if EMAIL_BACKEND == mail.SMTP_BACKEND:
    globals().update(mail.parse_email_url(EMAIL_URL))
# Every ANYMAIL_* variable (or ANYMAIL_*_FILE) becomes an anymail setting:
# ANYMAIL_POSTMARK_SERVER_TOKEN=…
ANYMAIL = env_prefixed("ANYMAIL_")
if "REQUESTS_TIMEOUT" in ANYMAIL:
    # requests refuses a timeout given as text.
    ANYMAIL["REQUESTS_TIMEOUT"] = env_float("ANYMAIL_REQUESTS_TIMEOUT", 30.0)
if EMAIL_BACKEND.startswith("anymail.") and RUNDBRIEF_ENV == "production":
    mail.check_webhook_secrets(EMAIL_PROVIDER, ANYMAIL)

# --- Subscribers --------------------------------------------------------------------
CONFIRMATION_MAX_AGE_DAYS = env_int("CONFIRMATION_MAX_AGE_DAYS", 7)
PENDING_PURGE_DAYS = env_int("PENDING_PURGE_DAYS", 30)
CONSENT_IP_MODE = env_choice("CONSENT_IP_MODE", ("store", "truncate", "drop"), "truncate")
SIGNUP_MIN_FILL_SECONDS = env_float("SIGNUP_MIN_FILL_SECONDS", 2.0)
SIGNUP_FORM_MAX_AGE_HOURS = env_float("SIGNUP_FORM_MAX_AGE_HOURS", 24.0)
# Real signups per IP and hour: a room after a talk shares one address. Forms with errors
# and bots' forms are counted apart, against a lower limit.
SIGNUP_RATE_PER_IP_PER_HOUR = env_int("SIGNUP_RATE_PER_IP_PER_HOUR", 60)
SIGNUP_INVALID_PER_IP_PER_HOUR = env_int("SIGNUP_INVALID_PER_IP_PER_HOUR", 20)
SIGNUP_RATE_PER_ADDRESS_PER_DAY = env_int("SIGNUP_RATE_PER_ADDRESS_PER_DAY", 3)
SIGNUP_CHECK_MX = env_bool("SIGNUP_CHECK_MX", False)
# The suppression list holds keyed hashes of addresses. Its key is its own: were it
# SECRET_KEY, rotating SECRET_KEY would empty the list. Old hash keys go in the fallbacks,
# which lookups still try (like SECRET_KEY_FALLBACKS). Unset, development and tests hash
# with SECRET_KEY (subscribers/hashing.py), and `check --deploy` reports it.
SUPPRESSION_HASH_KEY = env_str("SUPPRESSION_HASH_KEY")
SUPPRESSION_HASH_KEY_FALLBACKS = env_list("SUPPRESSION_HASH_KEY_FALLBACKS")
if RUNDBRIEF_ENV == "production":
    if not SUPPRESSION_HASH_KEY:
        raise ImproperlyConfigured(
            "SUPPRESSION_HASH_KEY is not set. It must be a key of its own: rotating "
            "SECRET_KEY would empty the suppression list. Upgrading? Set a new random key and "
            "put your current SECRET_KEY in SUPPRESSION_HASH_KEY_FALLBACKS (README: Security)."
        )
    check_secret_key(SUPPRESSION_HASH_KEY, "SUPPRESSION_HASH_KEY")

# --- Security -----------------------------------------------------------------------
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("BEHIND_HTTPS_PROXY", False) else None
)
# Reverse proxies in front of the app (each appends to X-Forwarded-For); 0: none.
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)
HTTPS = _site.scheme == "https"
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", HTTPS and not DEBUG)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SESSION_COOKIE_HTTPONLY = True
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000 if HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", HTTPS)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", HTTPS)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Strict CSP: no inline script or style anywhere; see config/middleware.py.
CONTENT_SECURITY_POLICY = env_str(
    "CONTENT_SECURITY_POLICY",
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' https: data:; "
    "font-src 'self'; connect-src 'self'; frame-src 'self'; frame-ancestors 'none'; "
    "form-action 'self'; base-uri 'self'; object-src 'none'",
)

# --- Admin sign-in: lockout (django-axes) and two-factor (django-otp); see README -------
# Axes first: it refuses a locked-out sign-in before any password is checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("AXES_COOLOFF_MINUTES", 15))
# One user name from one address, and one address trying many user names.
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"], "ip_address"]
AXES_CLIENT_IP_CALLABLE = "config.net.client_ip"  # X-Forwarded-For only from trusted proxies
AXES_LOCKOUT_CALLABLE = "staff.login.lockout_response"
# A success does not clear the address's count: one known account must not let an
# attacker reset it between guesses at another.
AXES_RESET_ON_SUCCESS = False
AXES_VERBOSE = False  # its start-up banner would go to every command's output
# "off", "superusers" or "staff": who must set up two-factor sign-in before using the admin.
ADMIN_REQUIRE_2FA = env_choice("ADMIN_REQUIRE_2FA", ("off", "superusers", "staff"), "off")
OTP_TOTP_ISSUER = SITE_NAME

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- Languages ----------------------------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("de", _("German"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
TIME_ZONE = env_str("TIME_ZONE", "Europe/Berlin")
USE_TZ = True

# --- Static and media ---------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(VAR_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = env_str("MEDIA_URL", "/media/")
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(VAR_DIR / "media")))
AWS_STORAGE_BUCKET_NAME = env_str("AWS_STORAGE_BUCKET_NAME")
STORAGES = {
    "default": {
        "BACKEND": "storages.backends.s3.S3Storage"
        if AWS_STORAGE_BUCKET_NAME
        else "django.core.files.storage.FileSystemStorage"
    },
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG or RUNDBRIEF_ENV == "test"
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
if AWS_STORAGE_BUCKET_NAME:
    AWS_S3_ENDPOINT_URL = env_str("AWS_S3_ENDPOINT_URL") or None
    AWS_S3_REGION_NAME = env_str("AWS_S3_REGION_NAME") or None
    AWS_S3_CUSTOM_DOMAIN = env_str("AWS_S3_CUSTOM_DOMAIN") or None
    AWS_QUERYSTRING_AUTH = False
    AWS_DEFAULT_ACL = None

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
