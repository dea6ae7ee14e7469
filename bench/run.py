"""How fast does a report reach the sockets watching it, how many reports can the server take
in, and what does it cost? `make bench` (under 10 minutes) / `make bench-quick` (under 2).

B1  ingest throughput (ingest.py): 4 edges posting reports of 1000 frontends back to back.
B2  report -> socket: one real daphne serving the dashboard (LIVE_MIN_INTERVAL=0, so every
    report is pushed), N sockets on /ws/live/apps/acme-web/ signed in as alice, spread over
    several subscriber processes. Each round POSTs a gateway report with a new connections value
    for acme-web.example.net; a sample is the time from just before the POST to the arrival of
    the frame whose #app-acme-web-connections carries that value, for every socket. The largest
    size is measured on B6's sockets (one run), after its idle window.
B3  fan-out throughput (fanout.py): a rising report rate over T topics until p99 passes 100 ms.
B4  the textbook path (needs REDIS_URL): one consumer and one channel-layer channel per socket
    in one group (textbook.py), each round a `group_send` of a frame of the same kind straight
    into Redis; the same samples, at the same N.
B5  B2 through HAProxy in front of two daphnes sharing Redis (cluster.py; needs REDIS_URL).
B6  idle signed-in sockets on one daphne: memory per socket and CPU (idle.py).
B7  1 % of the subscribers stop reading: the others' p99 and daphne's memory (slow.py).
B8  the overview at platform scale (pages.py): 10,000 apps and 30,000 domains.
B9  Chromium: report posted -> the number in the page changed (browser.py).
B10 platform day (platform_day.py; needs REDIS_URL and DATABASE_URL on PostgreSQL): B8's 10,000
    apps, 20 gateway edges each reporting every second (30,000 counts/s), 2,000 app-page sockets
    over 1,000 app topics, 50 staff overviews and 20 edge pages, on two daphnes behind HAProxy
    (LIVE_MIN_INTERVAL at its production default) for 60 s: report -> socket latency per kind of
    socket, each edge's reports/s and POST latency, and the CPU of every process, Redis's and
    PostgreSQL's, with Redis's commands/s.
B11 reconnect storm (storm.py): N signed-in sockets whose first attempts fall within one second,
    retrying like htmx's ws extension (full jitter); time until 50/99/100 % hold their snapshot,
    attempts refused or abandoned, and daphne's killed application instances. (a) 4 users over
    the topics each may see, (b) one topic, each on a fresh daphne; (a) with 5,000 sockets on
    two daphnes behind HAProxy (needs REDIS_URL).
B12 admission rate (admission.py): sockets opened, given their snapshot and closed per second on
    one daphne, against the same daphne serving a bare ASGI app (bare_asgi.py) with the same
    clients: the ratio; and B11's (b) on the bare app, the storm's floor.
B13 fan-out floor (floors.py): B2's clients, rounds and sender against a bare ASGI broadcaster
    (bare_floors.py) on the same daphne, at B2's sizes; B2's p99 over the floor's, per size.
    Over topics (floor_topics.py): B3's world, sockets (1,000 over T = 10 and 100 apps) and
    sender at one report a second, against the dashboard and then the broadcaster; the
    dashboard's p99 over the floor's, per T.
B14 ingest floor (floors.py; needs REDIS_URL): B1's reporters against a bare ASGI app on the
    same daphne that parses the reports, checks the counts and writes them to Redis in one
    pipelined call; B1's counts/s and p99 on the configured database over the floor's.
B15 panel push (panels.py): a change that is not a count. Per size (100, 1000), one daphne
    with LIVE_MIN_INTERVAL at its production default, N sockets on /ws/live/apps/acme-web/
    signed in as alice; each round (1 s apart) support flips http-request-id on acme-web through
    the Platform API; a sample is the time from just before the PATCH to the frame whose feature
    row shows the new state, for every socket (missing: not within 5 s).

B2, B3, B5, B6, B7, B9 and B13 over topics share one seeded database, each with fresh server
processes; B11 and B12 another, and B15 a third, on DATABASE_URL's database (else a SQLite file)
and REDIS_URL's channel layer (else the in-memory one). B2's latency includes the whole way in
(HTTP request, database write, commit, publish, one render); B4's starts at the channel layer
with a ready-made frame. "spread" (first to last arrival of a round) compares the fan-out alone.

Per B2/B4/B5 figure: the median over the repeats, with min and max. Send and arrival times are
`time.monotonic()` in different processes: CLOCK_MONOTONIC is one clock for the whole machine.
Everything runs on 127.0.0.1 and stops by itself; results go to bench-results.json, the chart
of B2 and B4 latency against subscribers to docs/bench-latency.png (quick: bench-latency.png).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import platform
import signal
import statistics
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from bench import (
    admission,
    browser,
    chart,
    cluster,
    fanout,
    floor_topics,
    floors,
    idle,
    ingest,
    pages,
    panels,
    platform_day,
    slow,
    storm,
    targets,
)
from bench.clients import raise_open_files_limit
from bench.common import (
    close_templates,
    database_label,
    environ_without,
    flush_redis_prefix,
    reflow,
    say,
    seeded,
)
from bench.common import table as _table
from bench.crowd import Crowd
from bench.profile import profiled
from bench.profile import render as render_profile
from bench.servers import (
    Rounds,
    Values,
    dashboard_target,
    measure_rounds,
    textbook_target,
)

# The repository's root (bench/ is one level down).
ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench-results.json"
CHART = ROOT / "docs" / "bench-latency.png"
QUICK_CHART = ROOT / "bench-latency.png"

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
BENCHES = (
    "B1", "B2", "B3", "B4", "B5", "B6", "B7", "B8", "B9", "B10", "B11", "B12", "B13", "B14",
    "B15",
)  # fmt: skip
SEEDED = {"B2", "B3", "B5", "B6", "B7", "B9", "B13"}
STORMS = {"B11", "B12"}

LEGEND = """\
latency: from just before a round's report (B2, B5, B13: POST /ingest/v1/reports; B4:
  group_send) to the frame with the new value on a socket, every socket of every round pooled;
  max is the worst.
spread: last minus first arrival of a round (median of rounds): the fan-out itself.
frames/s: frames delivered over the time from each send to its last arrival, summed over rounds.
missed: frames a socket never got (skipped to a newer value, or not there before the deadline).
subscribe: all sockets connected and holding their snapshot. server CPU: during the rounds
  (total: over the server's whole life, with start-up and subscribing; B5: both daphnes). peak
  RSS: VmHWM (B5: the larger daphne). clients CPU: the subscriber processes during the rounds.
  Redis CPU: the Redis server's, during the rounds. send: median time the send call took."""


@dataclass(frozen=True)
class Config:
    sizes: tuple[int, ...]
    repeats: int
    rounds: Rounds
    benches: tuple[str, ...]
    quick: bool
    output: Path
    chart: Path
    profile: Path | None
    live_database: str
    ingest: ingest.IngestConfig
    pages: pages.PagesConfig
    idle: idle.IdleConfig
    fanout: fanout.FanoutConfig
    floor_topics: floor_topics.TopicFloorConfig
    cluster_sockets: int
    slow: slow.SlowConfig
    browser: browser.BrowserConfig
    storm: storm.StormConfig
    admission: admission.AdmissionConfig
    panels: panels.PanelsConfig
    platform: platform_day.PlatformConfig


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


def render_fanout(rows: list[dict[str, Any]], config: fanout.FanoutConfig) -> str:
    header = ["bench", "topics", "sockets", *(title for _, title, _ in fanout.FIGURES)]
    lines = [
        [
            r["bench"],
            str(r["topics"]),
            str(r["connected"]),
            *(f.format(r[k]) for k, _, f in fanout.FIGURES),
        ]
        for r in rows
    ]
    return "\n".join(
        [_table(header, lines), "", reflow(fanout.LEGEND.format(limit=config.limit_ms))]
    )


def render_idle(row: dict[str, Any]) -> str:
    header = ["bench", *(title for _, title, _ in idle.FIGURES)]
    line = [row["bench"], *(f.format(row[k]) for k, _, f in idle.FIGURES)]
    return "\n".join([_table(header, [line]), "", reflow(idle.LEGEND)])


def render_slow(row: dict[str, Any]) -> str:
    header = ["bench", "phase", "sockets reading", "rounds", "p50 ms", "p99 ms", "max ms", "missed"]
    lines = []
    for phase in ("baseline", "stalled"):
        figures = row[phase]
        lines.append(
            [
                "B7",
                "all reading" if phase == "baseline" else f"{row['stallers']} stalled",
                str(figures["connected"] - row["stallers"]),
                str(len(figures["rounds"])),
                f"{figures['p50_ms']:.1f}",
                f"{figures['p99_ms']:.1f}",
                f"{figures['max_ms']:.1f}",
                str(figures["missed"]),
            ]
        )
    legend = f"""\
B7: every 100th socket stops reading (4 KiB receive buffer) after the baseline. Others' p99
  {row["p99_change_percent"]:+.1f} %. daphne VmRSS {row["rss_baseline_end_mib"]:.1f} MiB at the
  end of the baseline, {row["rss_stalled_end_mib"]:.1f} MiB at the end of the stalled series
  (peak {row["rss_stalled_peak_mib"]:.1f}); {row["stallers_closed_by_server"]} of
  {row["stallers"]} stallers closed by the server. Targets: others' p99 rises < 10 %, memory
  bounded."""
    return "\n".join([_table(header, lines), "", reflow(legend)])


def render_browser(row: dict[str, Any]) -> str:
    return reflow(
        f"B9: Chromium, report posted -> DOM changed over {row['samples']} rounds: p50 "
        f"{row['p50_ms']:.1f} ms, p90 {row['p90_ms']:.1f} ms, min {row['min_ms']:.1f}, max "
        f"{row['max_ms']:.1f} ms, {row['missed']} missed. Target: p50 < 150 ms."
    )


# Main


def parse_args(argv: list[str] | None) -> Config:
    parser = argparse.ArgumentParser(
        prog="python -m bench.run",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="smaller and shorter: one run each, B2/B4 at 100 sockets, B6 (and B2) at 500, ...",
    )
    parser.add_argument(
        "--sizes", help="B2/B4: comma-separated socket counts (default 100,1000; 100 --quick)"
    )
    parser.add_argument("--repeats", type=int, help="runs per figure (default 3, 1 with --quick)")
    parser.add_argument(
        "--rounds", type=int, help="measured reports per run (default 20, 10 with --quick)"
    )
    parser.add_argument("--warmup", type=int, default=2, help="unmeasured reports per run")
    parser.add_argument("--interval", type=float, default=0.3, help="seconds between reports")
    parser.add_argument("--clients", type=int, default=4, help="subscriber processes")
    parser.add_argument(
        "--settle", type=float, default=10.0, help="seconds to wait for the last frames"
    )
    parser.add_argument(
        "--only",
        default=",".join(b.lower() for b in BENCHES),
        help="comma-separated benchmarks to run, of b1 ... b15 (default all)",
    )
    parser.add_argument(
        "--ingest-seconds", type=float, help="B1: seconds of reporting (default 10, 3 with --quick)"
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
    parser.add_argument(
        "--idle-sockets", type=int, help="B6 (and B2's largest size): default 5000, 500 --quick"
    )
    parser.add_argument(
        "--idle-seconds", type=float, help="B6: idle window (default 10, 3 with --quick)"
    )
    parser.add_argument(
        "--fanout-sockets", type=int, help="B3: sockets (default 1000, 300 with --quick)"
    )
    parser.add_argument(
        "--fanout-topics", help="B3: comma-separated topic counts (default 1,10; 1 --quick)"
    )
    parser.add_argument(
        "--fanout-rates",
        help="B3: comma-separated reports/s, tried in order "
        "(default 1,2,5,10,20,30,50; 2,10 with --quick)",
    )
    parser.add_argument(
        "--fanout-seconds", type=float, help="B3: seconds per rate (default 3, 1.5 with --quick)"
    )
    parser.add_argument(
        "--floor-topics",
        help="B13 over topics: comma-separated topic counts (default 10,100; 10 with --quick)",
    )
    parser.add_argument(
        "--floor-topic-sockets",
        type=int,
        help="B13 over topics: sockets (default 1000, 300 with --quick)",
    )
    parser.add_argument(
        "--cluster-sockets", type=int, help="B5: sockets (default 1000, 200 with --quick)"
    )
    parser.add_argument(
        "--slow-sockets", type=int, help="B7: sockets (default 1000, 300 with --quick)"
    )
    parser.add_argument(
        "--slow-seconds",
        type=float,
        help="B7: seconds of rounds with the stallers stalled (default 15, 3 with --quick)",
    )
    parser.add_argument("--browser-rounds", type=int, help="B9: reports (default 20, 10 --quick)")
    parser.add_argument(
        "--storm-sockets",
        type=int,
        help="B11 on one daphne, and B12's storm floor: sockets (default 1000, 200 with --quick)",
    )
    parser.add_argument(
        "--storm-cluster-sockets",
        type=int,
        help="B11 on two daphnes behind HAProxy: sockets (default 5000, 200 with --quick)",
    )
    parser.add_argument(
        "--storm-cap",
        type=float,
        default=60.0,
        help="B11, B12: seconds a storm may take before the sockets still out are counted",
    )
    parser.add_argument(
        "--admission-seconds",
        type=float,
        help="B12: measured window (default 10, 5 with --quick), after a 1 s warm-up",
    )
    parser.add_argument(
        "--admission-in-flight",
        type=int,
        default=32,
        help="B12: attempts in flight per client process",
    )
    parser.add_argument(
        "--panel-sockets", help="B15: comma-separated socket counts (default 100,1000; 100 --quick)"
    )
    parser.add_argument(
        "--panel-rounds", type=int, help="B15: feature switches (default 20, 10 with --quick)"
    )
    parser.add_argument(
        "--day-apps", type=int, help="B10: apps, 3 domains each (default 10,000; 1,000 --quick)"
    )
    parser.add_argument(
        "--day-edges", type=int, help="B10: gateway edges reporting (default 20, 5 with --quick)"
    )
    parser.add_argument(
        "--day-sockets", type=int, help="B10: app-page sockets (default 2,000; 200 with --quick)"
    )
    parser.add_argument(
        "--day-topics", type=int, help="B10: apps with pages open (default 1,000; 100 --quick)"
    )
    parser.add_argument(
        "--day-overviews", type=int, help="B10: overview sockets (default 50, 5 with --quick)"
    )
    parser.add_argument(
        "--day-edge-pages", type=int, help="B10: edge-page sockets (default 20, 5 with --quick)"
    )
    parser.add_argument(
        "--day-seconds", type=float, help="B10: measured window (default 60, 20 with --quick)"
    )
    parser.add_argument(
        "--profile",
        type=Path,
        metavar="DIR",
        help="record py-spy profiles of the servers (B1, B2's largest size, B3, B6's "
        "subscribing, B10's two daphnes) into DIR and summarize them",
    )
    parser.add_argument(
        "--live-database",
        choices=("sqlite", "configured"),
        default="sqlite",
        help="B2, B3, B5, B6, B7, B9, B13 over topics: on a SQLite file (default) or on "
        "DATABASE_URL's database",
    )
    parser.add_argument("--output", type=Path, default=RESULTS, help="JSON results file")
    parser.add_argument("--chart", type=Path, help="PNG of B2/B4 latency against subscribers")
    args = parser.parse_args(argv)
    quick = args.quick

    def numbers(text: str | None, default: str, kind: type = int) -> tuple[Any, ...]:
        return tuple(kind(s) for s in (text or default).split(",") if s.strip())

    sizes = numbers(args.sizes, "100" if quick else "100,1000")
    benches = tuple(b.strip().upper() for b in args.only.split(",") if b.strip())
    topics = numbers(args.fanout_topics, "1" if quick else "1,10")
    floor_topic_counts = numbers(args.floor_topics, "10" if quick else "10,100")
    rates = numbers(args.fanout_rates, "2,10" if quick else "1,2,5,10,20,30,50", float)
    panel_sizes = numbers(args.panel_sockets, "100" if quick else "100,1000")
    if not sizes or min(sizes) < 1 or not benches or not set(benches) <= set(BENCHES):
        parser.error("--sizes needs positive integers and --only some of b1 ... b15")
    if not panel_sizes or min(panel_sizes) < 1:
        parser.error("--panel-sockets needs positive integers")
    if not topics or min(topics) < 1 or not rates or min(rates) <= 0:
        parser.error("--fanout-topics and --fanout-rates need positive numbers")
    if not floor_topic_counts or min(floor_topic_counts) < 1:
        parser.error("--floor-topics needs positive integers")
    if min(args.ingest_apps, args.ingest_reporters, args.page_apps) < 1:
        parser.error("--ingest-apps, --ingest-reporters and --page-apps must be positive")
    storm_sockets = max(1, args.storm_sockets or (200 if quick else 1000))

    def day(small: int, full: int) -> int:
        return small if quick else full

    return Config(
        sizes=sizes,
        repeats=max(1, args.repeats or (1 if quick else 3)),
        rounds=Rounds(
            rounds=max(1, args.rounds or (10 if quick else 20)),
            warmup=max(0, args.warmup),
            interval=max(0.0, args.interval),
            settle=max(1.0, args.settle),
            clients=max(1, args.clients),
        ),
        benches=benches,
        quick=quick,
        output=args.output,
        chart=args.chart or (QUICK_CHART if quick else CHART),
        profile=args.profile,
        live_database=args.live_database,
        ingest=ingest.IngestConfig(
            seconds=max(0.5, args.ingest_seconds or (3.0 if quick else 10.0)),
            apps=args.ingest_apps,
            reporters=args.ingest_reporters,
            warmup=1,
            only_configured=quick,
        ),
        pages=pages.PagesConfig(
            requests=max(1, args.page_requests or (10 if quick else 30)),
            organizations=min(100, args.page_apps),
            apps=args.page_apps,
            custom_domains=2,
        ),
        idle=idle.IdleConfig(
            sockets=max(1, args.idle_sockets or (500 if quick else 5000)),
            window=max(1.0, args.idle_seconds or (3.0 if quick else 10.0)),
        ),
        fanout=fanout.FanoutConfig(
            sockets=max(1, args.fanout_sockets or (300 if quick else 1000)),
            topics=topics,
            rates=rates,
            seconds=max(0.5, args.fanout_seconds or (1.5 if quick else 3.0)),
        ),
        floor_topics=floor_topics.TopicFloorConfig(
            sockets=max(1, args.floor_topic_sockets or (300 if quick else 1000)),
            topics=floor_topic_counts,
            reports=max(1, args.rounds or (10 if quick else 20)),
        ),
        cluster_sockets=max(2, args.cluster_sockets or (200 if quick else 1000)),
        slow=slow.SlowConfig(
            sockets=max(100, args.slow_sockets or (300 if quick else 1000)),
            stall_every=100,
            stall_seconds=max(1.0, args.slow_seconds or (3.0 if quick else 15.0)),
        ),
        browser=browser.BrowserConfig(
            rounds=max(1, args.browser_rounds or (10 if quick else 20)), interval=0.3
        ),
        storm=storm.StormConfig(
            sockets=storm_sockets,
            cluster_sockets=max(2, args.storm_cluster_sockets or (200 if quick else 5000)),
            cap=max(5.0, args.storm_cap),
            clients=max(1, args.clients),
        ),
        admission=admission.AdmissionConfig(
            window=max(1.0, args.admission_seconds or (5.0 if quick else 10.0)),
            in_flight=max(1, args.admission_in_flight),
            clients=max(1, args.clients),
            storm_sockets=storm_sockets,
            storm_cap=max(5.0, args.storm_cap),
            profile=args.profile,
        ),
        panels=panels.PanelsConfig(
            sizes=panel_sizes,
            rounds=max(1, args.panel_rounds or (10 if quick else 20)),
            interval=1.0,
            settle=5.0,
            clients=max(1, args.clients),
        ),
        platform=platform_day.PlatformConfig(
            apps=max(2, args.day_apps or (1000 if quick else 10_000)),
            edges=max(1, args.day_edges or (5 if quick else 20)),
            sockets=max(0, args.day_sockets if args.day_sockets is not None else day(200, 2000)),
            topics=max(1, args.day_topics or (100 if quick else 1000)),
            overviews=max(0, args.day_overviews if args.day_overviews is not None else day(5, 50)),
            edge_pages=max(
                0, args.day_edge_pages if args.day_edge_pages is not None else day(5, 20)
            ),
            seconds=max(1.0, args.day_seconds or (20.0 if quick else 60.0)),
            clients=max(1, args.clients),
            settle=max(1.0, args.settle),
            profile=args.profile,
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


class Results:
    """Everything one `make bench` measured, filled in as the benchmarks run."""

    def __init__(self) -> None:
        self.runs: list[dict[str, Any]] = []
        self.ingest: list[dict[str, Any]] = []
        self.pages: list[dict[str, Any]] = []
        self.fanout: list[dict[str, Any]] = []
        self.floor_topics: list[dict[str, Any]] = []
        self.idle: dict[str, Any] | None = None
        self.slow: dict[str, Any] | None = None
        self.browser: dict[str, Any] | None = None
        self.storm: list[dict[str, Any]] = []
        self.admission: dict[str, Any] | None = None
        self.panels: list[dict[str, Any]] = []
        self.platform_day: list[dict[str, Any]] = []
        self.profiles: dict[str, dict[str, Any]] = {}
        self.skipped: list[str] = []
        self.sample: str | None = None

    def skip(self, message: str) -> None:
        self.skipped.append(message)
        say(message)


def run_b2(server: Any, tmp: Path, config: Config, values: Values, results: Results) -> None:
    largest = max(config.sizes)
    for sockets in config.sizes:
        for repeat in range(1, config.repeats + 1):
            label = f"B2 n={sockets} run {repeat}/{config.repeats}"
            profile_dir = config.profile if sockets == largest and repeat == 1 else None
            with dashboard_target(server, tmp) as target:
                say(f"{label}: daphne (dashboard) up, pid {target.pid}")
                with (
                    Crowd(
                        label, [target.endpoint], target.cookie, sockets, config.rounds.clients
                    ) as crowd,
                    profiled(target.pid, label, profile_dir) as profile,
                ):
                    figures = measure_rounds(target, crowd, label, config.rounds, values)
            if profile:
                results.profiles[f"B2 n={sockets} rounds"] = profile
            say(f"{label}: server stopped")
            results.sample = results.sample or crowd.sample
            results.runs.append({"bench": "B2", "repeat": repeat, **figures})


def run_seeded(tmp: Path, config: Config, values: Values, results: Results) -> None:
    """The benchmarks that share one seeded database."""
    redis_url = os.environ.get("REDIS_URL") or None
    wanted = set(config.benches)
    say(f"{','.join(sorted(SEEDED & wanted))}: a fresh seeded database")
    hide = ("DATABASE_URL",) if config.live_database == "sqlite" else ()
    with (
        environ_without(*hide),
        seeded(tmp, ["http://127.0.0.1:8000"]) as server,
    ):
        try:
            if "B2" in wanted:
                run_b2(server, tmp, config, values, results)
            if "B6" in wanted:
                results.idle, big = idle.run(
                    server, tmp, config.idle, config.rounds, values, config.profile
                )
                if "profile" in results.idle:
                    results.profiles[f"B6 n={config.idle.sockets} subscribing"] = results.idle.pop(
                        "profile"
                    )
                if "B2" in wanted:
                    results.runs.append({"bench": "B2", "repeat": 1, **big})
            # B3's world (T apps and an edge), once: B13 over topics watches the same apps.
            apps = max(
                [*(config.fanout.topics if "B3" in wanted else ()),
                 *(config.floor_topics.topics if "B13" in wanted else ())],
                default=0,
            )  # fmt: skip
            world = fanout.world(server, apps) if apps else None
            if "B3" in wanted:
                results.fanout = fanout.run(
                    server, tmp, config.fanout, config.rounds.clients, values, config.profile, world
                )
                for row in results.fanout:
                    if "profile" in row:
                        results.profiles[f"B3 T={row['topics']} steps"] = row.pop("profile")
            if "B13" in wanted and world:
                results.floor_topics = floor_topics.run(
                    server, tmp, config.floor_topics, config.rounds.clients, values, world
                )
            if "B5" in wanted:
                if not redis_url:
                    results.skip(
                        "B5 skipped: REDIS_URL is not set (two processes need Redis between "
                        "them); try REDIS_URL=redis://127.0.0.1:6379/0 make bench-quick"
                    )
                else:
                    row = cluster.run(server, tmp, config.cluster_sockets, config.rounds, values)
                    if row is None:
                        results.skip("B5 skipped: haproxy is not installed (make haproxy)")
                    else:
                        results.runs.append({"repeat": 1, **row})
            if "B7" in wanted:
                results.slow = slow.run(server, tmp, config.slow, config.rounds, values)
            if "B9" in wanted:
                results.browser = browser.run(server, tmp, config.browser, values)
                if results.browser is None:
                    results.skip(f"B9 skipped: {browser.CHROMIUM} is missing (make browser)")
        finally:
            flush_redis_prefix(redis_url, server.env.get("CHANNEL_LAYER_PREFIX"))


def run_b4(tmp: Path, config: Config, values: Values, results: Results) -> None:
    redis_url = os.environ.get("REDIS_URL") or None
    if not redis_url:
        results.skip(
            "B4 skipped: REDIS_URL is not set (the textbook path needs Redis to reach the "
            "server process); try REDIS_URL=redis://127.0.0.1:6379/0 make bench-quick"
        )
        return
    for sockets in config.sizes:
        for repeat in range(1, config.repeats + 1):
            label = f"B4 n={sockets} run {repeat}/{config.repeats}"
            with textbook_target(tmp, redis_url, results.sample) as target:
                say(f"{label}: daphne (textbook) up, pid {target.pid}")
                with Crowd(label, [target.endpoint], None, sockets, config.rounds.clients) as crowd:
                    figures = measure_rounds(target, crowd, label, config.rounds, values)
            say(f"{label}: server stopped")
            results.runs.append({"bench": "B4", "repeat": repeat, **figures})


def run_b13(tmp: Path, config: Config, values: Values, results: Results) -> None:
    """B13 at B2's sizes, and at B6's socket count when B2 is measured there (one run)."""
    results.runs += floors.run_b13(tmp, config.sizes, config.repeats, config.rounds, values)
    wanted = set(config.benches)
    if {"B2", "B6"} <= wanted and config.idle.sockets not in config.sizes:
        results.runs += floors.run_b13(tmp, (config.idle.sockets,), 1, config.rounds, values)


def run_storms(tmp: Path, config: Config, results: Results) -> None:
    """B11 and B12, on the database and channel layer the environment names."""
    redis_url = os.environ.get("REDIS_URL") or None
    wanted = set(config.benches)
    say(f"{','.join(sorted(STORMS & wanted))}: a fresh seeded database")
    with seeded(tmp, ["http://127.0.0.1:8000"]) as server:
        try:
            if "B11" in wanted:
                rows, skipped = storm.run(server, tmp, config.storm)
                results.storm += rows
                for message in skipped:
                    results.skip(message)
            if "B12" in wanted:
                results.admission, floor = admission.run(server, tmp, config.admission)
                if "profile" in results.admission["product"]:
                    results.profiles["B12 product handshakes"] = results.admission["product"].pop(
                        "profile"
                    )
                results.storm.append(floor)
        finally:
            flush_redis_prefix(redis_url, server.env.get("CHANNEL_LAYER_PREFIX"))


def run_panels(tmp: Path, config: Config, results: Results) -> None:
    """B15, on a seeded database of the kind the environment names, and its channel layer."""
    say("B15: a fresh seeded database")
    with seeded(tmp, ["http://127.0.0.1:8000"]) as server:
        try:
            results.panels = panels.run(server, tmp, config.panels)
        finally:
            flush_redis_prefix(os.environ.get("REDIS_URL"), server.env.get("CHANNEL_LAYER_PREFIX"))


def run_platform_day(tmp: Path, config: Config, results: Results) -> None:
    """B10, on PostgreSQL and Redis (skipped without them, or without HAProxy)."""
    row = platform_day.run(tmp, config.platform)
    if isinstance(row, str):
        results.skip(row)
        return
    for name, profile in row.pop("profiles").items():
        results.profiles[name] = profile
    results.platform_day.append(row)


def run_all(tmp: Path, config: Config, values: Values, results: Results) -> None:
    if "B1" in config.benches:
        results.ingest = ingest.run(tmp, config.ingest, config.profile)
        for row in results.ingest:
            if "profile" in row:
                results.profiles[f"B1 {row['database']}"] = row.pop("profile")
    if "B14" in config.benches:
        redis_url = os.environ.get("REDIS_URL") or None
        if redis_url:
            results.ingest.append(floors.run_b14(tmp / "floors", config.ingest, redis_url))
        else:
            results.skip(
                "B14 skipped: REDIS_URL is not set (the floor writes the counts to Redis); try "
                "REDIS_URL=redis://127.0.0.1:6379/0 make bench-quick"
            )
    if SEEDED & set(config.benches):
        run_seeded(tmp / "live", config, values, results)
    if "B4" in config.benches:
        run_b4(tmp, config, values, results)
    if "B13" in config.benches:
        run_b13(tmp / "floors", config, values, results)
    if "B8" in config.benches:
        results.pages = pages.run(tmp, config.pages, os.environ.get("DATABASE_URL"))
    if "B10" in config.benches:
        run_platform_day(tmp, config, results)
    if STORMS & set(config.benches):
        run_storms(tmp / "storm", config, results)
    if "B15" in config.benches:
        run_panels(tmp / "panels", config, results)


def main(argv: list[str] | None = None) -> int:
    config = parse_args(argv)
    # Ctrl-C or a `timeout`'s SIGTERM: unwind, so the servers and subscribers started are stopped.
    signal.signal(signal.SIGINT, _interrupt)
    signal.signal(signal.SIGTERM, _interrupt)
    # Servers and subscribers inherit the limit: thousands of sockets need as many descriptors.
    raise_open_files_limit()
    redis_url = os.environ.get("REDIS_URL") or None
    database = database_label(os.environ.get("DATABASE_URL"))
    live_database = "SQLite file" if config.live_database == "sqlite" else database
    layer = "Redis" if redis_url else "in-memory"
    say(
        f"benchmarks {','.join(config.benches)}{' (quick)' if config.quick else ''}; "
        f"B2/B4 sockets {config.sizes}, {config.repeats} run(s) each, {config.rounds.rounds} "
        f"rounds every {config.rounds.interval * 1000:.0f} ms, {config.rounds.clients} "
        f"subscriber processes; database: {database} (sockets: {live_database}), channel layer: "
        f"{layer}"
        + (f"; B11/B12/B15 on {database}" if (STORMS | {"B15"}) & set(config.benches) else "")
    )
    values = Values()
    results = Results()
    started = dt.datetime.now(dt.UTC)
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp_name:
        tmp = Path(tmp_name)
        try:
            run_all(tmp, config, values, results)
        finally:
            close_templates()

    summary = summarize(results.runs)
    comparison = compare(summary)
    floor_ratios = {
        "ingest": floors.ingest_ratio(results.ingest, database),
        "fanout": floors.fanout_ratios(summary),
        "fanout_topics": floor_topics.ratios(results.floor_topics),
    }
    report: dict[str, Any] = {
        "meta": {
            "started_at": started.isoformat(timespec="seconds"),
            "finished_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "command": " ".join(
                [
                    Path(sys.executable).name,
                    "-m",
                    "bench.run",
                    *(argv if argv is not None else sys.argv[1:]),
                ]
            ),
            "config": json.loads(json.dumps(asdict(config), default=str)),
            "git_commit": _git_commit(),
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "load_average_at_end": os.getloadavg(),
            "database": database,
            "live_database": live_database,
            "channel_layer": layer,
            "fragment_bytes": len(results.sample) if results.sample else None,
            "clock": "time.monotonic (CLOCK_MONOTONIC, shared by all processes)",
            "skipped": results.skipped,
        },
        "runs": results.runs,
        "summary": summary,
        "comparison": comparison,
        "floors": floor_ratios,
        "ingest": results.ingest,
        "fanout": results.fanout,
        "fanout_floor": results.floor_topics,
        "idle": results.idle,
        "slow": results.slow,
        "browser": results.browser,
        "pages": results.pages,
        "storm": results.storm,
        "admission": results.admission,
        "panels": results.panels,
        "platform_day": results.platform_day,
        "profiles": results.profiles,
    }
    report["targets"] = targets.judge(report)
    drawn = chart.draw(
        summary,
        config.chart,
        f"report -> socket latency, one daphne ({live_database}, {layer}); "
        "B2 from the POST, B4 from group_send",
    )
    report["meta"]["chart"] = str(drawn) if drawn else None
    config.output.write_text(json.dumps(report, indent=2) + "\n")
    sections = [
        render(summary, comparison, config.repeats),
        render_fanout(results.fanout, config.fanout) if results.fanout else "",
        render_idle(results.idle) if results.idle else "",
        render_slow(results.slow) if results.slow else "",
        render_browser(results.browser) if results.browser else "",
        ingest.render(results.ingest, config.ingest) if results.ingest else "",
        floors.render_ingest(floor_ratios["ingest"]) if floor_ratios["ingest"] else "",
        floors.render_fanout(floor_ratios["fanout"]) if floor_ratios["fanout"] else "",
        floor_topics.render(results.floor_topics, floor_ratios["fanout_topics"])
        if results.floor_topics
        else "",
        pages.render(results.pages, config.pages) if results.pages else "",
        "\n\n".join(platform_day.render(row) for row in results.platform_day),
        storm.render(results.storm) if results.storm else "",
        admission.render(results.admission) if results.admission else "",
        panels.render(results.panels) if results.panels else "",
        "\n\n".join(render_profile(name, p) for name, p in results.profiles.items()),
        "targets (markdown, for the README):\n" + targets.markdown(report["targets"]),
    ]
    for section in sections:
        if section:
            print()
            print(section)
    for message in results.skipped:
        print(message)
    print(f"\nwritten to {config.output}" + (f"; chart {drawn}" if drawn else ""))
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt as stopped:
        print(f"\ninterrupted ({stopped}); servers and subscribers stopped", file=sys.stderr)
        sys.exit(130)
