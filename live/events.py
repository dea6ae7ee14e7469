"""The real-time contract: topic names, event types, and which topics hear of each event.

Services announce what happened through `shared.bus` (an event type and a payload of ids and
primitives); `topics_of` below, installed as the bus's router, decides which live topics the
event reaches. The hub then re-renders the views of those topics (`concerned_topics`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

# Event types, with the payload each carries.
# {"app", "feature", "enabled"}: the app page's features, readiness and badges.
FEATURE_CHANGED = "feature.changed"
# {"edge", "upgrade", "state", "proxy", "apps"}: the edge page and the pages of the apps it carries.
EDGE_UPGRADE_CHANGED = "edge.upgrade_changed"
# {"apps", "organizations", "edges"}: the live numbers of every page showing one of them.
COUNTS_CHANGED = "counts.changed"
# {"user", "session"?}: the user's sockets check again that they may still watch their topic;
# with "session", the sockets of that browser session close (it signed out).
ACCESS_CHANGED = "access.changed"

# The staff overview's topic: platform totals, busiest apps, every edge.
OVERVIEW_TOPIC = "overview"

# Every hub listens here. A report can change the numbers of a thousand apps: one message naming
# them all costs Redis one send per process, where a message per app topic cost a thousand.
COUNTS_TOPIC = "counts"


def app_topic(app_name: str) -> str:
    return f"app.{app_name}"


def organization_topic(org_name: str) -> str:
    return f"org.{org_name}"


def edge_topic(edge_name: str) -> str:
    return f"edge.{edge_name}"


def user_topic(user_id: int) -> str:
    return f"user.{user_id}"


def _feature_topics(payload: dict[str, Any]) -> list[str]:
    return [app_topic(payload["app"])]


def _upgrade_topics(payload: dict[str, Any]) -> list[str]:
    return [edge_topic(payload["edge"]), *(app_topic(name) for name in payload.get("apps", ()))]


def _counts_topics(payload: dict[str, Any]) -> list[str]:
    return [COUNTS_TOPIC]


def _access_topics(payload: dict[str, Any]) -> list[str]:
    return [user_topic(payload["user"])]


# Which topics each event type is sent to.
ROUTES: dict[str, Callable[[dict[str, Any]], list[str]]] = {
    FEATURE_CHANGED: _feature_topics,
    EDGE_UPGRADE_CHANGED: _upgrade_topics,
    COUNTS_CHANGED: _counts_topics,
    ACCESS_CHANGED: _access_topics,
}


def topics_of(event: str, payload: dict[str, Any]) -> list[str]:
    """The topics an event is sent to; an event type the contract does not know is refused."""
    route = ROUTES.get(event)
    if route is None:
        raise ValueError(f"unknown live event type {event!r}")
    return route(payload)


def concerned_topics(topic: str, payload: dict[str, Any]) -> set[str]:
    """The view topics whose numbers an event received on `topic` changes."""
    if topic != COUNTS_TOPIC:
        return {topic}
    # The staff overview shows every app and edge: any counts event concerns it.
    topics = {OVERVIEW_TOPIC}
    topics.update(app_topic(name) for name in payload.get("apps", ()))
    topics.update(organization_topic(name) for name in payload.get("organizations", ()))
    topics.update(edge_topic(name) for name in payload.get("edges", ()))
    return topics
