"""The real-time contract: event types and their payloads, topic names, and which views each
event changes.

Services announce what happened through `shared.bus` (an event type and a payload of ids and
primitives); `topics_of` below, installed as the bus's router, sends it to the live group every
process hears. Each hub then re-renders its views of the topics the event concerns
(`concerned_topics`) and tells a user's sockets of their access changes (`listener_topics`).
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

# The channel-layer group every event goes to, which every process's hub listens to. Changes
# are rare (features, upgrades, access) or already one message per report (counts): a process
# hearing every one costs less than joining a group per topic on each socket's way in.
LIVE_GROUP = "live"


def app_topic(app_name: str) -> str:
    return f"app.{app_name}"


def organization_topic(org_name: str) -> str:
    return f"org.{org_name}"


def edge_topic(edge_name: str) -> str:
    return f"edge.{edge_name}"


def user_topic(user_id: int) -> str:
    return f"user.{user_id}"


def _feature_views(payload: dict[str, Any]) -> set[str]:
    return {app_topic(payload["app"])}


def _upgrade_views(payload: dict[str, Any]) -> set[str]:
    return {edge_topic(payload["edge"]), *(app_topic(name) for name in payload.get("apps", ()))}


def _counts_views(payload: dict[str, Any]) -> set[str]:
    # The staff overview shows every app and edge: any counts event concerns it.
    topics = {OVERVIEW_TOPIC}
    topics.update(app_topic(name) for name in payload.get("apps", ()))
    topics.update(organization_topic(name) for name in payload.get("organizations", ()))
    topics.update(edge_topic(name) for name in payload.get("edges", ()))
    return topics


def _no_views(payload: dict[str, Any]) -> set[str]:
    return set()


# Which views each event type changes: the hub re-renders the views of these topics.
VIEWS: dict[str, Callable[[dict[str, Any]], set[str]]] = {
    FEATURE_CHANGED: _feature_views,
    EDGE_UPGRADE_CHANGED: _upgrade_views,
    COUNTS_CHANGED: _counts_views,
    ACCESS_CHANGED: _no_views,
}


def topics_of(event: str, payload: dict[str, Any]) -> list[str]:
    """Where an event is sent (the live group); an event type the contract does not know is
    refused, inside the transaction that announces it."""
    if event not in VIEWS:
        raise ValueError(f"unknown live event type {event!r}")
    return [LIVE_GROUP]


def concerned_topics(event: str, payload: dict[str, Any]) -> set[str]:
    """The view topics an event changes."""
    views = VIEWS.get(event)
    return views(payload) if views else set()


def listener_topics(event: str, payload: dict[str, Any]) -> set[str]:
    """The topics whose listeners (not views) get the event: a user's sockets, for access."""
    if event == ACCESS_CHANGED and "user" in payload:
        return {user_topic(payload["user"])}
    return set()
