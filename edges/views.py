"""Edge pages."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from dashboard.models import Domain
from edges.capabilities import CAPABILITIES
from edges.models import Certificate, Edge


@require_GET
def edge_detail(request: HttpRequest, name: str) -> HttpResponse:
    edge = get_object_or_404(
        Edge.objects.visible_to(request.user).select_related("organization"), name=name
    )
    # On a shared gateway a customer sees only their own domains.
    domains = (
        Domain.objects.visible_to(request.user)
        .filter(edge=edge)
        .select_related("app", "app__organization")
        .order_by("app__name", "hostname")
    )
    certificate = Certificate.objects.filter(edge=edge).first()
    context = {
        "edge": edge,
        "domains": domains,
        "app_count": len({d.app_id for d in domains}),
        "certificate": certificate,
        "capabilities": edge.capabilities,
        "all_capabilities": CAPABILITIES.values(),
    }
    return render(request, "edges/edge_detail.html", context)
