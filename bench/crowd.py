"""The coordinator's side of the subscriber processes (bench/clients.py): start them,
wait until their sockets hold a snapshot, collect arrival times phase by phase, stop them; and
turn send and arrival times into latency figures."""

from __future__ import annotations

import contextlib
import multiprocessing
import multiprocessing.queues
import queue
import statistics
import time
from collections.abc import Callable, Sequence
from types import TracebackType
from typing import Any

from bench.clients import Endpoint, SubscriberSpec, clock, subscriber_process
from bench.common import cpu_seconds, percentile, say


def shares(total: int, parts: int) -> list[int]:
    parts = max(1, min(parts, total))
    return [total // parts + (1 if i < total % parts else 0) for i in range(parts)]


class Crowd:
    """`sockets` WebSockets over `processes` subscriber processes, spread over `endpoints`;
    a context manager: entered once every socket is subscribed (or failed)."""

    def __init__(
        self,
        label: str,
        endpoints: Sequence[Endpoint],
        cookie: str | None,
        sockets: int,
        processes: int,
        stall_every: int = 0,
    ) -> None:
        self.label = label
        self.endpoints = tuple(endpoints)
        self.cookie = cookie
        self.sockets = sockets
        self.processes_wanted = processes
        self.stall_every = stall_every
        self.context = multiprocessing.get_context("spawn")
        self.results: multiprocessing.queues.Queue[Any] = self.context.Queue()
        self.commands: list[multiprocessing.queues.Queue[Any]] = []
        self.processes: list[Any] = []
        self.closed = False
        self.connected = 0
        self.failed = 0
        self.stallers = 0
        self.errors: list[str] = []
        self.sample: str | None = None
        self.subscribe_seconds = float("nan")

    # Life cycle

    def __enter__(self) -> Crowd:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.stop()

    def start(self) -> None:
        first = 0
        for worker, share in enumerate(shares(self.sockets, self.processes_wanted)):
            spec = SubscriberSpec(
                worker=worker,
                endpoints=self.endpoints,
                cookie=self.cookie,
                sockets=share,
                first=first,
                stall_every=self.stall_every,
            )
            first += share
            command: multiprocessing.queues.Queue[Any] = self.context.Queue()
            process = self.context.Process(
                target=subscriber_process, args=(spec, command, self.results), daemon=True
            )
            process.start()
            self.processes.append(process)
            self.commands.append(command)
        started = clock()
        ready = self._collect("ready", 60 + self.sockets * 0.1)
        self.subscribe_seconds = clock() - started
        self.connected = sum(r["connected"] for r in ready.values())
        self.failed = sum(r["failed"] for r in ready.values())
        self.stallers = sum(r["stallers"] for r in ready.values())
        self.errors = sorted({e for r in ready.values() for e in r["errors"]})[:3]
        self.sample = next((r["sample"] for r in ready.values() if r["sample"]), None)
        say(
            f"{self.label}: {self.connected}/{self.sockets} sockets got their snapshot in "
            f"{self.subscribe_seconds:.1f} s"
            + (f" ({self.failed} failed: {self.errors[:2]})" if self.failed else "")
        )
        if not self.connected:
            raise RuntimeError(f"{self.label}: no socket could subscribe")

    def stop(self) -> None:
        if self.processes and not self.closed:
            for command in self.commands:
                command.put(("close",))
            with contextlib.suppress(RuntimeError):
                self._collect("closed", 30)
            self.closed = True
        for process in self.processes:
            process.join(timeout=15)
            if process.is_alive():
                process.terminate()
                process.join(timeout=5)

    def _collect(self, kind: str, timeout: float) -> dict[int, Any]:
        answers: dict[int, Any] = {}
        deadline = clock() + timeout
        while len(answers) < len(self.processes):
            remaining = deadline - clock()
            if remaining <= 0:
                raise RuntimeError(f"subscribers did not answer {kind!r} within {timeout:.0f} s")
            try:
                message = self.results.get(timeout=remaining)
            except queue.Empty:
                continue
            if message[0] == "error":
                raise RuntimeError(f"subscriber process {message[1]} failed: {message[2]}")
            if message[0] != kind:
                raise RuntimeError(f"expected {kind!r} from subscribers, got {message[0]!r}")
            answers[message[1]] = message[2]
        return answers

    # Phases

    @property
    def pids(self) -> list[int]:
        return [p.pid for p in self.processes]

    def cpu_seconds(self) -> float:
        return sum(cpu_seconds(pid) for pid in self.pids)

    def finish(self, last: dict[str, int], settle: float) -> dict[str, Any]:
        """Arrivals since the previous phase, pooled over processes, once the sockets have
        the last values (or `settle` seconds passed)."""
        for command in self.commands:
            command.put(("finish", last, settle))
        done = self._collect("done", settle + 60)
        pooled: dict[str, Any] = {"arrivals": {}, "stalled_arrivals": {}, "details": {}}
        for answer in done.values():
            for key in ("arrivals", "stalled_arrivals", "details"):
                for value, times in answer[key].items():
                    pooled[key].setdefault(value, []).extend(times)
        for key in (
            "frames",
            "open",
            "closed_by_server",
            "stallers_closed_by_server",
        ):
            pooled[key] = sum(a[key] for a in done.values())
        pooled["close_codes"] = sorted({c for a in done.values() for c in a["close_codes"]})
        return pooled

    def stall(self) -> int:
        for command in self.commands:
            command.put(("stall",))
        return sum(self._collect("stalled", 30).values())


# Sending rounds and the figures they give


def send_rounds(
    send: Callable[[int], None],
    values: Callable[[], int],
    rounds: int,
    interval: float,
    warmup: int = 0,
) -> tuple[dict[int, float], list[float]]:
    """Send `warmup` unmeasured values, then `rounds` values `interval` seconds apart; answer
    each measured value's send time and how long each send call took."""
    for _ in range(warmup):
        send(values())
        sleep_until(clock() + interval)
    sent: dict[int, float] = {}
    took: list[float] = []
    start = clock()
    for round_ in range(rounds):
        sleep_until(start + round_ * interval)
        value = values()
        sent[value] = clock()
        send(value)
        took.append(clock() - sent[value])
    return sent, took


def sleep_until(moment: float) -> None:
    time.sleep(max(0.0, moment - clock()))


def latency_figures(
    sent: dict[int, float], arrivals: dict[int, list[float]], receivers: int | dict[int, int]
) -> dict[str, Any]:
    """p50/p90/p99/max from send to arrival, spread and frames/s per round, and the frames
    that never arrived; `receivers` is the sockets expected to get each value."""
    latencies: list[float] = []
    spreads: list[float] = []
    rounds: list[dict[str, Any]] = []
    delivered = 0
    span = 0.0
    missed = 0
    for value, t0 in sent.items():
        times = sorted(arrivals.get(value, []))
        expected = receivers if isinstance(receivers, int) else receivers.get(value, 0)
        missed += max(0, expected - len(times))
        latencies.extend((t - t0) * 1000 for t in times)
        delivered += len(times)
        if times:
            span += times[-1] - t0
            spreads.append((times[-1] - times[0]) * 1000)
        rounds.append(
            {
                "delivered": len(times),
                "first_ms": round((times[0] - t0) * 1000, 2) if times else None,
                "last_ms": round((times[-1] - t0) * 1000, 2) if times else None,
            }
        )
    latencies.sort()
    return {
        "samples": len(latencies),
        "p50_ms": percentile(latencies, 50),
        "p90_ms": percentile(latencies, 90),
        "p99_ms": percentile(latencies, 99),
        "max_ms": latencies[-1] if latencies else float("nan"),
        "frames_per_s": delivered / span if span else float("nan"),
        "spread_ms": statistics.median(spreads) if spreads else float("nan"),
        "missed": missed,
        "rounds": rounds,
    }
