"""The real-time contract: topic names, event types and payload shape, in one place.

Payloads carry ids and primitives only, so they survive the trip through Redis unchanged.
Pushes are scheduled after commit: a rolled-back change is never announced.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

from shared.breaker import redis as redis_breaker

logger = logging.getLogger(__name__)

# Event types.
FEATURE_CHANGED = "feature.changed"
EDGE_UPGRADE_CHANGED = "edge.upgrade_changed"
COUNTS_CHANGED = "counts.changed"
EDGE_STALENESS_CHANGED = "edge.staleness_changed"
ACCESS_CHANGED = "access.changed"

# The staff overview's topic: platform totals, busiest apps, every edge.
OVERVIEW_TOPIC = "overview"

# Every hub listens here. A report can change the numbers of a thousand apps: one message naming
# them all costs Redis one send per process, where a message per app topic cost a thousand.
COUNTS_TOPIC = "counts"

# The message type consumers handle (`live_event`).
MESSAGE_TYPE = "live.event"

# While the breaker is open a publish still tries, briefly: a Redis that is back gets the event
# at once, one that is frozen costs the request no more than this.
OPEN_BREAKER_DEADLINE = 0.25


def app_topic(app_name: str) -> str:
    return f"app.{app_name}"


def organization_topic(org_name: str) -> str:
    return f"org.{org_name}"


def edge_topic(edge_name: str) -> str:
    return f"edge.{edge_name}"


def user_topic(user_id: int) -> str:
    return f"user.{user_id}"


def counts_changed(
    *, apps: list[str], organizations: list[str], edges: list[str]
) -> tuple[str, str, dict[str, Any]]:
    """The one event that says whose live numbers changed."""
    payload = {"apps": sorted(apps), "organizations": sorted(organizations), "edges": sorted(edges)}
    return COUNTS_TOPIC, COUNTS_CHANGED, payload


def counts_topics(payload: dict[str, Any]) -> set[str]:
    """The live topics a counts event concerns (the staff overview always)."""
    topics = {OVERVIEW_TOPIC}
    topics.update(app_topic(name) for name in payload.get("apps", ()))
    topics.update(organization_topic(name) for name in payload.get("organizations", ()))
    topics.update(edge_topic(name) for name in payload.get("edges", ()))
    return topics


def message(topic: str, event: str, payload: dict[str, Any]) -> dict[str, Any]:
    """The channel-layer message for an event; refuses anything JSON cannot carry."""
    encoded = json.dumps(payload, allow_nan=False)
    return {"type": MESSAGE_TYPE, "topic": topic, "event": event, "payload": json.loads(encoded)}


def publish(topic: str, event: str, payload: dict[str, Any]) -> None:
    """Send now. A channel layer outage is logged, never raised: the change is already saved."""
    publish_many([(topic, event, payload)])


def publish_many(events: list[tuple[str, str, dict[str, Any]]]) -> None:
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


def publish_many_on_commit(events: list[tuple[str, str, dict[str, Any]]]) -> None:
    for topic, event, payload in events:
        message(topic, event, payload)  # fail inside the transaction if not JSON
    transaction.on_commit(lambda: publish_many(events))


def publish_on_commit(topic: str, event: str, payload: dict[str, Any]) -> None:
    message(topic, event, payload)  # fail inside the transaction if the payload is not JSON
    transaction.on_commit(lambda: publish(topic, event, payload))
