"""B7 slow clients: 1 % of the subscribers stop reading; do the others notice?

One fresh daphne, N sockets on acme-web signed in as alice, every 100th of them a staller: a
small receive buffer (4 KiB) and at most one queued frame in the client library. First B2's
rounds with every socket reading (the baseline); then the stallers stop reading and a longer
series of rounds runs (long enough to pass the consumer's 10 s slow-socket close). p99 of the
other sockets in both series is compared, in the same run on the same server; daphne's VmRSS is
sampled every 0.25 s throughout, to show whether what piles up for the stallers is bounded.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from bench.clients import clock
from bench.common import say
from bench.crowd import Crowd
from bench.idle import vm_rss_kib
from bench.servers import Rounds, Values, dashboard_target, measure_rounds

SAMPLE_SECONDS = 0.25


@dataclass(frozen=True)
class SlowConfig:
    sockets: int
    stall_every: int
    stall_seconds: float


class RssSampler:
    """VmRSS of a process every SAMPLE_SECONDS, in a thread, tagged with the current phase."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.phase = "subscribe"
        self.samples: list[tuple[float, str, float]] = []
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.started = clock()

    def _run(self) -> None:
        while not self.stopped.wait(SAMPLE_SECONDS):
            try:
                rss = vm_rss_kib(self.pid) / 1024
            except (OSError, RuntimeError):
                return
            self.samples.append((round(clock() - self.started, 2), self.phase, round(rss, 1)))

    def __enter__(self) -> RssSampler:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopped.set()
        self.thread.join(timeout=5)

    def peak(self, phase: str) -> float:
        return max((rss for _, p, rss in self.samples if p == phase), default=float("nan"))

    def last(self, phase: str) -> float:
        return next((rss for _, p, rss in reversed(self.samples) if p == phase), float("nan"))


def run(
    server: Any, tmp: Path, config: SlowConfig, setup: Rounds, values: Values
) -> dict[str, Any]:
    label = f"B7 n={config.sockets}"
    with dashboard_target(server, tmp) as target:
        say(f"{label}: daphne (dashboard) up, pid {target.pid}")
        with (
            RssSampler(target.pid) as rss,
            Crowd(
                label,
                [target.endpoint],
                target.cookie,
                config.sockets,
                setup.clients,
                stall_every=config.stall_every,
            ) as crowd,
        ):
            rss.phase = "baseline"
            baseline = measure_rounds(target, crowd, f"{label} all reading", setup, values)
            stallers = crowd.stall()
            rss.phase = "stalled"
            stalled_setup = replace(
                setup, rounds=max(setup.rounds, round(config.stall_seconds / setup.interval))
            )
            stalled = measure_rounds(
                target, crowd, f"{label} {stallers} stalled", stalled_setup, values
            )
            rss.phase = "after"
        change = 100 * (stalled["p99_ms"] - baseline["p99_ms"]) / baseline["p99_ms"]
        row = {
            "bench": "B7",
            "sockets": config.sockets,
            "stallers": stallers,
            "baseline": baseline,
            "stalled": stalled,
            "p99_change_percent": change,
            "rss_baseline_end_mib": rss.last("baseline"),
            "rss_stalled_peak_mib": rss.peak("stalled"),
            "rss_stalled_end_mib": rss.last("stalled"),
            "rss_growth_mib": rss.last("stalled") - rss.last("baseline"),
            "stallers_closed_by_server": stalled.get("stallers_closed_by_server", 0),
            "rss_samples": rss.samples,
        }
    say(
        f"{label}: others' p99 {baseline['p99_ms']:.1f} -> {stalled['p99_ms']:.1f} ms "
        f"({change:+.0f} %), RSS {row['rss_baseline_end_mib']:.0f} -> "
        f"{row['rss_stalled_end_mib']:.0f} MiB (peak {row['rss_stalled_peak_mib']:.0f}), "
        f"{row['stallers_closed_by_server']}/{stallers} stallers closed by the server"
    )
    return row
