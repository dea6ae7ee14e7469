"""The dashboard's pages: overview, organization and app."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib.auth.decorators import login_not_required
from django.db.models import (
    BooleanField,
    Count,
    ExpressionWrapper,
    FilteredRelation,
    Q,
    QuerySet,
    Value,
)
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from dashboard import access
from dashboard.models import App, Domain, Membership, Organization
from edges.counts import apps_live, organization_live
from edges.models import Edge
from live.ordering import PLATFORM_TABLES, order_from
from live.panels import (
    apps_with_summary,
    mark_websockets,
    organization_activity,
    organization_edges,
)
from live.renderers import ordered_platform_live
from pages.history import sparklines
from pages.tables import TABLES, paginate

APPS_PER_PAGE = 50
SIDE_LIST_LIMIT = 50
ACTIVITY_LIMIT = 20


def _search_term(request: HttpRequest) -> str:
    return request.GET.get("q", "").strip()[:100]


def _search(term: str) -> Q:
    """The apps a search term finds: by name, organization, domain or member."""
    by_domain = Domain.objects.filter(hostname__icontains=term).values("app_id")
    by_member = Membership.objects.filter(
        Q(user__email__icontains=term) | Q(user__username__icontains=term)
    ).values("organization_id")
    return (
        Q(name__icontains=term)
        | Q(organization__name__icontains=term)
        | Q(id__in=by_domain)
        | Q(organization_id__in=by_member)
    )


def _summarized(order_by: list[str]) -> Callable[[QuerySet[App]], list[App]]:
    """The page's apps with their summaries, read by id: the summaries' subqueries run for the
    rows shown, not for every row a deep page's OFFSET skips."""

    def load(rows: QuerySet[App]) -> list[App]:
        shown = App.objects.filter(pk__in=rows.values("pk"))
        return mark_websockets(list(apps_with_summary(shown).order_by(*order_by)))

    return load


def _customer_apps(user: Any, term: str, order_by: list[str]) -> tuple[list[App], list[App]]:
    """Every app of the customer's organizations in the table's order, and those the search
    finds. The live numbers list them all anyway, so one query gives those, the page and its
    count."""
    apps = apps_with_summary(App.objects.visible_to(user))
    if term:
        apps = apps.annotate(found=ExpressionWrapper(_search(term), output_field=BooleanField()))
    every = mark_websockets(list(apps.order_by(*order_by)))
    return every, [a for a in every if a.found] if term else every  # type: ignore[attr-defined]


def _customer_edges(user: Any, apps: list[App]) -> list[Edge]:
    """The edges carrying the customer's traffic, each with the number of domains of `apps` (the
    customer's, already read) on it. A join on those apps' domains, not a count per edge: that
    walked every domain of a shared gateway, the whole platform's, to keep the customer's."""
    edges = Edge.objects.visible_to(user).select_related("organization")
    if apps:
        theirs = Q(domains__app_id__in=[app.pk for app in apps])
        edges = edges.annotate(theirs=FilteredRelation("domains", condition=theirs)).annotate(
            domain_count=Count("theirs")
        )
    else:
        # An empty IN would empty the whole list: the shared gateways still show, with none.
        edges = edges.annotate(domain_count=Value(0))
    return list(edges[:SIDE_LIST_LIMIT])


@require_GET
def overview(request: HttpRequest) -> HttpResponse:
    """Staff: live platform numbers, every app (searchable) and organization. Customers: their
    apps and the edges carrying them. A constant number of queries however many apps exist."""
    user = request.user
    term = _search_term(request)
    sorting = TABLES["apps"].sorting(request.GET)
    support = access.is_support(user)
    if support:
        apps = App.objects.visible_to(user)
        if term:
            apps = apps.filter(_search(term))
        if sorting.key == "domains":
            apps = apps.annotate(domain_count=Domain.objects.count_per("app"))
        rows, load = apps.order_by(*sorting.order_by), _summarized(sorting.order_by)
    else:
        every, rows = _customer_apps(user, term, sorting.order_by)
        load = None
    page = paginate(rows, request.GET, APPS_PER_PAGE, "apps", load=load)
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
    if support:
        organizations = Organization.objects.all()
        if term:
            organizations = organizations.filter(
                Q(name__icontains=term) | Q(display_name__icontains=term)
            )
        organizations = organizations.annotate(
            app_count=Count("apps", distinct=True),
            member_count=Count("memberships", distinct=True),
        )
        live_order = order_from(request.GET, PLATFORM_TABLES)
        platform, edges_page = ordered_platform_live(live_order)
        context["platform"], context["live_order"] = platform, live_order
        context["live_pages"] = {"edges": edges_page}
        # Sparklines only for the rows on this page: one query, whatever the platform's size.
        context.update(sparklines(app_ids=app_ids, edge_ids=[c.edge.pk for c in platform.edges]))
        context["organizations"] = list(organizations[:SIDE_LIST_LIMIT])
    else:
        own = list(Organization.objects.visible_to(user))
        # On shared gateways a customer counts only their own domains.
        context["edges"] = _customer_edges(user, every)
        edge_ids = [e.pk for e in context["edges"]]
        organization_ids = frozenset(o.pk for o in own)
        context.update(
            sparklines(app_ids=app_ids, edge_ids=edge_ids, organizations=organization_ids)
        )
        context["organizations"] = own
        per_organization: dict[int, list[App]] = {o.pk: [] for o in own}
        for app in every:
            per_organization.setdefault(app.organization_id, []).append(app)
        context["org_lives"] = [(org, apps_live(per_organization[org.pk])) for org in own]
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
        "org_live": organization_live(organization),
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
