"""B1 ingest throughput: how many frontend counts a day's worth of edges can push in.

One real daphne serving the dashboard (LIVE_MIN_INTERVAL left at its default), on a fresh
seeded database with one more organization of N apps (default domains <app>.example.net on the
`gateway` edge) and R more gateway edges. R reporter threads, one per edge, each POST
/ingest/v1/reports with all N hostnames, back to back over one keep-alive connection, with an
increasing seq, for a fixed time. Every report changes every count (the worst case for the live
pushes: every app changed). Each reporter first sends an unmeasured warm-up report (it inserts
the edge's rows; the measured ones update them).

Run on a SQLite file always and, when DATABASE_URL points at PostgreSQL, on a fresh PostgreSQL
database as well (the quick run: on PostgreSQL only, when it is configured).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.clients import clock
from bench.common import (
    Http,
    cpu_seconds,
    database_label,
    e2e,
    environ_without,
    flush_redis_prefix,
    in_server_env,
    peak_rss_mib,
    percentile,
    reflow,
    say,
    seeded,
    table,
)
from bench.profile import profiled

PATH = "/ingest/v1/reports"
VARIANTS = 8

FIGURES = [
    ("counts_per_s", "counts/s", "{:,.0f}"),
    ("reports_per_s", "reports/s", "{:.1f}"),
    ("p50_ms", "p50 ms", "{:.1f}"),
    ("p90_ms", "p90 ms", "{:.1f}"),
    ("p99_ms", "p99 ms", "{:.1f}"),
    ("max_ms", "max ms", "{:.1f}"),
    ("errors", "errors", "{:.0f}"),
    ("server_cpu_percent", "server CPU %", "{:.0f}"),
    ("server_peak_rss_mib", "server peak RSS MiB", "{:.0f}"),
]

LEGEND = """\
B1: {reporters} edges (threads) each POSTing a report of {frontends} frontends back to back for
  {seconds:g} s. counts/s: sum of "accepted" over the 202 answers / elapsed (first send to last
  answer). latency: one report, request sent to answer read. errors: answers other than 202 and
  failed requests (status 0 in the JSON). server CPU: daphne's CPU time / elapsed (100 % = one
  core); peak RSS: VmHWM. Targets: >= 100,000 counts/s on PostgreSQL, p99 < 50 ms."""


@dataclass(frozen=True)
class IngestConfig:
    seconds: float
    apps: int
    reporters: int
    warmup: int
    only_configured: bool = False


@dataclass
class Reporter:
    """One edge's reporting loop and what it saw."""

    edge: str
    token: str
    bodies: list[bytes]
    seq: int = 0
    latencies: list[float] = field(default_factory=list)
    accepted: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)
    first_sent: float = 0.0
    last_answer: float = 0.0

    def headers(self) -> dict[str, str]:
        return {"Content-Type": "application/json", "Authorization": f"Bearer {self.token}"}

    def body(self) -> bytes:
        self.seq += 1
        return report_body(self.edge, self.seq, self.bodies[self.seq % len(self.bodies)])

    def failed(self, problem: str) -> None:
        if len(self.failures) < 5:
            self.failures.append(problem)

    def warm_up(self, http: Http, reports: int) -> None:
        for _ in range(reports):
            status, data = http.request("POST", PATH, self.body(), self.headers())
            answer = json.loads(data)
            if status != 202 or answer.get("unknown_hostnames"):
                raise RuntimeError(f"B1 warm-up report of {self.edge}: {status} {data[:300]!r}")

    def run(self, url: str, warmup: int, start: threading.Barrier, deadline: list[float]) -> None:
        http = Http(url)
        try:
            self.warm_up(http, warmup)
            start.wait()
            self.first_sent = clock()
            while clock() < deadline[0]:
                body = self.body()
                sent = clock()
                try:
                    status, data = http.request("POST", PATH, body, self.headers())
                except Exception as error:
                    self.failed(f"{type(error).__name__}: {error}")
                    self.statuses[0] += 1
                    continue
                self.last_answer = clock()
                self.latencies.append(self.last_answer - sent)
                self.statuses[status] += 1
                if status == 202:
                    self.accepted += json.loads(data)["accepted"]
                else:
                    self.failed(f"{status}: {data[:200]!r}")
        except threading.BrokenBarrierError:
            pass
        except Exception as error:
            self.failed(f"{type(error).__name__}: {error}")
            start.abort()
        finally:
            http.close()


def report_body(edge: str, seq: int, frontends: bytes) -> bytes:
    sent_at = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    head = json.dumps({"edge": edge, "seq": seq, "sent_at": sent_at})
    return head[:-1].encode() + b', "frontends": ' + frontends + b"}"


def frontend_bodies(hostnames: list[str]) -> list[bytes]:
    """JSON arrays of every hostname, in VARIANTS versions: consecutive ones differ in every
    count, so every report changes every app."""
    bodies = []
    for variant in range(VARIANTS):
        frontends = []
        for index, hostname in enumerate(hostnames):
            connections = (index * 7) % 900 + 10 + variant
            frontends.append(
                {"hostname": hostname, "connections": connections, "websockets": connections // 3}
            )
        bodies.append(json.dumps(frontends).encode())
    return bodies


def measure(url: str, pid: int, world: dict[str, Any], config: IngestConfig) -> dict[str, Any]:
    bodies = frontend_bodies(world["hostnames"])
    # Sequence numbers from the clock: a later run against the same edges is not "old".
    first_seq = time.time_ns() // 1000
    reporters = [Reporter(e["name"], e["token"], bodies, first_seq) for e in world["edges"]]
    start = threading.Barrier(len(reporters) + 1)
    deadline = [float("inf")]
    threads = [
        threading.Thread(target=r.run, args=(url, config.warmup, start, deadline), daemon=True)
        for r in reporters
    ]
    for thread in threads:
        thread.start()
    try:
        start.wait(timeout=120)
    except threading.BrokenBarrierError:
        problems = [f for r in reporters for f in r.failures]
        raise RuntimeError(f"B1: a reporter failed before the start: {problems[:3]}") from None
    began = clock()
    cpu_before = cpu_seconds(pid)
    deadline[0] = began + config.seconds
    for thread in threads:
        thread.join(timeout=config.seconds + 120)
    cpu = cpu_seconds(pid) - cpu_before
    ended = max([r.last_answer for r in reporters] + [began])
    elapsed = ended - min(r.first_sent or began for r in reporters)
    latencies = sorted(ms * 1000 for r in reporters for ms in r.latencies)
    statuses: Counter[int] = Counter()
    for reporter in reporters:
        statuses.update(reporter.statuses)
    accepted = sum(r.accepted for r in reporters)
    reports = sum(statuses.values())
    return {
        "reporters": len(reporters),
        "frontends_per_report": len(world["hostnames"]),
        "seconds": elapsed,
        "reports": reports,
        "accepted": accepted,
        "counts_per_s": accepted / elapsed if elapsed else float("nan"),
        "reports_per_s": statuses[202] / elapsed if elapsed else float("nan"),
        "p50_ms": percentile(latencies, 50),
        "p90_ms": percentile(latencies, 90),
        "p99_ms": percentile(latencies, 99),
        "max_ms": latencies[-1] if latencies else float("nan"),
        "errors": reports - statuses[202],
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "failures": [f for r in reporters for f in r.failures][:5],
        "server_cpu_s": cpu,
        "server_cpu_percent": 100 * cpu / elapsed if elapsed else float("nan"),
        "server_peak_rss_mib": peak_rss_mib(pid),
        "body_bytes": len(report_body(reporters[0].edge, 2**40, bodies[0])),
    }


def run_database(
    database: str, tmp: Path, config: IngestConfig, profile_dir: Path | None = None
) -> dict[str, Any]:
    helpers = e2e()
    hide = ("DATABASE_URL",) if database == "SQLite file" else ()
    say(f"B1 {database}: a fresh seeded database")
    place = tmp / f"b1-{'sqlite' if hide else 'postgresql'}"
    place.mkdir(exist_ok=True)
    with (
        environ_without(*hide, "LIVE_MIN_INTERVAL"),
        seeded(place, ["http://127.0.0.1:8000"]) as server,
    ):
        started = clock()
        world = in_server_env(
            server.env, "ingest-world", {"apps": config.apps, "edges": config.reporters}
        )
        say(
            f"B1 {database}: {config.apps} apps with their domains and {config.reporters} "
            f"gateway edges created in {clock() - started:.1f} s"
        )
        port = helpers.free_port()
        url = f"http://127.0.0.1:{port}"
        env = {**server.env, "DASHBOARD_ORIGINS": url, "PORT": str(port)}
        process = helpers.start_daphne(port, env, place / "daphne.log")
        try:
            say(f"B1 {database}: daphne up, pid {process.pid}; reporting for {config.seconds:g} s")
            with profiled(process.pid, f"B1 {database}", profile_dir, gil=True) as profile:
                figures = measure(url, process.pid, world, config)
            if profile:
                figures["profile"] = profile
        finally:
            helpers.stop(process)
            flush_redis_prefix(env.get("REDIS_URL"), env.get("CHANNEL_LAYER_PREFIX"))
    row = {"bench": "B1", "database": database, **figures}
    say(
        f"B1 {database}: {figures['counts_per_s']:,.0f} counts/s "
        f"({figures['reports']} reports), p50 {figures['p50_ms']:.1f} ms, "
        f"p99 {figures['p99_ms']:.1f} ms, {figures['errors']} errors, "
        f"server CPU {figures['server_cpu_percent']:.0f} %, "
        f"peak RSS {figures['server_peak_rss_mib']:.0f} MiB"
        + (f"; failures: {figures['failures'][:2]}" if figures["failures"] else "")
    )
    return row


def run(tmp: Path, config: IngestConfig, profile_dir: Path | None = None) -> list[dict[str, Any]]:
    """On a SQLite file and, when DATABASE_URL points there, on PostgreSQL; only on the
    configured database when `config.only_configured` (the quick run)."""
    configured = database_label(os.environ.get("DATABASE_URL"))
    databases = ["SQLite file"]
    if configured == "PostgreSQL":
        databases = ["PostgreSQL"] if config.only_configured else [*databases, "PostgreSQL"]
    return [run_database(database, tmp, config, profile_dir) for database in databases]


def render(rows: list[dict[str, Any]], config: IngestConfig) -> str:
    header = ["bench", "database", *(title for _, title, _ in FIGURES)]
    lines = [
        [row["bench"], row["database"], *(form.format(row[key]) for key, _, form in FIGURES)]
        for row in rows
    ]
    legend = LEGEND.format(
        reporters=config.reporters, frontends=config.apps, seconds=config.seconds
    )
    return "\n".join([table(header, lines), "", reflow(legend)])
