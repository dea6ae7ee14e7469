"""Switching an app's features from its page, with or without JavaScript."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_POST

from dashboard.models import App, AuditEvent, Feature
from dashboard.services.features import FeatureRefused, feature_set
from edges.models import Edge
from edges.services.upgrades import progress
from pages.views.apps import render_features_panel


@dataclass(frozen=True)
class BlockingEdge:
    """An edge that keeps a feature off, and where its upgrade stands ("" when none is open)."""

    edge: Edge
    upgrade_progress: str = ""


def _blocking(edges: list[Edge]) -> tuple[BlockingEdge, ...]:
    return tuple(
        BlockingEdge(edge=edge, upgrade_progress=progress(upgrade) if upgrade else "")
        for edge in edges
        for upgrade in [edge.upgrades.open().first()]
    )


@dataclass(frozen=True)
class FeatureError:
    feature: str
    message: str
    field: str = ""
    blocking_edges: tuple[BlockingEdge, ...] = ()


def _parse_toggle(value: str) -> tuple[str, bool] | None:
    name, _, state = value.partition(":")
    if state not in ("on", "off") or not name:
        return None
    return name, state == "on"


@require_POST
def app_feature_toggle(request: HttpRequest, name: str) -> HttpResponse:
    app = get_object_or_404(App.objects.visible_to(request.user), name=name)
    parsed = _parse_toggle(request.POST.get("toggle", ""))
    if parsed is None:
        return render_features_panel(
            request,
            app,
            status=400,
            error=FeatureError(feature="", message="Choose a feature to switch on or off."),
        )
    feature = get_object_or_404(Feature.objects.filter(scope=Feature.Scope.APP), name=parsed[0])
    enabled = parsed[1]
    reason = request.POST.get("reason", "")[:500]
    try:
        change = feature_set(
            app=app,
            feature=feature,
            enabled=enabled,
            actor=request.user,
            source=AuditEvent.Source.WEB,
            reason=reason,
            reason_shared=request.POST.get("reason_shared") == "on",
        )
    except FeatureRefused as refusal:
        error = FeatureError(
            feature=feature.name,
            message=refusal.messages[0],
            blocking_edges=_blocking(refusal.blocking_edges),
        )
        return render_features_panel(request, app, status=422, error=error)
    except PermissionDenied as denied:
        error = FeatureError(feature=feature.name, message=str(denied))
        return render_features_panel(request, app, status=403, error=error)
    except ValidationError as invalid:
        field = "reason" if "reason" in getattr(invalid, "error_dict", {}) else ""
        error = FeatureError(feature=feature.name, message=invalid.messages[0], field=field)
        return render_features_panel(request, app, status=422, error=error)
    verb = "Enabled" if enabled else "Disabled"
    notice = (
        f"{verb} {feature.name} for {app.name}."
        if change.changed
        else f"{feature.name} was already {'on' if enabled else 'off'} for {app.name}."
    )
    if request.htmx:
        return render_features_panel(request, app, notice=notice)
    messages.success(request, notice)
    return redirect(f"{app.get_absolute_url()}#features")
