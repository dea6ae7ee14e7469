"""B15 panel push: support switches a feature on an app; every open app page's Features panel
shows the new switch state.

A change that is not a connection count: per size N, a fresh daphne serving the dashboard with
LIVE_MIN_INTERVAL left out of its environment (the production default, 0.5 s, coalescing as in
production; B2 sets it to 0), N sockets on /ws/live/apps/acme-web/ signed in as alice, spread
over B2's subscriber processes (bench/crowd.py, bench/clients.py with the "switch" reader).
Each round, 1 s after the previous one, support flips http-request-id on acme-web through the
Platform API (PATCH /apps/acme-web/features/http-request-id, with the reason staff must give),
alternately on and off. A sample is the time from just before the PATCH to the arrival of the
first frame whose #app-acme-web-feature-http-request-id row shows the new state, on every
socket; a socket that has not shown it 5 s after the PATCH is a missing sample. The coordinator
waits for every socket (or the 5 s) before the next round, so no round's frames overlap.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from bench.clients import clock
from bench.common import (
    ROOT,
    Http,
    cpu_seconds,
    peak_rss_mib,
    percentile,
    reflow,
    say,
    table,
)
from bench.crowd import Crowd, latency_figures, sleep_until
from bench.servers import APP, dashboard_target

FEATURE = "http-request-id"
ROW_ID = f"app-{APP}-feature-{FEATURE}"
PATH = f"/apps/{APP}/features/{FEATURE}"
# Who switches: support, on a customer's app, so with a reason (dashboard/services/features.py).
SWITCHER = "support"
REASON = "bench B15: panel push"

LEGEND = """\
latency: from just before the PATCH to the first frame whose feature row shows the new state,
  every socket of every round pooled; missing: not shown within 5 s. spread: last minus first
  arrival of a round (median of rounds). API: the PATCH's own time (the same daphne serves it).
frame B: mean size of those frames (parts carried: {parts}); frames/socket/round: every frame
  the sockets got during the rounds. server CPU: daphne over the rounds, the API calls
  included; clients CPU: the subscriber processes'."""


@dataclass(frozen=True)
class PanelsConfig:
    sizes: tuple[int, ...]
    rounds: int
    interval: float
    settle: float
    clients: int


def server_min_interval(env: dict[str, str]) -> float:
    """LIVE_MIN_INTERVAL as the server sees it, with the variable left out of its environment:
    the production default."""
    environment = {k: v for k, v in env.items() if k != "LIVE_MIN_INTERVAL"}
    answer = subprocess.run(
        [sys.executable, "-c", "from edgeboard import settings; print(settings.LIVE_MIN_INTERVAL)"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )
    if answer.returncode:
        raise RuntimeError(f"could not read LIVE_MIN_INTERVAL:\n{answer.stderr[-2000:]}")
    return float(answer.stdout.strip().splitlines()[-1])


class FeatureApi:
    """The Platform API as the Heroku CLI calls it, on one keep-alive connection."""

    def __init__(self, url: str, token: str) -> None:
        self.http = Http(url)
        self.headers = {
            "Accept": "application/vnd.heroku+json; version=3",
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/json",
        }

    def call(self, method: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        data = json.dumps(body).encode() if body is not None else None
        status, answer = self.http.request(method, PATH, data, self.headers)
        if status != 200:
            raise RuntimeError(f"{method} {PATH}: HTTP {status}: {answer[:300]!r}")
        return json.loads(answer)

    def enabled(self) -> bool:
        return bool(self.call("GET")["enabled"])

    def switch(self, enabled: bool) -> None:
        answer = self.call("PATCH", {"enabled": enabled, "reason": REASON})
        if answer.get("enabled") is not enabled:
            raise RuntimeError(f"PATCH {PATH}: asked for {enabled}, got {answer}")

    def close(self) -> None:
        self.http.close()


def measure(
    crowd: Crowd, api: FeatureApi, pid: int, config: PanelsConfig, label: str
) -> dict[str, Any]:
    """The rounds against the subscribed crowd; the figures."""
    state = api.enabled()
    crowd.finish({}, 0.0)  # forget what the snapshots showed
    sent: dict[int, float] = {}
    arrivals: dict[int, list[float]] = {}
    took: list[float] = []
    sizes: list[int] = []
    parts: Counter[str] = Counter()
    frames = late = 0
    cpu_before = cpu_seconds(pid)
    clients_before = crowd.cpu_seconds()
    previous = float("-inf")
    for round_ in range(config.rounds):
        sleep_until(previous + config.interval)
        state = not state
        value = int(state)
        sent[round_] = previous = clock()
        api.switch(state)
        took.append(clock() - previous)
        deadline = previous + config.settle
        done = crowd.finish({ROW_ID: value}, max(0.0, deadline - clock()))
        times = done["arrivals"].get(value, [])
        arrivals[round_] = [t for t in times if t <= deadline]
        late += len(times) - len(arrivals[round_])
        frames += done["frames"]
        for size, carried in done["details"].get(value, []):
            sizes.append(size)
            parts[carried or "(none)"] += 1
    cpu = cpu_seconds(pid) - cpu_before
    clients_cpu = crowd.cpu_seconds() - clients_before
    figures = latency_figures(sent, arrivals, crowd.connected)
    for round_, call in zip(figures["rounds"], took, strict=True):
        round_["api_ms"] = round(call * 1000, 2)
    api_ms = sorted(t * 1000 for t in took)
    receipts = crowd.connected * config.rounds
    figures.pop("frames_per_s")
    figures.update(
        {
            "bench": "B15",
            "sockets": crowd.sockets,
            "connected": crowd.connected,
            "subscribe_s": crowd.subscribe_seconds,
            "rounds_run": config.rounds,
            "late": late,
            "api_p50_ms": percentile(api_ms, 50),
            "api_p99_ms": percentile(api_ms, 99),
            "frame_bytes_mean": sum(sizes) / len(sizes) if sizes else float("nan"),
            "frame_parts": dict(parts.most_common()),
            "frames_per_socket_round": frames / receipts if receipts else float("nan"),
            "server_cpu_s": cpu,
            "clients_cpu_s": clients_cpu,
            "server_peak_rss_mib": peak_rss_mib(pid),
        }
    )
    say(
        f"{label}: {config.rounds} rounds, p50 {figures['p50_ms']:.1f} ms, p99 "
        f"{figures['p99_ms']:.1f} ms, max {figures['max_ms']:.1f} ms, {figures['missed']} "
        f"missing; API p50 {figures['api_p50_ms']:.1f} ms; frames "
        f"{figures['frame_bytes_mean']:.0f} B ({', '.join(parts) or '-'}); server CPU {cpu:.2f} s"
    )
    return figures


def run(server: Any, tmp: Path, config: PanelsConfig) -> list[dict[str, Any]]:
    """Every size on its own fresh daphne, LIVE_MIN_INTERVAL at the production default."""
    min_interval = server_min_interval(server.env)
    token = server.user(SWITCHER)["api_token"]
    rows = []
    for sockets in config.sizes:
        label = f"B15 n={sockets}"
        with dashboard_target(server, tmp, LIVE_MIN_INTERVAL=None) as target:
            say(
                f"{label}: daphne (dashboard) up, pid {target.pid}, LIVE_MIN_INTERVAL "
                f"{min_interval:g} s (production default, not set)"
            )
            endpoint = replace(target.endpoint, element_id=ROW_ID, reader="switch")
            api = FeatureApi(target.url, token)
            try:
                with Crowd(label, [endpoint], target.cookie, sockets, config.clients) as crowd:
                    row = measure(crowd, api, target.pid, config, label)
            finally:
                api.close()
        row["live_min_interval_s"] = min_interval
        rows.append(row)
    return rows


def render(rows: list[dict[str, Any]]) -> str:
    header = [
        "sockets",
        "p50 ms",
        "p99 ms",
        "max ms",
        "spread ms",
        "missing",
        "API p50 ms",
        "API p99 ms",
        "frame B",
        "frames/socket/round",
        "server CPU s",
        "clients CPU s",
    ]
    lines = [
        [
            f"{r['sockets']:,}",
            f"{r['p50_ms']:.1f}",
            f"{r['p99_ms']:.1f}",
            f"{r['max_ms']:.1f}",
            f"{r['spread_ms']:.1f}",
            f"{r['missed']:,} of {r['connected'] * r['rounds_run']:,}",
            f"{r['api_p50_ms']:.1f}",
            f"{r['api_p99_ms']:.1f}",
            f"{r['frame_bytes_mean']:.0f}",
            f"{r['frames_per_socket_round']:.2f}",
            f"{r['server_cpu_s']:.2f}",
            f"{r['clients_cpu_s']:.2f}",
        ]
        for r in rows
    ]
    parts = ", ".join(sorted({p for r in rows for p in r["frame_parts"]})) or "-"
    title = (
        f"B15 panel push: support switches {FEATURE} on {APP} through the Platform API, "
        f"{rows[0]['rounds_run']} rounds 1 s apart, sockets signed in as alice; LIVE_MIN_INTERVAL "
        f"{rows[0]['live_min_interval_s']:g} s, the production default (not set; B2 sets 0)"
    )
    return "\n".join([reflow(title), table(header, lines), reflow(LEGEND.format(parts=parts))])
