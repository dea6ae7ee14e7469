"""What the pages' charts are drawn from: the range a request asks for, the history charts of an
app and an edge, and the sparklines of the rows of a list (one query for all the rows shown)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from django.utils.safestring import SafeString

from dashboard.models import App
from edges.chart_svg import history_chart, sparkline
from edges.charts import (
    RANGES,
    Selection,
    app_history,
    edge_history,
    range_from,
    sparkline_points,
)
from edges.models import Edge


def _ranges(current: str) -> list[dict[str, Any]]:
    return [{"key": r.key, "short": r.short, "current": r.key == current} for r in RANGES.values()]


def app_chart_context(request: HttpRequest, app: App) -> dict[str, Any]:
    chart_range = range_from(request.GET.get("range"))
    now = timezone.now()
    points = app_history(app, chart_range, now)
    return {
        "chart_range": chart_range,
        "chart_now": now,
        "chart_ranges": _ranges(chart_range.key),
        "chart_scope": "all edges",
        "chart": history_chart(
            points, chart_range, f"connections of {app.name}", now, f"app-{app.name}-chart"
        ),
    }


def edge_chart_context(
    request: HttpRequest, edge: Edge, organizations: frozenset[int] | None
) -> dict[str, Any]:
    """`organizations`: those whose apps the viewer sees (None: all); a customer on a shared
    gateway sees the history of their own apps only."""
    chart_range = range_from(request.GET.get("range"))
    now = timezone.now()
    points = edge_history(edge.pk, organizations, chart_range, now)
    share = organizations is not None and edge.kind == Edge.Kind.GATEWAY
    whose = " of your apps" if share else ""
    return {
        "chart_range": chart_range,
        "chart_now": now,
        "chart_ranges": _ranges(chart_range.key),
        "chart_scope": "your apps" if share else "all apps",
        "chart": history_chart(
            points,
            chart_range,
            f"connections{whose} through {edge.name}",
            now,
            f"edge-{edge.name}-chart",
        ),
    }


def sparklines(
    *,
    app_ids: Iterable[int] = (),
    edge_ids: Iterable[int] = (),
    organizations: frozenset[int] | None = None,
) -> dict[str, dict[int, SafeString]]:
    """A sparkline per app and per edge shown, by id ("app_sparks", "edge_sparks"); an edge's
    counts the apps of `organizations` (None: all). One query for every row."""
    now = timezone.now()
    apps, edges = tuple(app_ids), tuple(edge_ids)
    selections = [Selection("app_id", apps), Selection("edge_id", edges, organizations)]
    app_points, edge_points = sparkline_points(selections, now)
    return {
        "app_sparks": {i: sparkline(app_points.get(i, []), now) for i in apps},
        "edge_sparks": {i: sparkline(edge_points.get(i, []), now) for i in edges},
    }
