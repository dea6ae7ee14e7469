"""A large delivery is written in batches, so the first sockets' frames go out before the last
are written, and every socket gets a view's renders in order."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from live import events
from live.cells import Numbers, count_cell
from live.hub import LiveHub
from live.views import DELIVERY_BATCH

pytestmark = pytest.mark.django_db(transaction=True)  # the hub renders in a database thread

VIEW = ("app.acme-web", "all")


class Socket:
    def __init__(self, on_push: Any = None) -> None:
        self.frames: list[str] = []
        self.on_push = on_push

    def push(self, fragments: dict[str, str]) -> None:
        self.frames.append("".join(fragments.values()))
        if self.on_push is not None:
            self.on_push(self)

    def on_event(self, topic: str, event: str, payload: dict[str, Any]) -> None:
        pass

    def reconnect(self) -> None:
        pass


def numbers_of(state: dict[str, Any]) -> Any:
    """A view's numbers: one cell with state["count"]."""

    def render(parts: frozenset[str]) -> dict[str, Any]:
        cells = {"n": count_cell("n", state["count"])}
        return {events.COUNTS: Numbers((state.get("rows", 1),), cells, lambda: cells["n"])}

    return render


def counts_event() -> dict[str, Any]:
    payload = {"apps": ["acme-web"], "organizations": [], "edges": [], "reported": ""}
    return {"event": events.COUNTS_CHANGED, "payload": payload}


async def until(condition: Any, seconds: float = 3.0) -> None:
    for _ in range(int(seconds / 0.01)):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("not reached in time")


async def test_a_large_delivery_lets_the_loop_write_between_batches_and_keeps_renders_in_order(
    settings: Any,
) -> None:
    settings.LIVE_MIN_INTERVAL = 0
    hub = LiveHub()
    hub.channel = "heard"
    state: dict[str, Any] = {"count": 1}
    loop = asyncio.get_running_loop()
    turns: list[int] = []  # how many sockets had been pushed when the loop got a turn
    pushed = [0]

    def count(socket: Socket) -> None:
        pushed[0] += 1
        if pushed[0] == 1:
            loop.call_soon(lambda: turns.append(pushed[0]))

    sockets = [Socket(count) for _ in range(3 * DELIVERY_BATCH)]
    for socket in sockets:
        await hub.join(socket, *VIEW, numbers_of(state))
    pushed[0] = 0
    state["count"] = 2
    hub.dispatch(counts_event())
    await until(lambda: pushed[0] >= len(sockets))
    state["count"] = 3
    hub.dispatch(counts_event())
    await until(lambda: all(len(s.frames) == 3 for s in sockets))

    # The loop ran (the frames written so far went out) after the first batch, not the last.
    assert turns and turns[0] <= DELIVERY_BATCH
    for socket in sockets:
        assert socket.frames[1:] == [
            '<span id="n" data-count="2">2</span>',
            '<span id="n" data-count="3">3</span>',
        ]
    await hub.stop()
