"""Edge pages and the upgrade workflow's forms."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from dashboard import access
from dashboard.models import AuditEvent, visible_organization_ids
from edges.capabilities import CAPABILITIES
from edges.counts import edge_live
from edges.models import Certificate, Edge, EdgeUpgrade
from edges.services.proxy_config import CONTENT_TYPES, ConfigError
from edges.services.proxy_config import render as render_edge_config
from edges.services.upgrades import (
    TRANSITIONS,
    UpgradeConflict,
    upgrade_request,
    upgrade_transition,
)
from live.panels import (
    EDGE_PAGE_DOMAINS,
    edge_carried_domains,
    edge_domain_counts,
    edge_domains,
    upgrade_context,
    upgrade_queue_context,
)


@require_GET
def edge_detail(request: HttpRequest, name: str) -> HttpResponse:
    edge = get_object_or_404(
        Edge.objects.visible_to(request.user).select_related("organization"), name=name
    )
    user = request.user
    upgrade = upgrade_context(user, edge, edge_carried_domains(user, edge))
    context = {
        "edge": edge,
        "domains": edge_domains(user, edge, limit=EDGE_PAGE_DOMAINS),
        **edge_domain_counts(user, edge),
        "certificate": Certificate.objects.filter(edge=edge).first(),
        "capabilities": edge.capabilities,
        "all_capabilities": CAPABILITIES.values(),
        "live": edge_live(edge, visible_organization_ids(user)),
        **upgrade,
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
    return render(request, "edges/upgrade_list.html", upgrade_queue_context())


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
