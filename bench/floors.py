"""B13 and B14: the product against a floor measured in the same run with the same clients,
since this machine's absolute figures move 2x between runs.

B14 ingest floor: bench/bare_floors.py's ingest app on the same daphne command line parses the
same reports, checks their counts and writes them to Redis in one pipelined call. B1's own
reporters drive it (same edges, hostnames, report size, concurrency and duration, fresh
tokens); counts/s and latency exactly as B1 reports them. Ratios: B1 on the configured
database over the floor. Needs REDIS_URL.

B13 fan-out floor: bench/bare_floors.py's broadcaster on the same daphne command line accepts
the sockets on B2's path, sends a snapshot, and on B2's edge report sends every open socket a
small frame with the new value in B2's element. B2's subscriber processes, rounds and sender
measure it unchanged, at B2's sizes (and at B6's socket count, where B2 has it); ratio: B2's
p99 over the floor's, per size. The same broadcaster over T app topics (each socket gets its
own app's value) is measured against the dashboard in bench/floor_topics.py.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bench import bare_floors, ingest
from bench.common import ROOT, e2e, say, table
from bench.crowd import Crowd
from bench.servers import Rounds, Target, Values, measure_rounds, report_sender

FLOOR_DATABASE = "floor: bare ASGI + Redis"
# The targets.
INGEST_COUNTS_RATIO = 0.7
INGEST_P99_RATIO = 1.5
FANOUT_P99_RATIO = 1.3
FANOUT_TARGET_SIZES = (1000, 5000)


@contextlib.contextmanager
def floor_server(tmp: Path, app: str, **env: str) -> Iterator[tuple[str, int, Path]]:
    """One of bench.bare_floors' apps served on a free port: (its URL, pid, log)."""
    helpers = e2e()
    port = helpers.free_port()
    url = f"http://127.0.0.1:{port}"
    environment = {**os.environ, "PYTHONUNBUFFERED": "1", **env}
    environment.pop("DJANGO_SETTINGS_MODULE", None)
    log = tmp / f"floor-{app}-{port}.log"
    tmp.mkdir(parents=True, exist_ok=True)
    with log.open("wb") as out:
        process = subprocess.Popen(
            bare_floors.argv(app, "127.0.0.1", port), cwd=ROOT, env=environment, stdout=out,
            stderr=out,
        )  # fmt: skip
    try:
        helpers._wait_until_up(url, process, log)
        yield url, process.pid, log
    finally:
        helpers.stop(process)


# B14


def _forget(redis_url: str, prefix: str) -> None:
    import redis

    with contextlib.suppress(Exception):
        client = redis.Redis.from_url(redis_url, socket_timeout=5)
        keys = list(client.scan_iter(f"{prefix}:*", count=1000))
        if keys:
            client.delete(*keys)
        client.close()


def run_b14(tmp: Path, config: ingest.IngestConfig, redis_url: str) -> dict[str, Any]:
    """B1's reporters against the ingest floor: a row with B1's figure names."""
    e2e()
    from django.conf import settings

    # B1's world, without a database: the same hostnames (bench.bulk ingest-world's) and as many
    # edges, each with its own token (the floor checks them).
    hostnames = [f"ingest-{i:05d}.{settings.PLATFORM_DOMAIN}" for i in range(config.apps)]
    edges = [
        {"name": f"bench-gw-{k}", "token": secrets.token_urlsafe(32)}
        for k in range(1, config.reporters + 1)
    ]
    world = {"hostnames": hostnames, "edges": edges}
    prefix = f"bench-floor-{uuid.uuid4().hex[:8]}"
    env = {
        "REDIS_URL": redis_url,
        bare_floors.PREFIX_ENV: prefix,
        bare_floors.TOKENS_ENV: ",".join(e["token"] for e in edges),
    }
    try:
        with floor_server(tmp, "ingest", **env) as (url, pid, _):
            say(f"B14: daphne (bench.bare_floors ingest) up, pid {pid}; reporting for "
                f"{config.seconds:g} s")  # fmt: skip
            figures = ingest.measure(url, pid, world, config)
    finally:
        _forget(redis_url, prefix)
    say(
        f"B14 floor: {figures['counts_per_s']:,.0f} counts/s ({figures['reports']} reports), "
        f"p50 {figures['p50_ms']:.1f} ms, p99 {figures['p99_ms']:.1f} ms, "
        f"{figures['errors']} errors, server CPU {figures['server_cpu_percent']:.0f} %"
        + (f"; failures: {figures['failures'][:2]}" if figures["failures"] else "")
    )
    return {"bench": "B14", "database": FLOOR_DATABASE, **figures}


def ingest_ratio(rows: list[dict[str, Any]], configured: str) -> dict[str, Any] | None:
    """B1 on the configured database (else the last B1 row) against B14; None without both."""
    floor = next((r for r in rows if r["bench"] == "B14"), None)
    products = [r for r in rows if r["bench"] == "B1"]
    product = next((r for r in products if r["database"] == configured), None)
    product = product or (products[-1] if products else None)
    if floor is None or product is None:
        return None
    counts = product["counts_per_s"] / floor["counts_per_s"] if floor["counts_per_s"] else None
    p99 = product["p99_ms"] / floor["p99_ms"] if floor["p99_ms"] else None
    return {
        "database": product["database"],
        "reporters": product["reporters"],
        "frontends_per_report": product["frontends_per_report"],
        "product_counts_per_s": product["counts_per_s"],
        "floor_counts_per_s": floor["counts_per_s"],
        "counts_ratio": counts,
        "product_p50_ms": product["p50_ms"],
        "floor_p50_ms": floor["p50_ms"],
        "product_p99_ms": product["p99_ms"],
        "floor_p99_ms": floor["p99_ms"],
        "p99_ratio": p99,
        "met": counts is not None
        and p99 is not None
        and counts >= INGEST_COUNTS_RATIO
        and p99 <= INGEST_P99_RATIO,
    }


def render_ingest(ratio: dict[str, Any]) -> str:
    return (
        f"B14 ingest vs floor ({ratio['database']} vs bare ASGI + Redis): counts/s "
        f"{ratio['product_counts_per_s']:,.0f} vs {ratio['floor_counts_per_s']:,.0f}: "
        f"{ratio['counts_ratio']:.2f}x (target >= {INGEST_COUNTS_RATIO}x); p99 "
        f"{ratio['product_p99_ms']:.1f} vs {ratio['floor_p99_ms']:.1f} ms: "
        f"{ratio['p99_ratio']:.2f}x (target <= {INGEST_P99_RATIO}x): "
        + ("met" if ratio["met"] else "missed")
    )


# B13


@contextlib.contextmanager
def broadcast_target(tmp: Path) -> Iterator[Target]:
    with floor_server(tmp, "broadcast") as (url, pid, log):
        yield Target("B13", url, pid, None, report_sender(url, "floor"), logs=(log,))


def run_b13(
    tmp: Path,
    sizes: tuple[int, ...],
    repeats: int,
    setup: Rounds,
    values: Values,
    cookie: str | None = None,
) -> list[dict[str, Any]]:
    """B2's rounds against the broadcaster: runs with B2's figure names."""
    runs = []
    for sockets in sizes:
        for repeat in range(1, repeats + 1):
            label = f"B13 n={sockets} run {repeat}/{repeats}"
            with broadcast_target(tmp) as target:
                say(f"{label}: daphne (bench.bare_floors broadcast) up, pid {target.pid}")
                with Crowd(label, [target.endpoint], cookie, sockets, setup.clients) as crowd:
                    figures = measure_rounds(target, crowd, label, setup, values)
            runs.append({"bench": "B13", "repeat": repeat, **figures})
    return runs


def fanout_ratios(summary: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per size with both: B2's p50 and p99 medians over B13's."""
    by = {(r["bench"], r["sockets"]): r for r in summary}
    rows = []
    for (bench, sockets), floor in sorted(by.items()):
        product = by.get(("B2", sockets))
        if bench != "B13" or product is None or "p99_ms" not in floor:
            continue
        p50, p99 = product["p50_ms"]["median"], product["p99_ms"]["median"]
        floor_p50, floor_p99 = floor["p50_ms"]["median"], floor["p99_ms"]["median"]
        rows.append(
            {
                "sockets": sockets,
                "b2_p50_ms": p50,
                "b13_p50_ms": floor_p50,
                "p50_ratio": p50 / floor_p50 if floor_p50 else None,
                "b2_p99_ms": p99,
                "b13_p99_ms": floor_p99,
                "p99_ratio": p99 / floor_p99 if floor_p99 else None,
            }
        )
    return rows


def render_fanout(rows: list[dict[str, Any]]) -> str:
    header = ["sockets", "B2 p50", "B13 p50", "p50 B2/B13", "B2 p99", "B13 p99", "p99 B2/B13"]

    def ratio(value: float | None) -> str:
        return "-" if value is None else f"{value:.2f}"

    lines = [
        [
            f"{r['sockets']:,}",
            f"{r['b2_p50_ms']:.1f}",
            f"{r['b13_p50_ms']:.1f}",
            ratio(r["p50_ratio"]),
            f"{r['b2_p99_ms']:.1f}",
            f"{r['b13_p99_ms']:.1f}",
            ratio(r["p99_ratio"]),
        ]
        for r in rows
    ]
    return "\n".join(
        [
            "B2 (dashboard) vs B13 (bare broadcaster, same daphne and clients), medians, ms "
            f"(target: p99 <= {FANOUT_P99_RATIO}x at 1,000 and 5,000):",
            table(header, lines),
        ]
    )
