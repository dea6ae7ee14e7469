"""B13 over several topics: the product against the bare broadcaster when the sockets watch
T apps instead of one.

B3's world, sockets and sender (bench/fanout.py): N sockets spread evenly over the
/ws/live/apps/<app>/ of T apps of the seeded database (socket i watches topic i mod T), and
the edge POSTing one report a second that carries all T apps' default hostnames, each with a
new connections value. Per T, one after the other with the same clients: a fresh daphne
serving the dashboard (LIVE_MIN_INTERVAL=0, signed in as support: B3 at one report a second),
then a fresh daphne serving bench/bare_floors.py's broadcaster (which sends each socket its own
app's value). Both get the same unmeasured warm-up, then the same measured step; a sample is
the time from just before a report's POST to a socket's frame carrying that report's value for
its app. Ratio: the dashboard's p99 over the floor's, per T.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import fanout, floors
from bench.common import Http, e2e, reflow, say, table
from bench.crowd import Crowd
from bench.servers import Values, start_dashboard

RATE = 1.0  # reports a second
TARGET_TOPICS = (10, 100)
TARGET_SOCKETS = (1000, 5000)
# Compared per T: the dashboard (b3_...) and the floor (b13_...).
COMPARED = ("p50_ms", "p99_ms", "frames_per_s", "burst_frames_per_s", "missed")
# The rows' table: B3's figures and B2's spread.
FIGURES = [
    ("reports", "reports", "{:.0f}"),
    ("p50_ms", "p50 ms", "{:.1f}"),
    ("p90_ms", "p90 ms", "{:.1f}"),
    ("p99_ms", "p99 ms", "{:.1f}"),
    ("max_ms", "max ms", "{:.1f}"),
    ("spread_ms", "spread ms", "{:.1f}"),
    ("frames_per_s", "frames/s", "{:,.0f}"),
    ("burst_frames_per_s", "burst frames/s", "{:,.0f}"),
    ("missed", "missed", "{:.0f}"),
    ("post_ms_median", "POST ms", "{:.1f}"),
    ("server_cpu_percent", "server CPU %", "{:.0f}"),
    ("server_peak_rss_mib", "peak RSS MiB", "{:.0f}"),
]
LEGEND = """\
frames/s: B3's, frames delivered over the step (first POST to last arrival, at least the step's
  length): at one report a second, the offered load. burst frames/s: B2's, frames over the time
  from each POST to its last arrival, summed over reports: the fan-out's own pace. spread: first
  to last arrival of a report (median). POST ms: the floor sends every frame before answering,
  the dashboard answers first; latency counts from just before the POST either way."""


@dataclass(frozen=True)
class TopicFloorConfig:
    sockets: int
    topics: tuple[int, ...]
    reports: int  # measured, one a second
    settle: float = 5.0


def _measure(
    kind: str,
    url: str,
    pid: int,
    cookie: str | None,
    reporter_of: Any,
    config: TopicFloorConfig,
    clients: int,
) -> dict[str, Any]:
    http = Http(url)
    try:
        reporter = reporter_of(http, url)
        label = f"B13 T={len(reporter.hostnames)} n={config.sockets} {kind}"
        say(f"{label}: daphne ({'dashboard' if cookie else 'bench.bare_floors broadcast'}) up, "
            f"pid {pid}")  # fmt: skip
        with Crowd(label, reporter.endpoints, cookie, config.sockets, clients) as crowd:
            reporter.warm_up(crowd)
            row = fanout.measure_step(
                reporter, crowd, pid, RATE, config.reports / RATE, config.settle
            )
    finally:
        http.close()
    say(f"{label}: {fanout.said(row)}")
    return {"bench": "B13", "server": kind, **row}


def run(
    server: Any,
    tmp: Path,
    config: TopicFloorConfig,
    clients: int,
    values: Values,
    world: dict[str, Any],
) -> list[dict[str, Any]]:
    """Per T: the dashboard's step, then the floor's; rows with B3's figure names."""
    helpers = e2e()
    from tests.e2e.live_client import session_cookie

    edge = world["edges"][0]
    seq = [time.time_ns() // 1000]
    # The floor maps <app>.<domain> back to <app>: the domain the world's hostnames are on.
    domain = world["hostnames"][0].partition(".")[2]
    rows: list[dict[str, Any]] = []
    for topics in config.topics:
        hostnames = world["hostnames"][:topics]

        def reporter_of(http: Http, url: str, hostnames: list[str] = hostnames) -> Any:
            return fanout.Reporter(
                http, edge, hostnames, fanout.endpoints(url, hostnames), values, seq
            )

        port = helpers.free_port()
        url = f"http://127.0.0.1:{port}"
        process = start_dashboard(
            server, port, tmp / f"b13-{port}.log", INGEST_RATE_LIMIT_PER_MINUTE="1000000"
        )
        try:
            cookie = session_cookie(url, fanout.USER, helpers.DEMO_PASSWORD)
            rows.append(
                _measure("dashboard", url, process.pid, cookie, reporter_of, config, clients)
            )
        finally:
            helpers.stop(process)
        with floors.floor_server(tmp, "broadcast", PLATFORM_DOMAIN=domain) as (url, pid, _):
            rows.append(_measure("floor", url, pid, None, reporter_of, config, clients))
    return rows


def ratios(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per (T, sockets) with both: the dashboard's figures over the floor's."""
    by = {(r["topics"], r["sockets"], r["server"]): r for r in rows}
    found = []
    for (topics, sockets, server), floor in sorted(by.items()):
        product = by.get((topics, sockets, "dashboard"))
        if server != "floor" or product is None:
            continue

        def over(
            key: str, product: dict[str, Any] = product, floor: dict[str, Any] = floor
        ) -> float | None:
            return product[key] / floor[key] if floor[key] else None

        found.append(
            {
                "topics": topics,
                "sockets": sockets,
                **{f"b3_{k}": product[k] for k in COMPARED},
                **{f"b13_{k}": floor[k] for k in COMPARED},
                "p50_ratio": over("p50_ms"),
                "p99_ratio": over("p99_ms"),
                "burst_frames_per_s_ratio": over("burst_frames_per_s"),
            }
        )
    return found


def judged(item: dict[str, Any]) -> bool:
    return item["topics"] in TARGET_TOPICS and item["sockets"] in TARGET_SOCKETS


def render(rows: list[dict[str, Any]], found: list[dict[str, Any]]) -> str:
    header = ["topics", "sockets", "server", *(title for _, title, _ in FIGURES)]
    lines = [
        [str(r["topics"]), str(r["connected"]), r["server"],
         *(f.format(r[k]) for k, _, f in FIGURES)]
        for r in rows
    ]  # fmt: skip

    def ratio(value: float | None) -> str:
        return "-" if value is None else f"{value:.2f}"

    compared = [
        [str(c["topics"]), f"{c['sockets']:,}", f"{c['b3_p50_ms']:.1f}", f"{c['b13_p50_ms']:.1f}",
         ratio(c["p50_ratio"]), f"{c['b3_p99_ms']:.1f}", f"{c['b13_p99_ms']:.1f}",
         ratio(c["p99_ratio"]), f"{c['b3_burst_frames_per_s']:,.0f}",
         f"{c['b13_burst_frames_per_s']:,.0f}", ratio(c["burst_frames_per_s_ratio"])]
        for c in found
    ]  # fmt: skip
    parts = [
        reflow(
            f"B13 over topics: the dashboard (B3 at {RATE:g} report/s) and the bare broadcaster, "
            "same daphne command line and clients, one after the other:"
        ),
        table(header, lines),
    ]
    if compared:
        head = ["topics", "sockets", "p50", "floor p50", "p50 x", "p99", "floor p99", "p99 x",
                "burst frames/s", "floor", "x"]  # fmt: skip
        parts += [
            "",
            f"dashboard vs floor, ms (target: p99 <= {floors.FANOUT_P99_RATIO}x at "
            f"{' and '.join(str(t) for t in TARGET_TOPICS)} topics, 1,000 and 5,000 sockets):",
            table(head, compared),
        ]
    return "\n".join([*parts, "", LEGEND])
