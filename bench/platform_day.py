"""B10 platform day: the whole platform at once, on two daphnes behind HAProxy with Redis and
PostgreSQL (cluster.py's rig, LIVE_MIN_INTERVAL at its production default).

A fresh seeded database grows B8's world (pages.py: apps over 100 organizations, each with its
default domain and two custom ones on the `gateway` edge) and E more gateway edges (B1's). Edge
k reports the hostnames of every E-th app (all of an app's domains on one edge, the same number
of apps per edge), once a second like the edge agent (the next report a period after the start
of the last, or 50 ms after its answer when it took longer), over its own keep-alive connection
through HAProxy, staggered over the second: E x apps/E x 3 frontends a second, every count
changed by every report. Meanwhile, signed in as support (staff), sockets watch:

- app pages /ws/live/apps/<app>/: `topics` apps, as many on each edge, `sockets` sockets (socket
  i on topic i mod topics), each reading #app-<app>-connections;
- overviews /ws/live/overview/: socket i reads the row of edge i mod E, #edge-<edge>-connections;
- edge pages /ws/live/edges/<edge>/: socket i on edge i mod E, #edge-<edge>-connections.

Each report carries a value no report sent before: edge k's n-th report gives every watched app
of the edge v = 1000 + n E + k connections (over its domains), pairs of the other apps values
that change every report but keep their sum, and one balancing app what makes the edge's total
W v + C (W, C the same for every edge). So a watched app's number, and an edge's total on the
overview and on its page, name the report that set it: a sample is the time from just before
that report's POST to the first frame carrying the number, per socket (B2's measure, the
subscribers of clients.py), for the reports answered 202 within the window.

Each edge's first report goes in before the sockets subscribe (it creates the edge's state and
must find every hostname routed to an app); once every socket holds its snapshot the edges start
reporting every period, staggered over it, and after a 5 s warm-up the window opens and lasts
`seconds`. (Subscribing 2,000 sockets while 20 edges report overloads this 2-core machine: B11
measures arrivals; B10 measures the steady day.)
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench import cluster, storm
from bench.clients import Endpoint, clock
from bench.common import (
    Http,
    cpu_seconds,
    flush_redis_prefix,
    in_server_env,
    peak_rss_mib,
    percentile,
    reflow,
    say,
    seeded,
    table,
)
from bench.crowd import Crowd, latency_figures
from bench.ingest import PATH, Reporter, report_body
from bench.profile import profiled
from bench.servers import redis_cpu_seconds

USER = "support"
BASE = 1000
STEADY = 10
# The edge agent's shortest pause between two reports (edges/agent.py).
AGENT_MIN_PAUSE = 0.05
# Reporting before the window opens: the first reports after a quiet spell change everything.
WARMUP_SECONDS = 5.0
# B10's target: report -> socket p99 for every kind of socket.
P99_LIMIT_MS = 1000.0
# "No backlog": every edge keeps at least this share of its 1/period reports.
RATE_FLOOR = 0.95


@dataclass(frozen=True)
class PlatformConfig:
    apps: int
    edges: int
    sockets: int
    topics: int
    overviews: int
    edge_pages: int
    seconds: float
    clients: int
    organizations: int = 100
    custom_domains: int = 2
    period: float = 1.0
    settle: float = 10.0
    profile: Path | None = None


# What each edge reports


def _split(rows: list[dict[str, Any]], hostnames: list[str], total: int) -> None:
    """An app's connections over its hostnames (the first gets the remainder)."""
    share = total // len(hostnames)
    for position, hostname in enumerate(hostnames):
        connections = share if position else total - share * (len(hostnames) - 1)
        rows.append(
            {"hostname": hostname, "connections": connections, "websockets": connections // 3}
        )


@dataclass
class EdgePlan:
    """One edge's apps and the counts its n-th report gives them."""

    index: int
    edges: int
    watched: list[str]  # apps with pages open, their connections being the report's value
    hostnames: dict[str, list[str]]
    pairs: list[tuple[str, str, int]]  # (app, app, base): their sum never changes
    steady: list[str]  # an odd one out: keeps STEADY connections
    balance: str  # the app that makes the edge's total weight x value + offset
    weight: int = 0
    offset: int = 0

    def value(self, n: int) -> int:
        return BASE + n * self.edges + self.index

    def total(self, n: int) -> int:
        return self.weight * self.value(n) + self.offset

    @property
    def others_sum(self) -> int:
        """What the pairs and the steady apps add up to, every report."""
        return sum(2 * base + 6 for _, _, base in self.pairs) + STEADY * len(self.steady)

    @property
    def apps(self) -> list[str]:
        return [*self.watched, *(a for p in self.pairs for a in p[:2]), *self.steady, self.balance]

    def frontends(self, n: int) -> bytes:
        value = self.value(n)
        swing = n % 7  # a different value every report, the pair's sum the same
        rows: list[dict[str, Any]] = []
        for app in self.watched:
            _split(rows, self.hostnames[app], value)
        for first, second, base in self.pairs:
            _split(rows, self.hostnames[first], base + swing)
            _split(rows, self.hostnames[second], base + 6 - swing)
        for app in self.steady:
            _split(rows, self.hostnames[app], STEADY)
        rest = self.total(n) - len(self.watched) * value - self.others_sum
        _split(rows, self.hostnames[self.balance], rest)
        return json.dumps(rows).encode()


def plans(hostnames: dict[str, list[str]], edges: int, topics: int) -> list[EdgePlan]:
    """Every E-th app to each edge (as many apps per edge; any remainder is not reported), the
    watched apps round-robin over the edges."""
    apps = sorted(hostnames)
    per_edge = len(apps) // edges
    watched_per_edge = [topics // edges + (1 if k < topics % edges else 0) for k in range(edges)]
    if per_edge < max(watched_per_edge) + 1:
        raise ValueError(f"B10: {topics} watched apps need more than {len(apps)} apps")
    result = []
    for k in range(edges):
        mine = apps[k::edges][:per_edge]
        watched, others = mine[: watched_per_edge[k]], mine[watched_per_edge[k] :]
        balance, paired = others[-1], others[:-1]
        pairs = [
            (paired[2 * p], paired[2 * p + 1], 10 + (p * 7) % 900) for p in range(len(paired) // 2)
        ]
        steady = paired[-1:] if len(paired) % 2 else []
        result.append(EdgePlan(k, edges, watched, hostnames, pairs, steady, balance))
    weight = max(len(p.watched) for p in result) + 1
    offset = max(p.others_sum for p in result) + 1
    for plan in result:
        plan.weight, plan.offset = weight, offset
    return result


# The edges' report loops


@dataclass
class PacedReporter(Reporter):
    """B1's reporter, sending its edge's state once a period like the agent instead of back to
    back: (n, scheduled start, start, POST sent, answer read, status) per report."""

    plan: EdgePlan | None = None
    log: list[tuple[int, float, float, float, float, int]] = field(default_factory=list)
    unknown: int = 0

    def first_report(self, url: str) -> None:
        """Report 0, unmeasured: it creates the edge's live state."""
        assert self.plan is not None
        self.seq += 1
        http = Http(url)
        try:
            body = report_body(self.edge, self.seq, self.plan.frontends(0))
            status, data = http.request("POST", PATH, body, self.headers())
        finally:
            http.close()
        unknown = json.loads(data).get("unknown_hostnames") if status == 202 else None
        if status != 202 or unknown:
            raise RuntimeError(
                f"B10: first report of {self.edge}: {status} {data[:300]!r}; unknown "
                f"hostnames: {(unknown or [])[:3]}"
            )

    def loop(self, url: str, first: float, period: float, stop: threading.Event) -> None:
        """Reports 1, 2, ... until `stop`, the first at `first`, then like the agent."""
        assert self.plan is not None
        http = Http(url)
        due = first
        n = 1
        try:
            while not stop.wait(max(0.0, due - clock())):
                started = clock()
                self.seq += 1
                body = report_body(self.edge, self.seq, self.plan.frontends(n))
                sent = clock()
                try:
                    status, data = http.request("POST", PATH, body, self.headers())
                except Exception as error:
                    self.failed(f"{type(error).__name__}: {error}")
                    status, data = 0, b""
                answered = clock()
                self.statuses[status] += 1
                if status == 202:
                    answer = json.loads(data)
                    self.accepted += answer["accepted"]
                    self.unknown += len(answer.get("unknown_hostnames") or ())
                elif status:
                    self.failed(f"{status}: {data[:200]!r}")
                self.log.append((n, due, started, sent, answered, status))
                n += 1
                due = max(started + period, clock() + AGENT_MIN_PAUSE)
        finally:
            http.close()


class Edges:
    """The E report loops, threads of this process. Each edge's first report goes in at once,
    one edge after the other (it must be answered 202 with every hostname known); `start` then
    sets the loops off at moments staggered over one period."""

    def __init__(self, url: str, world: dict[str, Any], edge_plans: list[EdgePlan]) -> None:
        self.url = url
        first_seq = time.time_ns() // 1000
        self.reporters = [
            PacedReporter(e["name"], e["token"], [], first_seq, plan=plan)
            for e, plan in zip(world["edges"], edge_plans, strict=True)
        ]
        self.stop = threading.Event()
        self.threads: list[threading.Thread] = []
        for reporter in self.reporters:
            reporter.first_report(url)

    def start(self, period: float) -> None:
        begin = clock() + 0.1
        self.threads = [
            threading.Thread(
                target=r.loop,
                args=(self.url, begin + k * period / len(self.reporters), period, self.stop),
                daemon=True,
            )
            for k, r in enumerate(self.reporters)
        ]
        for thread in self.threads:
            thread.start()

    def close(self) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=60)


# Figures


def ingest_figures(
    reporters: list[PacedReporter], began: float, ended: float, period: float
) -> dict[str, Any]:
    """Each edge's reports whose POST left within the window."""
    window = ended - began
    rates, gaps, lags, latencies = [], [], [], []
    statuses: Counter[int] = Counter()
    counts = 0
    for reporter in reporters:
        mine = [r for r in reporter.log if began <= r[3] < ended]
        rates.append(len(mine) / window)
        starts = [r[2] for r in mine]
        gaps += [b - a for a, b in itertools.pairwise(starts)]
        lags += [r[2] - r[1] for r in mine]
        latencies += [r[4] - r[3] for r in mine if r[5]]
        statuses.update(r[5] for r in mine)
        counts += sum(1 for r in mine if r[5] == 202) * frontends_of(reporter)
    latencies.sort()
    return {
        "edges": len(reporters),
        "frontends_per_report": frontends_of(reporters[0]),
        "period_s": period,
        "reports": sum(statuses.values()),
        "counts_per_s": counts / window,
        "reports_per_s_per_edge_min": min(rates),
        "reports_per_s_per_edge_median": sorted(rates)[len(rates) // 2],
        "reports_per_s_per_edge_max": max(rates),
        "reports_per_s_per_edge": {
            r.edge: round(x, 3) for r, x in zip(reporters, rates, strict=True)
        },
        "max_gap_s": max(gaps, default=float("nan")),
        "max_late_s": max(lags, default=float("nan")),
        "post_p50_ms": percentile(latencies, 50) * 1000,
        "post_p90_ms": percentile(latencies, 90) * 1000,
        "post_p99_ms": percentile(latencies, 99) * 1000,
        "post_max_ms": (latencies[-1] if latencies else float("nan")) * 1000,
        "non_202": sum(n for status, n in statuses.items() if status != 202),
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "failures": [f for r in reporters for f in r.failures][:5],
    }


def frontends_of(reporter: PacedReporter) -> int:
    plan = reporter.plan
    assert plan is not None
    return sum(len(plan.hostnames[a]) for a in plan.apps)


@dataclass
class Watchers:
    """One kind of socket: its crowd, and which edge each endpoint's number comes from."""

    kind: str
    path: str
    endpoints: list[Endpoint]
    edge_of: list[int]  # endpoint -> edge index
    number: str  # "value" (an app's) or "total" (an edge's)
    sockets: int
    topics: int

    def receivers(self, edges: int) -> list[int]:
        """Sockets whose number each edge's report sets (socket i on endpoint i mod len)."""
        per_edge = [0] * edges
        for i in range(self.sockets):
            per_edge[self.edge_of[i % len(self.endpoints)]] += 1
        return per_edge

    def number_of(self, plan: EdgePlan, n: int) -> int:
        return plan.value(n) if self.number == "value" else plan.total(n)


def watchers(url: str, config: PlatformConfig, edge_plans: list[EdgePlan], world: dict[str, Any]):
    ws = url.replace("http://", "ws://")
    names = [e["name"] for e in world["edges"]]
    # The watched apps round-robin over the edges: topic t is on edge t mod E.
    topics = []
    for j in range(max(len(p.watched) for p in edge_plans)):
        topics += [(p.index, p.watched[j]) for p in edge_plans if j < len(p.watched)]
    kinds = [
        Watchers(
            "edge pages",
            "/ws/live/edges/<edge>/",
            [Endpoint(f"{ws}/ws/live/edges/{e}/", url, f"edge-{e}-connections") for e in names],
            list(range(len(names))),
            "total",
            config.edge_pages,
            min(config.edge_pages, len(names)),
        ),
        Watchers(
            "overviews",
            "/ws/live/overview/",
            [Endpoint(f"{ws}/ws/live/overview/", url, f"edge-{e}-connections") for e in names],
            list(range(len(names))),
            "total",
            config.overviews,
            1,
        ),
        Watchers(
            "app pages",
            "/ws/live/apps/<app>/",
            [Endpoint(f"{ws}/ws/live/apps/{a}/", url, f"app-{a}-connections") for _, a in topics],
            [k for k, _ in topics],
            "value",
            config.sockets,
            len(topics),
        ),
    ]
    return [w for w in kinds if w.sockets]


def socket_figures(
    watch: Watchers,
    crowd: Crowd,
    reporters: list[PacedReporter],
    began: float,
    ended: float,
    settle: float,
) -> dict[str, Any]:
    """B2's figures for one kind: every 202 report of the window that some socket watches."""
    receivers = watch.receivers(len(reporters))
    sent: dict[int, float] = {}
    expected: dict[int, int] = {}
    last: dict[str, int] = {}
    for reporter in reporters:
        plan = reporter.plan
        assert plan is not None
        answered = [r for r in reporter.log if r[5] == 202]
        if answered:
            number = watch.number_of(plan, answered[-1][0])
            for endpoint, edge in zip(watch.endpoints, watch.edge_of, strict=True):
                if edge == plan.index:
                    last[endpoint.element_id] = number
        if not receivers[plan.index]:
            continue
        for n, _, _, posted, _, _ in answered:
            if began <= posted < ended:
                number = watch.number_of(plan, n)
                sent[number] = posted
                expected[number] = receivers[plan.index]
    done = crowd.finish(last, settle)
    figures = latency_figures(sent, done["arrivals"], expected)
    figures.pop("rounds")
    return {
        "kind": watch.kind,
        "path": watch.path,
        "sockets": watch.sockets,
        "connected": crowd.connected,
        "topics": watch.topics,
        "subscribe_s": crowd.subscribe_seconds,
        "reports": len(sent),
        **figures,
        "frames_received": done["frames"],
        "closed_by_server": done["closed_by_server"],
        "close_codes": done["close_codes"],
    }


# Machine figures: Redis and PostgreSQL, whoever else uses them


def redis_stats(redis_url: str) -> dict[str, float]:
    import redis

    client = redis.Redis.from_url(redis_url, socket_timeout=2)
    try:
        stats = client.info("stats")
    finally:
        client.close()
    return {
        "commands": float(stats["total_commands_processed"]),
        "instantaneous": float(stats["instantaneous_ops_per_sec"]),
    }


def postgres_cpu() -> dict[int, float]:
    """CPU seconds of every PostgreSQL process on the machine (backends included)."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError, ValueError, IndexError):
            if (entry / "comm").read_text().strip() == "postgres":
                found[int(entry.name)] = cpu_seconds(int(entry.name))
    return found


class Costs:
    """CPU of the processes B10 runs, Redis's and PostgreSQL's, Redis commands, over a window."""

    def __init__(self, redis_url: str, processes: dict[str, int]) -> None:
        self.redis_url = redis_url
        self.processes = processes

    def start(self) -> None:
        self.cpu = {name: cpu_seconds(pid) for name, pid in self.processes.items()}
        self.postgres = postgres_cpu()
        self.redis_cpu = redis_cpu_seconds(self.redis_url)
        self.redis = redis_stats(self.redis_url)
        self.began = clock()

    def stop(self, crowds: list[Crowd], crowds_before: float) -> dict[str, Any]:
        elapsed = clock() - self.began
        rows = []
        for name, pid in self.processes.items():
            rows.append((name, pid, cpu_seconds(pid) - self.cpu[name]))
        rows.append(("subscribers", None, sum(c.cpu_seconds() for c in crowds) - crowds_before))
        redis_cpu = redis_cpu_seconds(self.redis_url)
        rows.append(("Redis (server)", None, (redis_cpu or 0.0) - (self.redis_cpu or 0.0)))
        postgres = postgres_cpu()
        rows.append(
            (
                "PostgreSQL (all)",
                None,
                sum(c - self.postgres.get(p, 0.0) for p, c in postgres.items()),
            )
        )
        redis = redis_stats(self.redis_url)
        return {
            "elapsed_s": elapsed,
            "processes": [
                {"process": name, "pid": pid, "cpu_s": cpu, "cpu_percent": 100 * cpu / elapsed}
                for name, pid, cpu in rows
            ],
            "redis_ops_per_s": (redis["commands"] - self.redis["commands"]) / elapsed,
            "redis_instantaneous_ops_per_s": redis["instantaneous"],
            "load_average": os.getloadavg(),
        }


def redis_background(redis_url: str, seconds: float = 2.0) -> float:
    """Redis commands per second before B10's servers start: others' use of the same server."""
    before = redis_stats(redis_url)["commands"]
    time.sleep(seconds)
    return (redis_stats(redis_url)["commands"] - before) / seconds


# The run


def run(tmp: Path, config: PlatformConfig) -> dict[str, Any] | str:
    """B10; answer its row, or why it was skipped."""
    redis_url = os.environ.get("REDIS_URL") or ""
    database = os.environ.get("DATABASE_URL") or ""
    if not redis_url or not database.startswith(("postgres://", "postgresql://")):
        return (
            "B10 skipped: it needs REDIS_URL and DATABASE_URL pointing at PostgreSQL; try "
            "DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres "
            "REDIS_URL=redis://127.0.0.1:6379/0 python -m bench.run --only b10"
        )
    haproxy = cluster.haproxy_binary()
    if haproxy is None:
        return "B10 skipped: haproxy is not installed (make haproxy)"
    place = tmp / "b10"
    say("B10: a fresh seeded database")
    with seeded(place, ["http://127.0.0.1:8000"]) as server:
        try:
            return _run(server, place, config, haproxy, redis_url)
        finally:
            flush_redis_prefix(redis_url, server.env.get("CHANNEL_LAYER_PREFIX"))


def _run(
    server: Any, tmp: Path, config: PlatformConfig, haproxy: str, redis_url: str
) -> dict[str, Any]:
    started = clock()
    world = in_server_env(
        server.env,
        "platform-world",
        {
            "organizations": min(config.organizations, config.apps),
            "apps": config.apps,
            "custom_domains": config.custom_domains,
            "first_organization": "acme",
            "edges": config.edges,
        },
    )
    edge_plans = plans(world["hostnames"], config.edges, config.topics)
    say(
        f"B10: {world['apps']:,} apps, {world['domains']:,} domains, {config.edges} more gateway "
        f"edges created in {clock() - started:.1f} s"
    )
    background = redis_background(redis_url)
    say(f"B10: Redis serves {background:,.0f} commands/s before B10's servers start (others)")
    with cluster.cluster_target(server, tmp, haproxy, "b10", LIVE_MIN_INTERVAL=None) as (
        target,
        parts,
    ):
        daphnes = target.pids
        say(f"B10: HAProxy pid {parts['haproxy_pid']} before daphnes {daphnes}")
        cookie = storm.sign_in(target.url, [USER], {})[USER]
        kinds = watchers(target.url, config, edge_plans, world)
        edges = Edges(target.url, world, edge_plans)
        try:
            say(f"B10: every edge's first report in; subscribing {_sockets(kinds)}")
            with contextlib.ExitStack() as stack:
                crowds, watched, unsubscribed = [], [], {}
                for watch in kinds:
                    processes = config.clients if watch.sockets >= 100 else 1
                    crowd = Crowd(
                        f"B10 {watch.kind}", watch.endpoints, cookie, watch.sockets, processes
                    )
                    try:
                        crowds.append(stack.enter_context(crowd))
                    except RuntimeError as error:  # measure the others all the same
                        say(f"B10 {watch.kind}: not measured: {error}")
                        unsubscribed[watch.kind] = str(error)
                    else:
                        watched.append(watch)
                edges.start(config.period)
                warmup = max(WARMUP_SECONDS, 3 * config.period)
                say(
                    f"B10: {config.edges} edges reporting {frontends_of(edges.reporters[0]):,} "
                    f"frontends every {config.period:g} s; {warmup:g} s before the window"
                )
                time.sleep(warmup)
                processes = {
                    "daphne 1": daphnes[0],
                    "daphne 2": daphnes[1],
                    "HAProxy": parts["haproxy_pid"],
                    "edges + coordinator": os.getpid(),
                }
                costs = Costs(redis_url, processes)
                crowds_cpu = sum(c.cpu_seconds() for c in crowds)
                costs.start()
                began = clock()
                say(f"B10: measuring for {config.seconds:g} s")
                with contextlib.ExitStack() as profiles:
                    found = [
                        profiles.enter_context(profiled(pid, f"B10 daphne {i}", config.profile))
                        for i, pid in enumerate(daphnes, 1)
                    ]
                    time.sleep(config.seconds)
                    ended = clock()
                    machine = costs.stop(crowds, crowds_cpu)
                edges.close()
                ingest = ingest_figures(edges.reporters, began, ended, config.period)
                sockets = [
                    socket_figures(w, c, edges.reporters, began, ended, config.settle)
                    for w, c in zip(watched, crowds, strict=True)
                ]
        finally:
            edges.close()
        rss = [peak_rss_mib(pid) for pid in daphnes]
    row = {
        "bench": "B10",
        "apps": world["apps"],
        "domains": world["domains"],
        "organizations": world["organizations"],
        "window_s": ended - began,
        "live_min_interval": "production default",
        "settle_s": config.settle,
        "ingest": ingest,
        "sockets": sockets,
        "unsubscribed": unsubscribed,
        "costs": machine,
        "redis_background_ops_per_s": background,
        "daphne_peak_rss_mib": rss,
        "profiles": {f"B10 daphne {i}": p for i, p in enumerate(found, 1) if p},
    }
    say(
        f"B10: {ingest['counts_per_s']:,.0f} counts/s, edges at "
        f"{ingest['reports_per_s_per_edge_min']:.2f}-{ingest['reports_per_s_per_edge_max']:.2f} "
        f"reports/s, POST p99 {ingest['post_p99_ms']:.0f} ms, {ingest['non_202']} not 202; "
        + "; ".join(f"{s['kind']} p99 {s['p99_ms']:.0f} ms ({s['missed']} missed)" for s in sockets)
    )
    return row


def _sockets(kinds: list[Watchers]) -> str:
    return ", ".join(f"{w.sockets:,} {w.kind} sockets" for w in kinds) or "no sockets"


# The tables


def met(row: dict[str, Any]) -> tuple[bool, bool]:
    """(every kind's p99 under the limit with nothing missed, no ingest backlog)."""
    latency = not row["unsubscribed"] and all(
        s["p99_ms"] < P99_LIMIT_MS and s["missed"] == 0 for s in row["sockets"]
    )
    ingest = row["ingest"]
    backlog = ingest["reports_per_s_per_edge_min"] * ingest["period_s"] < RATE_FLOOR or bool(
        ingest["non_202"]
    )
    return latency, not backlog


SOCKET_FIGURES = [
    ("topics", "topics", "{:,}"),
    ("reports", "reports", "{:,}"),
    ("samples", "samples", "{:,}"),
    ("p50_ms", "p50 ms", "{:.0f}"),
    ("p90_ms", "p90 ms", "{:.0f}"),
    ("p99_ms", "p99 ms", "{:.0f}"),
    ("max_ms", "max ms", "{:.0f}"),
    ("missed", "missed", "{:,}"),
    ("frames_per_s", "frames/s", "{:,.0f}"),
    ("subscribe_s", "subscribe s", "{:.1f}"),
]

LEGEND = """\
B10: {apps:,} apps ({domains:,} domains), {edges} gateway edges each reporting {frontends:,}
  frontends every {period:g} s, two daphnes behind HAProxy, Redis, PostgreSQL, LIVE_MIN_INTERVAL
  at its production default; the sockets signed in as support, all subscribed before the edges
  started reporting; a {window:.0f} s window from 5 s after that start.
latency: from just before a report's POST to the first frame carrying the number it set (an
  app's connections; an edge's total on the overview's row or its page), per socket watching it,
  over the reports answered 202 in the window. missed: such frames that never came (skipped to a
  newer number, or not within {settle:g} s after the last report).
reports/s: per edge, POSTs sent in the window / window (min, median, max over the edges; the
  agent's period is {period:g} s); max gap: longest time between two report starts of one edge;
  POST: request sent to answer read. CPU: over the window, 100 % = one core; Redis's and
  PostgreSQL's are the servers' own (PostgreSQL: every postgres process), so they include
  anything else using them, as do Redis's commands/s ({background:,.0f}/s before B10's servers
  started). Target: p99 < 1 s for every kind of socket, nothing missed; no backlog: every edge
  at >= {floor:.0%} of its reports and every answer 202."""


def render(row: dict[str, Any]) -> str:
    header = ["bench", "sockets", "kind", *(title for _, title, _ in SOCKET_FIGURES)]
    lines = [
        [
            "B10",
            f"{s['connected']:,}/{s['sockets']:,}",
            s["kind"],
            *(form.format(s[key]) for key, _, form in SOCKET_FIGURES),
        ]
        for s in row["sockets"]
    ]
    ingest = row["ingest"]
    ingest_header = [
        "bench", "edges", "frontends", "counts/s", "reports/s per edge", "max gap s",
        "POST p50 ms", "POST p99 ms", "POST max ms", "not 202",
    ]  # fmt: skip
    ingest_line = [
        "B10",
        str(ingest["edges"]),
        f"{ingest['frontends_per_report']:,}",
        f"{ingest['counts_per_s']:,.0f}",
        f"{ingest['reports_per_s_per_edge_min']:.2f} / "
        f"{ingest['reports_per_s_per_edge_median']:.2f} / "
        f"{ingest['reports_per_s_per_edge_max']:.2f}",
        f"{ingest['max_gap_s']:.2f}",
        f"{ingest['post_p50_ms']:.0f}",
        f"{ingest['post_p99_ms']:.0f}",
        f"{ingest['post_max_ms']:.0f}",
        str(ingest["non_202"]),
    ]
    costs = row["costs"]
    cost_lines = [
        [p["process"], str(p["pid"] or "-"), f"{p['cpu_s']:.1f}", f"{p['cpu_percent']:.0f}"]
        for p in costs["processes"]
    ]
    cost_lines.append(
        [
            "Redis commands/s",
            "-",
            "-",
            f"{costs['redis_ops_per_s']:,.0f} (instantaneous at the end "
            f"{costs['redis_instantaneous_ops_per_s']:,.0f})",
        ]
    )
    legend = LEGEND.format(
        apps=row["apps"],
        domains=row["domains"],
        edges=ingest["edges"],
        frontends=ingest["frontends_per_report"],
        period=ingest["period_s"],
        window=row["window_s"],
        settle=row["settle_s"],
        background=row["redis_background_ops_per_s"],
        floor=RATE_FLOOR,
    )
    parts = [
        table(header, lines) if lines else "B10: no sockets",
        "",
        table(ingest_header, [ingest_line]),
        "",
        table(["process", "pid", "CPU s", "CPU % / value"], cost_lines),
        f"(load average at the end {', '.join(f'{x:.2f}' for x in costs['load_average'])}; "
        f"daphne peak RSS {', '.join(f'{x:.0f}' for x in row['daphne_peak_rss_mib'])} MiB)",
        "",
        reflow(legend),
    ]
    for kind, error in row["unsubscribed"].items():
        parts.append(f"B10 {kind}: not measured, the sockets did not subscribe: {error}")
    if ingest["failures"]:
        parts.append(f"B10 report failures: {ingest['failures'][:3]}")
    return "\n".join(parts)
