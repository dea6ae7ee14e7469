"""Running a coroutine on the caller's stack until it first waits (as 3.12's eager tasks do):
the live path's pushes and deliveries make a task only when they do wait."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Coroutine
from typing import Any


def start_now(coro: Coroutine[Any, Any, None]) -> asyncio.Task[None] | None:
    """Run `coro` on the caller's stack up to its first wait; only a coroutine that does wait
    is finished by a task (answered, to cancel or watch). daphne hands a frame to Twisted
    without waiting, so a push to 5,000 sockets no longer makes 5,000 tasks (a quarter of
    daphne's time at that size); a socket whose send does wait still holds up no other."""
    try:
        waiting = coro.send(None)
    except StopIteration:
        return None
    except BaseException:
        coro.close()
        raise
    return asyncio.get_running_loop().create_task(_finish(coro, waiting))


async def _finish(coro: Coroutine[Any, Any, None], waiting: Any) -> None:
    """Drive `coro` on from a wait on `waiting` (a future, or None for a bare yield), as its own
    task would have: resumed once what it waits for is done, which hands it the outcome."""
    try:
        while True:
            if waiting is None:
                await asyncio.sleep(0)
            else:
                # What a task does with a future its coroutine yields: clear the flag the yield
                # set (or awaiting it again is refused), then wait until it is done.
                waiting._asyncio_future_blocking = False
                with contextlib.suppress(Exception):
                    await waiting  # its result or error reaches `coro` when resumed
            try:
                waiting = coro.send(None)
            except StopIteration:
                return
    except asyncio.CancelledError as cancelled:
        with contextlib.suppress(BaseException):
            coro.throw(cancelled)  # as a task of its own would have told it
        coro.close()
        raise
