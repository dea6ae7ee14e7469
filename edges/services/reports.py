"""Applying an edge's report: its whole current state replaces the previous one.

A report costs one call to the live state (edges.live_state), which decides whether it is the
newest and keeps the numbers; the relational database is not touched per report. Once a minute
per edge, the first report of the next minute writes the finished minute's rollups in one batch
and the edge's `seq` and report time (also written when an edge is first heard or heard again
after going stale). The token's edge and the hostname map are read once per process and kept
(TokenEdges, Routing).

Bound: PostgreSQL's `seq` is what refuses a replayed report when Redis lost the live state; it
can be up to a minute behind, so after such a loss a report from that last minute would be taken
once (and replaced by the edge's next report, a second later)."""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from dataclasses import dataclass, field
from itertools import compress
from operator import itemgetter, ne

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from dashboard.models import App, Domain
from edges.api.ingest_payloads import Report, Routed
from edges.edge_states import EdgeState, Frontend, Sample, frontend_of
from edges.live_state import LiveStateUnavailable, live_state
from edges.models import ConnectionRollup, Edge, stale_cutoff
from shared import bus
from shared.breaker import redis as redis_breaker

logger = logging.getLogger(__name__)

ROLLUP_RETENTION = dt.timedelta(days=7)
PRUNE_EVERY_SECONDS = 60.0
# A live state's row (edges.edge_states.Frontend): its hostname, its app.
HOSTNAME, APP_ID = itemgetter(0), itemgetter(1)
# A route map's app (RouteMap.apps): its name, its organization's.
NAME, ORGANIZATION = itemgetter(0), itemgetter(1)
_last_prune = 0.0


class LiveStateDown(Exception):
    """The report could not be stored: the edge should send its next one later."""


@dataclass
class ApplyResult:
    applied: bool
    accepted: int = 0
    unknown_hostnames: list[str] = field(default_factory=list)
    last_seq: int | None = None


@dataclass(frozen=True)
class Route:
    app_id: int
    app: str
    organization: str


class RouteMap(dict[str, Route]):
    """hostname -> Route, and `apps`: app id -> (app, organization), for the event naming
    the apps a report changed (built once per map, not once per report)."""

    def __init__(self, routes: dict[str, Route]) -> None:
        super().__init__(routes)
        self.apps = {r.app_id: (r.app, r.organization) for r in routes.values()}
        # hostname -> app id: what a report's rows are routed with as they are checked.
        self.app_ids = {hostname: r.app_id for hostname, r in routes.items()}


class Routing:
    """Per process: which app each hostname an edge may report belongs to, read again after
    ROUTING_CACHE_SECONDS (at once in a process whose hub hears a domain change).

    Every shared gateway may report the hostnames of every shared gateway: they share one map,
    read once for all of them (at platform scale, tens of thousands of rows); a custom SSL edge
    has its own. One thread reads a map while the others needing it wait for that read."""

    GATEWAYS = "gateways"

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.maps: dict[int | str, tuple[float, RouteMap]] = {}
        self.reading: dict[int | str, threading.Lock] = {}
        # Counts the forgets: a map whose read a forget overtook is used, never kept.
        self.generation = 0

    def of(self, edge: Edge) -> RouteMap:
        key: int | str = edge.pk if edge.kind == Edge.Kind.CUSTOM_SSL else self.GATEWAYS
        known = self.maps.get(key)
        if known is not None and known[0] > time.monotonic():
            return known[1]
        with self.lock:
            reading = self.reading.setdefault(key, threading.Lock())
        with reading:
            known = self.maps.get(key)
            if known is not None and known[0] > time.monotonic():
                return known[1]  # read by the thread this one waited for
            now, generation = time.monotonic(), self.generation
            carried = Domain.objects.carried_by(edge).values_list(
                "hostname", "app_id", "app__name", "app__organization__name"
            )
            routes = RouteMap(
                {
                    hostname: Route(app_id, app, organization)
                    for hostname, app_id, app, organization in carried.iterator(chunk_size=5000)
                }
            )
            with self.lock:
                if generation == self.generation:
                    self.maps[key] = (now + settings.ROUTING_CACHE_SECONDS, routes)
        return routes

    def forget(self) -> None:
        with self.lock:
            self.maps.clear()
            self.generation += 1


routing = Routing()


class TokenEdges:
    """Per process: which edge an ingest token's hash belongs to, kept INGEST_TOKEN_CACHE_SECONDS
    so a report costs no query. Forgotten at once in the process that rotates a token, edits
    or deletes an edge, and in every process whose hub hears of it; elsewhere a rotated token
    is refused once its entry runs out. Unknown tokens are never kept."""

    KEPT = 10_000

    def __init__(self) -> None:
        self.known: dict[str, tuple[float, Edge]] = {}

    def edge(self, digest: str) -> Edge | None:
        known = self.known.get(digest)
        if known is not None and known[0] > time.monotonic():
            return known[1]
        edge = Edge.objects.filter(ingest_token_hash=digest).first()
        if edge is None:
            self.known.pop(digest, None)
            return None
        if len(self.known) >= self.KEPT:
            self.known.clear()
        self.known[digest] = (time.monotonic() + settings.INGEST_TOKEN_CACHE_SECONDS, edge)
        return edge

    def forget(self) -> None:
        self.known.clear()


token_edges = TokenEdges()


def forget_edges() -> None:
    """An edge's token, kind or hostnames changed: read them afresh at the next report."""
    token_edges.forget()
    routing.forget()


def report_apply(*, edge: Edge, report: Report) -> ApplyResult:
    """Store the edge's latest state, add its counts to the minute's samples and tell the live
    pages which apps changed. A report older than the last applied one is ignored."""
    if not redis_breaker.closed and settings.REDIS_URL:
        raise LiveStateDown
    if edge.last_seq is not None and report.seq <= edge.last_seq:
        # What the database kept (the edge may be a few seconds old: see TokenEdges); the live
        # state makes the same test against the newest.
        return ApplyResult(applied=False, last_seq=edge.last_seq)
    now = timezone.now()
    routes = routing.of(edge)
    routed = report.routed
    if routed is None or routed.app_ids is not routes.app_ids:
        routed = route_rows(report, routes.app_ids)
    frontends, by_app, per_app, unknown = (
        routed.rows,
        routed.by_app,
        routed.per_app,
        routed.unknown,
    )
    state = EdgeState.grouped(edge.pk, report.seq, now, frontends, by_app)
    minute = now.replace(second=0, microsecond=0)
    # The live state decides which of two concurrent reports is newer (atomically); nothing is
    # written anywhere when it cannot be reached.
    try:
        recorded = live_state().record(state, minute, per_app)
    except LiveStateUnavailable:
        redis_breaker.failed()
        logger.warning("report of %s not stored: the live state is unavailable", edge.name)
        raise LiveStateDown from None
    if not recorded.applied:
        return ApplyResult(applied=False, last_seq=recorded.kept_seq)
    previous = recorded.previous
    # Back from silence, by the live state's own clock of the edge's reports.
    was_stale = previous is None or previous.reported_at < stale_cutoff(now)
    if was_stale or recorded.due_minutes:
        # PostgreSQL hears of the edge when it is first heard or heard again, then once a
        # minute with its rollups: the live state holds the newest seq in between.
        _record_seq(edge.pk, report.seq, now)
    if recorded.due_minutes:
        write_rollups(edge.pk, recorded.due_minutes)
    _maybe_prune(now)
    changed = _changed_apps(state, previous, was_stale=was_stale)
    _announce(edge, report.seq, changed, routes, edge_changed=bool(changed) or was_stale)
    return ApplyResult(
        applied=True,
        accepted=len(frontends),
        unknown_hostnames=sorted(unknown),
        last_seq=report.seq,
    )


def route_rows(report: Report, app_ids: dict[str, int]) -> Routed:
    """The report's rows with their apps (for a report parsed without the map, or with a map
    since read again): the rows as the live state keeps them, grouped by app, with totals."""
    rows = report.routed.rows if report.routed is not None else report.frontends
    frontends: list[Frontend] = []
    by_app: dict[int, list[Frontend]] = {}
    per_app: dict[int, int] = {}
    unknown: list[str] = []
    for hostname, *_, connections, websockets, backends in rows:
        app_id = app_ids.get(hostname)
        row = frontend_of((hostname, app_id, connections, websockets, backends))
        frontends.append(row)
        if app_id is None:
            unknown.append(hostname)
        elif app_id in by_app:
            by_app[app_id].append(row)
            per_app[app_id] += connections
        else:
            by_app[app_id] = [row]
            per_app[app_id] = connections
    return Routed(app_ids, tuple(frontends), by_app, per_app, unknown)


def _record_seq(edge_id: int, seq: int, now: dt.datetime) -> None:
    """The edge's newest seq and report time, unless a newer report's are there already."""
    with connection.cursor() as cursor:
        cursor.execute(SEQ_SQL, [seq, now, edge_id, seq])


SEQ_SQL = (
    f"UPDATE {Edge._meta.db_table} SET last_seq = %s, last_report_at = %s "  # noqa: S608
    "WHERE id = %s AND (last_seq IS NULL OR last_seq < %s)"
)


def _changed_apps(state: EdgeState, previous: EdgeState | None, *, was_stale: bool) -> set[int]:
    """The apps whose numbers on this edge a page would show differently now."""
    if previous is None or was_stale:
        # First report, or back from silence: every number of every app on the edge changed.
        return set(state.by_app) | (set(previous.by_app) if previous else set())
    rows, before_rows = state.frontends, previous.frontends
    if len(rows) == len(before_rows) and list(map(HOSTNAME, rows)) == list(
        map(HOSTNAME, before_rows)
    ):
        # The same hostnames in the same order, as an edge reports them: the apps of the rows
        # that differ (a row carries its app: one routed elsewhere since names both), compared
        # without a Python step per row.
        differ = list(map(ne, rows, before_rows))
        changed = set(compress(map(APP_ID, rows), differ))
        changed.update(compress(map(APP_ID, before_rows), differ))
        changed.discard(None)
        return changed  # type: ignore[return-value]
    now, before = state.by_app, previous.by_app
    changed = {a for a, rows in now.items() if before.get(a) != rows}
    changed.update(before.keys() - now.keys())
    return changed


def write_rollups(edge_id: int, minutes: list[dt.datetime]) -> None:
    """Move finished minutes of an edge from the live state into the rollup table, added to
    what is there (a minute's samples are taken from the live state once)."""
    store = live_state()
    try:
        samples = store.take_minutes(edge_id, minutes)
    except LiveStateUnavailable:
        return  # still pending: the next report's writer takes them
    if not samples:
        return
    try:
        with transaction.atomic():
            _upsert_rollups(samples)
    except DatabaseError:
        logger.exception("rollups of edge %s not written; kept for the next report", edge_id)
        try:
            store.give_back(samples)
        except LiveStateUnavailable:
            logger.error("rollups of edge %s lost: %d samples", edge_id, len(samples))


def _upsert_rollups(samples: list[Sample]) -> None:
    table = ConnectionRollup._meta.db_table
    biggest = "GREATEST" if connection.vendor == "postgresql" else "MAX"
    sql = (
        f"INSERT INTO {table} (edge_id, app_id, minute, max_connections, sum_connections, samples) "  # noqa: S608
        "VALUES (%s, %s, %s, %s, %s, %s) "
        "ON CONFLICT (edge_id, app_id, minute) DO UPDATE SET "
        f"max_connections = {biggest}({table}.max_connections, excluded.max_connections), "
        f"sum_connections = {table}.sum_connections + excluded.sum_connections, "
        f"samples = {table}.samples + excluded.samples"
    )
    # An app deleted since its samples were taken has no rollups to keep.
    living = set(
        App.objects.filter(pk__in={s.app_id for s in samples}).values_list("pk", flat=True)
    )
    rows = [
        (s.edge_id, s.app_id, s.minute, s.max_connections, s.sum_connections, s.samples)
        for s in samples
        if s.app_id in living
    ]
    if rows and Edge.objects.filter(pk=samples[0].edge_id).exists():
        with connection.cursor() as cursor:
            cursor.executemany(sql, rows)


def _maybe_prune(now: dt.datetime) -> None:
    global _last_prune
    if time.monotonic() - _last_prune < PRUNE_EVERY_SECONDS:
        return
    _last_prune = time.monotonic()
    ConnectionRollup.objects.filter(minute__lt=now - ROLLUP_RETENTION).delete()


def _announce(
    edge: Edge, seq: int, app_ids: set[int], routes: RouteMap, *, edge_changed: bool
) -> None:
    """One event for every report: the pages whose numbers changed re-render, and every hub
    learns the edge is alive (it times the edge's turning stale from the last one)."""
    # (name, organization) of each app still known; a thousand of them per report, taken
    # without a Python step each.
    apps = list(filter(None, map(routes.apps.get, app_ids)))
    payload = {
        "apps": sorted(set(map(NAME, apps))),
        "organizations": sorted(set(map(ORGANIZATION, apps))),
        "edges": [edge.name] if edge_changed else [],
        "reported": edge.name,
        # What a process must have read of the live state to render the change (edges.live_state).
        "edge_id": edge.pk,
        "seq": seq,
    }
    bus.announce("counts.changed", payload)
