"""Applying an edge's report: its whole current state replaces the previous one."""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field

from django.db import connection, transaction
from django.utils import timezone

from dashboard.models import App, Domain
from edges.api.ingest_payloads import Report
from edges.models import ConnectionRollup, Edge, FrontendStat
from shared import bus

ROLLUP_RETENTION = dt.timedelta(days=7)
PRUNE_EVERY_SECONDS = 60.0
_last_prune = 0.0


@dataclass
class ApplyResult:
    applied: bool
    accepted: int = 0
    unknown_hostnames: list[str] = field(default_factory=list)
    last_seq: int | None = None


def _upsert_rollups(edge: Edge, per_app: dict[int, int], minute: dt.datetime) -> None:
    if not per_app:
        return
    table = ConnectionRollup._meta.db_table
    biggest = "GREATEST" if connection.vendor == "postgresql" else "MAX"
    sql = (
        f"INSERT INTO {table} (edge_id, app_id, minute, max_connections, sum_connections, samples) "  # noqa: S608
        "VALUES (%s, %s, %s, %s, %s, 1) "
        "ON CONFLICT (edge_id, app_id, minute) DO UPDATE SET "
        f"max_connections = {biggest}({table}.max_connections, excluded.max_connections), "
        f"sum_connections = {table}.sum_connections + excluded.sum_connections, "
        f"samples = {table}.samples + 1"
    )
    with connection.cursor() as cursor:
        cursor.executemany(
            sql, [(edge.pk, app_id, minute, count, count) for app_id, count in per_app.items()]
        )


def _maybe_prune(now: dt.datetime) -> None:
    global _last_prune
    if time.monotonic() - _last_prune < PRUNE_EVERY_SECONDS:
        return
    _last_prune = time.monotonic()
    ConnectionRollup.objects.filter(minute__lt=now - ROLLUP_RETENTION).delete()


@transaction.atomic
def report_apply(*, edge: Edge, report: Report) -> ApplyResult:
    """Store the edge's latest state with one bulk write, roll it up per minute and tell the
    live pages which apps changed. A report older than the last applied one is ignored."""
    edge = Edge.objects.select_for_update().get(pk=edge.pk)
    if edge.last_seq is not None and report.seq <= edge.last_seq:
        return ApplyResult(applied=False, last_seq=edge.last_seq)
    now = timezone.now()
    was_stale = edge.is_stale(now)
    hostnames = [f.hostname for f in report.frontends]
    domains = dict(
        Domain.objects.carried_by(edge)
        .filter(hostname__in=hostnames)
        .values_list("hostname", "app_id")
    )
    previous = {
        row[0]: row[1:]
        for row in FrontendStat.objects.filter(edge=edge).values_list(
            "hostname", "app_id", "connections", "websockets", "backends"
        )
    }
    rows = []
    changed_apps: set[int] = set()
    per_app: dict[int, int] = {}
    for frontend in report.frontends:
        app_id = domains.get(frontend.hostname)
        rows.append(
            FrontendStat(
                edge=edge,
                hostname=frontend.hostname,
                app_id=app_id,
                connections=frontend.connections,
                websockets=frontend.websockets,
                backends=frontend.backends,
                reported_at=now,
            )
        )
        if app_id is not None:
            per_app[app_id] = per_app.get(app_id, 0) + frontend.connections
            before = previous.get(frontend.hostname)
            state = (app_id, frontend.connections, frontend.websockets, frontend.backends)
            if before != state:
                changed_apps.add(app_id)
    gone = set(previous) - set(hostnames)
    changed_apps.update(previous[h][0] for h in gone if previous[h][0] is not None)
    if rows:
        FrontendStat.objects.bulk_create(
            rows,
            update_conflicts=True,
            unique_fields=["edge", "hostname"],
            update_fields=["app", "connections", "websockets", "backends", "reported_at"],
        )
    if gone:
        FrontendStat.objects.filter(edge=edge, hostname__in=gone).delete()
    minute = now.replace(second=0, microsecond=0)
    _upsert_rollups(edge, per_app, minute)
    Edge.objects.filter(pk=edge.pk).update(last_seq=report.seq, last_report_at=now)
    _maybe_prune(now)
    if was_stale:
        # Coming back from silence changes every number of every app on the edge.
        changed_apps.update(
            a
            for a in FrontendStat.objects.filter(edge=edge)
            .exclude(app=None)
            .values_list("app_id", flat=True)
        )
    _announce(edge, changed_apps, edge_changed=bool(changed_apps or gone or was_stale))
    unknown = sorted(h for h in hostnames if h not in domains)
    return ApplyResult(
        applied=True, accepted=len(rows), unknown_hostnames=unknown, last_seq=report.seq
    )


def _announce(edge: Edge, app_ids: set[int], *, edge_changed: bool) -> None:
    """One event for every report: the pages whose numbers changed re-render, and every hub
    learns the edge is alive (it times the edge's turning stale from the last one)."""
    apps = []
    if app_ids:
        apps = list(App.objects.filter(pk__in=app_ids).values_list("name", "organization__name"))
    # An organization's page re-reads all of its apps.
    payload = {
        "apps": sorted(app for app, _ in apps),
        "organizations": sorted({org for _, org in apps}),
        "edges": [edge.name] if edge_changed else [],
        "reported": edge.name,
    }
    bus.announce_on_commit("counts.changed", payload)
