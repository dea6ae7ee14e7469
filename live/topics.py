"""What each socket kind subscribes to, and who may: the same visibility rules as the pages.

A socket at /ws/live/<kind>/<name>/ watches one topic as one audience (everyone who may see an
app sees the same numbers; an edge's per-app rows depend on which apps the viewer sees)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from dashboard import access
from dashboard.models import App, Organization, visible_organization_ids
from edges.models import Edge
from live import events
from live.cells import Numbers, Rendered
from live.ordering import APP_TABLES, PLATFORM_TABLES, LiveOrder, LiveTable, live_order
from live.panels import (
    app_parts,
    app_rows,
    edge_parts,
    edge_view_parts,
    organization_parts,
    support_parts,
    upgrade_queue_parts,
)
from live.renderers import organization_live_numbers, platform_live_numbers


@dataclass(frozen=True)
class Topic:
    name: str
    audience: str
    # Renders the named parts of the view (part -> fragment); `parts` names them all.
    render: Callable[[frozenset[str]], Rendered]
    parts: frozenset[str] = events.COUNTS_ONLY
    # A page whose live tables can be sorted (live.ordering): its tables, and its render in
    # an order picked from them.
    tables: dict[str, LiveTable] | None = None
    ordered: Callable[[frozenset[str], LiveOrder], Rendered] | None = None

    def in_order(self, raw: str, page: str = "") -> Topic:
        """The topic as a page that picked `raw` (its `?sort=`) and `page` watches it: a view
        of its own, rendered in that order, shared by the sockets that picked the same;
        unchanged for the default order and first page, or an unknown order."""
        order = live_order(raw, self.tables, page) if self.tables else None
        ordered = self.ordered
        if order is None or ordered is None:
            return self
        return replace(
            self,
            audience=f"{self.audience}|{order.query}",
            render=lambda parts: ordered(parts, order),
        )


def _with_rows(parts: frozenset[str], numbers: Callable[[], Numbers], apps: Any) -> Rendered:
    """A page's live numbers and the rows of its app list that changed."""
    rendered: Rendered = {events.COUNTS: numbers()} if events.COUNTS in parts else {}
    return {**rendered, **app_rows(apps, parts)}


def _role(user: Any) -> str:
    """What an app page's panels depend on: support, or a member of the app's organization."""
    return "staff" if access.is_support(user) else "members"


def _audience(organizations: frozenset[int] | None) -> str:
    """Who sees the same edge page: support (every app), or the members of these organizations."""
    if organizations is None:
        return "staff"
    return "orgs:" + ",".join(str(o) for o in sorted(organizations))


def _overview(user: Any, name: str) -> Topic | None:
    if not access.is_support(user):
        return None
    return Topic(
        events.OVERVIEW_TOPIC,
        "staff",
        lambda parts: _with_rows(parts, platform_live_numbers, App.objects.all()),
        events.LISTS,
        PLATFORM_TABLES,
        lambda parts, order: _with_rows(
            parts, lambda: platform_live_numbers(order), App.objects.all()
        ),
    )


def _app(user: Any, name: str) -> Topic | None:
    app = App.objects.visible_to(user).filter(name=name).first()
    if app is None:
        return None
    return Topic(
        events.app_topic(app.name),
        _role(user),
        lambda parts: app_parts(app, user, parts),
        events.APP_PARTS,
        APP_TABLES,
        lambda parts, order: app_parts(app, user, parts, order),
    )


def _edge(user: Any, name: str) -> Topic | None:
    edge = Edge.objects.visible_to(user).filter(name=name).first()
    if edge is None:
        return None
    organizations = visible_organization_ids(user)
    return Topic(
        events.edge_topic(edge.name),
        _audience(organizations),
        lambda parts: edge_parts(edge.pk, user, organizations, parts),
        edge_view_parts(edge),
    )


def _upgrades(user: Any, name: str) -> Topic | None:
    if not access.can_search_platform(user):
        return None
    return Topic(events.UPGRADES_TOPIC, "staff", upgrade_queue_parts, frozenset({events.QUEUE}))


def _support(user: Any, name: str) -> Topic | None:
    if not access.can_search_platform(user):
        return None
    return Topic(
        events.SUPPORT_TOPIC,
        "staff",
        lambda parts: support_parts(parts, user),
        events.SUPPORT_PARTS,
    )


def _visible_organization(user: Any, name: str) -> Organization | None:
    return Organization.objects.visible_to(user).filter(name=name).first()


def _organization(user: Any, name: str) -> Topic | None:
    organization = _visible_organization(user, name)
    if organization is None:
        return None
    return Topic(
        events.organization_topic(organization.name),
        "all",
        lambda parts: _organization_lists(organization, parts),
        events.LISTS,
    )


def _organization_lists(organization: Organization, parts: frozenset[str]) -> Rendered:
    return _with_rows(
        parts,
        lambda: organization_live_numbers(organization),
        App.objects.filter(organization=organization),
    )


def _organization_page(user: Any, name: str) -> Topic | None:
    """The organization's own page: its lists (as the overview shows them), its edges and its
    recent activity. The same topic as the overview's block, another view of it."""
    organization = _visible_organization(user, name)
    if organization is None:
        return None
    return Topic(
        events.organization_topic(organization.name),
        # Support reads internal reasons in the activity; members do not.
        "page:" + _role(user),
        lambda parts: {
            **_organization_lists(organization, parts),
            **organization_parts(organization, user, parts),
        },
        events.ORGANIZATION_PARTS,
    )


# The overview, the upgrade queue and support's page are one page each, for staff; the other
# kinds name what they watch.
OVERVIEW = "overview"
UPGRADES = "upgrades"
SUPPORT = "support"
SINGLE_KINDS: dict[str, Callable[[Any, str], Topic | None]] = {
    OVERVIEW: _overview,
    UPGRADES: _upgrades,
    SUPPORT: _support,
}
NAMED_KINDS: dict[str, Callable[[Any, str], Topic | None]] = {
    "apps": _app,
    "edges": _edge,
    "orgs": _organization,
    "org-pages": _organization_page,
}


def authorize(user: Any, kind: str, name: str) -> Topic | None:
    """The topic a user may watch, or None: the same rules as the pages."""
    if not (user.is_authenticated and user.is_active):
        return None
    if kind in SINGLE_KINDS:
        return SINGLE_KINDS[kind](user, name) if not name else None
    subscribe = NAMED_KINDS.get(kind)
    return subscribe(user, name) if subscribe else None
