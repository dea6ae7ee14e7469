"""B12 admission rate: authenticated subscribes per second on one daphne process, against a
floor measured in the same run with the same clients.

Product: a fresh daphne serving the dashboard, sockets on /ws/live/apps/acme-web/ with alice's
session cookie and the allowed Origin. Floor: bench/bare_asgi.py (accepts every socket and sends
one small frame) on the same daphne command line, options and protocol class; the clients send
the same URL, cookie and Origin there. Clients: several processes, each keeping a fixed number
of attempts in flight; an attempt opens a socket, waits for the first frame and closes it (close
handshake and all). After an unmeasured warm-up second, the attempts completed within a fixed
window, divided by its length, are the rate; ratio = product / floor (1.0: the dashboard admits
as fast as daphne alone can).

B11's scenario (b) against the bare app gives the storm's floor: what the same clients and
daphne manage with nothing behind them.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import websockets

from bench import bare_asgi, storm
from bench.clients import clock, raise_open_files_limit
from bench.common import ROOT, cpu_seconds, e2e, percentile, say
from bench.fleet import (
    CONNECT_ERRORS,
    Door,
    Fleet,
    connect,
    failure,
    log_since,
    log_sizes,
    log_summary,
    next_command,
    tcp_counters,
)
from bench.profile import profiled

WARMUP_SECONDS = 1.0
PATH = "/ws/live/apps/acme-web/"


@dataclass(frozen=True)
class AdmissionConfig:
    window: float
    in_flight: int
    clients: int
    storm_sockets: int
    storm_cap: float
    # Where py-spy records daphne while the product takes handshakes (--profile), or None.
    profile: Path | None = None


@dataclass(frozen=True)
class AdmitSpec:
    worker: int
    door: Door
    in_flight: int
    warmup: float
    window: float
    open_timeout: float = storm.OPEN_TIMEOUT_SECONDS


def admit_process(spec: AdmitSpec, commands: Any, results: Any) -> None:
    """Entry point of one client process."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the coordinator cleans up on Ctrl-C
    raise_open_files_limit()
    try:
        asyncio.run(_admit(spec, commands, results))
    except Exception as error:  # report instead of dying silently
        results.put(("error", spec.worker, f"{type(error).__name__}: {error}"))


async def _admit(spec: AdmitSpec, commands: Any, results: Any) -> None:
    results.put(("ready", spec.worker, None))
    command = await next_command(commands)
    if command[0] != "go":
        results.put(("closed", spec.worker, None))
        return
    start = command[1]
    begin = start + spec.warmup
    end = begin + spec.window
    outcomes: Counter[str] = Counter()
    # Of the attempts completed in the window: open -> first frame, and open -> closed.
    latencies: list[float] = []
    durations: list[float] = []
    completed = 0

    async def attempt() -> float | None:
        """One socket: open, first frame, close; answer the open -> first frame seconds."""
        opened = clock()
        try:
            connection = await connect(spec.door, spec.open_timeout)
        except CONNECT_ERRORS as error:
            kind, reason = failure(error)
            outcomes[f"{kind}: {reason}"] += 1
            return None
        try:
            await asyncio.wait_for(connection.recv(), spec.open_timeout)
            return clock() - opened
        except TimeoutError:
            outcomes["abandoned: no first frame"] += 1
        except websockets.ConnectionClosed:
            code = connection.close_code or 1006
            kind = "refused" if code == 1013 else "failed"
            outcomes[f"{kind}: close {code} before the snapshot"] += 1
        finally:
            await connection.close()
        return None

    async def slot() -> None:
        nonlocal completed
        await asyncio.sleep(max(0.0, start - clock()))
        while clock() < end:
            started = clock()
            took = await attempt()
            if took is not None and begin <= clock() < end:
                completed += 1
                latencies.append(took)
                durations.append(clock() - started)

    await asyncio.gather(*(slot() for _ in range(spec.in_flight)))
    results.put(
        (
            "done",
            spec.worker,
            {
                "completed": completed,
                "outcomes": dict(outcomes),
                "latencies": latencies,
                "durations": durations,
            },
        )
    )
    await next_command(commands)
    results.put(("closed", spec.worker, None))


def admission(
    label: str, door: Door, config: AdmissionConfig, pid: int, logs: tuple[Path, ...]
) -> dict[str, Any]:
    """Attempts per second against one running server."""
    specs = [
        AdmitSpec(worker, door, config.in_flight, WARMUP_SECONDS, config.window)
        for worker in range(config.clients)
    ]
    with Fleet(label, admit_process, specs) as fleet:
        offsets = log_sizes(logs)
        server_cpu = cpu_seconds(pid)
        clients_cpu = fleet.cpu_seconds()
        tcp = tcp_counters()
        fleet.go()
        answers = list(fleet.collect("done", WARMUP_SECONDS + config.window + 60).values())
        server_cpu = cpu_seconds(pid) - server_cpu
        clients_cpu = fleet.cpu_seconds() - clients_cpu
        tcp = {key: count - tcp[key] for key, count in tcp_counters().items()}
    log = log_summary(log_since(logs, offsets))
    outcomes: Counter[str] = Counter()
    for answer in answers:
        outcomes.update(answer["outcomes"])
    latencies = sorted(t * 1000 for a in answers for t in a["latencies"])
    durations = sorted(t * 1000 for a in answers for t in a["durations"])
    completed = sum(a["completed"] for a in answers)
    row = {
        "completed": completed,
        "window_s": config.window,
        "per_s": completed / config.window,
        "in_flight": config.in_flight * len(specs),
        "first_frame_p50_ms": percentile(latencies, 50),
        "first_frame_p99_ms": percentile(latencies, 99),
        "attempt_p50_ms": percentile(durations, 50),
        "attempt_p99_ms": percentile(durations, 99),
        "refused": sum(n for k, n in outcomes.items() if k.startswith("refused:")),
        "abandoned": sum(n for k, n in outcomes.items() if k.startswith("abandoned:")),
        "failed": sum(n for k, n in outcomes.items() if k.startswith("failed:")),
        "outcomes": dict(sorted(outcomes.items())),
        # Over warm-up, window and the in-flight attempts' end: the whole run.
        "server_cpu_s": server_cpu,
        "clients_cpu_s": clients_cpu,
        "listen_overflows": tcp["ListenOverflows"],
        "syn_retransmits": tcp["TCPSynRetrans"],
        "thrown_away": log["killed"],
        "log": log,
    }
    say(
        f"{label}: {row['per_s']:.0f} sockets/s ({completed} in {config.window:g} s), first "
        f"frame p50 {row['first_frame_p50_ms']:.0f} ms, p99 {row['first_frame_p99_ms']:.0f} ms; "
        f"{row['refused']} refused, {row['abandoned']} abandoned, {row['failed']} failed; "
        f"server CPU {server_cpu:.1f} s"
    )
    return row


@contextlib.contextmanager
def bare_target(tmp: Path) -> Iterator[tuple[str, int, Path]]:
    """bench.bare_asgi served on a free port: (its URL, pid, log)."""
    helpers = e2e()
    port = helpers.free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    log = tmp / f"bare-{port}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            bare_asgi.argv("127.0.0.1", port), cwd=ROOT, env=env, stdout=out, stderr=out
        )
    try:
        helpers._wait_until_up(url, process, log)
        yield url, process.pid, log
    finally:
        helpers.stop(process)


def run(server: Any, tmp: Path, config: AdmissionConfig) -> tuple[dict[str, Any], dict[str, Any]]:
    """The B12 row, and the storm's floor (B11's scenario (b) on the bare app)."""
    from bench.servers import dashboard_target

    with dashboard_target(server, tmp) as target:
        say(f"B12 product: daphne (dashboard) up, pid {target.pid}")
        cookie = target.cookie
        door = Door(target.url.replace("http://", "ws://") + PATH, target.url, cookie)
        with profiled(target.pid, "B12 product handshakes", config.profile, gil=True) as profile:
            product = admission("B12 product", door, config, target.pid, target.logs)
        if profile:
            product["profile"] = profile
    with bare_target(tmp) as (url, pid, log):
        say(f"B12 floor: daphne (bench.bare_asgi) up, pid {pid}")
        door = Door(url.replace("http://", "ws://") + PATH, url, cookie)
        floor = admission("B12 floor", door, config, pid, (log,))
    with bare_target(tmp) as (url, pid, log):
        label = f"B12 storm floor n={config.storm_sockets}"
        say(f"{label}: daphne (bench.bare_asgi) up, pid {pid}")
        row = storm.storm(
            label,
            [Door(url.replace("http://", "ws://") + PATH, url, cookie)],
            config.storm_sockets,
            config.clients,
            config.storm_cap,
            (pid,),
            (log,),
        )
    floor_storm = {"bench": "B12", "scenario": "b, bare app", "servers": 1,
                   "what": "B11 (b) against bench.bare_asgi: the storm's floor", **row}  # fmt: skip
    ratio = product["per_s"] / floor["per_s"] if floor["per_s"] else float("nan")
    say(f"B12: {product['per_s']:.0f} vs {floor['per_s']:.0f} sockets/s: ratio {ratio:.2f}")
    result = {
        "bench": "B12",
        "product_per_s": product["per_s"],
        "floor_per_s": floor["per_s"],
        "ratio": ratio,
        "product": product,
        "floor": floor,
        "storm_floor_t99_s": floor_storm["t99_s"],
    }
    return result, floor_storm


def render(row: dict[str, Any]) -> str:
    product, floor = row["product"], row["floor"]

    def side(name: str, figures: dict[str, Any]) -> str:
        return (
            f"  {name}: {figures['per_s']:,.0f} sockets/s ({figures['completed']:,} in "
            f"{figures['window_s']:g} s, {figures['in_flight']} in flight), first frame p50 "
            f"{figures['first_frame_p50_ms']:.0f} ms, p99 {figures['first_frame_p99_ms']:.0f} ms "
            f"(with the close: {figures['attempt_p50_ms']:.0f}, "
            f"{figures['attempt_p99_ms']:.0f} ms); "
            f"{figures['refused']} refused, {figures['abandoned']} abandoned, "
            f"{figures['failed']} failed, {figures['listen_overflows']:,} accept-queue drops; "
            f"server CPU {figures['server_cpu_s']:.1f} s, clients {figures['clients_cpu_s']:.1f} s"
        )

    t99 = row["storm_floor_t99_s"]
    lines = [
        f"B12 admission: open, first frame, close; ratio product/floor {row['ratio']:.2f} "
        "(target >= 0.5)",
        side("product (dashboard, alice, /ws/live/apps/acme-web/)", product),
        side("floor (bench.bare_asgi, same daphne and options)", floor),
        "  the storm's floor (B11 (b) on the bare app): 99 % in "
        + ("-" if t99 is None else f"{t99:.2f} s"),
    ]
    warnings = product["log"]["warnings"]
    if warnings:
        lines.append("B12 product: daphne's warnings and errors:")
        lines += [f"  {count:6,}  {message}" for message, count in warnings.items()]
    return "\n".join(lines)
