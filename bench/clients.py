"""Subscriber processes: each holds a share of the benchmark's WebSockets with asyncio.

A process opens its sockets, waits until every one of them got its snapshot, reports "ready",
then notes for every socket when a frame carrying each value of its element first arrived (the
connections count of a live number; with the "switch" reader, a feature row's data-enabled
as 1 or 0, with the frame's size and the page parts it carried). Then it obeys the coordinator
until told to close:

- ("finish", last, settle): `last` maps each element id to the last value posted for it; wait
  until every reading socket has that value (or `settle` seconds passed), answer the arrival
  times of the values seen since the previous "finish" ("done") and forget them, so one set of
  sockets can measure several phases;
- ("stall",): the sockets chosen as stallers stop reading (at most one more frame each), so TCP
  backpressure builds up against the server: their receive buffers are small on purpose;
- ("close",) or ("abort",): close every socket and answer "closed".

Sockets are spread over the spec's endpoints by their index across all processes (socket i
watches endpoint i mod len), so several topics, or several servers, get even shares.

Times are `time.monotonic()`: CLOCK_MONOTONIC is one clock for every process on the machine,
so the coordinator can subtract its send time from a subscriber's arrival time, and it does not
jump when NTP steps the wall clock.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing.queues
import queue
import re
import resource
import signal
import socket
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import websockets

from tests.e2e.live_client import count_in

clock = time.monotonic

# How long a subscriber process waits for the coordinator's next word before giving up.
COMMAND_TIMEOUT_SECONDS = 600.0
# A staller's receive buffer: small, so the server's writes back up within a few frames.
STALLER_RECEIVE_BUFFER = 4096


# The app page's parts, by the id of the element a pushed fragment replaces (live/panels.py).
PART_IDS = re.compile(
    r'<(?:section|div)\b[^>]*\bid="(app-live|app-notices|domains-panel|features-panel|'
    r'backends-panel|readiness)"'
)


@dataclass(frozen=True)
class Endpoint:
    """Where a socket connects and which live element carries its number: "count" reads the
    element's data-count, "switch" the data-enabled of the feature row's switch (1 or 0)."""

    url: str
    origin: str
    element_id: str
    reader: str = "count"


def switch_in(frame: str, row_id: str) -> int | None:
    """1 or 0: whether the feature row `row_id` in the frame shows its switch on."""
    match = re.search(rf'id="{row_id}"[^>]*>.*?data-enabled="(true|false)"', frame, re.DOTALL)
    return None if match is None else int(match.group(1) == "true")


def value_in(frame: str, endpoint: Endpoint) -> int | None:
    if endpoint.reader == "switch":
        return switch_in(frame, endpoint.element_id)
    return count_in(frame, endpoint.element_id)


@dataclass(frozen=True)
class SubscriberSpec:
    worker: int
    endpoints: tuple[Endpoint, ...]
    cookie: str | None
    sockets: int
    first: int = 0  # index of this process's first socket among all processes' sockets
    stall_every: int = 0  # socket i is a staller when stall_every and i % stall_every == 0
    connect_concurrency: int = 16
    connect_timeout: float = 60.0


@dataclass
class Socket:
    endpoint: Endpoint
    staller: bool
    arrivals: dict[int, float] = field(default_factory=dict)
    # Not with the "count" reader: value -> (bytes, parts) of the frame that first carried it.
    details: dict[int, tuple[int, str]] = field(default_factory=dict)
    frames: int = 0
    closed: bool = False
    close_code: int | None = None


def raise_open_files_limit() -> None:
    """Thousands of sockets need as many descriptors: lift the soft limit to the hard one."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def subscriber_process(
    spec: SubscriberSpec,
    commands: multiprocessing.queues.Queue[Any],
    results: multiprocessing.queues.Queue[Any],
) -> None:
    """Entry point of one subscriber process."""
    # Ctrl-C reaches the whole process group: the coordinator cleans up, ending us.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    raise_open_files_limit()
    try:
        asyncio.run(_subscribe(spec, commands, results))
    except Exception as error:  # report instead of dying silently
        results.put(("error", spec.worker, f"{type(error).__name__}: {error}"))


async def _staller_socket(url: str) -> socket.socket:
    """A connected socket with a small receive buffer (set before connecting, so the TCP window
    is negotiated small too)."""
    parts = urlsplit(url)
    raw = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, STALLER_RECEIVE_BUFFER)
    raw.setblocking(False)
    try:
        await asyncio.get_running_loop().sock_connect(
            raw, (parts.hostname or "127.0.0.1", parts.port or 80)
        )
    except BaseException:
        raw.close()
        raise
    return raw


async def _subscribe(
    spec: SubscriberSpec,
    commands: multiprocessing.queues.Queue[Any],
    results: multiprocessing.queues.Queue[Any],
) -> None:
    sockets = []
    for offset in range(spec.sockets):
        index = spec.first + offset
        sockets.append(
            Socket(
                endpoint=spec.endpoints[index % len(spec.endpoints)],
                staller=bool(spec.stall_every) and index % spec.stall_every == 0,
            )
        )
    connections: list[Any] = []
    errors: list[str] = []
    sample: list[str] = []
    attempted = 0
    all_attempted = asyncio.Event()
    stall = asyncio.Event()
    closing = asyncio.Event()
    gate = asyncio.Semaphore(spec.connect_concurrency)
    headers = {"Cookie": spec.cookie} if spec.cookie else {}

    def note(state: Socket, frame: str | bytes) -> None:
        now = clock()
        state.frames += 1
        text = frame if isinstance(frame, str) else frame.decode()
        value = value_in(text, state.endpoint)
        if value is not None and value not in state.arrivals:
            state.arrivals[value] = now
            if state.endpoint.reader != "count":
                parts = ",".join(sorted(set(PART_IDS.findall(text))))
                state.details[value] = (len(text.encode()), parts)
        if not sample:
            sample.append(text)

    async def hold(state: Socket) -> None:
        nonlocal attempted
        connection = None
        try:
            async with gate:
                options: dict[str, Any] = {}
                if state.staller:
                    # One queued frame at most: then the library stops reading the socket.
                    options = {"sock": await _staller_socket(state.endpoint.url), "max_queue": 1}
                connection = await websockets.connect(
                    state.endpoint.url,
                    origin=state.endpoint.origin,
                    additional_headers=headers,
                    open_timeout=spec.connect_timeout,
                    ping_interval=None,
                    max_size=2**20,
                    close_timeout=2,
                    **options,
                )
                # The snapshot: once it is here the socket is subscribed.
                note(state, await asyncio.wait_for(connection.recv(), spec.connect_timeout))
            connections.append(connection)
        except Exception as error:
            state.closed = True
            errors.append(f"{type(error).__name__}: {error}")
            if connection is not None:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(connection.close(), 5)
            connection = None
        finally:
            attempted += 1
            if attempted == spec.sockets:
                all_attempted.set()
        if connection is None:
            return
        try:
            async for frame in connection:
                note(state, frame)
                if state.staller and stall.is_set():
                    await closing.wait()
                    break
        except websockets.ConnectionClosed:
            pass
        state.closed = True
        state.close_code = connection.close_code

    tasks = [asyncio.create_task(hold(state)) for state in sockets]
    if not sockets:
        all_attempted.set()
    await all_attempted.wait()
    results.put(
        (
            "ready",
            spec.worker,
            {
                "connected": len(connections),
                "failed": len(errors),
                "errors": sorted(set(errors))[:3],
                "sample": sample[0] if sample else None,
                "stallers": sum(1 for s in sockets if s.staller and not s.closed),
            },
        )
    )

    loop = asyncio.get_running_loop()

    async def next_command() -> tuple[Any, ...]:
        try:
            return await loop.run_in_executor(
                None, lambda: commands.get(timeout=COMMAND_TIMEOUT_SECONDS)
            )
        except queue.Empty:
            return ("abort",)

    while True:
        command = await next_command()
        if command[0] == "finish":
            results.put(("done", spec.worker, await _finish(sockets, command[1], command[2])))
        elif command[0] == "stall":
            stall.set()
            results.put(("stalled", spec.worker, sum(1 for s in sockets if s.staller)))
        else:
            break
    closing.set()
    with contextlib.suppress(Exception):
        await asyncio.wait_for(
            asyncio.gather(*(c.close() for c in connections), return_exceptions=True), 10
        )
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    results.put(("closed", spec.worker, None))


async def _finish(sockets: list[Socket], last: dict[str, int], settle: float) -> dict[str, Any]:
    """Wait for the last values, answer what arrived since the previous call and forget it."""
    deadline = clock() + settle

    def behind(state: Socket) -> bool:
        wanted = last.get(state.endpoint.element_id)
        return (
            wanted is not None
            and not state.closed
            and not state.staller
            and wanted not in state.arrivals
        )

    while clock() < deadline and any(behind(s) for s in sockets):
        await asyncio.sleep(0.02)
    arrivals: dict[int, list[float]] = {}
    stalled: dict[int, list[float]] = {}
    details: dict[int, list[tuple[int, str]]] = {}
    for state in sockets:
        into = stalled if state.staller else arrivals
        for value, at in state.arrivals.items():
            into.setdefault(value, []).append(at)
        if not state.staller:
            for value, detail in state.details.items():
                details.setdefault(value, []).append(detail)
        state.arrivals.clear()
        state.details.clear()
    answer = {
        "arrivals": arrivals,
        "stalled_arrivals": stalled,
        "details": details,
        "frames": sum(s.frames for s in sockets),
        "open": sum(1 for s in sockets if not s.closed and not s.staller),
        "closed_by_server": sum(1 for s in sockets if s.close_code is not None and not s.staller),
        "stallers_closed_by_server": sum(
            1 for s in sockets if s.close_code is not None and s.staller
        ),
        "close_codes": sorted({s.close_code for s in sockets if s.close_code is not None}),
    }
    for state in sockets:
        state.frames = 0
    return answer
