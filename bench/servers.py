"""Servers under test for the socket benchmarks, and one measured series of rounds against them.

A round sends a new connections value for acme-web (B2: an edge report over HTTP; B4: a
`group_send` straight into Redis) and notes when each socket got the frame carrying it.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.clients import Endpoint
from bench.common import cpu_seconds, e2e, peak_rss_mib, say
from bench.crowd import Crowd, latency_figures, send_rounds

# The repository's root (bench/ is one level down).
ROOT = Path(__file__).resolve().parents[1]
APP = "acme-web"
HOSTNAME = "acme-web.example.net"
ELEMENT_ID = f"app-{APP}-connections"
EDGE = "gateway"
USER = "alice"
TEXTBOOK_APP = "bench.textbook:application"


@dataclass(frozen=True)
class Rounds:
    """How one series of rounds runs."""

    rounds: int
    warmup: int
    interval: float
    settle: float
    clients: int


@dataclass
class Target:
    """A server under test: where sockets connect and how a round sends its value."""

    bench: str
    url: str
    pid: int
    cookie: str | None
    send: Callable[[int], None]
    pids: tuple[int, ...] = ()  # every server process, when there are several
    logs: tuple[Path, ...] = ()  # the server processes' log files

    @property
    def endpoint(self) -> Endpoint:
        return Endpoint(
            self.url.replace("http://", "ws://") + f"/ws/live/apps/{APP}/", self.url, ELEMENT_ID
        )

    @property
    def server_pids(self) -> tuple[int, ...]:
        return self.pids or (self.pid,)


class Values:
    """Connections values, new every time, across all runs (the database outlives a run)."""

    def __init__(self) -> None:
        self.last = 1000

    def next(self) -> int:
        self.last += 1
        return self.last


def redis_cpu_seconds(redis_url: str | None) -> float | None:
    """The Redis server's own CPU time so far (all its clients), or None without Redis."""
    if not redis_url:
        return None
    import redis

    try:
        client = redis.Redis.from_url(redis_url, socket_timeout=2)
        info = client.info("cpu")
        client.close()
    except Exception:
        return None
    return float(info["used_cpu_user"]) + float(info["used_cpu_sys"])


# Servers


def start_dashboard(
    server: Any, port: int, log: Path, **env: str | None
) -> subprocess.Popen[bytes]:
    """A fresh daphne serving the dashboard on the seeded database, every change pushed (unless
    `env` says otherwise; a variable given as None is left out, so the server's default holds)."""
    url = f"http://127.0.0.1:{port}"
    merged = {
        **server.env,
        "DASHBOARD_ORIGINS": url,
        "PORT": str(port),
        "LIVE_MIN_INTERVAL": "0",
        **env,
    }
    environment = {name: value for name, value in merged.items() if value is not None}
    return e2e().start_daphne(port, environment, log)


def report_sender(url: str, token: str) -> Callable[[int], None]:
    from tests.e2e.live_client import post_report

    def send(value: int) -> None:
        answer = post_report(url, EDGE, token, **{HOSTNAME: value})
        if not answer.get("accepted"):
            raise RuntimeError(f"report not applied: {answer}")

    return send


def gateway_token(server: Any) -> str:
    return server.edge_token(EDGE)


@contextlib.contextmanager
def dashboard_target(
    server: Any, tmp: Path, user: str = USER, **env: str | None
) -> Iterator[Target]:
    """A fresh daphne serving the dashboard (so RSS and CPU are its own); `env` as for
    start_dashboard."""
    helpers = e2e()
    from tests.e2e.live_client import session_cookie

    port = helpers.free_port()
    url = f"http://127.0.0.1:{port}"
    log = tmp / f"daphne-{port}.log"
    process = start_dashboard(server, port, log, **env)
    try:
        cookie = session_cookie(url, user, helpers.DEMO_PASSWORD)
        yield Target(
            "B2", url, process.pid, cookie, report_sender(url, gateway_token(server)), logs=(log,)
        )
    finally:
        helpers.stop(process)


def textbook_frame(template: str | None, value: int) -> str:
    """The dashboard's fragment with a new connections value (a stand-in of the same size
    without a sample)."""
    if template is None:
        template = (
            f'<section class="panel live" id="app-live"><span id="{ELEMENT_ID}" '
            'data-count="0">0</span>' + "<p>" + "x" * 1400 + "</p></section>"
        )
    return re.sub(
        rf'(id="{ELEMENT_ID}" data-count=")\d+(">)[^<]*',
        rf"\g<1>{value}\g<2>{value}",
        template,
    )


@contextlib.contextmanager
def textbook_target(tmp: Path, redis_url: str, template: str | None) -> Iterator[Target]:
    """daphne serving bench.textbook, and a Redis layer to group_send through."""
    helpers = e2e()
    from channels_redis.core import RedisChannelLayer

    from bench import textbook
    from edgeboard.server import daphne_argv

    port = helpers.free_port()
    url = f"http://127.0.0.1:{port}"
    prefix = f"bench-{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ,
        "REDIS_URL": redis_url,
        "CHANNEL_LAYER_PREFIX": prefix,
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)
    argv = daphne_argv(host="127.0.0.1", port=port)
    argv[0] = str(Path(sys.executable).with_name("daphne"))
    argv[-1] = TEXTBOOK_APP
    log = tmp / f"textbook-{port}.log"
    loop = asyncio.new_event_loop()
    layer = RedisChannelLayer(
        hosts=[{"address": redis_url, "socket_timeout": 10, "socket_connect_timeout": 3}],
        prefix=prefix,
        capacity=1000,
        expiry=30,
    )
    with log.open("wb") as out:
        process = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        helpers._wait_until_up(url, process, log)

        def send(value: int) -> None:
            message = {"type": textbook.MESSAGE_TYPE, "frame": textbook_frame(template, value)}
            loop.run_until_complete(layer.group_send(textbook.GROUP, message))

        yield Target("B4", url, process.pid, None, send)
    finally:
        helpers.stop(process)
        with contextlib.suppress(Exception):
            loop.run_until_complete(asyncio.wait_for(layer.flush(), 10))
        loop.close()


# One series of rounds


def measure_rounds(
    target: Target, crowd: Crowd, label: str, setup: Rounds, values: Values
) -> dict[str, Any]:
    """Send the rounds to the subscribed crowd and answer the figures of the series."""
    redis_url = os.environ.get("REDIS_URL")
    pids = target.server_pids
    server_cpu = sum(cpu_seconds(pid) for pid in pids)
    clients_cpu = crowd.cpu_seconds()
    redis_cpu = redis_cpu_seconds(redis_url)
    sent, took = send_rounds(target.send, values.next, setup.rounds, setup.interval, setup.warmup)
    done = crowd.finish({ELEMENT_ID: max(sent)}, setup.settle)
    server_cpu_total = sum(cpu_seconds(pid) for pid in pids)
    clients_cpu = crowd.cpu_seconds() - clients_cpu
    redis_after = redis_cpu_seconds(redis_url)
    figures = latency_figures(sent, done["arrivals"], crowd.connected - crowd.stallers)
    for round_, send in zip(figures["rounds"], took, strict=True):
        round_["send_ms"] = round(send * 1000, 2)
    figures.update(
        {
            "sockets": crowd.sockets,
            "connected": crowd.connected,
            "send_ms_median": sorted(took)[len(took) // 2] * 1000,
            "subscribe_s": crowd.subscribe_seconds,
            "server_cpu_s": server_cpu_total - server_cpu,
            "server_cpu_total_s": server_cpu_total,
            "server_peak_rss_mib": max(peak_rss_mib(pid) for pid in pids),
            "clients_cpu_s": clients_cpu,
            "redis_cpu_s": (
                redis_after - redis_cpu
                if redis_cpu is not None and redis_after is not None
                else None
            ),
            "closed_by_server": done["closed_by_server"],
            "stallers": crowd.stallers,
            "stallers_closed_by_server": done["stallers_closed_by_server"],
            "close_codes": done["close_codes"],
            "frames_received": done["frames"],
        }
    )
    say(
        f"{label}: {len(sent)} rounds, p50 {figures['p50_ms']:.1f} ms, "
        f"p99 {figures['p99_ms']:.1f} ms, max {figures['max_ms']:.1f} ms, "
        f"{figures['frames_per_s']:.0f} frames/s, {figures['missed']} missed, "
        f"server CPU {figures['server_cpu_s']:.2f} s, "
        f"peak RSS {figures['server_peak_rss_mib']:.0f} MiB"
    )
    return figures


def run_once(
    target: Target, sockets: int, label: str, setup: Rounds, values: Values
) -> tuple[dict[str, Any], str | None]:
    """Subscribe `sockets` sockets, send the rounds and measure; answer the figures and one
    frame a subscriber received (a sample of the fragment)."""
    with Crowd(label, [target.endpoint], target.cookie, sockets, setup.clients) as crowd:
        figures = measure_rounds(target, crowd, label, setup, values)
    return figures, crowd.sample
