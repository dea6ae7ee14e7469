"""The app page, built from one context per panel; htmx requests get the panel they target."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from dashboard.models import App
from dashboard.services.features import legacy_ssl_edges
from edges.counts import app_live
from live.panels import (
    APP_TEMPLATE,
    backends_context,
    domains_context,
    features_context,
    readiness_context,
)
from pages.history import app_chart_context

TEMPLATE = APP_TEMPLATE


def page_context(
    request: HttpRequest,
    app: App,
    *,
    features: dict[str, Any] | None = None,
    backends: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Every panel of the page; a form posted without JavaScript passes its own panel's state."""
    legacy_edges = legacy_ssl_edges(app)
    return {
        "app": app,
        **domains_context(app),
        "legacy_edges": legacy_edges,
        "live": app_live(app),
        **app_chart_context(request, app),
        **readiness_context(app, legacy_edges),
        **(features or features_context(request.user, app)),
        **(backends or backends_context(request.user, app)),
    }


def render_features_panel(
    request: HttpRequest, app: App, *, status: int = 200, error: Any = None, notice: str = ""
) -> HttpResponse:
    """The features panel after a switch: alone for htmx, else inside the whole page."""
    features = features_context(request.user, app, error=error, notice=notice)
    if request.htmx:
        context = {"app": app, **features}
        return render(request, f"{TEMPLATE}#features-panel", context, status=status)
    return render(request, TEMPLATE, page_context(request, app, features=features), status=status)


def render_backends_panel(
    request: HttpRequest,
    app: App,
    *,
    status: int = 200,
    error: str = "",
    notice: str = "",
    value: str = "",
    confirm: str = "",
) -> HttpResponse:
    """The back-ends panel after a change: alone for htmx, else inside the whole page."""
    backends = backends_context(
        request.user, app, error=error, notice=notice, value=value, confirm=confirm
    )
    if request.htmx:
        context = {"app": app, **backends}
        return render(request, f"{TEMPLATE}#backends-panel", context, status=status)
    return render(request, TEMPLATE, page_context(request, app, backends=backends), status=status)


@require_GET
def app_detail(request: HttpRequest, name: str) -> HttpResponse:
    app = get_object_or_404(
        App.objects.visible_to(request.user).select_related("organization"), name=name
    )
    target = request.htmx.target if request.htmx else None
    if target == "app-charts":
        context = {"app": app, **app_chart_context(request, app)}
        return render(request, f"{TEMPLATE}#app-charts", context)
    if target == "backends-panel":
        return render_backends_panel(request, app)
    if request.htmx:
        return render_features_panel(request, app)
    return render(request, TEMPLATE, page_context(request, app))
