"""The dashboard's pages: overview, organization and app."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_not_required
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from dashboard import access
from dashboard.models import App, Domain, Membership, Organization
from edges.counts import organization_live, platform_live
from edges.models import Edge
from live.panels import (
    apps_with_summary,
    mark_websockets,
    organization_activity,
    organization_edges,
)
from pages.history import sparklines
from pages.tables import TABLES, paginate

APPS_PER_PAGE = 50
SIDE_LIST_LIMIT = 50
ACTIVITY_LIMIT = 20


def _search_term(request: HttpRequest) -> str:
    return request.GET.get("q", "").strip()[:100]


def _app_search(apps: QuerySet[App], term: str) -> QuerySet[App]:
    if not term:
        return apps
    by_domain = Domain.objects.filter(hostname__icontains=term).values("app_id")
    by_member = Membership.objects.filter(
        Q(user__email__icontains=term) | Q(user__username__icontains=term)
    ).values("organization_id")
    return apps.filter(
        Q(name__icontains=term)
        | Q(organization__name__icontains=term)
        | Q(id__in=by_domain)
        | Q(organization_id__in=by_member)
    )


@require_GET
def overview(request: HttpRequest) -> HttpResponse:
    """Staff: live platform numbers, every app (searchable) and organization. Customers: their
    apps and the edges carrying them. A constant number of queries however many apps exist."""
    user = request.user
    term = _search_term(request)
    sorting = TABLES["apps"].sorting(request.GET)
    apps = _app_search(apps_with_summary(App.objects.visible_to(user)), term)
    page = paginate(apps.order_by(*sorting.order_by), request.GET, APPS_PER_PAGE, "apps")
    mark_websockets(page.object_list)
    context: dict[str, Any] = {
        "term": term,
        "page": page,
        "sorting": sorting,
        "side_list_limit": SIDE_LIST_LIMIT,
    }
    app_ids = [a.pk for a in page.object_list]
    if request.htmx and request.htmx.target == "results":
        context.update(sparklines(app_ids=app_ids))
        return render(request, "dashboard/overview.html#results", context)
    if access.is_support(user):
        organizations = Organization.objects.all()
        if term:
            organizations = organizations.filter(
                Q(name__icontains=term) | Q(display_name__icontains=term)
            )
        organizations = organizations.annotate(
            app_count=Count("apps", distinct=True),
            member_count=Count("memberships", distinct=True),
        )
        platform = platform_live()
        context["platform"] = platform
        # Sparklines only for the rows on this page: one query, whatever the platform's size.
        context.update(sparklines(app_ids=app_ids, edge_ids=[c.edge.pk for c in platform.edges]))
        context["organizations"] = list(organizations[:SIDE_LIST_LIMIT])
    else:
        # On shared gateways a customer counts only their own domains.
        edges = (
            Edge.objects.visible_to(user)
            .select_related("organization")
            .annotate(domain_count=Domain.objects.visible_to(user).count_per("edge"))
        )
        own = list(Organization.objects.visible_to(user))
        context["edges"] = list(edges[:SIDE_LIST_LIMIT])
        edge_ids = [e.pk for e in context["edges"]]
        organization_ids = frozenset(o.pk for o in own)
        context.update(
            sparklines(app_ids=app_ids, edge_ids=edge_ids, organizations=organization_ids)
        )
        context["organizations"] = own
        context["org_lives"] = [(org, organization_live(org)) for org in own]
    return render(request, "dashboard/overview.html", context)


@require_GET
def organization_detail(request: HttpRequest, name: str) -> HttpResponse:
    organization = get_object_or_404(Organization.objects.visible_to(request.user), name=name)
    sorting = TABLES["apps"].sorting(request.GET)
    apps = apps_with_summary(organization.apps.all()).order_by(*sorting.order_by)
    page = paginate(apps, request.GET, APPS_PER_PAGE, "apps")
    mark_websockets(page.object_list)
    edges = organization_edges(organization)
    context = {
        "organization": organization,
        "page": page,
        "memberships": organization.memberships.select_related("user").order_by(
            "role", "user__username"
        ),
        "org_apps": organization_live(organization),
        # The same builders as the page's pushes (live.panels): everyone who may see the
        # organization sees all of its edges and activity (support's reasons: support only).
        "edges": edges,
        **sparklines(app_ids=[a.pk for a in page.object_list], edge_ids=[e.pk for e in edges]),
        "activity": organization_activity(organization),
    }
    return render(request, "dashboard/organization_detail.html", context)


@login_not_required
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})
