"""The app page and its panels."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from dashboard.models import App, AuditEvent, Membership
from dashboard.models.features import app_feature_states, websockets_ga_start
from edges.charts import LAST_DAY, LAST_HOUR, connections_chart
from edges.counts import app_live
from edges.models import Edge, EdgeUpgrade
from edges.services.readiness import app_readiness

ACTIVITY_LIMIT = 20


def app_feature_rows(app: App, user: Any) -> list[dict[str, Any]]:
    """The catalog for this app, and whether this user gets a switch for each feature."""
    is_member = Membership.objects.filter(user=user, organization_id=app.organization_id).exists()
    rows = []
    for state in app_feature_states(app):
        switchable = bool(user.is_staff or (is_member and state.feature.self_serve))
        rows.append({"state": state, "switchable": switchable})
    return rows


def render_app_page(
    request: HttpRequest,
    app: App,
    *,
    status: int = 200,
    error: Any = None,
    notice: str = "",
    backend_error: str = "",
    backend_notice: str = "",
    backend_value: str = "",
) -> HttpResponse:
    """The app page, or only its features panel for htmx requests."""
    domains = list(app.domains.select_related("edge").order_by("kind", "hostname"))
    legacy_edges = sorted(
        {
            d.edge
            for d in domains
            if d.edge.kind == Edge.Kind.CUSTOM_SSL and not d.edge.carries_websockets
        },
        key=lambda edge: edge.name,
    )
    _enabled, readiness = app_readiness(app)
    open_upgrades = set(
        EdgeUpgrade.objects.open()
        .filter(edge__in=legacy_edges)
        .values_list("edge__name", flat=True)
    )
    context = {
        "app": app,
        "domains": domains,
        "readiness": readiness,
        "live": app_live(app),
        "chart_hour": connections_chart(app, LAST_HOUR),
        "chart_day": connections_chart(app, LAST_DAY),
        "open_upgrades": open_upgrades,
        "legacy_edges": legacy_edges,
        "feature_rows": app_feature_rows(app, request.user),
        "feature_error": error,
        "feature_notice": notice,
        "activity": AuditEvent.objects.filter(app=app).select_related("app")[:ACTIVITY_LIMIT],
        "ga_date": websockets_ga_start().date(),
        "reason_required": request.user.is_staff,
        "backends": list(app.backends.all()),
        "backend_error": backend_error,
        "backend_notice": backend_notice,
        "backend_value": backend_value,
    }
    template = "dashboard/app_detail.html"
    if request.htmx and request.htmx.target == "app-charts":
        template += "#app-charts"
    elif request.htmx and request.htmx.target == "backends-panel":
        template += "#backends-panel"
    elif request.htmx:
        template += "#features-panel"
    return render(request, template, context, status=status)


@require_GET
def app_detail(request: HttpRequest, name: str) -> HttpResponse:
    app = get_object_or_404(
        App.objects.visible_to(request.user).select_related("organization"), name=name
    )
    return render_app_page(request, app)
