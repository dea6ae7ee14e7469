"""Subscriber processes: each holds a share of the benchmark's WebSockets with asyncio.

A process opens its sockets, waits until every one of them got its snapshot, reports "ready",
then notes for every socket when a frame carrying each connections value first arrived. The
coordinator sends the values it posted ("finish"); the process waits until its sockets caught up
with the last one (or a deadline), closes them and answers the arrival times.

Times are `time.monotonic()`: CLOCK_MONOTONIC is one clock for every process on the machine,
so the coordinator can subtract its send time from a subscriber's arrival time, and it does not
jump when NTP steps the wall clock.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing.queues
import queue
import signal
import time
from dataclasses import dataclass, field
from typing import Any

import websockets

from tests.e2e.live_client import count_in

clock = time.monotonic

# How long a subscriber process waits for the coordinator's next word before giving up.
COMMAND_TIMEOUT_SECONDS = 600.0


@dataclass(frozen=True)
class SubscriberSpec:
    worker: int
    url: str
    origin: str
    cookie: str | None
    sockets: int
    element_id: str
    connect_concurrency: int = 16
    connect_timeout: float = 60.0


@dataclass
class Socket:
    arrivals: dict[int, float] = field(default_factory=dict)
    frames: int = 0
    closed: bool = False
    close_code: int | None = None


def subscriber_process(
    spec: SubscriberSpec,
    commands: multiprocessing.queues.Queue[Any],
    results: multiprocessing.queues.Queue[Any],
) -> None:
    """Entry point of one subscriber process."""
    # Ctrl-C reaches the whole process group: the coordinator cleans up, ending us.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        asyncio.run(_subscribe(spec, commands, results))
    except Exception as error:  # report instead of dying silently
        results.put(("error", spec.worker, f"{type(error).__name__}: {error}"))


async def _subscribe(
    spec: SubscriberSpec,
    commands: multiprocessing.queues.Queue[Any],
    results: multiprocessing.queues.Queue[Any],
) -> None:
    sockets = [Socket() for _ in range(spec.sockets)]
    connections: list[Any] = []
    errors: list[str] = []
    sample: list[str] = []
    attempted = 0
    all_attempted = asyncio.Event()
    gate = asyncio.Semaphore(spec.connect_concurrency)
    headers = {"Cookie": spec.cookie} if spec.cookie else {}

    def note(state: Socket, frame: str | bytes) -> None:
        now = clock()
        state.frames += 1
        text = frame if isinstance(frame, str) else frame.decode()
        value = count_in(text, spec.element_id)
        if value is not None and value not in state.arrivals:
            state.arrivals[value] = now
        if not sample:
            sample.append(text)

    async def hold(state: Socket) -> None:
        nonlocal attempted
        connection = None
        try:
            async with gate:
                connection = await websockets.connect(
                    spec.url,
                    origin=spec.origin,
                    additional_headers=headers,
                    open_timeout=spec.connect_timeout,
                    ping_interval=None,
                    max_size=2**20,
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
        except websockets.ConnectionClosed:
            pass
        state.closed = True
        state.close_code = connection.close_code

    tasks = [asyncio.create_task(hold(state)) for state in sockets]
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

    command = await next_command()
    if command[0] == "finish":
        values: list[int] = command[1]
        deadline = clock() + float(command[2])
        last = values[-1] if values else None
        while clock() < deadline and any(not s.closed and last not in s.arrivals for s in sockets):
            await asyncio.sleep(0.05)
        answer = {
            "arrivals": {v: [s.arrivals[v] for s in sockets if v in s.arrivals] for v in values},
            "frames": sum(s.frames for s in sockets),
            "closed_by_server": sum(1 for s in sockets if s.close_code is not None),
        }
        results.put(("done", spec.worker, answer))
        # Stay connected until the coordinator has read the server's figures.
        command = await next_command()
    with contextlib.suppress(Exception):
        await asyncio.wait_for(
            asyncio.gather(*(c.close() for c in connections), return_exceptions=True), 10
        )
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    results.put(("closed", spec.worker, None))
