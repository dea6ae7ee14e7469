"""B11 reconnect storm: how long until every browser of a restarted dashboard holds its live
socket again.

N sockets ("browsers") whose first attempts fall uniformly within one second, retrying the way
htmx's ws extension does with its default full jitter: after an attempt that does not open (a
browser sees 1006 for a refused or broken handshake) or a close with 1006, 1012 or 1013, wait
random() x 1 s x 2^min(retry, 6), retry counting from 0 and starting again from 0 whenever a
handshake completes (htmx resets it in onopen); any other close code and the browser gives up
(lost). A browser keeps its socket once it has it: it is "in" from the moment its socket is open
and the first frame (the snapshot) arrived until the server closes it (dropped; it retries).
Each attempt has websockets' default open timeout of 10 s; one that runs out is abandoned (and
retried, as after a failure).

Each scenario runs on a fresh daphne that has served nothing but the sign-ins, like one just
restarted: (a) mixed: alice, bob, carol and support over the app, organization, edge and overview
topics each may see (24 (user, topic) pairs, socket i takes pair i mod 24); (b) one topic:
/ws/live/apps/acme-web/ as alice; cluster: (a) through HAProxy in front of two daphnes sharing
Redis (cluster.py's rig). The clients are several processes (asyncio) starting at one moment of
the shared clock.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import os
import random
import signal
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import websockets

from bench.clients import clock, raise_open_files_limit
from bench.common import cpu_seconds, e2e, peak_rss_mib, percentile, reflow, say, table
from bench.crowd import shares
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

# htmx's ws extension reconnects after these close codes (a refused handshake is a 1006 too).
RETRY_CODES = frozenset({1006, 1012, 1013})
MAX_DOUBLINGS = 6
FIRST_ATTEMPTS_SECONDS = 1.0
OPEN_TIMEOUT_SECONDS = 10.0
SEED = 11

# Scenario (a): the topics each demo user may watch; (b): one topic, one user.
MIXED = {
    "alice": ("apps/acme-web", "apps/acme-chat", "apps/acme-api", "orgs/acme", "edges/acme-ssl",
              "edges/gateway"),
    "bob": ("apps/acme-web", "apps/acme-chat", "apps/acme-api", "orgs/acme", "edges/acme-ssl",
            "edges/gateway"),
    "carol": ("apps/globex-store", "apps/globex-live", "apps/globex-api", "orgs/globex",
              "edges/globex-ssl", "edges/gateway"),
    "support": ("overview", "apps/acme-web", "apps/globex-store", "orgs/globex", "edges/acme-ssl",
                "edges/gateway"),
}  # fmt: skip
ONE_TOPIC = ("alice", "apps/acme-web")


def mixed_pairs() -> list[tuple[str, str]]:
    """(user, topic) pairs, users alternating, so any run of sockets mixes users and topics."""
    return [(user, topics[k]) for k in range(6) for user, topics in MIXED.items()]


# The client processes


@dataclass(frozen=True)
class StormSpec:
    worker: int
    doors: tuple[Door, ...]
    sockets: int
    first: int  # socket i of all processes knocks at doors[i mod len]
    cap: float
    seed: int
    spread: float = FIRST_ATTEMPTS_SECONDS
    open_timeout: float = OPEN_TIMEOUT_SECONDS


@dataclass
class Browser:
    door: Door
    inside: bool = False
    lost: bool = False
    attempts: int = 0
    connection: Any = None


@dataclass
class Tally:
    """One process's storm: (seconds since the start, +1 in / -1 out) and what attempts met."""

    events: list[tuple[float, int]] = field(default_factory=list)
    outcomes: Counter[str] = field(default_factory=Counter)
    lags: list[float] = field(default_factory=list)
    attempts: int = 0
    dropped: int = 0


def storm_process(spec: StormSpec, commands: Any, results: Any) -> None:
    """Entry point of one client process."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the coordinator cleans up on Ctrl-C
    raise_open_files_limit()
    try:
        asyncio.run(_storm(spec, commands, results))
    except Exception as error:  # report instead of dying silently
        results.put(("error", spec.worker, f"{type(error).__name__}: {error}"))


async def _storm(spec: StormSpec, commands: Any, results: Any) -> None:
    rng = random.Random(spec.seed)
    browsers = [
        Browser(spec.doors[(spec.first + i) % len(spec.doors)]) for i in range(spec.sockets)
    ]
    tally = Tally()
    over = asyncio.Event()
    results.put(("ready", spec.worker, None))
    command = await next_command(commands)
    if command[0] != "go":
        results.put(("closed", spec.worker, None))
        return
    start = command[1]
    tasks = [asyncio.create_task(_browse(b, spec, start, rng, tally, over)) for b in browsers]
    deadline = start + spec.cap
    while clock() < deadline and not all(b.inside or b.lost for b in browsers):
        await asyncio.sleep(0.05)
    ended = clock() - start
    # The storm is over: browsers still outside stop trying (and one dropped from now on does
    # not come back); those in keep their sockets, and read them, until the coordinator has
    # read daphne's log.
    over.set()
    for browser, task in zip(browsers, tasks, strict=True):
        if not browser.inside:
            task.cancel()
    results.put(
        (
            "stormed",
            spec.worker,
            {
                "events": tally.events,
                "outcomes": dict(tally.outcomes),
                "attempts": tally.attempts,
                "dropped": tally.dropped,
                "max_attempts": max((b.attempts for b in browsers), default=0),
                "ended_s": ended,
                "lags": tally.lags,
            },
        )
    )
    await next_command(commands)
    held = [b.connection for b in browsers if b.connection is not None]
    with contextlib.suppress(Exception):
        await asyncio.wait_for(
            asyncio.gather(*(c.close() for c in held), return_exceptions=True), 10
        )
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    results.put(("closed", spec.worker, None))


async def _browse(
    browser: Browser,
    spec: StormSpec,
    start: float,
    rng: random.Random,
    tally: Tally,
    over: asyncio.Event,
) -> None:
    planned = start + rng.random() * spec.spread
    await asyncio.sleep(max(0.0, planned - clock()))
    # How late the first attempt set off: the clients' own overload, if large.
    tally.lags.append(clock() - planned)
    retry = 0
    while True:
        browser.attempts += 1
        tally.attempts += 1
        try:
            connection = await connect(browser.door, spec.open_timeout)
        except CONNECT_ERRORS as error:
            kind, reason = failure(error)
            tally.outcomes[f"{kind}: {reason}"] += 1
        else:
            retry = 0  # htmx's onopen
            code = await _hold(browser, connection, start, tally)
            if over.is_set():
                return
            if code not in RETRY_CODES:
                browser.lost = True
                tally.outcomes[f"lost: close {code}"] += 1
                return
        await asyncio.sleep(rng.random() * 2 ** min(retry, MAX_DOUBLINGS))
        retry += 1


async def _hold(browser: Browser, connection: Any, start: float, tally: Tally) -> int:
    """Read an open socket until the server closes it; answer the close code."""
    browser.connection = connection
    got_in = False
    try:
        async for _frame in connection:
            if not got_in:
                got_in = browser.inside = True
                tally.events.append((clock() - start, 1))
    except websockets.ConnectionClosed:
        pass
    except asyncio.CancelledError:
        if not got_in:
            # The storm ended before the snapshot came: gone, like a closed tab.
            connection.transport.abort()
        raise
    browser.connection = None
    code = connection.close_code or 1006
    if got_in:
        browser.inside = False
        tally.events.append((clock() - start, -1))
        tally.dropped += 1
    elif code == 1013:
        tally.outcomes["refused: close 1013 before the snapshot"] += 1
    elif code in RETRY_CODES:
        tally.outcomes[f"failed: close {code} before the snapshot"] += 1
    return code


# The coordinator


@dataclass(frozen=True)
class StormConfig:
    sockets: int
    cluster_sockets: int
    cap: float
    clients: int


def application_close_timeout() -> float:
    """daphne's --application-close-timeout as the dashboard serves it."""
    from edgeboard.server import WEBSOCKET_ARGS

    return float(WEBSOCKET_ARGS[WEBSOCKET_ARGS.index("--application-close-timeout") + 1])


def storm_figures(answers: Iterable[dict[str, Any]], sockets: int) -> dict[str, Any]:
    """Pool the processes' tallies: when 50, 99 and 100 % were in at once, and what attempts
    met."""
    answers = list(answers)
    need = {q: math.ceil(sockets * q / 100) for q in (50, 99, 100)}
    reached: dict[int, float] = {}
    inside = peak = 0
    for at, step in sorted(e for a in answers for e in a["events"]):
        inside += step
        peak = max(peak, inside)
        for q, count in need.items():
            if q not in reached and inside >= count:
                reached[q] = at
    outcomes: Counter[str] = Counter()
    for answer in answers:
        outcomes.update(answer["outcomes"])

    def kind(name: str) -> int:
        return sum(n for key, n in outcomes.items() if key.startswith(name + ":"))

    lags = sorted(lag for a in answers for lag in a["lags"])
    return {
        "sockets": sockets,
        "t50_s": reached.get(50),
        "t99_s": reached.get(99),
        "t100_s": reached.get(100),
        "in": inside,
        "in_peak": peak,
        "attempts": sum(a["attempts"] for a in answers),
        "refused": kind("refused"),
        "abandoned": kind("abandoned"),
        "failed": kind("failed"),
        "lost": kind("lost"),
        "dropped": sum(a["dropped"] for a in answers),
        "outcomes": dict(sorted(outcomes.items())),
        "max_attempts": max((a["max_attempts"] for a in answers), default=0),
        "storm_s": max((a["ended_s"] for a in answers), default=float("nan")),
        "first_attempt_lag_p99_ms": percentile(lags, 99) * 1000,
    }


def storm(
    label: str,
    doors: Sequence[Door],
    sockets: int,
    processes: int,
    cap: float,
    pids: Sequence[int],
    logs: Sequence[Path],
) -> dict[str, Any]:
    """One storm against running servers; the figures, with daphne's killed instances."""
    specs = []
    first = 0
    for worker, share in enumerate(shares(sockets, processes)):
        specs.append(StormSpec(worker, tuple(doors), share, first, cap, SEED * 1000 + worker))
        first += share
    with Fleet(label, storm_process, specs) as fleet:
        offsets = log_sizes(logs)
        server_cpu = sum(cpu_seconds(pid) for pid in pids)
        clients_cpu = fleet.cpu_seconds()
        tcp = tcp_counters()
        fleet.go()
        answers = fleet.collect("stormed", cap + 120)
        server_cpu = sum(cpu_seconds(pid) for pid in pids) - server_cpu
        clients_cpu = fleet.cpu_seconds() - clients_cpu
        tcp = {key: count - tcp[key] for key, count in tcp_counters().items()}
        # An instance whose client left while it still worked (an abandoned attempt, or the
        # storm's end) is killed only after daphne's application close timeout, by a checker
        # that runs every second: wait that long before reading the log, sockets still held.
        time.sleep(application_close_timeout() + 2)
        log = log_summary(log_since(logs, offsets))
        rss = max(peak_rss_mib(pid) for pid in pids)
    row = storm_figures(answers.values(), sockets)
    row.update(
        {
            "cap_s": cap,
            "clients": len(specs),
            "thrown_away": log["killed"],
            "server_cpu_s": server_cpu,
            "server_peak_rss_mib": rss,
            "clients_cpu_s": clients_cpu,
            "listen_overflows": tcp["ListenOverflows"],
            "syn_retransmits": tcp["TCPSynRetrans"],
            "log": log,
        }
    )
    say(
        f"{label}: 50 % in {_seconds(row['t50_s'])}, 99 % {_seconds(row['t99_s'])}, all "
        f"{_seconds(row['t100_s'])} ({row['in']}/{sockets} in); {row['attempts']} attempts, "
        f"{row['refused']} refused, {row['abandoned']} abandoned, {row['failed']} failed, "
        f"{row['thrown_away']} thrown away, {row['listen_overflows']} accept-queue drops; "
        f"server CPU {server_cpu:.1f} s"
    )
    return row


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f} s"


def doors(url: str, cookies: dict[str, str | None], pairs: Sequence[tuple[str, str]]) -> list[Door]:
    ws = url.replace("http://", "ws://")
    return [Door(f"{ws}/ws/live/{topic}/", url, cookies[user]) for user, topic in pairs]


def sign_in(url: str, users: Iterable[str], known: dict[str, str | None]) -> dict[str, str | None]:
    helpers = e2e()
    from tests.e2e.live_client import session_cookie

    cookies = dict(known)
    for user in users:
        if cookies.get(user) is None:
            cookies[user] = session_cookie(url, user, helpers.DEMO_PASSWORD)
    return cookies


SCENARIOS = {
    "a": "mixed: 4 users over app, org, edge and overview topics",
    "b": "one topic: /ws/live/apps/acme-web/ as alice",
}


def run(server: Any, tmp: Path, config: StormConfig) -> tuple[list[dict[str, Any]], list[str]]:
    """Scenarios (a) and (b) on one daphne each, then (a) on two behind HAProxy; answer the
    rows and the reasons for what was skipped."""
    from bench import cluster
    from bench.servers import dashboard_target

    rows: list[dict[str, Any]] = []
    skipped: list[str] = []
    for scenario, pairs in (("a", mixed_pairs()), ("b", [ONE_TOPIC])):
        label = f"B11 ({scenario}) n={config.sockets}"
        with dashboard_target(server, tmp) as target:
            say(f"{label}: daphne (dashboard) up, pid {target.pid}")
            cookies = sign_in(target.url, {u for u, _ in pairs}, {"alice": target.cookie})
            row = storm(
                label,
                doors(target.url, cookies, pairs),
                config.sockets,
                config.clients,
                config.cap,
                target.server_pids,
                target.logs,
            )
        rows.append({"bench": "B11", "scenario": scenario, "what": SCENARIOS[scenario],
                     "servers": 1, **row})  # fmt: skip
    haproxy = cluster.haproxy_binary()
    if not os.environ.get("REDIS_URL"):
        skipped.append(
            "B11 cluster skipped: REDIS_URL is not set (two daphnes need Redis between them)"
        )
    elif haproxy is None:
        skipped.append("B11 cluster skipped: haproxy is not installed (make haproxy)")
    else:
        label = f"B11 (cluster) n={config.cluster_sockets}"
        with cluster.cluster_target(server, tmp, haproxy, "b11") as (target, parts):
            say(f"{label}: HAProxy pid {parts['haproxy_pid']} before daphnes {target.pids}")
            pairs = mixed_pairs()
            cookies = sign_in(target.url, {u for u, _ in pairs}, {"alice": target.cookie})
            row = storm(
                label,
                doors(target.url, cookies, pairs),
                config.cluster_sockets,
                config.clients,
                config.cap,
                target.server_pids,
                target.logs,
            )
        rows.append({"bench": "B11", "scenario": "cluster", "servers": 2,
                     "what": SCENARIOS["a"] + ", through HAProxy", **row})  # fmt: skip
    return rows, skipped


# The table


FIGURES = [
    ("sockets", "sockets", "{:,}"),
    ("servers", "daphnes", "{}"),
    ("t50_s", "t50 s", "{:.2f}"),
    ("t99_s", "t99 s", "{:.2f}"),
    ("t100_s", "t100 s", "{:.2f}"),
    ("in", "in", "{:,}"),
    ("attempts", "attempts", "{:,}"),
    ("refused", "refused", "{:,}"),
    ("abandoned", "abandoned", "{:,}"),
    ("failed", "failed", "{:,}"),
    ("lost", "lost", "{:,}"),
    ("dropped", "dropped", "{:,}"),
    ("thrown_away", "thrown away", "{:,}"),
    ("listen_overflows", "queue drops", "{:,}"),
    ("first_attempt_lag_p99_ms", "client lag ms", "{:.0f}"),
    ("server_cpu_s", "server CPU s", "{:.1f}"),
    ("clients_cpu_s", "clients CPU s", "{:.1f}"),
]

LEGEND = """\
B11/B12 storms: first attempts uniform within 1 s, retries with htmx's full jitter (random() x 1 s
  x 2^min(retry, 6)), 10 s open timeout. tN: seconds from the start until N % hold an open socket
  and their snapshot at once ("-": not within the cap of {cap:.0f} s; "in": how many then).
refused: HTTP status instead of the upgrade (closed before accept) or close 1013 before the
  snapshot. abandoned: open timeout ran out. failed: connection refused, reset or closed mid-way.
  lost: closed with a code htmx does not retry. dropped: closed by the server after it was in.
thrown away: daphne's "took too long to shut down and was killed" lines over the storm and its
  application close timeout after it. queue drops: connections the kernel dropped over the
  storm because a listening socket's accept queue was full (the machine's ListenOverflows; the
  client sends its SYN again a second later). client lag: p99 of how late first attempts set
  off (the clients' own overload). CPU: over the storm (B11 cluster: both daphnes)."""


def _cell(row: dict[str, Any], key: str, form: str) -> str:
    value = row.get(key)
    return "-" if value is None else form.format(value)


def render(rows: list[dict[str, Any]]) -> str:
    header = ["bench", "scenario", *(title for _, title, _ in FIGURES)]
    lines = [
        [row["bench"], row["scenario"], *(_cell(row, k, f) for k, _, f in FIGURES)] for row in rows
    ]
    parts = [table(header, lines), "", reflow(LEGEND.format(cap=rows[0]["cap_s"]))]
    for row in rows:
        warnings = row["log"]["warnings"]
        if warnings:
            parts.append(f"\n{row['bench']} ({row['scenario']}) daphne's warnings and errors:")
            parts += [f"  {count:6,}  {message}" for message, count in warnings.items()]
    return "\n".join(parts)
