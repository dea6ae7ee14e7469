"""What every benchmark of `make bench` shares: the log line, process figures from /proc,
percentiles, tables, a keep-alive HTTP client and the e2e helpers (with Django set up)."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import http.client
import json
import os
import secrets
import subprocess
import sys
import textwrap
import uuid
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from bench.clients import clock

# The repository's root (bench/ is one level down).
ROOT = Path(__file__).resolve().parents[1]

_started = clock()


def say(message: str) -> None:
    print(f"[{clock() - _started:6.1f}s] {message}", flush=True)


# Process figures, from /proc


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of a live process (all its threads)."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def peak_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def percentile(ordered: list[float], q: float) -> float:
    """Linear interpolation between closest ranks, q in [0, 100]."""
    if not ordered:
        return float("nan")
    position = (len(ordered) - 1) * q / 100
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]
    lines = ["  ".join(h.rjust(w) for h, w in zip(header, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    lines.extend("  ".join(c.rjust(w) for c, w in zip(r, widths, strict=True)) for r in rows)
    return "\n".join(lines)


def reflow(legend: str, width: int = 97) -> str:
    """Re-wrap a legend's paragraphs (a line not indented starts one) to the tables' style."""
    paragraphs: list[list[str]] = []
    for line in legend.splitlines():
        if not line.startswith(" ") or not paragraphs:
            paragraphs.append([])
        paragraphs[-1].append(line.strip())
    return "\n".join(
        textwrap.fill(" ".join(words), width=width, subsequent_indent="  ") for words in paragraphs
    )


# The e2e helpers and the server's environment


@functools.cache
def e2e() -> Any:
    """The e2e helpers import the project's models: set Django up first (lazily, so the
    subscriber processes, which import this module, stay light)."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "edgeboard.settings")
    import django

    django.setup()
    from tests.e2e import conftest

    return conftest


def database_label(url: str | None) -> str:
    return "PostgreSQL" if (url or "").startswith("postgres") else "SQLite file"


@contextlib.contextmanager
def environ_without(*names: str) -> Iterator[None]:
    """Hide variables from os.environ for a while (seeded_environment reads DATABASE_URL)."""
    saved = {name: os.environ.pop(name) for name in names if name in os.environ}
    try:
        yield
    finally:
        os.environ.update(saved)


def in_server_env(env: Mapping[str, str], command: str, args: dict[str, Any]) -> Any:
    """Run `python -m bench.bulk COMMAND ARGS` with a server's environment (its
    database) and answer the JSON it prints last."""
    result = subprocess.run(
        [sys.executable, "-m", "bench.bulk", command, json.dumps(args)],
        cwd=ROOT,
        env=dict(env),
        capture_output=True,
        text=True,
        timeout=300,
    )
    if result.returncode:
        raise RuntimeError(f"bulk {command} failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def flush_redis_prefix(redis_url: str | None, prefix: str | None) -> None:
    """Remove what a benchmark server left in Redis under its own prefix."""
    if not (redis_url and prefix):
        return
    from channels_redis.core import RedisChannelLayer

    layer = RedisChannelLayer(hosts=[{"address": redis_url}], prefix=prefix)
    with contextlib.suppress(Exception):
        asyncio.run(asyncio.wait_for(layer.flush(), 10))


class Http:
    """One keep-alive HTTP/1.1 connection to a server, reopened when the server closes it."""

    def __init__(self, url: str, timeout: float = 30.0) -> None:
        parts = urlsplit(url)
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 80
        self.timeout = timeout
        self.connection: http.client.HTTPConnection | None = None

    def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, bytes]:
        if self.connection is None:
            self.connection = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        try:
            self.connection.request(method, path, body=body, headers=headers or {})
            response = self.connection.getresponse()
            data = response.read()
        except (OSError, http.client.HTTPException):
            self.close()
            raise
        if response.will_close:
            self.close()
        return response.status, data

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()
            self.connection = None


# Seeded databases, migrated and seeded once per kind and copied for each benchmark


_templates: dict[str, tuple[str, dict[str, Any]]] = {}


def _copy_sqlite(source: str, target: Path) -> None:
    import sqlite3

    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)


@contextlib.contextmanager
def seeded(tmp: Path, origins: list[str]) -> Iterator[Any]:
    """tests.e2e's seeded_environment, but migrating and seeding only the first time per kind
    of database (SQLite file, PostgreSQL) in this run: later ones start from a copy of that
    first database (a SQLite backup, or CREATE DATABASE ... TEMPLATE), which saves a migration
    and a seed_demo per benchmark. `close_templates` drops the PostgreSQL template."""
    helpers = e2e()
    base = os.environ.get("DATABASE_URL", "")
    kind = "postgresql" if base.startswith(("postgres://", "postgresql://")) else "sqlite"
    if kind not in _templates:
        holder = tmp / f"template-{kind}"
        holder.mkdir(parents=True, exist_ok=True)
        name, drop = helpers._database_url(holder)
        env = {**os.environ, "DATABASE_URL": name, "PYTHONUNBUFFERED": "1"}
        env.pop("DJANGO_SETTINGS_MODULE", None)
        server = helpers.Server(url=origins[0], env=env, demo={})
        try:
            server.manage("migrate", "--no-input", "-v", "0")
            demo = json.loads(
                server.manage("seed_demo", "--json", "--password", helpers.DEMO_PASSWORD)
            )
        except BaseException:
            if drop is not None:
                drop()
            raise
        _templates[kind] = (name, demo)
        _template_drops.append(drop)
    template, demo = _templates[kind]
    tmp.mkdir(parents=True, exist_ok=True)
    drop = None
    if kind == "sqlite":
        path = tmp / "e2e.sqlite3"
        _copy_sqlite(template.removeprefix("sqlite:///"), path)
        database_url = f"sqlite:///{path}"
    else:
        import psycopg

        parts = urlsplit(template)
        name = f"e2e_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(base, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{parts.path.lstrip("/")}"')
        database_url = urlunsplit(parts._replace(path=f"/{name}"))

        def drop() -> None:
            with psycopg.connect(base, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "DASHBOARD_ORIGINS": ",".join(origins),
        "CHANNEL_LAYER_PREFIX": f"e2e-{uuid.uuid4().hex[:8]}",
        "PYTHONUNBUFFERED": "1",
        # Production settings: DEBUG records every SQL statement, which costs the ingest path
        # dearly. Only the HTTPS redirect is off, there being no TLS on loopback.
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(48),
        "SECURE_SSL_REDIRECT": "0",
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)
    try:
        yield helpers.Server(url=origins[0], env=env, demo=demo)
    finally:
        if drop is not None:
            drop()


_template_drops: list[Any] = []


def close_templates() -> None:
    """Drop the template databases `seeded` made (a SQLite one goes with its directory)."""
    while _template_drops:
        drop = _template_drops.pop()
        if drop is not None:
            with contextlib.suppress(Exception):
                drop()
    _templates.clear()
