"""The one settings file: every value comes from the environment, parsed strictly.

Defaults are the embedded ones (SQLite, in-memory channel layer) so `make run` needs nothing
running; DATABASE_URL and REDIS_URL switch to PostgreSQL and Redis.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from shared.env import (
    env_bool,
    env_date,
    env_float,
    env_host_port,
    env_int,
    env_list,
    env_origins,
    env_str,
    env_url,
)

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = env_bool("DJANGO_DEBUG", True)

_DEV_SECRET = "dev-only-secret-key-never-use-in-production-0123456789abcdefghijklmnop"  # noqa: S105
SECRET_KEY = env_str("DJANGO_SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("DJANGO_SECRET_KEY must be set when DJANGO_DEBUG=0")
    SECRET_KEY = _DEV_SECRET
elif len(SECRET_KEY) < 50 or len(set(SECRET_KEY)) < 5:
    raise ImproperlyConfigured("DJANGO_SECRET_KEY must be at least 50 varied characters long")

PORT = env_int("PORT", 8000, minimum=1, maximum=65535)

# Browser origins allowed to open the dashboard's WebSockets and to post forms. Exact origins,
# never a wildcard: customer app hostnames must not be able to open sockets here.
DASHBOARD_ORIGINS = env_origins(
    "DASHBOARD_ORIGINS", [f"http://127.0.0.1:{PORT}", f"http://localhost:{PORT}"]
)
CSRF_TRUSTED_ORIGINS = DASHBOARD_ORIGINS
ALLOWED_HOSTS = env_list(
    "DJANGO_ALLOWED_HOSTS",
    sorted({urlsplit(origin).hostname or "" for origin in DASHBOARD_ORIGINS}),
)

# The domain under which every app gets its default hostname: <app>.<PLATFORM_DOMAIN>.
PLATFORM_DOMAIN = env_str("PLATFORM_DOMAIN", "example.net").lower()
# Apps created on or after this date have the websockets feature on by default.
WEBSOCKETS_GA_DATE = env_date("WEBSOCKETS_GA_DATE", dt.date(2014, 7, 7))

INSTALLED_APPS = [
    "daphne",
    "edgeboard.admin_site.SuperuserAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "channels",
    "django_htmx",
    "template_partials",
    "dashboard",
    "edges",
    "live",
    "pages",
    "edgeboard",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "shared.csp.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "edgeboard.middleware.PlatformApiMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "edgeboard.urls"
ASGI_APPLICATION = "edgeboard.asgi.application"

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
                "pages.context_processors.preferences",
            ],
        },
    }
]

_database_url = env_url("DATABASE_URL", ("postgres", "postgresql", "sqlite"))
# PostgreSQL connections come from a pool in each process: opening one per database call (each
# socket handshake makes several) cost more than the queries, and a backend fork each on the
# server. 0 turns the pool off (a connection per request, closed after it).
DATABASE_POOL_SIZE = env_int("DATABASE_POOL_SIZE", 10, minimum=0, maximum=100)
# How long a request waits for a pooled connection, or for PostgreSQL to answer a new one.
DATABASE_POOL_TIMEOUT = env_float("DATABASE_POOL_TIMEOUT", 5.0, minimum=0.1, maximum=60.0)
if _database_url:
    DATABASES = {"default": dj_database_url.parse(_database_url, conn_health_checks=True)}
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and DATABASE_POOL_SIZE:
        # The pool keeps connections, not Django; with health checks on, a connection that
        # PostgreSQL dropped (a restart) is replaced when taken, not handed out.
        DATABASES["default"]["CONN_MAX_AGE"] = 0
        DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
        DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
            "min_size": 1,
            "max_size": DATABASE_POOL_SIZE,
            "timeout": DATABASE_POOL_TIMEOUT,
        }
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": env_str("SQLITE_PATH", str(BASE_DIR / "db.sqlite3")),
        }
    }
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL and immediate transactions let daphne and the demo's edge simulator write side by side.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"transaction_mode": "IMMEDIATE", "timeout": 20, "init_command": "PRAGMA journal_mode=WAL;"}
    )

# DNS checks of custom domains: the resolver to ask (host[:port], default the system's), how
# long one look-up may take, and how long a whole check may block a page.
DNS_RESOLVER = env_host_port("DNS_RESOLVER", default_port=53)
DNS_TIMEOUT = env_float("DNS_TIMEOUT", 2.0, minimum=0.1)
DNS_CHECK_BUDGET = env_float("DNS_CHECK_BUDGET", 4.0, minimum=0.5)

# Live numbers: an edge silent for this many seconds is stale (greyed, left out of totals);
# a topic is pushed at most once per LIVE_MIN_INTERVAL seconds.
EDGE_STALE_AFTER = env_int("EDGE_STALE_AFTER", 10, minimum=1)
LIVE_MIN_INTERVAL = env_float("LIVE_MIN_INTERVAL", 0.5, minimum=0.0)
# Handshake admission (live/admission.py): how many live-socket handshakes of one process may
# wait for or use the database at once, and how long one may wait for its turn before it is
# dropped (its browser has most likely given up). Beyond either, the socket is told to retry.
LIVE_HANDSHAKES_IN_FLIGHT = env_int("LIVE_HANDSHAKES_IN_FLIGHT", 256, minimum=1, maximum=10_000)
# Threads that read handshakes' sessions, users and permissions side by side (each holds a
# database connection while it works: keep it below DATABASE_POOL_SIZE).
LIVE_HANDSHAKE_THREADS = env_int("LIVE_HANDSHAKE_THREADS", 4, minimum=1, maximum=64)
# Threads that apply edges' reports side by side, beside Django's request thread
# (edges.api.ingest_asgi); each holds a database connection while it works.
INGEST_THREADS = env_int("INGEST_THREADS", 4, minimum=1, maximum=64)
LIVE_HANDSHAKE_PATIENCE = env_float("LIVE_HANDSHAKE_PATIENCE", 2.0, minimum=0.1, maximum=60.0)
# How long a process remembers a socket user's row and what they may watch (live.grants); an
# announced access change forgets it at once. 0 reads both on every handshake.
LIVE_GRANT_SECONDS = env_float("LIVE_GRANT_SECONDS", 5.0, minimum=0.0, maximum=60.0)

REDIS_URL = env_url("REDIS_URL", ("redis", "rediss", "unix"))
# Longer than channels-redis' 5 s blocking pop, so an idle receive is never cut off, yet short
# enough that a frozen Redis cannot hang a request for long.
REDIS_SOCKET_TIMEOUT = env_int("REDIS_SOCKET_TIMEOUT", 10, minimum=6, maximum=300)
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {
                "hosts": [
                    {
                        "address": REDIS_URL,
                        "socket_timeout": REDIS_SOCKET_TIMEOUT,
                        "socket_connect_timeout": 3,
                    }
                ],
                "prefix": env_str("CHANNEL_LAYER_PREFIX", "edgeboard"),
                "capacity": 1000,
                "expiry": 30,
            },
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

# Where the latest numbers of the edges live in Redis (edges/live_state.py).
LIVE_STATE_PREFIX = env_str("CHANNEL_LAYER_PREFIX", "edgeboard")
# How long a process reuses an edge's hostname -> app map when applying its reports: a domain
# added or moved is counted for its app from the edge's first report after this (at once in a
# process whose live hub hears the change).
ROUTING_CACHE_SECONDS = env_float("ROUTING_CACHE_SECONDS", 5.0, minimum=0.0, maximum=60.0)
# How long a process keeps an ingest token's edge without reading it again: a rotated token is
# refused at once where the rotation is heard, and after at most this long elsewhere.
INGEST_TOKEN_CACHE_SECONDS = env_float("INGEST_TOKEN_CACHE_SECONDS", 2.0, minimum=0.0, maximum=30.0)

if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env_str("CHANNEL_LAYER_PREFIX", "edgeboard"),
            "OPTIONS": {
                "socket_timeout": 2,
                "socket_connect_timeout": 2,
                # Connections kept and shared by the whole process, not one per request.
                "pool_class": "shared.redis_pool.ProcessConnectionPool",
            },
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# Where rate limits are counted while Redis is unavailable (shared/ratelimit.py).
CACHES["local"] = {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "local"}

# Frames a WebSocket client may send: WS_MAX_FRAMES_PER_SECOND on average after a burst of
# WS_FRAME_BURST, beyond which the socket is closed with 1008. The live sockets only push and the
# echo page sends one frame per test, so browsers stay far below this.
WS_MAX_FRAMES_PER_SECOND = env_float("WS_MAX_FRAMES_PER_SECOND", 5.0, minimum=0.1)
WS_FRAME_BURST = env_int("WS_FRAME_BURST", 20, minimum=1)

# Platform API requests per account per minute; ingest reports per edge per minute.
API_RATE_LIMIT_PER_MINUTE = env_int("API_RATE_LIMIT_PER_MINUTE", 600, minimum=1)
INGEST_RATE_LIMIT_PER_MINUTE = env_int("INGEST_RATE_LIMIT_PER_MINUTE", 3000, minimum=1)
# Sign-in attempts: after this many failures for one username from one address within the
# window (seconds), further attempts are refused until the window ends.
LOGIN_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5, minimum=1)
LOGIN_FAILURE_WINDOW = env_int("LOGIN_FAILURE_WINDOW", 900, minimum=60)

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "overview"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
# Only needed by `collectstatic`; without it files are served from the app directories.
STATIC_ROOT = env_str("STATIC_ROOT") or None
WHITENOISE_USE_FINDERS = True

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Sessions live in the database and are read from the cache (shared/sessions.py); a cached copy
# lives at most SESSION_CACHE_SECONDS, which bounds how long a session deleted while Redis was
# unreachable may still be honoured.
SESSION_ENGINE = "shared.sessions"
SESSION_CACHE_SECONDS = env_int("SESSION_CACHE_SECONDS", 300, minimum=1, maximum=86_400)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if not DEBUG:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31_536_000, minimum=0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    if env_bool("TRUST_X_FORWARDED_PROTO", False):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

LOG_LEVEL = env_str("LOG_LEVEL", "INFO").upper()
if LOG_LEVEL not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
    raise ImproperlyConfigured(
        f"LOG_LEVEL must be DEBUG, INFO, WARNING, ERROR or CRITICAL, got {LOG_LEVEL!r}"
    )

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    # request_id: the Request-Id of the API call the line is about ("-" for none).
    "filters": {"request_id": {"()": "shared.request_id.RequestIdFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"}
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["request_id"],
        }
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "daphne": {"level": "WARNING"},
        # Django's own handlers would print its request warnings a second time under DEBUG,
        # without the request id: let them reach the console above only.
        "django": {"handlers": [], "level": "INFO"},
    },
}
