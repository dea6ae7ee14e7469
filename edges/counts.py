"""Live numbers read from the latest edge reports; stale edges are shown but not counted."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q, QuerySet, Sum

from dashboard.models import App, Domain, Organization
from edges.models import Edge, FrontendStat, stale_cutoff


@dataclass
class EdgeCount:
    edge: Edge
    connections: int = 0
    websockets: int = 0

    @property
    def stale(self) -> bool:
        return self.edge.is_stale()


@dataclass
class HostCount:
    hostname: str
    edge: Edge
    connections: int
    websockets: int
    stale: bool


@dataclass
class BackendCount:
    address: str
    hostname: str
    edge: Edge
    connections: int
    state: str
    stale: bool


@dataclass
class AppLive:
    app: App
    connections: int = 0
    websockets: int = 0
    hosts: list[HostCount] = field(default_factory=list)
    edges: list[EdgeCount] = field(default_factory=list)
    backends: list[BackendCount] = field(default_factory=list)
    as_of: dt.datetime | None = None

    @property
    def stale(self) -> bool:
        return bool(self.edges) and all(e.stale for e in self.edges)


def app_live(app: App) -> AppLive:
    rows = FrontendStat.objects.filter(app=app).select_related("edge").order_by("hostname")
    live = AppLive(app=app)
    per_edge: dict[int, EdgeCount] = {}
    for row in rows:
        stale = row.edge.is_stale()
        live.hosts.append(HostCount(row.hostname, row.edge, row.connections, row.websockets, stale))
        count = per_edge.setdefault(row.edge_id, EdgeCount(row.edge))
        count.connections += row.connections
        count.websockets += row.websockets
        for backend in row.backends:
            live.backends.append(
                BackendCount(
                    backend["address"],
                    row.hostname,
                    row.edge,
                    backend["connections"],
                    backend["state"],
                    stale,
                )
            )
        if not stale:
            live.connections += row.connections
            live.websockets += row.websockets
            if live.as_of is None or row.reported_at > live.as_of:
                live.as_of = row.reported_at
    live.edges = sorted(per_edge.values(), key=lambda c: c.edge.name)
    return live


def app_counts(apps: QuerySet[App] | list[App]) -> dict[int, tuple[int, int]]:
    """(connections, websockets) per app id, from non-stale edges, in one query."""
    totals: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    rows = FrontendStat.objects.filter(
        app__in=apps, edge__last_report_at__gte=stale_cutoff()
    ).values_list("app_id", "connections", "websockets")
    for app_id, connections, websockets in rows:
        totals[app_id][0] += connections
        totals[app_id][1] += websockets
    return {app_id: (c, w) for app_id, (c, w) in totals.items()}


@dataclass
class EdgeLive:
    edge: Edge
    connections: int
    websockets: int
    apps: list[tuple[App, int, int]]

    @property
    def stale(self) -> bool:
        return self.edge.is_stale()


def edge_live(edge: Edge, visible_apps: QuerySet[App]) -> EdgeLive:
    """An edge's numbers; per-app rows only for the apps the viewer may see."""
    rows = FrontendStat.objects.filter(edge=edge).values_list("app_id", "connections", "websockets")
    total = [0, 0]
    per_app: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for app_id, connections, websockets in rows:
        total[0] += connections
        total[1] += websockets
        if app_id is not None:
            per_app[app_id][0] += connections
            per_app[app_id][1] += websockets
    apps = {a.pk: a for a in visible_apps.filter(pk__in=per_app)}
    listed = sorted(
        ((apps[i], c, w) for i, (c, w) in per_app.items() if i in apps),
        key=lambda item: (-item[1], item[0].name),
    )
    if edge.kind == Edge.Kind.GATEWAY and len(apps) != len(per_app):
        # A customer on a shared gateway sees only their own share of it.
        total = [sum(c for _, c, _ in listed), sum(w for _, _, w in listed)]
    return EdgeLive(edge, total[0], total[1], listed)


@dataclass
class BusyApp:
    name: str
    connections: int
    websockets: int


@dataclass
class PlatformLive:
    connections: int
    websockets: int
    busiest: list[BusyApp]
    edges: list[EdgeCount]


BUSIEST = 10


def platform_live() -> PlatformLive:
    """Totals, the busiest apps and every edge, in two queries whatever the platform's size."""
    # A correlated count walks each edge's index entries instead of grouping a join.
    edges = {
        e.pk: EdgeCount(e)
        for e in Edge.objects.select_related("organization")
        .annotate(domain_count=Domain.objects.count_per("edge"))
        .order_by("name")
    }
    per_app: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for edge_id, app_name, connections, websockets in FrontendStat.objects.values_list(
        "edge_id", "app__name", "connections", "websockets"
    ):
        count = edges[edge_id]
        count.connections += connections
        count.websockets += websockets
        if app_name is not None and not count.stale:
            per_app[app_name][0] += connections
            per_app[app_name][1] += websockets
    fresh = [c for c in edges.values() if not c.stale]
    top = sorted(per_app.items(), key=lambda item: (-item[1][0], item[0]))[:BUSIEST]
    return PlatformLive(
        connections=sum(c.connections for c in fresh),
        websockets=sum(c.websockets for c in fresh),
        busiest=[BusyApp(name, c, w) for name, (c, w) in top],
        edges=list(edges.values()),
    )


def organization_live(organization: Organization) -> list[tuple[App, int, int]]:
    """The organization's apps with their live numbers, in one query."""
    fresh = Q(frontend_stats__edge__last_report_at__gte=stale_cutoff())
    apps = organization.apps.annotate(
        live_connections=Sum("frontend_stats__connections", filter=fresh, default=0),
        live_websockets=Sum("frontend_stats__websockets", filter=fresh, default=0),
    ).order_by("name")
    return [(app, app.live_connections, app.live_websockets) for app in apps]


def connections_json(app: App) -> dict[str, Any]:
    live = app_live(app)
    return {
        "app": app.name,
        "connections": live.connections,
        "websockets": live.websockets,
        "as_of": live.as_of.isoformat() if live.as_of else None,
        "stale": live.stale,
        "hostnames": [
            {
                "hostname": h.hostname,
                "edge": h.edge.name,
                "connections": h.connections,
                "websockets": h.websockets,
                "stale": h.stale,
            }
            for h in live.hosts
        ],
        "edges": [
            {
                "edge": e.edge.name,
                "connections": e.connections,
                "websockets": e.websockets,
                "stale": e.stale,
                "last_report_at": e.edge.last_report_at.isoformat()
                if e.edge.last_report_at
                else None,
            }
            for e in live.edges
        ],
        "backends": [
            {
                "address": b.address,
                "hostname": b.hostname,
                "edge": b.edge.name,
                "connections": b.connections,
                "state": b.state,
                "stale": b.stale,
            }
            for b in live.backends
        ],
    }
