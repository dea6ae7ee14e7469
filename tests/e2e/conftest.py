"""A real daphne serving the dashboard on loopback, and Debian's Chromium driven by Playwright."""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest

from edgeboard.server import server_argv
from tests.conftest import unavailable

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
DEMO_PASSWORD = "e2e-demo-password"
ARTIFACTS = ROOT / "test-artifacts"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Server:
    url: str
    env: dict[str, str]
    demo: dict[str, Any]
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    def user(self, username: str) -> dict[str, Any]:
        return next(u for u in self.demo["users"] if u["username"] == username)

    def edge_token(self, edge: str) -> str:
        """The demo edge's ingest token, as its agent would send it."""
        return next(e["ingest_token"] for e in self.demo["edges"] if e["name"] == edge)

    def manage(self, *args: str) -> str:
        result = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        if result.returncode:
            raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{result.stderr}")
        return result.stdout


def _database_url(tmp: Path) -> tuple[str, Any]:
    """A database of its own for the server: a fresh PostgreSQL database, or a SQLite file."""
    base = os.environ.get("DATABASE_URL", "")
    if not base.startswith(("postgres://", "postgresql://")):
        return f"sqlite:///{tmp / 'e2e.sqlite3'}", None
    import psycopg

    name = f"e2e_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    parts = urlsplit(base)

    def drop() -> None:
        with psycopg.connect(base, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return urlunsplit(parts._replace(path=f"/{name}")), drop


def _wait_until_up(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"daphne exited early:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"daphne did not answer within 30 s:\n{log.read_text()[-3000:]}")


def start_daphne(port: int, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    # The entry point `make run` uses, so tests serve exactly what production serves.
    argv = server_argv(host="127.0.0.1", port=port)
    with log.open("wb") as out:
        process = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    _wait_until_up(f"http://127.0.0.1:{port}", process, log)
    return process


def stop(process: subprocess.Popen[bytes] | None) -> None:
    if process is None:
        return
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()


@contextlib.contextmanager
def seeded_environment(
    tmp: Path, origins: list[str], database_url: str | None = None, **extra: str
) -> Iterator[Server]:
    """A fresh, seeded database (or the empty one given) and the environment a server process
    needs to use it."""
    drop = None
    if database_url is None:
        database_url, drop = _database_url(tmp)
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "DASHBOARD_ORIGINS": ",".join(origins),
        "CHANNEL_LAYER_PREFIX": f"e2e-{uuid.uuid4().hex[:8]}",
        "PYTHONUNBUFFERED": "1",
        **extra,
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)
    server = Server(url=origins[0], env=env, demo={})
    try:
        server.manage("migrate", "--no-input", "-v", "0")
        server.demo = json.loads(server.manage("seed_demo", "--json", "--password", DEMO_PASSWORD))
        yield server
    finally:
        if drop is not None:
            drop()


@pytest.fixture(scope="module")
def dashboard_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A fresh database and daphne per test module, so one module's changes to the demo
    cannot leak into another's."""
    tmp = tmp_path_factory.mktemp("e2e")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with seeded_environment(tmp, [url], PORT=str(port)) as server:
        try:
            server.process = start_daphne(port, server.env, tmp / "daphne.log")
            yield server
        finally:
            stop(server.process)


@pytest.fixture(scope="module")
def production_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """Production settings, so a missing page is the product's own 404."""
    tmp = tmp_path_factory.mktemp("production")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with seeded_environment(
        tmp,
        [url],
        PORT=str(port),
        DJANGO_DEBUG="0",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(48),
        SECURE_SSL_REDIRECT="0",
    ) as server:
        try:
            server.process = start_daphne(port, server.env, tmp / "daphne.log")
            yield server
        finally:
            stop(server.process)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not os.access(CHROMIUM, os.X_OK):
        unavailable(f"{CHROMIUM} is missing (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--no-first-run",
                "--disable-sync",
            ],
        )
        yield instance
        instance.close()


@pytest.fixture
def page(browser: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    failed = getattr(request.node, "rep_call", None)
    if failed is not None and failed.failed:
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"), full_page=True)
    context.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


def login(page: Any, server: Server, username: str) -> None:
    page.goto(server.url + "/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(server.url + "/")


# Every page each persona can reach, for the checks that walk them all (accessibility, small
# screens): staff's, and a customer's (with the pages she may not see: their 404).
EVERY_PAGE = {
    "support": [
        "/",
        "/orgs/acme/",
        "/apps/acme-web/",
        "/edges/acme-ssl/",
        "/edges/gateway/",
        "/support/?q=acme",
        "/upgrades/",
        "/audit/",
        "/account/tokens/",
        "/no/such/page/",
    ],
    "alice": [
        "/",
        "/orgs/acme/",
        "/apps/acme-web/",
        "/edges/acme-ssl/",
        "/audit/",
        "/account/tokens/",
        "/support/",
        "/no/such/page/",
    ],
}
