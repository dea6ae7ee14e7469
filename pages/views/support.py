"""Support staff's tools: find any app by name, hostname or member."""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from dashboard import access
from dashboard.models import App, Domain, Membership
from live.panels import apps_with_summary, legacy_edges, mark_websockets, support_activity
from pages.history import sparklines
from pages.tables import TABLES

RESULT_LIMIT = 50


def _staff_only(request: HttpRequest) -> None:
    if not access.can_search_platform(request.user):
        raise Http404


@require_GET
def support(request: HttpRequest) -> HttpResponse:
    """Find any app by its name, one of its hostnames or a member's e-mail."""
    _staff_only(request)
    term = request.GET.get("q", "").strip()[:100]
    sorting = TABLES["apps"].sorting(request.GET)
    results: list[App] = []
    if term:
        domain_hits = Domain.objects.filter(hostname__icontains=term)
        member_hits = Membership.objects.filter(
            Q(user__email__icontains=term) | Q(user__username__icontains=term)
        ).select_related("user")
        apps = apps_with_summary(
            App.objects.filter(
                Q(name__icontains=term)
                | Q(id__in=domain_hits.values("app_id"))
                | Q(organization_id__in=member_hits.values("organization_id"))
            )
        ).prefetch_related(
            Prefetch("domains", queryset=domain_hits.select_related("edge"), to_attr="hits"),
            Prefetch("organization__memberships", queryset=member_hits, to_attr="member_hits"),
        )
        results = mark_websockets(list(apps.order_by(*sorting.order_by)[:RESULT_LIMIT]))
    context: dict[str, Any] = {
        "term": term,
        "results": results,
        "sorting": sorting,
        "result_limit": RESULT_LIMIT,
    }
    if request.htmx and request.htmx.target == "support-results":
        return render(request, "dashboard/support.html#support-results", context)
    edges = legacy_edges()
    context.update(legacy_edges=edges, recent=support_activity())
    context.update(sparklines(edge_ids=[e.pk for e in edges]))
    return render(request, "dashboard/support.html", context)
