"""What B11 (storm.py) and B12 (admission.py) share: client processes obeying the coordinator,
the doors their sockets knock at, how a failed attempt is named, and reading daphne's log.

A client process answers "ready" once it is up, waits for ("go", start) with `start` a
`time.monotonic()` moment shortly ahead (one clock for every process on the machine, so all
processes start together), answers its figures, then waits for ("close",) and answers "closed".
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import multiprocessing.queues
import queue
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

import websockets
from websockets.exceptions import InvalidHandshake, InvalidStatus

from bench.clients import COMMAND_TIMEOUT_SECONDS, clock
from bench.common import cpu_seconds

# daphne's warning when it cancels an application instance still running after its client left.
KILLED = "took too long to shut down and was killed"
# Seconds between "go" and the start: every process has read the command by then.
GO_AHEAD_SECONDS = 1.0


@dataclass(frozen=True)
class Door:
    """Where a socket connects, with what Origin and which session (like a browser's tab)."""

    url: str
    origin: str
    cookie: str | None


def connect(door: Door, open_timeout: float) -> Any:
    """websockets' connect as a browser would: its Origin, its cookie, no proxy from the
    environment; the library's own open timeout (10 s) unless told otherwise."""
    return websockets.connect(
        door.url,
        origin=door.origin,  # type: ignore[arg-type]
        additional_headers={"Cookie": door.cookie} if door.cookie else {},
        open_timeout=open_timeout,
        ping_interval=None,
        close_timeout=2,
        max_size=2**20,
        proxy=None,
    )


def failure(error: BaseException) -> tuple[str, str]:
    """(kind, reason) of an attempt that did not open: "abandoned" (our open timeout ran out),
    "refused" (the server answered the handshake with an HTTP status) or "failed" (the
    connection broke: refused, reset, closed mid-handshake)."""
    if isinstance(error, TimeoutError):
        return "abandoned", "open timeout"
    if isinstance(error, InvalidStatus):
        return "refused", f"HTTP {error.response.status_code}"
    cause = error.__cause__
    # websockets wraps what broke the handshake (the server dropping it: EOFError) in
    # InvalidMessage; name both.
    return "failed", type(error).__name__ + (f" ({type(cause).__name__})" if cause else "")


# What an attempt that did not open may raise (anything else is a bug worth seeing).
CONNECT_ERRORS = (TimeoutError, OSError, EOFError, InvalidHandshake)


async def next_command(commands: multiprocessing.queues.Queue[Any]) -> tuple[Any, ...]:
    loop = asyncio.get_running_loop()
    try:
        return await loop.run_in_executor(
            None, lambda: commands.get(timeout=COMMAND_TIMEOUT_SECONDS)
        )
    except queue.Empty:
        return ("close",)


class Fleet:
    """Client processes, one per spec, running `target(spec, commands, results)`; a context
    manager that stops them on the way out."""

    def __init__(self, label: str, target: Callable[..., None], specs: Sequence[Any]) -> None:
        self.label = label
        self.target = target
        self.specs = list(specs)
        self.context = multiprocessing.get_context("spawn")
        self.results: multiprocessing.queues.Queue[Any] = self.context.Queue()
        self.commands: list[multiprocessing.queues.Queue[Any]] = []
        self.processes: list[Any] = []
        self.closed = False

    def __enter__(self) -> Fleet:
        try:
            for spec in self.specs:
                commands: multiprocessing.queues.Queue[Any] = self.context.Queue()
                process = self.context.Process(
                    target=self.target, args=(spec, commands, self.results), daemon=True
                )
                process.start()
                self.processes.append(process)
                self.commands.append(commands)
            self.collect("ready", 120)
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

    def tell(self, *command: Any) -> None:
        for commands in self.commands:
            commands.put(command)

    def go(self) -> float:
        """Start every process at one moment; answer it."""
        start = clock() + GO_AHEAD_SECONDS
        self.tell("go", start)
        return start

    def collect(self, kind: str, timeout: float) -> dict[int, Any]:
        answers: dict[int, Any] = {}
        deadline = clock() + timeout
        while len(answers) < len(self.processes):
            remaining = deadline - clock()
            if remaining <= 0:
                raise RuntimeError(f"{self.label}: clients did not answer {kind!r} in {timeout} s")
            try:
                message = self.results.get(timeout=remaining)
            except queue.Empty:
                continue
            if message[0] == "error":
                raise RuntimeError(f"{self.label}: client {message[1]} failed: {message[2]}")
            if message[0] != kind:
                raise RuntimeError(f"{self.label}: expected {kind!r}, got {message[0]!r}")
            answers[message[1]] = message[2]
        return answers

    def cpu_seconds(self) -> float:
        total = 0.0
        for process in self.processes:
            with contextlib.suppress(OSError):
                total += cpu_seconds(process.pid)
        return total

    def stop(self) -> None:
        if self.processes and not self.closed:
            self.closed = True
            self.tell("close")
            with contextlib.suppress(RuntimeError):
                self.collect("closed", 30)
        for process in self.processes:
            process.join(timeout=15)
            if process.is_alive():
                process.terminate()
                process.join(timeout=5)


def tcp_counters() -> dict[str, int]:
    """The kernel's TCP counters (/proc/net/netstat), for the whole machine: ListenOverflows
    counts connections dropped because a listening socket's accept queue was full (daphne
    listens with Twisted's backlog of 50), TCPSynRetrans the SYNs clients had to send again."""
    counters: dict[str, int] = {}
    with contextlib.suppress(OSError):
        lines = Path("/proc/net/netstat").read_text().splitlines()
        for names, values in zip(lines[::2], lines[1::2], strict=False):
            if names.startswith("TcpExt:"):
                counters = dict(zip(names.split()[1:], map(int, values.split()[1:]), strict=False))
    return {key: counters.get(key, 0) for key in ("ListenOverflows", "TCPSynRetrans")}


# daphne's log


def log_sizes(logs: Sequence[Path]) -> list[int]:
    return [log.stat().st_size if log.exists() else 0 for log in logs]


def log_since(logs: Sequence[Path], offsets: Sequence[int]) -> list[str]:
    """The lines the logs gained since `offsets` (byte sizes from log_sizes)."""
    lines: list[str] = []
    for log, offset in zip(logs, offsets, strict=True):
        if log.exists():
            with log.open("rb") as handle:
                handle.seek(offset)
                lines += handle.read().decode(errors="replace").splitlines()
    return lines


_LEVEL = re.compile(r"\b(WARNING|ERROR|CRITICAL)\b\s+(.*)$")
_VARYING = re.compile(r"0x[0-9a-f]+|\d+(?:\.\d+)?")
_REPR = re.compile(r"<[^<>]*>")


def _message_kind(message: str) -> str:
    """A log message with what varies from line to line blanked: <reprs> (nested ones from
    the inside out), addresses and numbers."""
    while True:
        blanked = _REPR.sub("#", message)
        if blanked == message:
            return _VARYING.sub("#", blanked)
        message = blanked


def log_summary(lines: Sequence[str], top: int = 8) -> dict[str, Any]:
    """daphne's killed application instances, and its warnings and errors grouped by message
    (addresses, numbers and <reprs> blanked), most frequent first."""
    kinds: Counter[str] = Counter()
    first_error: list[str] = []
    for number, line in enumerate(lines):
        if not first_error and re.search(r"\b(ERROR|CRITICAL)\b", line):
            # What the first error says in full: its traceback follows it in the log.
            first_error = [entry[:300] for entry in lines[number : number + 40]]
        if line.startswith("Traceback"):
            kinds["Traceback"] += 1
            continue
        match = _LEVEL.search(line)
        if match:
            kinds[f"{match.group(1)} {_message_kind(match.group(2))[:140]}"] += 1
    return {
        "killed": sum(1 for line in lines if KILLED in line),
        "lines": len(lines),
        "warnings": dict(kinds.most_common(top)),
        "first_error": first_error,
    }
