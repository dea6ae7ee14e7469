"""B6 idle sockets: what thousands of signed-in, quiet sockets cost one daphne.

A fresh daphne serving the dashboard; ten sockets connect and close first, so caches, the
database thread pool and the hub's channel exist before the baseline. Then N sockets on
/ws/live/apps/acme-web/ signed in as alice subscribe (each got its snapshot), settle for two
seconds, and stay quiet for a window: resident memory per socket is (VmRSS after the window -
VmRSS before subscribing) / sockets connected; CPU is daphne's CPU time over the window / its
length (100 % = one core). daphne pings each socket every 20 s, so a long window includes them.

B2 at N is then measured on the same sockets (its largest size, one run): subscribing thousands
of sockets is the slow part, and doing it once saves minutes.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.clients import clock
from bench.common import cpu_seconds, say
from bench.crowd import Crowd
from bench.profile import profiled
from bench.servers import Rounds, Values, dashboard_target, measure_rounds

WARM_SOCKETS = 10
SETTLE_SECONDS = 2.0


@dataclass(frozen=True)
class IdleConfig:
    sockets: int
    window: float


def vm_rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for process {pid}")


def run(
    server: Any,
    tmp: Path,
    config: IdleConfig,
    setup: Rounds,
    values: Values,
    profile_dir: Path | None = None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The B6 row, and B2's figures for rounds sent to the same sockets afterwards."""
    with dashboard_target(server, tmp) as target:
        say(f"B6 n={config.sockets}: daphne (dashboard) up, pid {target.pid}")
        with Crowd("B6 warm-up", [target.endpoint], target.cookie, WARM_SOCKETS, 1):
            pass
        time.sleep(1.0)
        before = vm_rss_kib(target.pid)
        label = f"B6 n={config.sockets}"
        crowd = Crowd(label, [target.endpoint], target.cookie, config.sockets, setup.clients)
        try:
            with profiled(target.pid, f"{label} subscribing", profile_dir) as profile:
                crowd.start()
            time.sleep(SETTLE_SECONDS)
            held = vm_rss_kib(target.pid)
            cpu = cpu_seconds(target.pid)
            clients_cpu = crowd.cpu_seconds()
            started = clock()
            time.sleep(config.window)
            elapsed = clock() - started
            cpu = cpu_seconds(target.pid) - cpu
            clients_cpu = crowd.cpu_seconds() - clients_cpu
            after = vm_rss_kib(target.pid)
            connected = crowd.connected
            row = {
                "bench": "B6",
                "sockets": config.sockets,
                "connected": connected,
                "subscribe_s": crowd.subscribe_seconds,
                "window_s": elapsed,
                "rss_before_mib": before / 1024,
                "rss_held_mib": held / 1024,
                "rss_after_mib": after / 1024,
                "kib_per_socket": (after - before) / connected,
                "server_cpu_percent": 100 * cpu / elapsed,
                "clients_cpu_percent": 100 * clients_cpu / elapsed,
            }
            say(
                f"{label}: {row['kib_per_socket']:.1f} KiB per socket "
                f"({before / 1024:.0f} -> {after / 1024:.0f} MiB), idle CPU "
                f"{row['server_cpu_percent']:.2f} % over {elapsed:.0f} s"
            )
            b2_label = f"B2 n={config.sockets} (B6's sockets)"
            b2 = measure_rounds(target, crowd, b2_label, setup, values)
        finally:
            crowd.stop()
    if profile:
        row["profile"] = profile
    return row, b2


FIGURES = [
    ("connected", "sockets", "{:.0f}"),
    ("subscribe_s", "subscribe s", "{:.1f}"),
    ("rss_before_mib", "RSS before MiB", "{:.0f}"),
    ("rss_after_mib", "RSS after MiB", "{:.0f}"),
    ("kib_per_socket", "KiB/socket", "{:.1f}"),
    ("window_s", "idle s", "{:.0f}"),
    ("server_cpu_percent", "server CPU %", "{:.2f}"),
    ("clients_cpu_percent", "clients CPU %", "{:.2f}"),
]

LEGEND = """\
B6: sockets signed in as alice on one daphne, quiet. KiB/socket: (VmRSS after the idle window -
  VmRSS before subscribing) / sockets. server CPU: daphne's CPU time over the idle window (100 %
  = one core). Targets: <= 40 kB per socket, < 3 % CPU."""
