from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from shared.env import env_bool, env_date, env_int, env_list, env_origins, env_url

ROOT = Path(__file__).resolve().parents[2]
GOOD_SECRET = "k3y-" + "f9a8b7c6d5e4" * 5


@pytest.mark.parametrize(
    ("raw", "value"), [("1", True), ("yes", True), ("OFF", False), ("false", False), (None, True)]
)
def test_booleans_accept_the_usual_spellings(raw: str | None, value: bool) -> None:
    environ = {} if raw is None else {"X": raw}
    assert env_bool("X", True, environ) is value


@pytest.mark.parametrize("raw", ["maybe", "2", "tru"])
def test_booleans_refuse_anything_else(raw: str) -> None:
    with pytest.raises(ImproperlyConfigured, match="X must be one of"):
        env_bool("X", True, {"X": raw})


def test_integers_are_parsed_strictly() -> None:
    assert env_int("N", 5, environ={"N": "42"}) == 42
    for raw in ["4.2", "forty", "0x10"]:
        with pytest.raises(ImproperlyConfigured, match="must be an integer"):
            env_int("N", 5, environ={"N": raw})
    with pytest.raises(ImproperlyConfigured, match="at least 1"):
        env_int("N", 5, minimum=1, environ={"N": "0"})


def test_dates_must_be_iso() -> None:
    assert env_date("D", dt.date(2014, 7, 7), {"D": "2015-01-01"}) == dt.date(2015, 1, 1)
    with pytest.raises(ImproperlyConfigured, match="YYYY-MM-DD"):
        env_date("D", dt.date(2014, 7, 7), {"D": "07/07/2014"})


def test_lists_refuse_empty_items() -> None:
    assert env_list("L", [], {"L": "a, b"}) == ["a", "b"]
    with pytest.raises(ImproperlyConfigured, match="without empty items"):
        env_list("L", [], {"L": "a,,b"})


def test_origins_are_normalised_and_checked() -> None:
    assert env_origins("O", [], {"O": "HTTPS://Dash.Example.com:443,http://127.0.0.1:8000"}) == [
        "https://dash.example.com",
        "http://127.0.0.1:8000",
    ]
    for raw in ["dash.example.com", "https://dash.example.com/path", "*", "ftp://x.example"]:
        with pytest.raises(ImproperlyConfigured):
            env_origins("O", [], {"O": raw})


def test_urls_must_use_an_allowed_scheme() -> None:
    assert env_url("R", ("redis",), {"R": "redis://127.0.0.1:6379/0"})
    with pytest.raises(ImproperlyConfigured, match="redis://"):
        env_url("R", ("redis",), {"R": "http://127.0.0.1:6379"})


def run_manage(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    base = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "DATABASE_URL", "REDIS_URL", "DASHBOARD_"))
    }
    base.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=base,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"DJANGO_DEBUG": "perhaps"}, "DJANGO_DEBUG must be one of"),
        ({"DJANGO_DEBUG": "0"}, "DJANGO_SECRET_KEY must be set"),
        ({"DJANGO_SECRET_KEY": "short"}, "at least 50 varied characters"),
        ({"DATABASE_URL": "mysql://x/y"}, "DATABASE_URL must be a URL"),
        ({"REDIS_URL": "127.0.0.1:6379"}, "REDIS_URL must be a URL"),
        ({"PORT": "eighty"}, "PORT must be an integer"),
        ({"REDIS_SOCKET_TIMEOUT": "2"}, "REDIS_SOCKET_TIMEOUT must be at least 6"),
        ({"WEBSOCKETS_GA_DATE": "July 2014"}, "WEBSOCKETS_GA_DATE must be a date"),
        ({"DASHBOARD_ORIGINS": "https://*.example.com/x"}, "DASHBOARD_ORIGINS"),
        ({"LOG_LEVEL": "loud"}, "LOG_LEVEL must be"),
        ({"DATABASE_POOL_SIZE": "-1"}, "DATABASE_POOL_SIZE must be at least 0"),
        ({"DATABASE_POOL_TIMEOUT": "600"}, "DATABASE_POOL_TIMEOUT must be at most 60"),
        ({"LIVE_HANDSHAKES_IN_FLIGHT": "0"}, "LIVE_HANDSHAKES_IN_FLIGHT must be at least 1"),
        ({"LIVE_HANDSHAKE_PATIENCE": "soon"}, "LIVE_HANDSHAKE_PATIENCE must be a number"),
    ],
)
def test_bad_settings_stop_the_process_with_a_clear_message(env: dict, message: str) -> None:
    result = run_manage("check", **env)
    assert result.returncode != 0
    assert message in result.stderr


def test_production_settings_pass_the_deployment_checks() -> None:
    result = run_manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DJANGO_DEBUG="0",
        DJANGO_SECRET_KEY=GOOD_SECRET,
        DASHBOARD_ORIGINS="https://dashboard.example.com",
    )
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


def test_development_defaults_fail_the_deployment_checks() -> None:
    result = run_manage("check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode != 0


def test_redis_url_switches_to_channels_redis_with_a_socket_timeout() -> None:
    code = (
        "from django.conf import settings; c = settings.CHANNEL_LAYERS['default']; "
        "print(c['BACKEND'], c['CONFIG']['hosts'][0]['socket_timeout'])"
    )
    result = run_manage("shell", "-v", "0", "-c", code, REDIS_URL="redis://127.0.0.1:6399/3")
    assert result.stdout.split() == ["channels_redis.core.RedisChannelLayer", "10"]


def test_embedded_defaults_need_nothing_running() -> None:
    code = (
        "from django.conf import settings; print(settings.DATABASES['default']['ENGINE'], "
        "settings.CHANNEL_LAYERS['default']['BACKEND'])"
    )
    result = run_manage("shell", "-v", "0", "-c", code)
    assert result.stdout.split() == [
        "django.db.backends.sqlite3",
        "channels.layers.InMemoryChannelLayer",
    ]


POOL = (
    "from django.conf import settings; d = settings.DATABASES['default']; "
    "p = d.get('OPTIONS', {}).get('pool'); "
    "print(d['CONN_MAX_AGE'], p and p['max_size'], p and p['timeout'])"
)


def test_postgresql_connections_come_from_a_pool_sized_by_the_environment() -> None:
    url = "postgres://dashboard@db.example:5432/dashboard"
    result = run_manage("shell", "-v", "0", "-c", POOL, DATABASE_URL=url)
    assert result.stdout.split() == ["0", "10", "5.0"], result.stderr
    result = run_manage(
        "shell",
        "-v",
        "0",
        "-c",
        POOL,
        DATABASE_URL=url,
        DATABASE_POOL_SIZE="20",
        DATABASE_POOL_TIMEOUT="1.5",
    )
    assert result.stdout.split() == ["0", "20", "1.5"], result.stderr


def test_a_pool_size_of_zero_opens_a_connection_per_request() -> None:
    url = "postgres://dashboard@db.example:5432/dashboard"
    result = run_manage("shell", "-v", "0", "-c", POOL, DATABASE_URL=url, DATABASE_POOL_SIZE="0")
    assert result.stdout.split() == ["0", "None", "None"], result.stderr


@pytest.mark.django_db
def test_on_postgresql_this_process_takes_its_connections_from_the_pool() -> None:
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("the pool is PostgreSQL's (set DATABASE_URL)")
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        assert cursor.fetchone() == (1,)
    assert connection.pool is not None
    assert connection.pool.max_size == 10
