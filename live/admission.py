"""Taking in a storm of handshakes without collapsing.

When a server process restarts, every browser that had a live page open reconnects within a
second or two. Work done for a handshake whose client has already given up is wasted, and if
the process keeps doing it, it never catches up. So a process:

- lets at most LIVE_HANDSHAKES_IN_FLIGHT handshakes wait for or use the database at once, and
  tells the next one to come back (close 1013, which the browser retries after a random delay)
  before doing any work for it;
- drops a handshake whose turn came more than LIVE_HANDSHAKE_PATIENCE seconds after it arrived
  (1013 as well): its client has most likely given up already.

Both limits are per process and in memory: checking them costs nothing.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from channels.db import DatabaseSyncToAsync
from django.conf import settings

ARRIVED = "live.arrived"


@dataclass
class Ticket:
    arrived: float = field(default_factory=time.monotonic)

    def overdue(self) -> bool:
        return time.monotonic() - self.arrived > settings.LIVE_HANDSHAKE_PATIENCE


@dataclass
class Gate:
    """The handshakes of this process in flight, and what happened to the others."""

    in_flight: int = 0
    admitted: int = 0
    turned_away: int = 0
    overdue: int = 0

    def enter(self, scope: dict[str, Any]) -> Ticket | None:
        if self.in_flight >= settings.LIVE_HANDSHAKES_IN_FLIGHT:
            self.turned_away += 1
            return None
        self.in_flight += 1
        self.admitted += 1
        return Ticket(arrived=scope.get(ARRIVED, time.monotonic()))

    def leave(self) -> None:
        self.in_flight -= 1


# One per process: handshakes are counted on the event loop's thread only.
gate = Gate()

_threads: ThreadPoolExecutor | None = None


def in_handshake_thread(func: Callable[..., Any]) -> Callable[..., Awaitable[Any]]:
    """Run a handshake's database work on one of LIVE_HANDSHAKE_THREADS threads of its own.

    The rest of the live path shares one database thread (channels' default), so handshakes
    would wait on each other's round trips to the database one by one; a few threads, each with
    a pooled connection, overlap those waits. The work is read-only but for a session found
    invalid, which Django deletes, and each call closes what it opened, as channels' does.
    """
    global _threads
    if _threads is None:
        _threads = ThreadPoolExecutor(
            max_workers=settings.LIVE_HANDSHAKE_THREADS, thread_name_prefix="live-handshake"
        )
    return DatabaseSyncToAsync(func, thread_sensitive=False, executor=_threads)


class StampArrival:
    """Outermost on the socket stack: note when the handshake reached the application, so its
    patience counts the time spent queued behind others too."""

    def __init__(self, application: Any) -> None:
        self.application = application

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        return await self.application({**scope, ARRIVED: time.monotonic()}, receive, send)
