"""Edge pages and the upgrade workflow's forms."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from dashboard import access
from dashboard.models import App, AuditEvent, Domain
from edges.capabilities import CAPABILITIES, capabilities_of
from edges.counts import edge_live
from edges.models import Certificate, Edge, EdgeUpgrade
from edges.services.proxy_config import CONTENT_TYPES, ConfigError
from edges.services.proxy_config import render as render_edge_config
from edges.services.upgrades import (
    TRANSITIONS,
    UpgradeConflict,
    may_request_upgrade,
    upgrade_request,
    upgrade_transition,
)

CAPABILITY_ROWS = [
    ("websockets_detail", "WebSocket"),
    ("wss", "wss://"),
    ("gzip", "gzip"),
    ("dead_backend_detection", "Dead back-end detection"),
    ("on_dead_backend", "On a dead back-end"),
]


def _shown(value: object) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def upgrade_changes(edge: Edge) -> list[dict[str, object]]:
    """The capability rows before and after a move to Hipache, differences marked."""
    before, after = edge.capabilities, capabilities_of(EdgeUpgrade.TARGET_PROXY)
    rows = []
    for field, label in CAPABILITY_ROWS:
        old, new = _shown(getattr(before, field)), _shown(getattr(after, field))
        rows.append({"label": label, "before": old, "after": new, "changed": old != new})
    return rows


@require_GET
def edge_detail(request: HttpRequest, name: str) -> HttpResponse:
    edge = get_object_or_404(
        Edge.objects.visible_to(request.user).select_related("organization"), name=name
    )
    # On a shared gateway a customer sees only their own domains.
    domains = list(
        Domain.objects.visible_to(request.user)
        .filter(edge=edge)
        .select_related("app", "app__organization")
        .order_by("app__name", "hostname")
    )
    upgrades = list(edge.upgrades.select_related("requested_by"))
    open_upgrade = next((u for u in upgrades if u.is_open), None)
    user = request.user
    may_request = may_request_upgrade(user, edge, open_upgrade)
    actions = []
    if open_upgrade is not None and access.can_step_upgrade(user):
        actions = [a for a, (allowed, _) in TRANSITIONS.items() if open_upgrade.state in allowed]
    context = {
        "edge": edge,
        "domains": domains,
        "app_count": len({d.app_id for d in domains}),
        "certificate": Certificate.objects.filter(edge=edge).first(),
        "capabilities": edge.capabilities,
        "all_capabilities": CAPABILITIES.values(),
        "live": edge_live(edge, App.objects.visible_to(user)),
        "upgrades": upgrades,
        "open_upgrade": open_upgrade,
        "may_request": may_request,
        "upgrade_actions": actions,
        "changes": upgrade_changes(edge) if not edge.carries_websockets else [],
        "affected_apps": sorted({d.app.name for d in domains if d.kind == Domain.Kind.CUSTOM}),
    }
    return render(request, "edges/edge_detail.html", context)


@require_POST
def upgrade_create(request: HttpRequest, name: str) -> HttpResponse:
    edge = get_object_or_404(Edge.objects.visible_to(request.user), name=name)
    try:
        upgrade_request(
            edge=edge,
            actor=request.user,
            source=AuditEvent.Source.WEB,
            note=request.POST.get("note", ""),
        )
    except PermissionDenied:
        raise Http404 from None
    except (UpgradeConflict, ValidationError) as error:
        messages.error(request, _message(error))
    else:
        messages.success(
            request,
            f"WebSocket support requested for {edge.name}. Support will "
            "schedule the upgrade and keep you posted here.",
        )
    return redirect(f"{edge.get_absolute_url()}#upgrade")


def _parse_window(value: str) -> dt.datetime | None:
    if not value:
        return None
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        raise ValidationError({"scheduled_for": "Give the window as a date and time."}) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


@require_POST
def upgrade_step(request: HttpRequest, name: str, pk: int, action: str) -> HttpResponse:
    if not access.can_step_upgrade(request.user):
        raise Http404
    upgrade = get_object_or_404(EdgeUpgrade.objects.filter(edge__name=name), pk=pk)
    if action not in TRANSITIONS:
        raise Http404
    try:
        upgrade_transition(
            upgrade=upgrade,
            action=action,
            actor=request.user,
            source=AuditEvent.Source.WEB,
            scheduled_for=_parse_window(request.POST.get("scheduled_for", "")),
            note=request.POST.get("note", ""),
            new_hostname=request.POST.get("new_hostname", ""),
        )
    except (UpgradeConflict, ValidationError) as error:
        messages.error(request, _message(error))
    else:
        upgrade.refresh_from_db()
        messages.success(
            request,
            f"Upgrade #{upgrade.pk} of {name} is now {upgrade.get_state_display().lower()}.",
        )
    return redirect(f"{upgrade.edge.get_absolute_url()}#upgrade")


@require_GET
def upgrade_queue(request: HttpRequest) -> HttpResponse:
    if not access.can_search_platform(request.user):
        raise Http404
    upgrades = EdgeUpgrade.objects.select_related("edge", "edge__organization", "requested_by")
    context = {
        "open": [u for u in upgrades.open().order_by("created_at")],
        "recent": upgrades.exclude(state__in=EdgeUpgrade.OPEN_STATES)[:20],
    }
    return render(request, "edges/upgrade_list.html", context)


def _message(error: Exception) -> str:
    if isinstance(error, UpgradeConflict):
        return error.message
    if isinstance(error, ValidationError):
        return " ".join(error.messages)
    return str(error)


@require_GET
def proxy_config_page(request: HttpRequest, name: str) -> HttpResponse:
    """Staff read the configuration the edge's agent is served, as plain text."""
    if not access.can_read_proxy_config(request.user):
        raise Http404
    edge = get_object_or_404(Edge, name=name)
    fmt = request.GET.get("format", "haproxy")
    try:
        body = render_edge_config(edge, fmt)
    except ConfigError as invalid:
        return HttpResponse(str(invalid), status=400, content_type="text/plain; charset=utf-8")
    return HttpResponse(body, content_type=CONTENT_TYPES[fmt])
