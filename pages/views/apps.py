"""The app page, built from one context per panel; htmx requests get the panel they target."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from dashboard import access
from dashboard.models import App, AuditEvent
from dashboard.services.apps import backend_removal, may_restore_backend
from dashboard.services.domains import domain_removal, may_restore_domain
from dashboard.services.features import legacy_ssl_edges
from dashboard.services.undo import undo_deadline
from live.ordering import APP_TABLES, LiveOrder, order_from, ordered_page
from live.panels import (
    APP_TEMPLATE,
    backends_context,
    domains_context,
    features_context,
    readiness_context,
)
from live.renderers import ordered_app_live
from pages.history import app_chart_context

TEMPLATE = APP_TEMPLATE


def page_order(request: HttpRequest) -> LiveOrder | None:
    """The order (and page) the app page picked for one of its live tables: from its URL, or,
    for a form the page posted with htmx, from the page's URL (HX-Current-URL)."""
    query = request.GET
    if request.htmx and request.htmx.current_url:
        query = QueryDict(urlsplit(request.htmx.current_url).query)
    return order_from(query, APP_TABLES)


def collaborators_context(app: App, order: LiveOrder | None = None) -> dict[str, Any]:
    """Who can reach the app: its organization's members, their roles and what each may do
    (owners first, by name, unless the page sorted them otherwise)."""
    memberships = app.organization.memberships.select_related("user")
    rows = [(m, access.member_app_permissions(m.role)) for m in memberships]
    table = APP_TABLES["people"]
    page = ordered_page(sorted(rows, key=table.columns[table.default].value), table, order)
    return {
        "collaborators": page.rows,
        "collaborator_page": page,
        "app_permissions": access.APP_PERMISSIONS,
    }


def domain_form_context(
    *,
    error: str = "",
    notice: str = "",
    value: str = "",
    confirm: str = "",
    undo: AuditEvent | None = None,
    undo_error: str = "",
) -> dict[str, Any]:
    """What the domains panel shows after the viewer's own add, remove or undo (the panel's
    pushes carry none of it: the page keeps it, static/js/live.js)."""
    return {
        "domain_error": error,
        "domain_notice": notice,
        "domain_value": value,
        "domain_confirm": confirm,
        "domain_undo": undo,
        "domain_undo_until": undo_deadline(undo.created_at) if undo else None,
        "domain_undo_error": undo_error,
    }


def page_context(
    request: HttpRequest,
    app: App,
    *,
    features: dict[str, Any] | None = None,
    backends: dict[str, Any] | None = None,
    domain_form: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Every panel of the page; a form posted without JavaScript passes its own panel's state."""
    legacy_edges = legacy_ssl_edges(app)
    live_order = page_order(request)
    live, live_pages = ordered_app_live(app, live_order)
    return {
        "app": app,
        **domains_context(app, live_order),
        **(domain_form or domain_form_context()),
        "legacy_edges": legacy_edges,
        "live": live,
        "live_order": live_order,
        "live_pages": live_pages,
        **app_chart_context(request, app),
        **readiness_context(app, legacy_edges),
        **collaborators_context(app, live_order),
        **(features or features_context(request.user, app)),
        **(backends or backends_panel_context(request.user, app)),
    }


def backends_panel_context(
    user: Any,
    app: App,
    *,
    removal: AuditEvent | None = None,
    undo_error: str = "",
    **state: str,
) -> dict[str, Any]:
    """The back-ends panel, with the undo of a removal the viewer has just made."""
    undo = removal if may_restore_backend(user, removal) else None
    return {
        **backends_context(user, app, **state),
        "backend_undo": undo,
        "backend_undo_until": undo_deadline(undo.created_at) if undo else None,
        "backend_undo_error": undo_error,
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
    removal: AuditEvent | None = None,
    undo_error: str = "",
) -> HttpResponse:
    """The back-ends panel after a change: alone for htmx, else inside the whole page."""
    backends = backends_panel_context(
        request.user,
        app,
        removal=removal,
        undo_error=undo_error,
        error=error,
        notice=notice,
        value=value,
        confirm=confirm,
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
    # Back from removing a back-end or a domain without JavaScript: the panel offers an undo.
    removal = backend_removal(app, request.GET["removed"]) if "removed" in request.GET else None
    if removal is not None:
        return render_backends_panel(request, app, removal=removal)
    removal = domain_removal(app, request.GET.get("domain_removed", ""))
    if removal is not None:
        return render_domains_panel(request, app, removal=removal)
    return render(request, TEMPLATE, page_context(request, app))


def render_domains_panel(
    request: HttpRequest,
    app: App,
    *,
    status: int = 200,
    removal: AuditEvent | None = None,
    **form: str,
) -> HttpResponse:
    """The domains panel after the viewer's add, remove or undo: alone for htmx, else the
    page. A removal the viewer may still undo comes with its Undo button."""
    undo = removal if may_restore_domain(request.user, app, removal) else None
    domain_form = domain_form_context(undo=undo, **form)
    if request.htmx:
        order = page_order(request)
        context = {"app": app, **domains_context(app, order), **domain_form, "live_order": order}
        return render(request, f"{TEMPLATE}#domains-panel", context, status=status)
    context = page_context(request, app, domain_form=domain_form)
    return render(request, TEMPLATE, context, status=status)
