"""B3 fan-out throughput: how many frames per second one daphne delivers before p99 passes
100 ms.

The seeded database gets one more organization with as many apps as the largest topic count,
each with its default domain, and one more gateway edge (`bench.bulk ingest-world`).
Per topic count T: a fresh daphne (LIVE_MIN_INTERVAL=0), N sockets signed in as support spread
evenly over /ws/live/apps/<app>/ of T apps. Then steps of a rising rate: for a few seconds the
edge POSTs reports of the T hostnames at R reports/s, every hostname with a new connections
value in every report, over one keep-alive connection. Each report is T topic updates, so T
renders and N frames. A step's latency is from just before a report's POST to a socket's frame
carrying that report's value for its app; frames/s is the frames delivered over the step (first
POST to last arrival). Steps stop after the first one whose p99 passes the limit.
"""

from __future__ import annotations

import json
import statistics
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.clients import Endpoint, clock
from bench.common import Http, cpu_seconds, e2e, in_server_env, peak_rss_mib, say
from bench.crowd import Crowd, latency_figures, sleep_until
from bench.ingest import PATH, report_body
from bench.profile import profiled
from bench.servers import Values, start_dashboard

USER = "support"
ORGANIZATION = "bench-fanout"


@dataclass(frozen=True)
class FanoutConfig:
    sockets: int
    topics: tuple[int, ...]
    rates: tuple[float, ...]
    seconds: float
    limit_ms: float = 100.0
    settle: float = 5.0


def _receivers(sockets: int, topics: int) -> list[int]:
    """Sockets per topic: socket i watches topic i mod T."""
    counts = Counter(i % topics for i in range(sockets))
    return [counts[j] for j in range(topics)]


def step(
    http: Http,
    edge: dict[str, str],
    hostnames: list[str],
    rate: float,
    seconds: float,
    values: Values,
    seq: list[int],
) -> tuple[dict[int, float], dict[int, int], list[float], int]:
    """POST reports at `rate` for `seconds`: answer each value's send time, the topic each value
    belongs to, the POST times and the failed POSTs."""
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {edge['token']}"}
    sent: dict[int, float] = {}
    topic_of: dict[int, int] = {}
    took: list[float] = []
    failures = 0
    reports = max(1, round(rate * seconds))
    start = clock()
    for number in range(reports):
        sleep_until(start + number / rate)
        numbers = [values.next() for _ in hostnames]
        frontends = json.dumps(
            [{"hostname": h, "connections": v} for h, v in zip(hostnames, numbers, strict=True)]
        ).encode()
        seq[0] += 1
        body = report_body(edge["name"], seq[0], frontends)
        at = clock()
        status, _ = http.request("POST", PATH, body, headers)
        took.append(clock() - at)
        if status != 202:
            failures += 1
            continue
        for topic, value in enumerate(numbers):
            sent[value] = at
            topic_of[value] = topic
    return sent, topic_of, took, failures


@dataclass
class Reporter:
    """The edge that reports for T topics' hostnames over one keep-alive connection, and the
    sockets' endpoints (topic j: endpoints[j], hostnames[j])."""

    http: Http
    edge: dict[str, str]
    hostnames: list[str]
    endpoints: list[Endpoint]
    values: Values
    seq: list[int]

    def step(self, rate: float, seconds: float) -> tuple[Any, ...]:
        return step(self.http, self.edge, self.hostnames, rate, seconds, self.values, self.seq)

    def warm_up(self, crowd: Crowd) -> None:
        """Unmeasured: the first report renders every topic cold."""
        self.step(2.0, 1.0)
        crowd.finish({}, 1.0)


def endpoints(url: str, hostnames: list[str]) -> list[Endpoint]:
    """/ws/live/apps/<app>/ of each hostname's app (its default domain: <app>.<domain>)."""
    ws = url.replace("http://", "ws://")
    apps = [h.split(".")[0] for h in hostnames]
    return [Endpoint(f"{ws}/ws/live/apps/{app}/", url, f"app-{app}-connections") for app in apps]


def world(server: Any, topics: int) -> dict[str, Any]:
    """T apps with their default domains, and one more gateway edge, in the seeded database;
    once per database."""
    return in_server_env(
        server.env, "ingest-world", {"apps": topics, "edges": 1, "organization": ORGANIZATION}
    )


def measure_step(
    reporter: Reporter, crowd: Crowd, pid: int, rate: float, seconds: float, settle: float
) -> dict[str, Any]:
    """One step at `rate` reports/s for `seconds` against the server `pid`: B3's figures."""
    topics = len(reporter.hostnames)
    receivers = _receivers(crowd.sockets, topics)
    cpu = cpu_seconds(pid)
    sent, topic_of, took, failures = reporter.step(rate, seconds)
    last = {reporter.endpoints[topic_of[v]].element_id: v for v in sorted(sent)}
    done = crowd.finish(last, settle)
    cpu = cpu_seconds(pid) - cpu
    expected = {v: receivers[topic_of[v]] for v in sent}
    figures = latency_figures(sent, done["arrivals"], expected)
    arrivals = [t for v in sent for t in done["arrivals"].get(v, [])]
    first = min(sent.values(), default=0.0)
    # At least the step's length: a short step's last arrival is early.
    span = max(seconds, max(arrivals) - first) if arrivals else float("nan")
    delivered = figures["samples"]
    return {
        "topics": topics,
        "sockets": crowd.sockets,
        "connected": crowd.connected,
        "rate": rate,
        "reports": len(took),
        "reports_per_s": len(took) / span if span else float("nan"),
        "failed_reports": failures,
        "post_ms_median": sorted(took)[len(took) // 2] * 1000 if took else float("nan"),
        "frames": delivered,
        "frames_per_s": delivered / span if span else float("nan"),
        "p50_ms": figures["p50_ms"],
        "p90_ms": figures["p90_ms"],
        "p99_ms": figures["p99_ms"],
        "max_ms": figures["max_ms"],
        "missed": figures["missed"],
        **per_report(sent, done["arrivals"]),
        "server_cpu_percent": 100 * cpu / span if span else float("nan"),
        "server_peak_rss_mib": peak_rss_mib(pid),
        "closed_by_server": done["closed_by_server"],
    }


def per_report(sent: dict[int, float], arrivals: dict[int, list[float]]) -> dict[str, float]:
    """B2's figures, a report being a round (all its T values): first to last arrival of a
    report (median), and frames over the time from each POST to its last arrival, summed over
    reports (the fan-out's own pace)."""
    reports: dict[float, list[float]] = {}
    for value, at in sent.items():
        reports.setdefault(at, []).extend(arrivals.get(value, []))
    spreads = [(max(t) - min(t)) * 1000 for t in reports.values() if t]
    span = sum(max(t) - at for at, t in reports.items() if t)
    delivered = sum(len(t) for t in reports.values())
    return {
        "spread_ms": statistics.median(spreads) if spreads else float("nan"),
        "burst_frames_per_s": delivered / span if span else float("nan"),
    }


def run(
    server: Any,
    tmp: Path,
    config: FanoutConfig,
    clients: int,
    values: Values,
    profile_dir: Path | None = None,
    seeded_world: dict[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """B3; `seeded_world` is world()'s answer when the caller seeded it (at least as many apps
    as the largest topic count)."""
    helpers = e2e()
    from tests.e2e.live_client import session_cookie

    seeded_world = seeded_world or world(server, max(config.topics))
    edge = seeded_world["edges"][0]
    seq = [time.time_ns() // 1000]
    rows: list[dict[str, Any]] = []
    for topics in config.topics:
        hostnames = seeded_world["hostnames"][:topics]
        port = helpers.free_port()
        url = f"http://127.0.0.1:{port}"
        process = start_dashboard(
            server, port, tmp / f"b3-{port}.log", INGEST_RATE_LIMIT_PER_MINUTE="1000000"
        )
        label = f"B3 T={topics} n={config.sockets}"
        http = Http(url)
        try:
            say(f"{label}: daphne (dashboard) up, pid {process.pid}")
            cookie = session_cookie(url, USER, helpers.DEMO_PASSWORD)
            reporter = Reporter(http, edge, hostnames, endpoints(url, hostnames), values, seq)
            with (
                Crowd(label, reporter.endpoints, cookie, config.sockets, clients) as crowd,
                profiled(process.pid, label, profile_dir) as profile,
            ):
                reporter.warm_up(crowd)
                for rate in config.rates:
                    row = {
                        "bench": "B3",
                        **measure_step(
                            reporter, crowd, process.pid, rate, config.seconds, config.settle
                        ),
                    }
                    rows.append(row)
                    say(f"{label} rate {rate:g}/s: {said(row)}")
                    if not row["p99_ms"] <= config.limit_ms:
                        break
            if profile:
                rows[-1]["profile"] = profile
        finally:
            http.close()
            helpers.stop(process)
    return rows


def said(row: dict[str, Any]) -> str:
    return (
        f"{row['reports_per_s']:.1f} reports/s, {row['frames_per_s']:,.0f} frames/s, "
        f"p50 {row['p50_ms']:.1f} ms, p99 {row['p99_ms']:.1f} ms, {row['missed']} missed, "
        f"server CPU {row['server_cpu_percent']:.0f} %"
    )


def best(rows: list[dict[str, Any]], limit_ms: float) -> dict[str, Any] | None:
    """The step with the most frames/s whose p99 stayed within the limit."""
    within = [r for r in rows if r["p99_ms"] <= limit_ms]
    return max(within, key=lambda r: r["frames_per_s"], default=None)


FIGURES = [
    ("rate", "rate/s", "{:g}"),
    ("reports_per_s", "reports/s", "{:.1f}"),
    ("frames_per_s", "frames/s", "{:,.0f}"),
    ("p50_ms", "p50 ms", "{:.1f}"),
    ("p99_ms", "p99 ms", "{:.1f}"),
    ("max_ms", "max ms", "{:.1f}"),
    ("missed", "missed", "{:.0f}"),
    ("post_ms_median", "POST ms", "{:.1f}"),
    ("server_cpu_percent", "server CPU %", "{:.0f}"),
    ("server_peak_rss_mib", "peak RSS MiB", "{:.0f}"),
]

LEGEND = """\
B3: N sockets (support) spread over T apps' topics on one daphne; an edge POSTs reports of the T
  hostnames at a rising rate, each a new value for every app. frames/s: frames delivered / (first
  POST to last arrival, at least the step's length). latency: just before the POST to the frame
  on a socket. reports/s: what the sender managed (a POST waits for the previous answer), over
  the same time. Steps stop after
  the first p99 over {limit:g} ms. Target: >= 30,000 frames/s with p99 < 100 ms."""
