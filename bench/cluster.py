"""B5 several processes: B2 through Debian's HAProxy in front of two daphne processes that share
Redis as their channel layer.

HAProxy on loopback balances connections round-robin over the two daphnes (`timeout tunnel`
keeps the upgraded sockets open); N sockets signed in as alice connect through it, so each
process holds about half and subscribes once to the app's topic. Each round POSTs a gateway
report through HAProxy too (so either process may take it); the change reaches the other process
through Redis. Latency as B2's; Redis CPU is the server's own used_cpu_user + used_cpu_sys
(INFO cpu) over the rounds, so it includes whatever else uses that Redis meanwhile.
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bench.common import cpu_seconds, e2e, peak_rss_mib, say
from bench.crowd import Crowd
from bench.servers import (
    USER,
    Rounds,
    Target,
    Values,
    gateway_token,
    measure_rounds,
    report_sender,
    start_dashboard,
)

HAPROXY_CONFIG = """\
global
    maxconn 8000

defaults
    mode http
    timeout connect 5s
    timeout client 60s
    timeout server 60s
    timeout tunnel 1h

frontend edge
    bind 127.0.0.1:{port}
    default_backend daphnes

backend daphnes
    balance roundrobin
{servers}
"""


def haproxy_binary() -> str | None:
    found = shutil.which("haproxy") or "/usr/sbin/haproxy"
    return found if Path(found).exists() else None


def established(port: int) -> int:
    """TCP connections established to a local port (from /proc/net/tcp)."""
    count = 0
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] == "01":
            count += 1
    return count


def _wait_for(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"haproxy exited:\n{log.read_text()[-2000:]}")
        with (
            contextlib.suppress(OSError),
            urllib.request.urlopen(url + "/healthz", timeout=1) as response,
        ):
            if response.status == 200:
                return
        time.sleep(0.1)
    raise RuntimeError(f"haproxy did not answer within 20 s:\n{log.read_text()[-2000:]}")


@contextlib.contextmanager
def cluster_target(
    server: Any, tmp: Path, haproxy: str, name: str = "b5", **env: str | None
) -> Iterator[tuple[Target, dict[str, Any]]]:
    """Two daphnes behind HAProxy; `name` prefixes the log and configuration files, `env` as
    for start_dashboard (e.g. LIVE_MIN_INTERVAL=None: the production default)."""
    helpers = e2e()
    from tests.e2e.live_client import session_cookie

    front, *ports = (helpers.free_port() for _ in range(3))
    url = f"http://127.0.0.1:{front}"
    processes: list[subprocess.Popen[bytes]] = []
    logs = tuple(tmp / f"{name}-daphne-{port}.log" for port in ports)
    try:
        for port, daphne_log in zip(ports, logs, strict=True):
            processes.append(
                start_dashboard(server, port, daphne_log, **{"DASHBOARD_ORIGINS": url, **env})
            )
        config = tmp / f"{name}-haproxy.cfg"
        config.write_text(
            HAPROXY_CONFIG.format(
                port=front,
                servers="\n".join(
                    f"    server d{i} 127.0.0.1:{p} maxconn 8000" for i, p in enumerate(ports, 1)
                ),
            )
        )
        log = tmp / f"{name}-haproxy.log"
        balancer = subprocess.Popen(
            [haproxy, "-db", "-f", str(config)],
            stdout=log.open("wb"),
            stderr=subprocess.STDOUT,
        )
        processes.append(balancer)
        _wait_for(url, balancer, log)
        cookie = session_cookie(url, USER, helpers.DEMO_PASSWORD)
        target = Target(
            "B5",
            url,
            processes[0].pid,
            cookie,
            report_sender(url, gateway_token(server)),
            pids=(processes[0].pid, processes[1].pid),
            logs=logs,
        )
        yield target, {"ports": ports, "haproxy_pid": balancer.pid}
    finally:
        for process in reversed(processes):
            helpers.stop(process)


def run(
    server: Any, tmp: Path, sockets: int, setup: Rounds, values: Values
) -> dict[str, Any] | None:
    haproxy = haproxy_binary()
    if haproxy is None:
        return None
    label = f"B5 n={sockets}"
    with cluster_target(server, tmp, haproxy) as (target, parts):
        say(f"{label}: HAProxy pid {parts['haproxy_pid']} before daphnes {target.pids}")
        with Crowd(label, [target.endpoint], target.cookie, sockets, setup.clients) as crowd:
            split = [established(port) for port in parts["ports"]]
            say(f"{label}: sockets per daphne {split}")
            haproxy_cpu = cpu_seconds(parts["haproxy_pid"])
            cpu = [cpu_seconds(pid) for pid in target.pids]
            figures = measure_rounds(target, crowd, label, setup, values)
            haproxy_cpu = cpu_seconds(parts["haproxy_pid"]) - haproxy_cpu
            cpu = [cpu_seconds(pid) - c for pid, c in zip(target.pids, cpu, strict=True)]
        figures.update(
            {
                "bench": "B5",
                "sockets_per_process": split,
                "server_cpu_s_per_process": cpu,
                "server_peak_rss_mib_per_process": [peak_rss_mib(p) for p in target.pids],
                "haproxy_cpu_s": haproxy_cpu,
            }
        )
    return figures
