"""A real edge end to end: Debian's HAProxy on loopback, configured by the dashboard through the
edge agent, carrying WebSockets to a real echo back-end, and its `show stat` counts arriving on
the app's live page."""

from __future__ import annotations

import contextlib
import json
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import ClientConnection, connect

from tests.conftest import unavailable
from tests.e2e.conftest import (
    DEMO_PASSWORD,
    ROOT,
    Server,
    free_port,
    seeded_environment,
    start_daphne,
    stop,
)
from tests.e2e.faults import wait_for
from tests.e2e.live_client import count_in, session_cookie

pytestmark = pytest.mark.e2e

APP = "acme-chat"
HOSTNAME = "rt.acme.example"
EDGE = "rt-edge"


@dataclass
class Edge:
    server: Server
    port: int  # where HAProxy listens
    backend_port: int
    tmp: Path
    processes: dict[str, subprocess.Popen[bytes]]

    def start_backend(self) -> None:
        log = (self.tmp / "echo.log").open("ab")
        self.processes["echo"] = subprocess.Popen(
            [sys.executable, "-m", "tests.e2e.echo_backend", str(self.backend_port)],
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        wait_for(lambda: _listening(self.backend_port), 10, "the echo back-end to listen")

    def kill_backend(self) -> None:
        process = self.processes.pop("echo")
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)

    def client(self) -> Any:
        """A WebSocket to the app's hostname, through HAProxy (a context manager)."""
        sock = socket.create_connection(("127.0.0.1", self.port), timeout=5)
        return connect(f"ws://{HOSTNAME}:{self.port}/", sock=sock, open_timeout=5)


def _listening(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
        return True
    except OSError:
        return False


def api(server: Server, user: str, method: str, path: str, body: Any = None) -> Any:
    request = urllib.request.Request(
        server.url + path,
        data=json.dumps(body).encode() if body is not None else None,
        method=method,
        headers={
            "Accept": "application/vnd.heroku+json; version=3",
            "Authorization": f"Bearer {server.user(user)['api_token']}",
            "Content-Type": "application/json",
        },
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


@pytest.fixture(scope="module")
def edge(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Edge]:
    haproxy = shutil.which("haproxy") or "/usr/sbin/haproxy"
    if not Path(haproxy).exists():
        unavailable("haproxy is missing (apt-get install haproxy)")
    tmp = tmp_path_factory.mktemp("edge")
    daphne_port, http_port, ws_port, backend_port = (free_port() for _ in range(4))
    url = f"http://127.0.0.1:{daphne_port}"
    processes: dict[str, subprocess.Popen[bytes]] = {}
    with seeded_environment(tmp, [url], LIVE_MIN_INTERVAL="0.2") as server:
        try:
            created = json.loads(
                server.manage(
                    "edges", "create", EDGE, "--hostname", "rt-edge.edges.example.net",
                    "--kind", "custom_ssl", "--proxy", "haproxy", "--org", "acme",
                    "--http-port", str(http_port), "--ws-port", str(ws_port),
                    "--idle-timeout", "3600", "--json",
                )
            )  # fmt: skip
            server.manage(
                "shell",
                "-c",
                "from dashboard.models import App; from edges.models import Edge; "
                "from dashboard.services.domains import domain_add; "
                f"domain_add(app=App.objects.get(name={APP!r}), hostname={HOSTNAME!r}, "
                f"edge=Edge.objects.get(name={EDGE!r}), actor=None, source='cli')",
            )
            processes["daphne"] = start_daphne(daphne_port, server.env, tmp / "daphne.log")
            # Support points the app at its one web process on this host.
            for backend in api(server, "support", "GET", f"/apps/{APP}/backends"):
                api(server, "support", "DELETE", f"/apps/{APP}/backends/{backend['address']}")
            api(
                server, "support", "POST", f"/apps/{APP}/backends",
                {"address": f"127.0.0.1:{backend_port}"},
            )  # fmt: skip

            config = tmp / "haproxy.cfg"
            stats, master = tmp / "admin.sock", tmp / "master.sock"
            server.manage(
                "edge_config", EDGE, "--format", "haproxy", "--stats-socket", str(stats),
                "--bind", "127.0.0.1", "--output", str(config),
            )  # fmt: skip
            processes["haproxy"] = subprocess.Popen(
                [haproxy, "-W", "-S", str(master), "-f", str(config)],
                stdout=(tmp / "haproxy.log").open("wb"),
                stderr=subprocess.STDOUT,
            )
            wait_for(stats.exists, 10, "HAProxy's stats socket")
            processes["agent"] = subprocess.Popen(
                [
                    sys.executable, "manage.py", "edge_agent", "--edge", EDGE, "--url", url,
                    "--haproxy-config", str(config), "--haproxy-socket", str(stats),
                    "--master-socket", str(master), "--bind", "127.0.0.1",
                    "--haproxy-bin", haproxy, "--interval", "0.5",
                ],
                cwd=ROOT,
                env={**server.env, "EDGE_AGENT_TOKEN": created["ingest_token"]},
                stdout=(tmp / "agent.log").open("wb"),
                stderr=subprocess.STDOUT,
            )  # fmt: skip
            result = Edge(server, ws_port, backend_port, tmp, processes)
            result.start_backend()
            yield result
        finally:
            for name in ("agent", "echo", "haproxy", "daphne"):
                stop(processes.get(name))
            for log in ("agent.log", "haproxy.log"):
                if (tmp / log).exists():
                    print(f"--- {log}\n{(tmp / log).read_text()[-4000:]}")


class LivePage:
    """The app's live page as a browser holds it: a socket on /ws/live/apps/<app>/."""

    def __init__(self, server: Server, stack: contextlib.ExitStack) -> None:
        cookie = session_cookie(server.url, "alice", DEMO_PASSWORD)
        self.socket = stack.enter_context(
            connect(
                server.url.replace("http", "ws") + f"/ws/live/apps/{APP}/",
                additional_headers={"Cookie": cookie, "Origin": server.url},
                open_timeout=10,
            )
        )
        self.connections: int | None = None
        self.backends: dict[str, str] = {}

    def _read(self, timeout: float) -> None:
        try:
            frame = str(self.socket.recv(timeout=timeout))
        except TimeoutError:
            return
        count = count_in(frame, f"app-{APP}-connections")
        if count is not None:
            self.connections = count
        if 'id="app-live"' not in frame:
            return  # only changed numbers (live.cells); a back-end's state changes the section
        # The whole live section: its back-ends replace what was known.
        self.backends = {
            address: state
            for state, address in re.findall(
                r'<tr id="backend-[^"]+" data-state="(\w+)"[^>]*>\s*<td><code>([^<]+)</code>',
                frame,
            )
        }

    def wait(self, what: str, condition: Callable[[LivePage], bool], timeout: float) -> float:
        """Read frames until the condition holds; answer how long it took."""
        started = time.monotonic()
        while not condition(self):
            left = timeout - (time.monotonic() - started)
            if left <= 0:
                raise AssertionError(
                    f"the live page did not show {what} within {timeout} s "
                    f"(connections {self.connections}, back-ends {self.backends})"
                )
            self._read(min(left, 0.5))
        return time.monotonic() - started


def open_clients(edge: Edge, n: int, stack: contextlib.ExitStack) -> list[ClientConnection]:
    clients = [stack.enter_context(edge.client()) for _ in range(n)]
    exchange(clients, "hello")
    return clients


def exchange(clients: list[ClientConnection], word: str) -> None:
    for index, client in enumerate(clients):
        client.send(f"{word} {index}")
    for index, client in enumerate(clients):
        assert client.recv(timeout=5) == f"{word} {index}"


def test_the_websockets_switch_reaches_haproxy_and_haproxy_counts_reach_the_page(
    edge: Edge,
) -> None:
    server = edge.server
    backend = f"127.0.0.1:{edge.backend_port}"
    stack = contextlib.ExitStack()
    with stack:
        _story(edge, server, backend, stack)


def _story(edge: Edge, server: Server, backend: str, stack: contextlib.ExitStack) -> None:
    page = LivePage(server, stack)

    # 1. websockets is off for the app: HAProxy refuses the upgrade.
    wait_for(
        lambda: api(server, "support", "GET", f"/edges/{EDGE}")["config"]["status"] == "applied",
        10,
        "the agent to apply its first configuration",
    )
    with pytest.raises(InvalidStatus) as refused, edge.client():
        pass
    assert refused.value.response.status_code == 403

    # 2. Alice enables it through the Platform API; HAProxy lets upgrades through within 5 s.
    api(server, "alice", "PATCH", f"/apps/{APP}/features/websockets", {"enabled": True})

    def upgrade_accepted() -> bool:
        try:
            with edge.client():
                return True
        except InvalidStatus:
            return False

    wait_for(upgrade_accepted, 5, "HAProxy to accept WebSocket upgrades")
    clients = open_clients(edge, 20, stack)

    # 3. The live page shows the 20 within 3 s.
    page.wait("20 connections", lambda p: p.connections == 20, 3)
    assert page.backends.get(backend) == "up"

    # A configuration change reloads HAProxy: the 20 sockets stay open on the old worker,
    # keep working, and are still counted.
    api(server, "support", "POST", f"/apps/{APP}/backends", {"address": "127.0.0.1:9"})
    page.wait("the new back-end", lambda p: "127.0.0.1:9" in p.backends, 10)
    exchange(clients, "after the reload")
    page.wait("20 connections after the reload", lambda p: p.connections == 20, 3)
    api(server, "support", "DELETE", f"/apps/{APP}/backends/127.0.0.1:9")
    page.wait("the back-end gone", lambda p: "127.0.0.1:9" not in p.backends, 10)

    # 4. The back-end dies: HAProxy marks it DOWN and the page shows it dead; it comes back.
    edge.kill_backend()
    page.wait("the back-end dead", lambda p: p.backends.get(backend) == "dead", 10)
    page.wait("no connections", lambda p: p.connections == 0, 5)
    edge.start_backend()
    page.wait("the back-end up again", lambda p: p.backends.get(backend) == "up", 10)

    # 5. Twenty clients again, then they close: the page shows 0.
    clients = open_clients(edge, 20, stack)
    page.wait("20 connections again", lambda p: p.connections == 20, 3)
    for client in clients:
        client.close()
    page.wait("0 connections", lambda p: p.connections == 0, 3)
