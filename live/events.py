"""The real-time contract: event types and their payloads, topic names, and which views each
event changes.

Services announce what happened through `shared.bus` (an event type and a payload of ids and
primitives); `topics_of` below, installed as the bus's router, sends it to the live group every
process hears. Each hub then re-renders its views of the topics the event concerns
(`concerned_views`: which parts of which topics' views) and tells a user's sockets of their
access changes (`listener_topics`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

# Event types, with the payload each carries.
# Every payload naming an app or an organization's edge also names its "organization": the
# organization's page lists its edges and its recent activity.
# {"app", "organization", "feature", "enabled"}: the app page's features, readiness and badges.
FEATURE_CHANGED = "feature.changed"
# {"edge", "upgrade", "state", "proxy", "apps", "organization"?}: the edge page and the pages of
# the apps it carries.
EDGE_UPGRADE_CHANGED = "edge.upgrade_changed"
# {"edge", "proxy", "apps", "organization"?}: an edge's setup changed (its proxy, say): the edge
# page, the overview's edge rows and the pages of the apps it carries (whether it blocks
# websockets for them).
EDGE_CHANGED = "edge.changed"
# {"apps", "organizations", "edges", "reported", "edge_id", "seq"}: sent for every report; the live
# numbers of every page showing an app, organization or edge named changed, "reported" is alive,
# and its state in the live state is now at "seq".
COUNTS_CHANGED = "counts.changed"
# {"edge", "status", "organization"?}: the edge agent applied, or refused, the configuration.
EDGE_CONFIG_CHANGED = "edge.config_changed"
# {"app", "organization", "hostname"}: a custom domain added to or removed from an app, or its
# DNS checked.
DOMAINS_CHANGED = "domains.changed"
# {"app", "organization", "address"}: a back-end added to or removed from an app.
BACKENDS_CHANGED = "backends.changed"
# {"user", "session"?}: the user's sockets check again that they may still watch their topic;
# with "session", the sockets of that browser session close (it signed out).
ACCESS_CHANGED = "access.changed"

# The parts of a view, each a fragment the page swaps in by its id (live/panels.py).
COUNTS = "counts"  # the live numbers
NOTICES = "notices"  # the app page's warnings (a legacy edge in the way)
DOMAINS = "domains"
READINESS = "readiness"
FEATURES = "features"  # switches and the recent activity under them
BACKENDS = "backends"
UPGRADE = "upgrade"  # a custom SSL edge's upgrade: state, window, what changes, actions
EDGE_STATE = "edge"  # the edge's proxy and what it can carry, its configuration's status
QUEUE = "queue"  # support's queue of upgrades, open and recently closed
# Support's page: the legacy SSL edges still blocking WebSockets, and the platform's latest
# changes (every audited change is announced with one of the events below).
LEGACY_EDGES = "legacy-edges"
SUPPORT_ACTIVITY = "support-activity"
SUPPORT_PARTS = frozenset({LEGACY_EDGES, SUPPORT_ACTIVITY})
ORG_EDGES = "org-edges"  # an organization's custom SSL edges: proxy, domain count
ACTIVITY = "activity"  # an organization's recent activity
APP_PARTS = frozenset({COUNTS, NOTICES, DOMAINS, READINESS, FEATURES, BACKENDS})
COUNTS_ONLY = frozenset({COUNTS})
# A family of parts, one per app: its row in the app lists (websockets badge, domain count). A
# view that lists apps names the family; the page renders the rows, a push replaces one.
APP_ROWS = "app-row:"
LISTS = frozenset({COUNTS, APP_ROWS})
# An organization's socket: its apps' numbers and rows, its edges and its recent activity.
ORGANIZATION_PARTS = LISTS | {ORG_EDGES, ACTIVITY}


def app_row(app_name: str) -> str:
    return APP_ROWS + app_name


def is_family(part: str) -> bool:
    return part.endswith(":")


# The staff overview's topic: platform totals, busiest apps, every edge.
OVERVIEW_TOPIC = "overview"
# Support's queue of edge upgrades.
UPGRADES_TOPIC = "upgrades"
# Support's page.
SUPPORT_TOPIC = "support"

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


Views = dict[str, frozenset[str]]


def _app_lists(payload: dict[str, Any], *org_parts: str) -> Views:
    """The app's row on the staff overview and in its organization's list (with `org_parts` of
    the organization's page, and its recent activity: every such change is audited)."""
    row = frozenset({app_row(payload["app"])})
    views = {OVERVIEW_TOPIC: row}
    if "organization" in payload:
        views[organization_topic(payload["organization"])] = row | {ACTIVITY, *org_parts}
    return views


def _organization(payload: dict[str, Any], *parts: str) -> Views:
    """The organization's page, when the change concerns one: its activity and `parts`."""
    if "organization" not in payload:
        return {}
    return {organization_topic(payload["organization"]): frozenset({ACTIVITY, *parts})}


def _feature_views(payload: dict[str, Any]) -> Views:
    # The switch, the activity under it and readiness (which says whether the feature is on).
    return {app_topic(payload["app"]): frozenset({FEATURES, READINESS}), **_app_lists(payload)}


def _upgrade_views(payload: dict[str, Any]) -> Views:
    # The carried apps' pages: the proxy badge on their domains, whether a legacy edge still
    # blocks websockets, readiness and the upgrade link, and the features' refusal.
    carried = frozenset({NOTICES, DOMAINS, READINESS, FEATURES})
    views: Views = {app_topic(name): carried for name in payload.get("apps", ())}
    views[edge_topic(payload["edge"])] = frozenset({UPGRADE, EDGE_STATE})
    # The staff overview's edge rows carry each edge's proxy.
    views[OVERVIEW_TOPIC] = COUNTS_ONLY
    views[UPGRADES_TOPIC] = frozenset({QUEUE})
    views.update(_organization(payload, ORG_EDGES))
    return views


def _edge_views(payload: dict[str, Any]) -> Views:
    carried = frozenset({NOTICES, DOMAINS, READINESS, FEATURES})
    views: Views = {app_topic(name): carried for name in payload.get("apps", ())}
    views[edge_topic(payload["edge"])] = frozenset({UPGRADE, EDGE_STATE})
    views[OVERVIEW_TOPIC] = COUNTS_ONLY
    views.update(_organization(payload, ORG_EDGES))
    return views


def _edge_config_views(payload: dict[str, Any]) -> Views:
    return {edge_topic(payload["edge"]): frozenset({EDGE_STATE}), **_organization(payload)}


def _domain_views(payload: dict[str, Any]) -> Views:
    panels = frozenset({NOTICES, DOMAINS, READINESS, FEATURES})
    # The organization's edges list counts their domains.
    return {app_topic(payload["app"]): panels, **_app_lists(payload, ORG_EDGES)}


def _backend_views(payload: dict[str, Any]) -> Views:
    # The panel, and the activity (under the features) that records the change.
    return {app_topic(payload["app"]): frozenset({BACKENDS, FEATURES}), **_organization(payload)}


def _counts_views(payload: dict[str, Any]) -> Views:
    topics = set()
    if payload.get("apps") or payload.get("edges"):
        # The staff overview shows every app and edge: any change concerns it.
        topics.add(OVERVIEW_TOPIC)
    topics.update(app_topic(name) for name in payload.get("apps", ()))
    topics.update(organization_topic(name) for name in payload.get("organizations", ()))
    topics.update(edge_topic(name) for name in payload.get("edges", ()))
    return dict.fromkeys(topics, COUNTS_ONLY)


def _no_views(payload: dict[str, Any]) -> Views:
    return {}


def _and_support(
    views: Callable[[dict[str, Any]], Views], *parts: str
) -> Callable[[dict[str, Any]], Views]:
    """`views`, and support's page: its latest changes (the change was audited) and `parts`."""

    def both(payload: dict[str, Any]) -> Views:
        return {**views(payload), SUPPORT_TOPIC: frozenset({SUPPORT_ACTIVITY, *parts})}

    return both


# Which views each event type changes, and which parts of each the hub renders again.
VIEWS: dict[str, Callable[[dict[str, Any]], Views]] = {
    FEATURE_CHANGED: _and_support(_feature_views),
    # The legacy edges list names each edge's apps, and goes when the edge carries WebSockets.
    EDGE_UPGRADE_CHANGED: _and_support(_upgrade_views, LEGACY_EDGES),
    EDGE_CHANGED: _and_support(_edge_views, LEGACY_EDGES),
    EDGE_CONFIG_CHANGED: _and_support(_edge_config_views),
    DOMAINS_CHANGED: _and_support(_domain_views, LEGACY_EDGES),
    BACKENDS_CHANGED: _and_support(_backend_views),
    COUNTS_CHANGED: _counts_views,
    # A membership given or taken is audited (a sign-out is not: the list renders the same).
    ACCESS_CHANGED: _and_support(_no_views),
}


def topics_of(event: str, payload: dict[str, Any]) -> list[str]:
    """Where an event is sent (the live group); an event type the contract does not know is
    refused, inside the transaction that announces it."""
    if event not in VIEWS:
        raise ValueError(f"unknown live event type {event!r}")
    return [LIVE_GROUP]


def concerned_views(event: str, payload: dict[str, Any]) -> Views:
    """The view topics an event changes, each with the parts to render again."""
    views = VIEWS.get(event)
    return views(payload) if views else {}


def concerned_topics(event: str, payload: dict[str, Any]) -> set[str]:
    """The view topics an event changes."""
    return set(concerned_views(event, payload))


def listener_topics(event: str, payload: dict[str, Any]) -> set[str]:
    """The topics whose listeners (not views) get the event: a user's sockets, for access."""
    if event == ACCESS_CHANGED and "user" in payload:
        return {user_topic(payload["user"])}
    return set()
