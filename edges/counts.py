"""Live numbers read from the latest edge reports (edges.live_state); stale edges are shown but
not counted."""

from __future__ import annotations

import datetime as dt
import heapq
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import QuerySet

from dashboard.models import App, Organization
from edges.directories import apps_directory, edges_directory, organization_apps
from edges.edge_states import EdgeState
from edges.live_state import live_state
from edges.models import Edge, stale_cutoff


def stale_at(reported_at: dt.datetime | None, cutoff: dt.datetime | None = None) -> bool:
    """An edge silent for longer than EDGE_STALE_AFTER (or never heard from), by the time of its
    last report in the live state."""
    return reported_at is None or reported_at < (cutoff or stale_cutoff())


@dataclass
class EdgeCount:
    edge: Edge
    connections: int = 0
    websockets: int = 0
    # When the live state last heard from the edge (None: never).
    reported_at: dt.datetime | None = None
    # The staleness cut-off of the render it is part of (read once per render, not per row).
    cutoff: dt.datetime | None = None

    @property
    def stale(self) -> bool:
        return stale_at(self.reported_at, self.cutoff)


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


def _states(edge_ids: Iterable[int] | None = None) -> dict[int, EdgeState]:
    """The edges' latest states; while the store is unreachable, the last this process read
    (`numbers_are_last_known` then says so)."""
    return live_state().states_of(edge_ids)


def numbers_are_last_known() -> bool:
    """True while the live state cannot be read: the numbers shown are the last this process
    read (an edge's report is refused meanwhile, and its next one restores them)."""
    return not live_state().reachable


def _fresh(state: EdgeState, cutoff: dt.datetime) -> bool:
    return state.reported_at >= cutoff


def app_live(app: App) -> AppLive:
    live = AppLive(app=app)
    states = {i: s for i, s in _states().items() if app.pk in s.by_app}
    edges = edges_directory.of(states)
    cutoff = stale_cutoff()
    per_edge: dict[int, EdgeCount] = {}
    rows = sorted(
        ((f, edges[i], s) for i, s in states.items() if i in edges for f in s.by_app[app.pk]),
        key=lambda row: (row[0].hostname, row[1].name),
    )
    for frontend, edge, state in rows:
        stale = stale_at(state.reported_at, cutoff)
        live.hosts.append(
            HostCount(frontend.hostname, edge, frontend.connections, frontend.websockets, stale)
        )
        count = per_edge.get(edge.pk)
        if count is None:
            count = per_edge[edge.pk] = EdgeCount(
                edge, reported_at=state.reported_at, cutoff=cutoff
            )
        count.connections += frontend.connections
        count.websockets += frontend.websockets
        for backend in frontend.backends:
            live.backends.append(
                BackendCount(
                    backend["address"],
                    frontend.hostname,
                    edge,
                    backend["connections"],
                    backend["state"],
                    stale,
                )
            )
        if not stale:
            live.connections += frontend.connections
            live.websockets += frontend.websockets
            if live.as_of is None or state.reported_at > live.as_of:
                live.as_of = state.reported_at
    live.edges = sorted(per_edge.values(), key=lambda c: c.edge.name)
    return live


def app_counts(apps: QuerySet[App] | list[App]) -> dict[int, tuple[int, int]]:
    """(connections, websockets) per app id, from non-stale edges, without a query."""
    wanted = {a.pk for a in apps}
    cutoff = stale_cutoff()
    totals: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for state in _states().values():
        if not _fresh(state, cutoff):
            continue
        app_totals = state.app_totals
        for app_id in wanted & app_totals.keys():
            connections, websockets = app_totals[app_id]
            totals[app_id][0] += connections
            totals[app_id][1] += websockets
    return {app_id: (c, w) for app_id, (c, w) in totals.items()}


@dataclass
class EdgeLive:
    edge: Edge
    connections: int
    websockets: int
    # The busiest EDGE_LIVE_APPS of the apps the viewer may see, and how many more there are.
    apps: list[tuple[App, int, int]]
    reported_at: dt.datetime | None = None
    more_apps: int = 0
    # The staleness cut-off of the render it is part of (read once per render).
    cutoff: dt.datetime | None = None

    @property
    def stale(self) -> bool:
        return stale_at(self.reported_at, self.cutoff)


# An edge's page lists this many of its busiest apps: a shared gateway carries thousands, and its
# panel is rendered again for every report (a 1,500-app gateway's was 150 kB and 0.2 s).
EDGE_LIVE_APPS = 50


def edge_live(edge: Edge, organizations: frozenset[int] | None) -> EdgeLive:
    """An edge's numbers; per-app rows only for the apps the viewer may see: those of
    `organizations` (None: every app, for staff)."""
    state = _states([edge.pk]).get(edge.pk)
    total = list(state.totals) if state else [0, 0]
    per_app = state.app_totals if state else {}
    names = apps_directory.of(per_app)
    # (connections, websockets, name, id) of the apps the viewer sees, busiest first.
    listed = sorted(
        (
            (*per_app[pk], name, pk)
            for pk, (name, org) in names.items()
            if organizations is None or org in organizations
        ),
        key=lambda row: (-row[0], row[2]),
    )
    if edge.kind == Edge.Kind.GATEWAY and len(listed) != len(per_app):
        # A customer on a shared gateway sees only their own share of it.
        total = [sum(row[0] for row in listed), sum(row[1] for row in listed)]
    reported_at = state.reported_at if state else None
    shown = [
        (App(pk=pk, name=name, organization_id=names[pk][1]), connections, websockets)
        for connections, websockets, name, pk in listed[:EDGE_LIVE_APPS]
    ]
    more = len(listed) - len(shown)
    return EdgeLive(edge, total[0], total[1], shown, reported_at, more, stale_cutoff())


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


def busiest_contenders(states: list[EdgeState], n: int) -> dict[int, tuple[int, int]]:
    """The apps whose (connections, websockets) over `states` put them among the `n` busiest by
    connections, with every app tied with the n-th (all apps when there are fewer).

    Without adding up every app of the platform: an app seen on one edge only is a contender
    only if it is among that edge's n busiest such apps (each edge keeps its apps ranked), so
    only those, and the apps seen on several edges (found with set operations), are added up."""
    seen: set[int] = set()
    several: set[int] = set()
    for state in states:
        keys = state.app_totals.keys()
        several |= seen & keys
        seen |= keys
    totals: dict[int, tuple[int, int]] = {}
    for app_id in several:
        connections = websockets = 0
        for state in states:
            cw = state.app_totals.get(app_id)
            if cw is not None:
                connections, websockets = connections + cw[0], websockets + cw[1]
        totals[app_id] = (connections, websockets)
    for state in states:
        taken, last = 0, -1
        for connections, app_id in state.ranked:
            if app_id in several:
                continue
            if taken >= n and connections < last:
                break  # n busier (or as busy) on this edge alone
            totals[app_id] = state.app_totals[app_id]
            taken, last = taken + 1, connections
    ranked = heapq.nlargest(n, (cw[0] for cw in totals.values()))
    cut = ranked[-1] if len(ranked) == n else -1
    return {app_id: cw for app_id, cw in totals.items() if cw[0] >= cut}


def platform_live() -> PlatformLive:
    """Totals, the busiest apps and every edge, from the live state and the directories: no
    query while they are fresh, two at most whatever the platform's size."""
    cutoff = stale_cutoff()
    edges = {e.pk: EdgeCount(e, cutoff=cutoff) for e in edges_directory.all()}
    fresh_states = []
    for edge_id, state in _states().items():
        count = edges.get(edge_id)
        if count is None:
            continue  # an edge deleted since its last report
        count.reported_at = state.reported_at
        count.connections, count.websockets = state.totals
        if not count.stale:
            fresh_states.append(state)
    fresh = [c for c in edges.values() if not c.stale]
    # The names of the busiest (and of those tied with the last of them), to order ties by name.
    contenders = busiest_contenders(fresh_states, BUSIEST)
    names = {i: name for i, (name, _) in apps_directory.of(contenders).items()}
    top = sorted(
        ((names[i], cw) for i, cw in contenders.items() if i in names),
        key=lambda item: (-item[1][0], item[0]),
    )[:BUSIEST]
    return PlatformLive(
        connections=sum(c.connections for c in fresh),
        websockets=sum(c.websockets for c in fresh),
        busiest=[BusyApp(name, c, w) for name, (c, w) in top],
        edges=list(edges.values()),
    )


# An organization's live block lists this many of its busiest apps and totals all of them: an
# organization of thousands of apps would otherwise send every row with each report.
ORG_LIVE_APPS = 10


@dataclass
class OrganizationLive:
    # The busiest ORG_LIVE_APPS apps (ties by name) with their numbers, and how many more.
    apps: list[tuple[App, int, int]]
    connections: int
    websockets: int
    more_apps: int = 0


def organization_live(organization: Organization) -> OrganizationLive:
    """The organization's totals and busiest apps, from memory once its apps were read."""
    return apps_live(organization_apps.of(organization.pk))


def apps_live(apps: list[App]) -> OrganizationLive:
    """Apps already read (one organization's), their totals and the busiest of them, without a
    query: the live block of an organization, first render and pushes alike."""
    counts = app_counts(apps)
    rows = [(app, *counts.get(app.pk, (0, 0))) for app in apps]
    busiest = heapq.nsmallest(ORG_LIVE_APPS, rows, key=lambda row: (-row[1], row[0].name))
    return OrganizationLive(
        apps=busiest,
        connections=sum(row[1] for row in rows),
        websockets=sum(row[2] for row in rows),
        more_apps=len(rows) - len(busiest),
    )


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
                "last_report_at": e.reported_at.isoformat() if e.reported_at else None,
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
