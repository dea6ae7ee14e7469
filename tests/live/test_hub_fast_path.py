"""The hub's short path from an event to the sockets: numbers render from memory on the event
loop, and a large delivery is written in batches so the first sockets' frames go out before the
last are written."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest

from dashboard.models import App
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


def numbers_of(state: dict[str, Any], threads: list[int] | None = None) -> Any:
    """A view's numbers: one cell with state["count"]; notes the thread each render ran in."""

    def render(parts: frozenset[str]) -> dict[str, Any]:
        if threads is not None:
            threads.append(threading.get_ident())
        if state.get("query"):
            App.objects.count()  # a directory read afresh
        cells = {"n": count_cell("n", state["count"])}
        return {events.COUNTS: Numbers((state.get("rows", 1),), cells, lambda: cells["n"])}

    return render


def counts_event() -> dict[str, Any]:
    payload = {"apps": ["acme-web"], "organizations": [], "edges": [], "reported": ""}
    return {"event": events.COUNTS_CHANGED, "payload": payload}


def subscribed_hub(settings: Any) -> LiveHub:
    """A hub already hearing the live group (no catch-up render), pushing without delay."""
    settings.LIVE_MIN_INTERVAL = 0
    hub = LiveHub()
    hub.channel = "heard"
    return hub


async def until(condition: Any, seconds: float = 3.0) -> None:
    for _ in range(int(seconds / 0.01)):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("not reached in time")


@pytest.fixture
def hearing_every_event() -> Any:
    """The process's live state as a subscribed hub leaves it: every counts event heard, so
    what it holds is current (with Redis: read once, then trusted until an event says a state
    moved)."""
    from edges.live_state import live_state

    store = live_state()
    store.start_listening()
    store.states_of()
    yield store
    store.stop_listening()


async def test_numbers_of_the_same_shape_render_on_the_event_loop(
    settings: Any, hearing_every_event: Any
) -> None:
    hub = subscribed_hub(settings)
    state: dict[str, Any] = {"count": 1}
    threads: list[int] = []
    socket = Socket()
    await hub.join(socket, *VIEW, numbers_of(state, threads), numbers_in_memory=True)
    loop_thread = threading.get_ident()
    assert threads[-1] != loop_thread  # a view's first render is the database thread's

    state["count"] = 2
    hub.dispatch(counts_event())
    await until(lambda: socket.frames[-1] == '<span id="n" data-count="2">2</span>')
    assert threads[-1] == loop_thread

    # A render that must read the database is refused on the loop and done in the thread.
    state.update(count=3, query=True)
    hub.dispatch(counts_event())
    await until(lambda: socket.frames[-1] == '<span id="n" data-count="3">3</span>')
    assert threads[-2] == loop_thread and threads[-1] != loop_thread

    # So is a new shape: its whole fragment is a template's.
    state.update(count=4, query=False, rows=2)
    hub.dispatch(counts_event())
    await until(lambda: socket.frames[-1] == '<span id="n" data-count="4">4</span>')
    assert threads[-2] == loop_thread and threads[-1] != loop_thread

    # And so is every render while the live state may be behind (Redis to be read).
    state.update(count=5, rows=2)
    hearing_every_event.stop_listening()
    hub.dispatch(counts_event())
    await until(lambda: socket.frames[-1] == '<span id="n" data-count="5">5</span>')
    if settings.REDIS_URL:
        assert threads[-1] != loop_thread
    await hub.stop()


async def test_a_view_without_numbers_in_memory_always_renders_in_the_thread(
    settings: Any,
) -> None:
    hub = subscribed_hub(settings)
    state: dict[str, Any] = {"count": 1}
    threads: list[int] = []
    socket = Socket()
    await hub.join(socket, *VIEW, numbers_of(state, threads))
    state["count"] = 2
    hub.dispatch(counts_event())
    await until(lambda: socket.frames[-1] == '<span id="n" data-count="2">2</span>')
    assert threading.get_ident() not in threads
    await hub.stop()


async def test_a_large_delivery_lets_the_loop_write_between_batches_and_keeps_renders_in_order(
    settings: Any, hearing_every_event: Any
) -> None:
    hub = subscribed_hub(settings)
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
        await hub.join(socket, *VIEW, numbers_of(state), numbers_in_memory=True)
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
