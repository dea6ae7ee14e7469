"""What the service does while Redis is away: limits still count, publishing gives up quickly,
and the live hub asks its sockets to reconnect. (The real outage, against a real Redis and
daphne, is tests/faults/.)"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from django.core.cache import caches

from live import events
from live import hub as hub_module
from live.hub import LayerUnavailable, LiveHub
from shared import breaker, bus, ratelimit


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def redis_breaker(monkeypatch: pytest.MonkeyPatch) -> tuple[breaker.Breaker, Clock]:
    clock = Clock()
    fresh = breaker.Breaker("Redis", cooldown=2.0, clock=clock)
    for module in (ratelimit, bus, hub_module):
        monkeypatch.setattr(module, "redis_breaker", fresh)
    return fresh, clock


def test_the_breaker_opens_on_a_failure_and_closes_after_its_cooldown() -> None:
    clock = Clock()
    guard = breaker.Breaker("Redis", cooldown=2.0, clock=clock)
    assert guard.closed
    guard.failed()
    assert not guard.closed
    clock.now += 1.9
    assert not guard.closed
    clock.now += 0.2
    assert guard.closed
    guard.failed()
    guard.succeeded()
    assert guard.closed


class DownCache:
    """A cache whose server does not answer."""

    def __init__(self) -> None:
        self.calls = 0

    def __getattr__(self, name: str) -> Any:
        def fail(*args: Any, **kwargs: Any) -> Any:
            self.calls += 1
            raise ConnectionError("Redis is down")

        return fail


def test_rate_limits_still_hold_in_process_while_the_cache_is_down(
    monkeypatch: pytest.MonkeyPatch, redis_breaker: tuple[breaker.Breaker, Clock]
) -> None:
    down = DownCache()
    local = caches["local"]
    local.clear()
    monkeypatch.setattr(ratelimit, "caches", {"default": down, "local": local})

    remaining = [ratelimit.hit("api", "7", 3) for _ in range(3)]
    with pytest.raises(ratelimit.RateLimited) as refused:
        ratelimit.hit("api", "7", 3)

    assert remaining == [2, 1, 0]
    assert refused.value.status == 429 and "Retry-After" in refused.value.headers
    # One failed call opened the breaker; the others did not wait on Redis again.
    assert down.calls == 1
    assert ratelimit.used("api", "7") == 4


class HangingLayer:
    def __init__(self) -> None:
        self.cancelled = 0
        self.sent = 0

    async def group_send(self, group: str, message: dict[str, Any]) -> None:
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            self.cancelled += 1
            raise


class BrokenLayer:
    async def group_send(self, group: str, message: dict[str, Any]) -> None:
        raise ConnectionError("Redis is down")


def test_a_failed_publish_is_logged_and_opens_the_breaker(
    monkeypatch: pytest.MonkeyPatch,
    redis_breaker: tuple[breaker.Breaker, Clock],
    caplog: pytest.LogCaptureFixture,
) -> None:
    guard, _ = redis_breaker
    monkeypatch.setattr(bus, "get_channel_layer", BrokenLayer)

    bus.publish("app.acme-web", events.FEATURE_CHANGED, {"app": "acme-web"})

    assert not guard.closed
    assert "could not publish 1 of 1 events" in caplog.text


def test_with_the_breaker_open_a_publish_to_a_frozen_redis_is_abandoned(
    monkeypatch: pytest.MonkeyPatch, redis_breaker: tuple[breaker.Breaker, Clock]
) -> None:
    guard, _ = redis_breaker
    guard.failed()
    layer = HangingLayer()
    monkeypatch.setattr(bus, "get_channel_layer", lambda: layer)
    monkeypatch.setattr(bus, "OPEN_BREAKER_DEADLINE", 0.05)

    bus.publish_many([("app.acme-web", events.FEATURE_CHANGED, {"app": "acme-web"})] * 3)

    assert layer.cancelled == 3


class Socket:
    def __init__(self) -> None:
        self.frames: list[str] = []
        self.reconnects = 0

    def push(self, fragments: dict[str, str]) -> None:
        frame = "".join(fragments.values())
        self.frames.append(frame)

    def on_event(self, topic: str, event: str, payload: dict[str, Any]) -> None:
        pass

    def reconnect(self) -> None:
        self.reconnects += 1


class FailingReceiveLayer:
    """Subscriptions work; then the connection the hub reads from breaks."""

    def __init__(self) -> None:
        self.broken = asyncio.Event()
        self.groups: list[str] = []

    async def new_channel(self) -> str:
        return "specific.hub!1"

    async def group_add(self, group: str, channel: str) -> None:
        if self.broken.is_set():
            raise ConnectionError("Redis is down")
        self.groups.append(group)

    async def group_discard(self, group: str, channel: str) -> None:
        pass

    async def receive(self, channel: str) -> dict[str, Any]:
        await self.broken.wait()
        raise ConnectionError("Redis is down")


@pytest.mark.django_db(transaction=True)  # the hub renders in a database thread
async def test_the_hub_asks_every_socket_to_reconnect_when_the_layer_fails(
    monkeypatch: pytest.MonkeyPatch, redis_breaker: tuple[breaker.Breaker, Clock]
) -> None:
    _, clock = redis_breaker
    layer = FailingReceiveLayer()
    monkeypatch.setattr(hub_module, "get_channel_layer", lambda: layer)
    hub = LiveHub()
    watchers = [Socket() for _ in range(3)]
    listener = Socket()
    for socket in watchers:
        await hub.join(
            socket, "app.acme-web", "org:acme", lambda parts: {"counts": "<p>snapshot</p>"}
        )
    await hub.listen(listener, "user.1")
    assert all(s.frames == ["<p>snapshot</p>"] for s in watchers)

    layer.broken.set()
    for _ in range(50):
        await asyncio.sleep(0.01)
        if listener.reconnects:
            break

    assert [s.reconnects for s in [*watchers, listener]] == [1, 1, 1, 1]
    assert (hub.views, hub.listeners, hub.groups, hub.channel) == ({}, {}, set(), None)
    # While the breaker is open a new socket is told to come back later, without a wait.
    with pytest.raises(LayerUnavailable):
        await hub.join(Socket(), "app.acme-web", "org:acme", lambda parts: {"counts": ""})
    # Once Redis answers again, a socket subscribes afresh and gets the current state.
    clock.now += 5
    layer.broken.clear()
    again = Socket()
    await hub.join(again, "app.acme-web", "org:acme", lambda parts: {"counts": "<p>now</p>"})
    assert again.frames == ["<p>now</p>"]
    assert layer.groups == ["live", "live"]
    for task in hub.tasks:
        task.cancel()
