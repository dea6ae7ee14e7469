"""Announcing a change to open pages, after commit, through the channel layer.

Services say what happened: an event type and a payload of ids and primitives (they survive the
trip through Redis unchanged). Which live topics hear of it is the live package's decision
(`live.events.topics_of`, installed by `live.apps` when Django starts), so the domain packages
never import the live path that renders them. A rolled-back change is never announced, and a
channel layer outage is logged, never raised: the change is already saved.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from typing import Any

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
    if _router is None:
        raise ImproperlyConfigured("No live router is installed: add 'live' to INSTALLED_APPS.")
    message(event, event, payload)
    return [(topic, event, payload) for topic in _router(event, payload)]


def announce(event: str, payload: dict[str, Any]) -> None:
    """Send now (outside a transaction, e.g. after signing out)."""
    publish_many(routed(event, payload))


def announce_on_commit(event: str, payload: dict[str, Any]) -> None:
    """Send once the current transaction commits; nothing if it rolls back."""
    events = routed(event, payload)  # fail inside the transaction on an unknown or bad event
    transaction.on_commit(lambda: publish_many(events))


def message(topic: str, event: str, payload: dict[str, Any]) -> dict[str, Any]:
    """The channel-layer message for an event; refuses anything JSON cannot carry."""
    encoded = json.dumps(payload, allow_nan=False)
    return {"type": MESSAGE_TYPE, "topic": topic, "event": event, "payload": json.loads(encoded)}


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

    try:
        results = async_to_sync(send_all)()
    except Exception:
        # The traceback once per outage; while the breaker is open a line is enough.
        logger.warning("could not publish %d events", len(messages), exc_info=redis_breaker.closed)
        redis_breaker.failed()
        return
    failures = [r for r in results if isinstance(r, BaseException)]
    if failures:
        logger.warning(
            "could not publish %d of %d events",
            len(failures),
            len(messages),
            exc_info=failures[0] if redis_breaker.closed else None,
        )
        redis_breaker.failed()
    else:
        redis_breaker.succeeded()
