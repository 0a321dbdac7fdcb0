"""Shu-Kang settings.

Everything that differs between a laptop and production comes from the
environment (see README.md and .env.example); the defaults are the embedded
stack of SPEC section 2: SQLite, the in-memory channel layer, the local-memory
cache and e-mail printed to the console.
"""

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

from config import envfile

BASE_DIR = Path(__file__).resolve().parent.parent

# This checkout's development settings, written by `make` (config/envfile.py):
# the environment wins over them, and DJANGO_ENV_FILE names another file
# (empty: none). The image holds no such file.
envfile.load(os.environ.get("DJANGO_ENV_FILE", BASE_DIR / ".env.local"))


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


DEBUG = env_bool("DJANGO_DEBUG", False)

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY is not set: set it, or set DJANGO_DEBUG=true for local "
            "development (`make run` and `make test` write both to .env.local)."
        )
    SECRET_KEY = "insecure-development-key-only-used-when-DJANGO_DEBUG-is-on"

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    # daphne first: its runserver serves HTTP and websockets from one process.
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "channels",
    "django_tasks_db",
    "crontask",
    "allauth",
    "allauth.account",
    "core",
    "accounts",
    "forum",
    "notifications",
    "salon",
    "moderation",
    "attachments",
    "duty",
    "mdt",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "core.middleware.HostileInputMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # A page read's versions and session in one round trip to Redis.
    "core.versions.ReadTogetherMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    # Django's, taking a page reader's user from the process's cache (core.sessionuser).
    "core.sessionuser.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "core.middleware.UserTimezoneMiddleware",
    "core.middleware.RateLimitMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "notifications.context_processors.unread_notifications",
                "core.context_processors.suspension",
            ],
        },
    },
]

# Database: SQLite unless DATABASE_URL names another.
DATABASES = {
    "default": dj_database_url.config(
        env="DATABASE_URL",
        default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Many concurrent signed-in visitors on SQLite's default journal answer
    # "database is locked". WAL lets readers and one writer proceed together;
    # IMMEDIATE takes the write lock at BEGIN so a transaction never has to
    # upgrade a read lock mid-way (the cause of instant SQLITE_BUSY); the busy
    # timeout makes writers queue instead of failing.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = False
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

REDIS_URL = os.environ.get("REDIS_URL", "").strip()

# Each channel-layer host's connection options besides its address. Under
# RESP3, redis-py 8 skips its check for dead pooled connections (maintenance
# notifications are on), and channels-redis's pool retries nothing, so the
# first handshake after a Redis restart failed on a stale connection (1011).
# One immediate retry on a fresh connection mends that (tests/core/test_faults.py).
from redis.asyncio.retry import Retry  # noqa: E402
from redis.backoff import NoBackoff  # noqa: E402
from redis.exceptions import ConnectionError as RedisConnectionError  # noqa: E402

REDIS_LAYER_HOST = {
    "socket_timeout": None,
    "max_connections": 2000,
    "retry": Retry(NoBackoff(), 1, supported_errors=(RedisConnectionError,)),
}
# A page waits at most this long for a Redis that hangs; then each process
# does without Redis for a moment (core.cache).
REDIS_CACHE_OPTIONS = {"socket_connect_timeout": 1, "socket_timeout": 1}

if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "core.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "shukang",
            "OPTIONS": REDIS_CACHE_OPTIONS,
        }
    }
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {
                # Measured on a 2-core machine with redis-py 8 (STACK.md):
                # the default pool of 100 connections fails handshakes past
                # about 100 concurrent connects, and the default 5 s socket
                # timeout closes idle subscribers. Neither suits long-lived
                # websockets.
                "hosts": [{"address": REDIS_URL, **REDIS_LAYER_HOST}],
                # The default capacity of 100 silently drops bursts; a
                # dropped message would only be recovered by catch-up.
                "capacity": 5000,
                "expiry": 60,
                # Groups must outlive any socket, or members silently fall
                # out of them: two days, against daphne's one-day socket limit.
                "group_expiry": 2 * 86400,
                "prefix": "shukang",
            },
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

# Each process's own caches, read with no network round trip: fragments that
# depend only on the code and the language (navigation, footer), and
# visitors' whole pages (core.pagecache). The busiest 500 pages: a list page
# is about 23 kB, a question page 12 kB, a long thread up to about 100 kB.
CACHES["local"] = {
    "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
    "LOCATION": "fragments",
}
CACHES["pages"] = {
    "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
    "LOCATION": "pages",
    "OPTIONS": {"MAX_ENTRIES": 500},
}
# Signed-in members reading pages, each about 2 kB (core.sessionuser).
CACHES["members"] = {
    "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
    "LOCATION": "members",
    "OPTIONS": {"MAX_ENTRIES": 2000},
}

# Sessions are read from the cache and written through to the database, so a
# page view reads no session row in the common case and a visitor gets none.
# Django's cached_db, except that while Redis is down sessions use the
# database alone (core.sessions).
SESSION_ENGINE = "core.sessions"

# Django's and allauth's, with the session's user loaded in one query.
AUTHENTICATION_BACKENDS = [
    "accounts.backends.ModelBackend",
    "accounts.backends.AuthenticationBackend",
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# django-allauth: e-mail is the login; it must be confirmed before signing in.
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_CONFIRM_EMAIL_ON_GET = False
# Confirming signs the member in, but only in the browser session that signed
# up and within ACCOUNT_LOGIN_TIMEOUT (allauth): a link opened anywhere else
# signs nobody in, and leads to the sign-in form (accounts.adapter). An hour
# rather than allauth's 15 minutes leaves time for the mail to arrive and be read.
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_LOGIN_TIMEOUT = 60 * 60
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = True
ACCOUNT_SIGNUP_FORM_CLASS = "accounts.forms.SignupExtraForm"
ACCOUNT_ADAPTER = "accounts.adapter.AccountAdapter"
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[Shu-Kang] "
ACCOUNT_RATE_LIMITS = {
    "login_failed": "10/m/ip,5/5m/key",
    "signup": "20/h/ip",
    "reset_password": "20/m/ip,5/m/key",
}
# Behind proxies every request comes from the proxy's address; trust that many
# X-Forwarded-For hops so per-IP limits count visitors, not the proxy.
ALLAUTH_TRUSTED_PROXY_COUNT = env_int("DJANGO_TRUSTED_PROXY_COUNT", 0)
LOGIN_REDIRECT_URL = "/"
LOGIN_URL = "account_login"

# Internationalisation: Chinese first for the patients, English beside it.
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
USE_TZ = True
TIME_ZONE = os.environ.get("TIME_ZONE", "Asia/Shanghai")

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
# Patients' reports and images (attachments app): a private folder that no URL
# maps to, served only by attachments.views after a permission check. Web and
# worker share it (a volume in docker-compose.yml). Object storage instead:
# SHUKANG_ATTACHMENTS_S3_BUCKET, with django-storages installed (README).
PRIVATE_ROOT = Path(os.environ.get("SHUKANG_PRIVATE_ROOT", BASE_DIR / "private"))
if os.environ.get("SHUKANG_ATTACHMENTS_S3_BUCKET"):
    _attachments_storage = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": os.environ["SHUKANG_ATTACHMENTS_S3_BUCKET"],
            "endpoint_url": os.environ.get("SHUKANG_ATTACHMENTS_S3_ENDPOINT") or None,
            "region_name": os.environ.get("SHUKANG_ATTACHMENTS_S3_REGION") or None,
            "default_acl": "private",
            "querystring_auth": True,
            "file_overwrite": False,
        },
    }
else:
    _attachments_storage = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": PRIVATE_ROOT / "attachments", "base_url": None},
    }
# Set where nginx serves the private folder from an internal location (deploy/nginx.conf):
# Django then answers with X-Accel-Redirect and nginx sends the bytes.
SHUKANG_ATTACHMENTS_ACCEL_PREFIX = os.environ.get("SHUKANG_ATTACHMENTS_ACCEL_PREFIX", "")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "attachments": _attachments_storage,
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# E-mail through Django 6.1's MAILERS, fed by the SPEC's variables. Development
# prints mail to the console; production sends through SMTP unless told otherwise.
EMAIL_BACKEND_PATH = os.environ.get("EMAIL_BACKEND") or (
    "django.core.mail.backends.console.EmailBackend"
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend"
)
_mailer_options = {}
if EMAIL_BACKEND_PATH.endswith("filebased.EmailBackend"):
    _mailer_options["file_path"] = os.environ.get("EMAIL_FILE_PATH", str(BASE_DIR / "sent-mail"))
elif EMAIL_BACKEND_PATH.endswith("smtp.EmailBackend"):
    _mailer_options = {
        "host": os.environ.get("EMAIL_HOST", "localhost"),
        "port": env_int("EMAIL_PORT", 587),
        "username": os.environ.get("EMAIL_HOST_USER", ""),
        "password": os.environ.get("EMAIL_HOST_PASSWORD", ""),
        "use_tls": env_bool("EMAIL_USE_TLS", True),
        "timeout": 10,
    }
MAILERS = {"default": {"BACKEND": EMAIL_BACKEND_PATH, "OPTIONS": _mailer_options}}
# Background work (SPEC section 2; STYLE section 10): Django's task framework
# on a database-backed queue. A task enqueued inside an action's transaction
# commits or rolls back with it; `manage.py db_worker` runs them (several
# workers share the queue: PostgreSQL hands rows out with SKIP LOCKED) and
# `manage.py crontask` enqueues the periodic ones. Run exactly one scheduler:
# it takes no lock, and every periodic task is idempotent besides.
TASKS = {
    "default": {
        "BACKEND": "django_tasks_db.DatabaseBackend",
        "QUEUES": ["default", "push", "mail", "images"],
    }
}
# Retries of work that talks to another server (core.tasks.retrying): the
# first after `base` seconds, doubling up to `cap`, at most `attempts` in all;
# 150 attempts at the 10-minute cap keep trying for about a day.
SHUKANG_TASK_RETRY = {
    "base": env_int("SHUKANG_TASK_RETRY_BASE", 15),
    "cap": env_int("SHUKANG_TASK_RETRY_CAP", 600),
    "attempts": env_int("SHUKANG_TASK_RETRY_ATTEMPTS", 150),
}

DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Shu-Kang <noreply@shukang.example>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# Content Security Policy: no inline scripts or styles anywhere.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "connect-src": [CSP.SELF],
    "font-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}

SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True

if not DEBUG:
    # Production sits behind a TLS-terminating proxy.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", True)
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    LANGUAGE_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env_int("DJANGO_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("DJANGO_LOG_LEVEL", "WARNING")},
}

# The department whose physicians answer, used where a profile leaves it out.
SHUKANG_HOSPITAL = os.environ.get("SHUKANG_HOSPITAL", "Shu-Kang Hospital")
SHUKANG_DEPARTMENT = os.environ.get("SHUKANG_DEPARTMENT", "Department of Gastrointestinal Oncology")
# Their Chinese forms, shown on the Chinese pages.
SHUKANG_HOSPITAL_ZH = os.environ.get("SHUKANG_HOSPITAL_ZH", "舒康医院")
SHUKANG_DEPARTMENT_ZH = os.environ.get("SHUKANG_DEPARTMENT_ZH", "胃肠肿瘤科")
# The site's public address, for links in e-mails sent outside a request.
SHUKANG_SITE_URL = os.environ.get("SHUKANG_SITE_URL", "http://127.0.0.1:8000")

# Moderation (SPEC section 5).
SHUKANG_HOLD_FIRST_POSTS = env_int(
    "SHUKANG_HOLD_FIRST_POSTS", 1
)  # a new account's first posts wait
SHUKANG_NEW_ACCOUNT_DAYS = env_int(
    "SHUKANG_NEW_ACCOUNT_DAYS", 7
)  # links from younger accounts wait
SHUKANG_FLAGS_TO_HIDE = env_int("SHUKANG_FLAGS_TO_HIDE", 3)  # flags that hide a post until reviewed
# The duty roster (duty app): the department's calendar, the default answer-time
# target of a topic without a tumour group, and how long "I'm answering this" holds.
SHUKANG_DEPARTMENT_TIME_ZONE = os.environ.get("SHUKANG_DEPARTMENT_TIME_ZONE", "Asia/Shanghai")
SHUKANG_ANSWER_TARGET_HOURS = env_int("SHUKANG_ANSWER_TARGET_HOURS", 48)
SHUKANG_CLAIM_MINUTES = env_int("SHUKANG_CLAIM_MINUTES", 120)
# Per-account limits: (count, seconds).
SHUKANG_RATE_LIMITS = {
    "question": (5, 3600),
    "answer": (60, 3600),
    "reply": (20, 600),
    "flag": (20, 3600),
    "salon_question": (10, 600),
    # Similar questions while a title is typed: per account, or per address
    # for visitors. A patient typing fast, debounced, stays far below it.
    "question_similar": (60, 60),
}
