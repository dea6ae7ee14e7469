"""Announcing a change to open pages, after commit, through the channel layer.

Services say what happened: an event type and a payload of ids and primitives (they survive the
trip through Redis unchanged). Which live topics hear of it is the live package's decision
(`live.events.topics_of`, installed by `live.apps` when Django starts), so the domain packages
never import the live path that renders them. A rolled-back change is never announced, and a
channel layer outage is logged, never raised: the change is already saved.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
from collections.abc import Callable
from typing import Any

import orjson
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction

from shared.breaker import redis as redis_breaker

logger = logging.getLogger(__name__)

# The message type consumers handle (`live_event`).
MESSAGE_TYPE = "live.event"

# While the breaker is open a publish still tries, briefly: a Redis that is back gets the event
# at once, one that is frozen costs the request no more than this.
OPEN_BREAKER_DEADLINE = 0.25

Router = Callable[[str, dict[str, Any]], list[str]]
Event = tuple[str, str, dict[str, Any]]

_router: Router | None = None


def install_router(router: Router) -> None:
    """Let the live path decide which topics each event type reaches."""
    global _router
    _router = router


def routed(event: str, payload: dict[str, Any]) -> list[Event]:
    """(topic, event, payload) for each topic the event reaches; refuses what JSON cannot carry."""
    message(event, event, payload)
    return _topics(event, payload)


def _topics(event: str, payload: dict[str, Any]) -> list[Event]:
    if _router is None:
        raise ImproperlyConfigured("No live router is installed: add 'live' to INSTALLED_APPS.")
    return [(topic, event, payload) for topic in _router(event, payload)]


def announce(event: str, payload: dict[str, Any]) -> None:
    """Send now (outside a transaction, e.g. after signing out); publishing refuses what JSON
    cannot carry."""
    publish_many(_topics(event, payload))


# Set by a caller on an event loop that runs sync work in threads and needs no proof of
# delivery before it answers (edges.api.ingest_asgi): that thread's announcements are handed to
# the loop and sent there, and the thread goes on at once.
send_on: contextvars.ContextVar[asyncio.AbstractEventLoop | None] = contextvars.ContextVar(
    "send_on", default=None
)
_in_flight: set[asyncio.Task[Any]] = set()


def announce_on_commit(event: str, payload: dict[str, Any]) -> None:
    """Send once the current transaction commits; nothing if it rolls back."""
    events = routed(event, payload)  # fail inside the transaction on an unknown or bad event
    transaction.on_commit(lambda: publish_many(events))


def message(topic: str, event: str, payload: dict[str, Any]) -> dict[str, Any]:
    """The channel-layer message for an event, its payload as JSON carries it (tuples become
    lists, keys strings, a float that is not a number null); refuses anything else. An edge's
    report announces a thousand apps: orjson, not the standard library, takes it there and back."""
    encoded = orjson.dumps(payload, option=orjson.OPT_NON_STR_KEYS)
    return {"type": MESSAGE_TYPE, "topic": topic, "event": event, "payload": orjson.loads(encoded)}


def publish(topic: str, event: str, payload: dict[str, Any]) -> None:
    publish_many([(topic, event, payload)])


def publish_many(events: list[Event]) -> None:
    """Send several events in one trip to the channel layer, concurrently."""
    layer = get_channel_layer()
    if layer is None or not events:
        return
    messages = [(topic, message(topic, event, payload)) for topic, event, payload in events]
    deadline = None if redis_breaker.closed else OPEN_BREAKER_DEADLINE

    async def send_all() -> list[Any]:
        sends = asyncio.gather(
            *(layer.group_send(topic, msg) for topic, msg in messages), return_exceptions=True
        )
        return await asyncio.wait_for(sends, deadline)

    loop = send_on.get()
    if loop is not None and loop.is_running():
        loop.call_soon_threadsafe(_spawn, send_all, len(messages))
        return
    try:
        results = async_to_sync(send_all)()
    except Exception:
        _publish_failed(len(messages))
        return
    _published(results, len(messages))


def _spawn(send_all: Callable[[], Any], count: int) -> None:
    """On the loop: send, then note the outcome as a waiting caller would have."""

    async def send() -> None:
        try:
            results = await send_all()
        except Exception:
            _publish_failed(count)
            return
        _published(results, count)

    task = asyncio.get_running_loop().create_task(send())
    _in_flight.add(task)  # a task nobody holds may be collected before it ends
    task.add_done_callback(_in_flight.discard)


def _publish_failed(count: int) -> None:
    # The traceback once per outage; while the breaker is open a line is enough.
    logger.warning("could not publish %d events", count, exc_info=redis_breaker.closed)
    redis_breaker.failed()


def _published(results: list[Any], count: int) -> None:
    failures = [r for r in results if isinstance(r, BaseException)]
    if failures:
        logger.warning(
            "could not publish %d of %d events",
            len(failures),
            count,
            exc_info=failures[0] if redis_breaker.closed else None,
        )
        redis_breaker.failed()
    else:
        redis_breaker.succeeded()
