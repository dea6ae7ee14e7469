"""The channel layer against a real Redis: idle receives must survive the socket timeout."""

from __future__ import annotations

import asyncio
import os
import uuid
from importlib.metadata import version

import pytest
from channels_redis.core import RedisChannelLayer
from django.conf import settings

from edgeboard.settings import REDIS_SOCKET_TIMEOUT
from tests.conftest import unavailable


def test_redis_client_is_one_that_channels_redis_works_with() -> None:
    # redis-py 8 defaults socket_timeout to 5 s, which cuts channels-redis' blocking pops.
    assert int(version("redis").split(".")[0]) < 8


def test_socket_timeout_outlasts_the_blocking_pop() -> None:
    assert REDIS_SOCKET_TIMEOUT > RedisChannelLayer.brpop_timeout


@pytest.fixture
def redis_layer() -> RedisChannelLayer:
    url = os.environ.get("REDIS_URL")
    if not url:
        unavailable("REDIS_URL is not set")
    config = dict(settings.CHANNEL_LAYERS["default"].get("CONFIG", {}))
    config["hosts"] = [
        {"address": url, "socket_timeout": REDIS_SOCKET_TIMEOUT, "socket_connect_timeout": 3}
    ]
    config["prefix"] = f"test-{uuid.uuid4().hex[:8]}"
    return RedisChannelLayer(**config)


async def test_an_idle_receive_outlives_the_blocking_pop_timeout(
    redis_layer: RedisChannelLayer,
) -> None:
    channel = await redis_layer.new_channel()
    waiting = asyncio.ensure_future(redis_layer.receive(channel))
    # Idle longer than the 5 s blocking pop (and redis-py 8's 5 s default socket timeout).
    await asyncio.sleep(redis_layer.brpop_timeout + 2)
    assert not waiting.done(), "the idle receive failed instead of waiting"
    await redis_layer.send(channel, {"type": "ping", "n": 1})
    message = await asyncio.wait_for(waiting, timeout=5)
    assert message == {"type": "ping", "n": 1}
    await redis_layer.flush()


async def test_group_messages_cross_layer_instances(redis_layer: RedisChannelLayer) -> None:
    other = RedisChannelLayer(hosts=redis_layer.hosts, prefix=redis_layer.prefix)
    channel = await other.new_channel()
    await other.group_add("app.acme-web", channel)
    await redis_layer.group_send("app.acme-web", {"type": "update", "count": 42})
    assert await asyncio.wait_for(other.receive(channel), timeout=5) == {
        "type": "update",
        "count": 42,
    }
    await other.flush()
    await redis_layer.flush()
