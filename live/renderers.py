"""How the live numbers of the app, edge, organization and overview pages render: the same named
partials as the pages, so a page and its pushes never disagree.

A report changes numbers and times, rarely anything else. So each panel of numbers is computed
as `Numbers` (live.cells): its cells written in Python (the markup the templates' `number` and
`timestamp` tags write) and its shape, everything else the partial shows. The hub sends only the
cells that changed while the shape holds; the partial itself renders only for a new shape or a
view's first socket. The hub renders once per update, whatever the number of sockets watching.
"""

from __future__ import annotations

from typing import Any

from django.template.loader import render_to_string

from dashboard.models import App, Organization
from edges.counts import (
    AppLive,
    PlatformLive,
    app_live,
    edge_live,
    numbers_are_last_known,
    organization_live,
    platform_live,
)
from edges.models import Edge
from live.cells import Numbers, count_cell, dom_id, time_cell
from live.ordering import APP_TABLES, PLATFORM_TABLES, LiveOrder, LivePage, ordered_page

APP_LIVE = "dashboard/app_detail.html#app-live"
EDGE_LIVE = "edges/edge_detail.html#edge-live"
PLATFORM_LIVE = "dashboard/overview.html#platform-live"
ORG_LIVE = "dashboard/overview.html#org-live"


class _Cells:
    """A panel's cells as its template writes them. Two cells with one id could not be swapped
    one by one: such a panel has no shape a later one can share, and goes out whole."""

    def __init__(self) -> None:
        self.cells: dict[str, str] = {}
        self.clash = False
        # Read once: the shape and the partial's badge say the same (live state reachable).
        self.last_known = numbers_are_last_known()

    def number(self, cell_id: str, value: int) -> None:
        self.clash |= cell_id in self.cells
        self.cells[cell_id] = count_cell(cell_id, value)

    def moment(self, cell_id: str, when: Any) -> None:
        if when is not None:
            self.clash |= cell_id in self.cells
            self.cells[cell_id] = time_cell(when, "since", cell_id)

    def numbers(self, shape: tuple[Any, ...], template: str, context: dict[str, Any]) -> Numbers:
        shape = (*shape, self.last_known)
        if self.clash:
            shape = (*shape, object())  # equal to no other
        context = {**context, "last_known": self.last_known}
        return Numbers(shape, self.cells, lambda: str(render_to_string(template, context)).strip())


# The app page's live tables: AppLive's lists (live.ordering.APP_TABLES).
APP_LISTS = ("hosts", "edges", "backends")


def ordered_app_live(app: App, order: LiveOrder | None) -> tuple[AppLive, dict[str, LivePage]]:
    """The app's live numbers with each table in the order and on the page the URL picked
    (live.ordering): the lists keep the page's rows, the pages say where they are."""
    live = app_live(app)
    pages = {}
    for name in APP_LISTS:
        table = APP_TABLES[name]
        pages[name] = ordered_page(getattr(live, name), table, order)
        setattr(live, name, pages[name].rows)
    return live, pages


def ordered_platform_live(order: LiveOrder | None) -> tuple[PlatformLive, LivePage]:
    platform = platform_live()
    table = PLATFORM_TABLES["edges"]
    page = ordered_page(platform.edges, table, order)
    platform.edges = page.rows
    return platform, page


def _pages_shape(*pages: LivePage) -> tuple[tuple[int, int, bool, bool], ...]:
    return tuple((p.number, p.count, bool(p.previous_href), bool(p.next_href)) for p in pages)


def app_live_numbers(app: App, order: LiveOrder | None = None) -> Numbers:
    live, pages = ordered_app_live(app, order)
    cells, name = _Cells(), app.name
    cells.number(f"app-{name}-connections", live.connections)
    cells.number(f"app-{name}-websockets", live.websockets)
    cells.moment(f"app-{name}-as-of", live.as_of)
    for host in live.hosts:
        host_id = f"app-{name}-host-{dom_id(host.hostname)}"
        cells.number(f"{host_id}-connections", host.connections)
        cells.number(f"{host_id}-websockets", host.websockets)
    for count in live.edges:
        cells.number(f"app-{name}-edge-{count.edge.name}-connections", count.connections)
        cells.moment(f"app-{name}-edge-{count.edge.name}-reported", count.reported_at)
    for b in live.backends:
        row = f"backend-{b.edge.name}-{dom_id(b.hostname)}-{dom_id(b.address)}"
        cells.number(f"{row}-connections", b.connections)
    shape = (
        name,
        live.stale,
        live.as_of is None,
        tuple((h.hostname, h.edge.name, h.stale) for h in live.hosts),
        tuple((c.edge.name, c.stale, c.reported_at is None) for c in live.edges),
        tuple((b.address, b.hostname, b.edge.name, b.state, b.stale) for b in live.backends),
        _pages_shape(*pages.values()),
    )
    context = {"app": app, "live": live, "live_order": order, "live_pages": pages}
    return cells.numbers(shape, APP_LIVE, context)


def edge_live_numbers(edge: Edge, user: Any, organizations: frozenset[int] | None) -> Numbers:
    """`organizations`: those whose apps the viewer sees (None: all), decided when the socket
    subscribed (a change of membership sends the socket back to subscribe again)."""
    live = edge_live(edge, organizations)
    cells, name = _Cells(), edge.name
    cells.number(f"edge-{name}-connections", live.connections)
    cells.number(f"edge-{name}-websockets", live.websockets)
    cells.moment(f"edge-{name}-reported", live.reported_at)
    for app, connections, websockets in live.apps:
        cells.number(f"edge-{name}-app-{app.name}-connections", connections)
        cells.number(f"edge-{name}-app-{app.name}-websockets", websockets)
    if live.more_apps:
        cells.number(f"edge-{name}-more-apps-count", live.more_apps)
    shape = (
        name,
        edge.kind,
        user.is_staff,
        live.stale,
        live.reported_at is None,
        tuple(app.name for app, _, _ in live.apps),
        bool(live.more_apps),
        live.more_apps == 1,
    )
    return cells.numbers(shape, EDGE_LIVE, {"edge": edge, "user": user, "live": live})


def platform_live_numbers(order: LiveOrder | None = None) -> Numbers:
    platform, edges_page = ordered_platform_live(order)
    cells = _Cells()
    cells.number("platform-connections", platform.connections)
    cells.number("platform-websockets", platform.websockets)
    for app in platform.busiest:
        cells.number(f"app-{app.name}-connections", app.connections)
        cells.number(f"app-{app.name}-websockets", app.websockets)
    for count in platform.edges:
        cells.number(f"edge-{count.edge.name}-connections", count.connections)
        cells.moment(f"edge-{count.edge.name}-reported", count.reported_at)
    shape = (
        tuple(app.name for app in platform.busiest),
        tuple(
            (
                c.edge.name,
                c.edge.proxy,
                c.edge.kind,
                c.edge.organization.name if c.edge.organization else None,
                c.edge.domain_count,  # type: ignore[attr-defined]
                c.stale,
                c.reported_at is None,
            )
            for c in platform.edges
        ),
        _pages_shape(edges_page),
    )
    context = {"platform": platform, "live_order": order, "live_pages": {"edges": edges_page}}
    return cells.numbers(shape, PLATFORM_LIVE, context)


def organization_live_numbers(organization: Organization) -> Numbers:
    live = organization_live(organization)
    cells, name = _Cells(), organization.name
    cells.number(f"org-{name}-connections", live.connections)
    cells.number(f"org-{name}-websockets", live.websockets)
    for app, connections, websockets in live.apps:
        cells.number(f"app-{app.name}-connections", connections)
        cells.number(f"app-{app.name}-websockets", websockets)
    if live.more_apps:
        cells.number(f"org-{name}-more-apps-count", live.more_apps)
    shape = (
        name,
        organization.label,
        tuple(app.name for app, _, _ in live.apps),
        bool(live.more_apps),
        live.more_apps == 1,
    )
    context = {"organization": organization, "org_live": live}
    return cells.numbers(shape, ORG_LIVE, context)
