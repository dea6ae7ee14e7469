"""A daphne process killed while serving sockets: behind HAProxy, with Redis between the two
processes, its clients reconnect to the other one and see the current state."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import unavailable
from tests.e2e.conftest import (
    DEMO_PASSWORD,
    Server,
    free_port,
    login,
    seeded_environment,
    start_daphne,
    stop,
)
from tests.e2e.faults import LiveSockets, Session, report_gateway, wait_for

pytestmark = pytest.mark.e2e

COUNT_ID = "app-acme-web-connections"
HOST = "acme-web.example.net"
LIVE_PATH = "/ws/live/apps/acme-web/"

HAPROXY_CONFIG = """\
defaults
    mode http
    timeout connect 2s
    timeout client 60s
    timeout server 60s
    timeout tunnel 1h
    option redispatch
    retries 3

frontend dashboard
    bind 127.0.0.1:{port}
    default_backend daphne

backend daphne
    balance roundrobin
    option httpchk
    http-check send meth GET uri /healthz ver HTTP/1.1 hdr Host 127.0.0.1
    server first 127.0.0.1:{first} check inter 500ms fall 1 rise 2
    server second 127.0.0.1:{second} check inter 500ms fall 1 rise 2
"""


@dataclass
class Cluster:
    server: Server
    daphnes: dict[str, subprocess.Popen[bytes]]
    logs: dict[str, Path]
    ports: dict[str, int]

    def revive(self, name: str) -> None:
        """Start a killed process again on its port, as a deploy would."""
        if self.daphnes[name].poll() is None:
            return
        self.daphnes[name] = start_daphne(self.ports[name], self.server.env, self.logs[name])

    def serving(self, path: str) -> list[str]:
        """The processes whose log shows a socket opened on `path`."""
        return [name for name, log in self.logs.items() if f"WSCONNECT {path}" in log.read_text()]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    if not os.environ.get("REDIS_URL"):
        unavailable("REDIS_URL is not set: two processes share their events through Redis")
    haproxy = shutil.which("haproxy") or "/usr/sbin/haproxy"
    if not Path(haproxy).exists():
        unavailable("haproxy is missing (apt-get install haproxy)")
    tmp = tmp_path_factory.mktemp("daphne-faults")
    port, first, second = free_port(), free_port(), free_port()
    url = f"http://127.0.0.1:{port}"
    config = tmp / "haproxy.cfg"
    config.write_text(HAPROXY_CONFIG.format(port=port, first=first, second=second))
    # The gateway reports now and then here: it must not turn stale (and count 0) meanwhile.
    with seeded_environment(tmp, [url], EDGE_STALE_AFTER="600") as server:
        daphnes: dict[str, subprocess.Popen[bytes]] = {}
        logs = {"first": tmp / "first.log", "second": tmp / "second.log"}
        proxy = None
        try:
            daphnes["first"] = start_daphne(first, server.env, logs["first"])
            daphnes["second"] = start_daphne(second, server.env, logs["second"])
            with (tmp / "haproxy.log").open("wb") as out:
                proxy = subprocess.Popen(
                    [haproxy, "-db", "-f", str(config)], stdout=out, stderr=subprocess.STDOUT
                )
            wait_for(lambda: _answers(url), 10, "HAProxy to pass requests to daphne")
            yield Cluster(server, daphnes, logs, {"first": first, "second": second})
        finally:
            if proxy is not None:
                proxy.terminate()
                proxy.wait(timeout=10)
            for process in daphnes.values():
                stop(process)


def _answers(url: str) -> bool:
    import urllib.request

    try:
        with urllib.request.urlopen(url + "/healthz", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def report(server: Server, count: int) -> None:
    wait_for(lambda: _posted(server, count), 10, f"HAProxy to take the report of {count}")


def _posted(server: Server, count: int) -> bool:
    try:
        return report_gateway(server, HOST, count)
    except OSError:
        return False


def test_clients_of_a_killed_daphne_reconnect_to_the_other_and_see_the_current_state(
    cluster: Cluster, page: Any
) -> None:
    server = cluster.server
    alice = Session(server.url, "alice", DEMO_PASSWORD)
    login(page, server, "alice")
    page.goto(server.url + "/apps/acme-web/")
    page.wait_for_selector("[ws-connect][data-live=live]")
    browser_on = cluster.serving(LIVE_PATH)
    assert len(browser_on) == 1

    with LiveSockets(server.url, LIVE_PATH, alice.cookie_header(), COUNT_ID, 20) as sockets:
        report(server, 31)
        wait_for(lambda: sockets.all_show(31), 15, "20 sockets to show the first report")
        assert sorted(cluster.serving(LIVE_PATH)) == ["first", "second"]  # split by HAProxy

        victim = browser_on[0]
        cluster.daphnes[victim].send_signal(signal.SIGKILL)
        cluster.daphnes[victim].wait(timeout=10)
        # The state changes while the browser is reconnecting: it must see the new one.
        report(server, 32)
        wait_for(lambda: sockets.all_show(32), 15, "every socket to show 32", sockets)
        page.wait_for_function(
            f"() => document.getElementById('{COUNT_ID}').dataset.count === '32'",
            timeout=15_000,
        )
        assert sum(w.connects for w in sockets.watchers) > 20  # some did reconnect
        # And updates keep flowing to everyone through the surviving process.
        report(server, 33)
        wait_for(lambda: sockets.all_show(33), 10, "every socket to show 33")
        page.wait_for_function(
            f"() => document.getElementById('{COUNT_ID}').dataset.count === '33'",
            timeout=10_000,
        )


# `make soak` raises it to the full storm.
STORM_SOCKETS = int(os.environ.get("STORM_SOCKETS", "400"))


def test_a_storm_of_reconnects_after_a_kill_is_taken_in_and_every_socket_shows_the_state(
    cluster: Cluster,
) -> None:
    """Half of the sockets (400 in `make test`) lose their process at once and retry like htmx
    (first attempts within a second, then full-jitter backoff): each is back, on the survivor,
    with the current state."""
    for name in cluster.daphnes:
        cluster.revive(name)
    wait_for(lambda: _answers(cluster.server.url), 10, "both processes to serve")
    server = cluster.server
    alice = Session(server.url, "alice", DEMO_PASSWORD)
    cookie = alice.cookie_header()
    with LiveSockets(
        server.url, LIVE_PATH, cookie, COUNT_ID, STORM_SOCKETS, like_htmx=True
    ) as sockets:
        report(server, 41)
        wait_for(lambda: sockets.all_show(41), 60, f"{STORM_SOCKETS} sockets to show 41", sockets)
        before = [w.connects for w in sockets.watchers]

        cluster.daphnes["first"].send_signal(signal.SIGKILL)
        cluster.daphnes["first"].wait(timeout=10)
        report(server, 42)
        wait_for(lambda: sockets.all_show(42), 30, "every socket to be back with 42", sockets)

        reconnected = sum(w.connects > n for w, n in zip(sockets.watchers, before, strict=True))
        assert reconnected >= STORM_SOCKETS // 4  # HAProxy had split them between the two
        report(server, 43)
        wait_for(lambda: sockets.all_show(43), 15, "every socket to show 43")
    cluster.revive("first")
