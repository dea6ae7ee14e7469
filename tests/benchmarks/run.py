"""How fast does a report reach the sockets watching it, how many reports can the server take
in, and how fast is the overview at scale? `make bench` / `make bench-quick`.

B1  ingest throughput (tests/benchmarks/ingest.py): one real daphne, 4 edges posting reports of
    1000 frontends back to back for a fixed time; accepted counts per second, report latency,
    server CPU and RSS. On a SQLite file, and on PostgreSQL too when DATABASE_URL points there.
B2  report -> socket: one real daphne serving the dashboard (LIVE_MIN_INTERVAL=0, so every
    report is pushed), N sockets on /ws/live/apps/acme-web/ signed in as alice, spread over
    several subscriber processes. Each round POSTs a gateway report with a new connections value
    for acme-web.example.net; a sample is the time from just before the POST to the arrival of
    the frame whose #app-acme-web-connections carries that value, for every socket.
B4  the textbook path (needs REDIS_URL): one consumer and one channel-layer channel per socket
    in one group (tests/benchmarks/textbook.py), each round a `group_send` of a frame of the
    same kind straight into Redis; the same samples, at the same N.

B8  the overview at platform scale (tests/benchmarks/pages.py): 10,000 apps and 30,000 domains;
    GET / as staff and as a customer and GET /?page=50, timed over HTTP, with the SQL statements
    each page costs.

B2's latency includes the whole way in (HTTP request, database write, commit, publish, one
render); B4's starts at the channel layer with a ready-made frame. "spread" (first to last
arrival of a round) compares the fan-out alone.

Per B2/B4 figure: the median over the repeats, with min and max. Send and arrival times are
`time.monotonic()` in different processes: CLOCK_MONOTONIC is one clock for the whole machine.
Everything runs on 127.0.0.1 and stops by itself; results also go to bench-results.json.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import multiprocessing
import os
import platform
import queue
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from tests.benchmarks import ingest, pages
from tests.benchmarks.clients import SubscriberSpec, clock, subscriber_process
from tests.benchmarks.common import (
    cpu_seconds,
    database_label,
    flush_redis_prefix,
    peak_rss_mib,
    percentile,
    say,
)
from tests.benchmarks.common import e2e as _django
from tests.benchmarks.common import table as _table

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "bench-results.json"
APP = "acme-web"
HOSTNAME = "acme-web.example.net"
ELEMENT_ID = f"app-{APP}-connections"
EDGE = "gateway"
USER = "alice"
TEXTBOOK_APP = "tests.benchmarks.textbook:application"

# Figures of one run, as (key, column title, format): the latency table, then the cost table.
LATENCY_FIGURES = [
    ("p50_ms", "p50 ms", "{:.1f}"),
    ("p90_ms", "p90 ms", "{:.1f}"),
    ("p99_ms", "p99 ms", "{:.1f}"),
    ("max_ms", "max ms", "{:.1f}"),
    ("spread_ms", "spread ms", "{:.1f}"),
    ("frames_per_s", "frames/s", "{:.0f}"),
    ("missed", "missed", "{:.0f}"),
]
COST_FIGURES = [
    ("subscribe_s", "subscribe s", "{:.1f}"),
    ("server_cpu_s", "server CPU s", "{:.2f}"),
    ("server_cpu_total_s", "server CPU s total", "{:.2f}"),
    ("server_peak_rss_mib", "server peak RSS MiB", "{:.0f}"),
    ("clients_cpu_s", "clients CPU s", "{:.2f}"),
    ("redis_cpu_s", "Redis CPU s", "{:.2f}"),
    ("send_ms_median", "send ms", "{:.1f}"),
]
FIGURES = LATENCY_FIGURES + COST_FIGURES
BENCHES = ("B1", "B2", "B4", "B8")

LEGEND = """\
latency: from just before a round's report (B2: POST /ingest/v1/reports; B4: group_send) to the
  frame with the new value on a socket, every socket of every round pooled; max is the worst one.
spread: last minus first arrival of a round (median of rounds): the fan-out itself.
frames/s: frames delivered over the time from each send to its last arrival, summed over rounds.
missed: frames a socket never got (skipped to a newer value, or not there before the deadline).
subscribe: all sockets connected and holding their snapshot. server CPU: during the rounds
  (total: over the server's whole life, with start-up and subscribing). peak RSS: VmHWM.
clients CPU: the subscriber processes during the rounds. send: median time the send call took."""


@dataclass(frozen=True)
class Config:
    sizes: tuple[int, ...]
    repeats: int
    rounds: int
    warmup: int
    interval: float
    clients: int
    settle: float
    benches: tuple[str, ...]
    quick: bool
    output: Path
    ingest: ingest.IngestConfig
    pages: pages.PagesConfig


@dataclass
class Target:
    """A server under test: where sockets connect and how a round sends its value."""

    bench: str
    url: str
    pid: int
    cookie: str | None
    send: Callable[[int], None]


# Process figures


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


@contextlib.contextmanager
def dashboard_target(server: Any, tmp: Path) -> Iterator[Target]:
    """A fresh daphne serving the dashboard on the seeded database (so RSS and CPU are its own)."""
    e2e = _django()
    from tests.e2e.live_client import post_report, session_cookie

    port = e2e.free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**server.env, "DASHBOARD_ORIGINS": url, "PORT": str(port), "LIVE_MIN_INTERVAL": "0"}
    token = next(e["ingest_token"] for e in server.demo["edges"] if e["name"] == EDGE)
    process = e2e.start_daphne(port, env, tmp / f"daphne-{port}.log")
    try:
        cookie = session_cookie(url, USER, e2e.DEMO_PASSWORD)

        def send(value: int) -> None:
            answer = post_report(url, EDGE, token, **{HOSTNAME: value})
            if not answer.get("accepted"):
                raise RuntimeError(f"report not applied: {answer}")

        yield Target("B2", url, process.pid, cookie, send)
    finally:
        e2e.stop(process)


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
    """daphne serving tests.benchmarks.textbook, and a Redis layer to group_send through."""
    e2e = _django()
    from channels_redis.core import RedisChannelLayer

    from dashboard.server import daphne_argv
    from tests.benchmarks import textbook

    port = e2e.free_port()
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
        _django()._wait_until_up(url, process, log)

        def send(value: int) -> None:
            message = {"type": textbook.MESSAGE_TYPE, "frame": textbook_frame(template, value)}
            loop.run_until_complete(layer.group_send(textbook.GROUP, message))

        yield Target("B4", url, process.pid, None, send)
    finally:
        e2e.stop(process)
        with contextlib.suppress(Exception):
            loop.run_until_complete(asyncio.wait_for(layer.flush(), 10))
        loop.close()


# One run


class _Values:
    """Connections values, new every time, across all runs (the database outlives a run)."""

    def __init__(self) -> None:
        self.last = 1000

    def next(self) -> int:
        self.last += 1
        return self.last


def _collect(
    results: multiprocessing.queues.Queue[Any], kind: str, count: int, timeout: float
) -> dict[int, Any]:
    answers: dict[int, Any] = {}
    deadline = clock() + timeout
    while len(answers) < count:
        remaining = deadline - clock()
        if remaining <= 0:
            raise RuntimeError(f"subscribers did not answer {kind!r} within {timeout:.0f} s")
        try:
            message = results.get(timeout=remaining)
        except queue.Empty:
            continue
        if message[0] == "error":
            raise RuntimeError(f"subscriber process {message[1]} failed: {message[2]}")
        if message[0] != kind:
            raise RuntimeError(f"expected {kind!r} from subscribers, got {message[0]!r}")
        answers[message[1]] = message[2]
    return answers


def _shares(total: int, parts: int) -> list[int]:
    parts = max(1, min(parts, total))
    return [total // parts + (1 if i < total % parts else 0) for i in range(parts)]


def run_once(
    target: Target, sockets: int, label: str, config: Config, values: _Values
) -> tuple[dict[str, Any], str | None]:
    """Subscribe `sockets` sockets, send the rounds and measure; answer the figures and one
    frame a subscriber received (a sample of the fragment)."""
    context = multiprocessing.get_context("spawn")
    results: multiprocessing.queues.Queue[Any] = context.Queue()
    ws_url = target.url.replace("http://", "ws://") + f"/ws/live/apps/{APP}/"
    processes: list[Any] = []
    commands: list[multiprocessing.queues.Queue[Any]] = []
    redis_url = os.environ.get("REDIS_URL")
    closed = False
    try:
        for worker, share in enumerate(_shares(sockets, config.clients)):
            spec = SubscriberSpec(
                worker=worker,
                url=ws_url,
                origin=target.url,
                cookie=target.cookie,
                sockets=share,
                element_id=ELEMENT_ID,
            )
            command: multiprocessing.queues.Queue[Any] = context.Queue()
            process = context.Process(
                target=subscriber_process, args=(spec, command, results), daemon=True
            )
            process.start()
            processes.append(process)
            commands.append(command)

        subscribing = clock()
        ready = _collect(results, "ready", len(processes), 60 + sockets * 0.1)
        subscribe_seconds = clock() - subscribing
        connected = sum(r["connected"] for r in ready.values())
        failed = sum(r["failed"] for r in ready.values())
        errors = [e for r in ready.values() for e in r["errors"]][:2]
        say(
            f"{label}: {connected}/{sockets} sockets got their snapshot in "
            f"{subscribe_seconds:.1f} s" + (f" ({failed} failed: {errors})" if failed else "")
        )
        if not connected:
            raise RuntimeError(f"{label}: no socket could subscribe")
        sample = next((r["sample"] for r in ready.values() if r["sample"]), None)

        server_cpu = cpu_seconds(target.pid)
        clients_cpu = sum(cpu_seconds(p.pid) for p in processes)
        redis_cpu = redis_cpu_seconds(redis_url)
        for _ in range(config.warmup):
            target.send(values.next())
            time.sleep(config.interval)

        sent: dict[int, float] = {}
        send_seconds: list[float] = []
        start = clock()
        for round_ in range(config.rounds):
            time.sleep(max(0.0, start + round_ * config.interval - clock()))
            value = values.next()
            sent[value] = clock()
            target.send(value)
            send_seconds.append(clock() - sent[value])
        for command in commands:
            command.put(("finish", list(sent), config.settle))
        done = _collect(results, "done", len(processes), config.settle + 60)
        server_cpu_total = cpu_seconds(target.pid)
        server_cpu = server_cpu_total - server_cpu
        clients_cpu = sum(cpu_seconds(p.pid) for p in processes) - clients_cpu
        redis_after = redis_cpu_seconds(redis_url)
        rss = peak_rss_mib(target.pid)
        for command in commands:
            command.put(("close",))
        _collect(results, "closed", len(processes), 30)
        closed = True
    finally:
        if not closed:
            for command in commands:
                command.put(("abort",))
        for process in processes:
            process.join(timeout=15)
            if process.is_alive():
                process.terminate()
                process.join(timeout=5)

    latencies: list[float] = []
    per_round: list[dict[str, float | int]] = []
    delivered = 0
    span = 0.0
    for (value, t0), send in zip(sent.items(), send_seconds, strict=True):
        arrivals = sorted(t for answer in done.values() for t in answer["arrivals"][value])
        latencies.extend((t - t0) * 1000 for t in arrivals)
        delivered += len(arrivals)
        if arrivals:
            span += arrivals[-1] - t0
        per_round.append(
            {
                "delivered": len(arrivals),
                "send_ms": round(send * 1000, 2),
                "first_ms": round((arrivals[0] - t0) * 1000, 2) if arrivals else None,
                "last_ms": round((arrivals[-1] - t0) * 1000, 2) if arrivals else None,
            }
        )
    latencies.sort()
    figures = {
        "sockets": sockets,
        "connected": connected,
        "samples": len(latencies),
        "p50_ms": percentile(latencies, 50),
        "p90_ms": percentile(latencies, 90),
        "p99_ms": percentile(latencies, 99),
        "max_ms": latencies[-1] if latencies else float("nan"),
        "frames_per_s": delivered / span if span else float("nan"),
        "spread_ms": statistics.median(
            [r["last_ms"] - r["first_ms"] for r in per_round if r["last_ms"] is not None]
            or [float("nan")]
        ),
        "missed": connected * len(sent) - delivered,
        "send_ms_median": statistics.median(send_seconds) * 1000,
        "subscribe_s": subscribe_seconds,
        "server_cpu_s": server_cpu,
        "server_cpu_total_s": server_cpu_total,
        "server_peak_rss_mib": rss,
        "clients_cpu_s": clients_cpu,
        "redis_cpu_s": (
            redis_after - redis_cpu if redis_cpu is not None and redis_after is not None else None
        ),
        "closed_by_server": sum(a["closed_by_server"] for a in done.values()),
        "frames_received": sum(a["frames"] for a in done.values()),
        "rounds": per_round,
    }
    say(
        f"{label}: {len(sent)} rounds, p50 {figures['p50_ms']:.1f} ms, "
        f"p99 {figures['p99_ms']:.1f} ms, max {figures['max_ms']:.1f} ms, "
        f"{figures['frames_per_s']:.0f} frames/s, {figures['missed']} missed, "
        f"server CPU {server_cpu:.2f} s, peak RSS {rss:.0f} MiB"
    )
    return figures, sample


# Summaries


def summarize(runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Median, min and max of every figure per (bench, sockets)."""
    groups: dict[tuple[str, int], list[dict[str, Any]]] = {}
    for run in runs:
        groups.setdefault((run["bench"], run["sockets"]), []).append(run)
    rows = []
    for (bench, sockets), group in groups.items():
        row: dict[str, Any] = {"bench": bench, "sockets": sockets, "repeats": len(group)}
        for key, _, _ in FIGURES:
            numbers = [r[key] for r in group if r.get(key) is not None]
            if numbers:
                row[key] = {
                    "median": statistics.median(numbers),
                    "min": min(numbers),
                    "max": max(numbers),
                }
        rows.append(row)
    return rows


def compare(summary: list[dict[str, Any]]) -> list[dict[str, Any]]:
    by = {(r["bench"], r["sockets"]): r for r in summary}
    rows = []
    for (bench, sockets), ours in by.items():
        textbook = by.get(("B4", sockets))
        if bench != "B2" or textbook is None:
            continue
        ratio = ours["frames_per_s"]["median"] / textbook["frames_per_s"]["median"]
        rows.append(
            {
                "sockets": sockets,
                "b2_p99_ms": ours["p99_ms"]["median"],
                "b4_p99_ms": textbook["p99_ms"]["median"],
                "b2_frames_per_s": ours["frames_per_s"]["median"],
                "b4_frames_per_s": textbook["frames_per_s"]["median"],
                "frames_per_s_ratio_b2_over_b4": ratio,
            }
        )
    return rows


def _cell(figure: dict[str, float] | None, form: str) -> str:
    if figure is None:
        return "-"
    middle = form.format(figure["median"])
    if figure["min"] == figure["max"]:
        return middle
    return f"{middle} ({form.format(figure['min'])}-{form.format(figure['max'])})"


def render(summary: list[dict[str, Any]], comparison: list[dict[str, Any]], repeats: int) -> str:
    if not summary:
        return ""
    parts = [f"median (min-max) of {repeats} runs" if repeats > 1 else "one run each"]
    for group in (LATENCY_FIGURES, COST_FIGURES):
        figures = [f for f in group if any(f[0] in r for r in summary)]
        header = ["bench", "sockets", *(title for _, title, _ in figures)]
        rows = [
            [row["bench"], str(row["sockets"]), *(_cell(row.get(k), f) for k, _, f in figures)]
            for row in summary
        ]
        parts += ["", _table(header, rows)]
    parts += ["", LEGEND]
    if comparison:
        header = ["sockets", "B2 p99 ms", "B4 p99 ms", "B2 frames/s", "B4 frames/s", "B2/B4"]
        rows = [
            [
                str(c["sockets"]),
                f"{c['b2_p99_ms']:.1f}",
                f"{c['b4_p99_ms']:.1f}",
                f"{c['b2_frames_per_s']:.0f}",
                f"{c['b4_frames_per_s']:.0f}",
                f"{c['frames_per_s_ratio_b2_over_b4']:.2f}",
            ]
            for c in comparison
        ]
        parts += ["", "B2 (hub, one subscription per process) vs B4 (textbook), medians:"]
        parts.append(_table(header, rows))
    return "\n".join(parts)


# Main


def parse_args(argv: list[str] | None) -> Config:
    parser = argparse.ArgumentParser(
        prog="python -m tests.benchmarks.run",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="B2/B4: N 100,300 and one run each; B1: 4 s; B8: 10 requests per page",
    )
    parser.add_argument("--sizes", help="comma-separated socket counts (default 100,1000)")
    parser.add_argument("--repeats", type=int, help="runs per figure (default 3, 1 with --quick)")
    parser.add_argument("--rounds", type=int, default=20, help="measured reports per run")
    parser.add_argument("--warmup", type=int, default=2, help="unmeasured reports per run")
    parser.add_argument("--interval", type=float, default=0.3, help="seconds between reports")
    parser.add_argument("--clients", type=int, default=4, help="subscriber processes")
    parser.add_argument(
        "--settle", type=float, default=10.0, help="seconds to wait for the last frames"
    )
    parser.add_argument(
        "--only",
        default=",".join(b.lower() for b in BENCHES),
        help="comma-separated benchmarks to run, of b1, b2, b4, b8 (default all)",
    )
    parser.add_argument(
        "--ingest-seconds", type=float, help="B1: seconds of reporting (default 10, 4 with --quick)"
    )
    parser.add_argument(
        "--ingest-apps", type=int, default=1000, help="B1: apps, and frontends per report"
    )
    parser.add_argument(
        "--ingest-reporters", type=int, default=4, help="B1: edges reporting side by side"
    )
    parser.add_argument(
        "--page-requests", type=int, help="B8: timed requests per page (default 30, 10 --quick)"
    )
    parser.add_argument(
        "--page-apps", type=int, default=10_000, help="B8: apps (3 domains each, 100 orgs)"
    )
    parser.add_argument("--output", type=Path, default=RESULTS, help="JSON results file")
    args = parser.parse_args(argv)
    default_sizes = "100,300" if args.quick else "100,1000"
    sizes = tuple(int(s) for s in (args.sizes or default_sizes).split(",") if s.strip())
    benches = tuple(b.strip().upper() for b in args.only.split(",") if b.strip())
    if not sizes or min(sizes) < 1 or not set(benches) <= set(BENCHES) or not benches:
        parser.error("--sizes needs positive integers and --only some of b1, b2, b4, b8")
    if min(args.ingest_apps, args.ingest_reporters, args.page_apps) < 1:
        parser.error("--ingest-apps, --ingest-reporters and --page-apps must be positive")
    return Config(
        sizes=sizes,
        repeats=max(1, args.repeats or (1 if args.quick else 3)),
        rounds=max(1, args.rounds),
        warmup=max(0, args.warmup),
        interval=max(0.0, args.interval),
        clients=max(1, args.clients),
        settle=max(1.0, args.settle),
        benches=benches,
        quick=args.quick,
        output=args.output,
        ingest=ingest.IngestConfig(
            seconds=max(0.5, args.ingest_seconds or (4.0 if args.quick else 10.0)),
            apps=args.ingest_apps,
            reporters=args.ingest_reporters,
            warmup=1,
        ),
        pages=pages.PagesConfig(
            requests=max(1, args.page_requests or (10 if args.quick else 30)),
            organizations=min(100, args.page_apps),
            apps=args.page_apps,
            custom_domains=2,
        ),
    )


def _git_commit() -> str | None:
    with contextlib.suppress(Exception):
        return subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, timeout=5
        ).stdout.strip()
    return None


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def main(argv: list[str] | None = None) -> int:
    config = parse_args(argv)
    # Ctrl-C or a `timeout`'s SIGTERM: unwind, so the servers and subscribers started are stopped.
    signal.signal(signal.SIGINT, _interrupt)
    signal.signal(signal.SIGTERM, _interrupt)
    redis_url = os.environ.get("REDIS_URL") or None
    database = database_label(os.environ.get("DATABASE_URL"))
    layer = "Redis" if redis_url else "in-memory"
    socket_setup = (
        f", sockets {config.sizes}, {config.repeats} run(s) each, {config.rounds} rounds every "
        f"{config.interval * 1000:.0f} ms, {config.clients} subscriber processes"
        if {"B2", "B4"} & set(config.benches)
        else ""
    )
    say(
        f"benchmarks {','.join(config.benches)}{socket_setup}; database: {database}, "
        f"channel layer: {layer}"
    )
    e2e = _django()
    values = _Values()
    runs: list[dict[str, Any]] = []
    ingest_rows: list[dict[str, Any]] = []
    page_rows: list[dict[str, Any]] = []
    skipped: list[str] = []
    sample: str | None = None
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp_name:
        tmp = Path(tmp_name)
        if "B1" in config.benches:
            ingest_rows = ingest.run(tmp, config.ingest)
        if "B2" in config.benches:
            say("B2: migrating and seeding a fresh database")
            with e2e.seeded_environment(tmp, ["http://127.0.0.1:8000"]) as server:
                try:
                    for sockets in config.sizes:
                        for repeat in range(1, config.repeats + 1):
                            label = f"B2 n={sockets} run {repeat}/{config.repeats}"
                            with dashboard_target(server, tmp) as target:
                                say(f"{label}: daphne (dashboard) up, pid {target.pid}")
                                figures, frame = run_once(target, sockets, label, config, values)
                            say(f"{label}: server stopped")
                            sample = sample or frame
                            runs.append({"bench": "B2", "repeat": repeat, **figures})
                finally:
                    flush_redis_prefix(redis_url, server.env.get("CHANNEL_LAYER_PREFIX"))
        if "B4" in config.benches and not redis_url:
            message = (
                "B4 skipped: REDIS_URL is not set (the textbook path needs Redis to reach the "
                "server process); try REDIS_URL=redis://127.0.0.1:6379/0 make bench-quick"
            )
            skipped.append(message)
            say(message)
        elif "B4" in config.benches and redis_url:
            for sockets in config.sizes:
                for repeat in range(1, config.repeats + 1):
                    label = f"B4 n={sockets} run {repeat}/{config.repeats}"
                    with textbook_target(tmp, redis_url, sample) as target:
                        say(f"{label}: daphne (textbook) up, pid {target.pid}")
                        figures, _ = run_once(target, sockets, label, config, values)
                    say(f"{label}: server stopped")
                    runs.append({"bench": "B4", "repeat": repeat, **figures})
        if "B8" in config.benches:
            page_rows = pages.run(tmp, config.pages, os.environ.get("DATABASE_URL"))

    summary = summarize(runs)
    comparison = compare(summary)
    report = {
        "meta": {
            "finished_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "command": " ".join(
                [
                    Path(sys.executable).name,
                    "-m",
                    "tests.benchmarks.run",
                    *(argv if argv is not None else sys.argv[1:]),
                ]
            ),
            "config": {**asdict(config), "output": str(config.output)},
            "git_commit": _git_commit(),
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "database": database,
            "channel_layer": layer,
            "fragment_bytes": len(sample) if sample else None,
            "clock": "time.monotonic (CLOCK_MONOTONIC, shared by all processes)",
            "skipped": skipped,
        },
        "runs": runs,
        "summary": summary,
        "comparison": comparison,
        "ingest": ingest_rows,
        "pages": page_rows,
    }
    config.output.write_text(json.dumps(report, indent=2) + "\n")
    sections = [
        render(summary, comparison, config.repeats),
        ingest.render(ingest_rows, config.ingest) if ingest_rows else "",
        pages.render(page_rows, config.pages) if page_rows else "",
    ]
    for section in sections:
        if section:
            print()
            print(section)
    for message in skipped:
        print(message)
    print(f"\nwritten to {config.output}")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt as stopped:
        print(f"\ninterrupted ({stopped}); servers and subscribers stopped", file=sys.stderr)
        sys.exit(130)
