"""The panels of a page that change while it is open, each a named partial with the context it is
rendered from for one viewer. The page renders them in place; the hub renders the ones an event
changed and pushes them to the open pages, where htmx swaps each element by its id. One builder
per panel, so a page and its pushes never disagree.

What a panel shows depends on the viewer only through their role (support or a member of the
app's organization: who may switch which feature, who may change back-ends), so every viewer of
one audience gets the same render.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from django.db.models import Count, OuterRef, Prefetch, QuerySet, Subquery
from django.template.loader import render_to_string
from django.utils import timezone

from dashboard import access
from dashboard.models import App, AppFeature, AuditEvent, Domain, Organization
from dashboard.models.features import (
    WEBSOCKETS,
    app_feature_states,
    websockets_ga_start,
    websockets_on,
)
from dashboard.services.features import legacy_ssl_edges
from edges.capabilities import CAPABILITIES, capabilities_of
from edges.directories import edges_directory
from edges.models import Edge, EdgeUpgrade
from edges.services.readiness import app_readiness
from edges.services.upgrades import (
    TRANSITIONS,
    may_request_upgrade,
    starts_early,
    window_overdue,
)
from live import events
from live.cells import Rendered
from live.ordering import APP_TABLES, LiveOrder, ordered_page
from live.renderers import app_live_numbers, edge_live_numbers

APP_TEMPLATE = "dashboard/app_detail.html"
OVERVIEW_TEMPLATE = "dashboard/overview.html"
EDGE_TEMPLATE = "edges/edge_detail.html"
ACTIVITY_LIMIT = 20
# Forms in a pushed panel carry this in place of the CSRF token, which only a request has; the
# page puts its own token in (static/js/live.js) before htmx swaps the panel in.
CSRF_PLACEHOLDER = "from-the-page"


def features_context(user: Any, app: App, *, error: Any = None, notice: str = "") -> dict[str, Any]:
    """The catalog for this app, with a switch where this user may use one, and its activity."""
    rows = [
        {"state": state, "switchable": access.can_switch_feature(user, app, state.feature)}
        for state in app_feature_states(app)
    ]
    return {
        "feature_rows": rows,
        "feature_error": error,
        "feature_notice": notice,
        "reason_required": access.reason_required(user),
        "ga_date": websockets_ga_start().date(),
        "activity": AuditEvent.objects.filter(app=app).select_related("app")[:ACTIVITY_LIMIT],
    }


def backends_context(
    user: Any, app: App, *, error: str = "", notice: str = "", value: str = "", confirm: str = ""
) -> dict[str, Any]:
    """`confirm`: the address whose removal the panel asks about (a form sent without
    JavaScript's confirmation)."""
    return {
        "backends": list(app.backends.all()),
        "may_change_backends": access.can_change_backends(user),
        "backend_error": error,
        "backend_notice": notice,
        "backend_value": value,
        "backend_confirm": confirm,
    }


def readiness_context(app: App, legacy_edges: list[Any]) -> dict[str, Any]:
    _enabled, readiness = app_readiness(app)
    open_upgrades = set(
        EdgeUpgrade.objects.open()
        .filter(edge__in=legacy_edges)
        .values_list("edge__name", flat=True)
    )
    return {"readiness": readiness, "open_upgrades": open_upgrades}


def domains_context(app: App, order: LiveOrder | None = None) -> dict[str, Any]:
    """Every domain of the app (the removal form lists them) and the page of its table in the
    order the URL picked (live.ordering)."""
    domains = list(app.domains.select_related("edge").order_by("kind", "hostname"))
    table = APP_TABLES["domains"]
    return {
        "domains": domains,
        "domain_page": ordered_page(domains, table, order),
    }


def _legacy(context: dict[str, Any], app: App) -> list[Any]:
    if "legacy_edges" not in context:
        context["legacy_edges"] = legacy_ssl_edges(app)
    return context["legacy_edges"]


# Each part of the app page: its partial, and what it adds to the context it is rendered from
# (given the context so far, so parts rendered together share what they both read).
AppPart = tuple[str, Callable[[dict[str, Any], Any, App], dict[str, Any]]]
APP_PANELS: dict[str, AppPart] = {
    events.NOTICES: ("app-notices", lambda c, user, app: {"legacy_edges": _legacy(c, app)}),
    events.DOMAINS: (
        "domains-panel",
        lambda c, user, app: domains_context(app, c.get("live_order")),
    ),
    events.READINESS: (
        "readiness-panel",
        lambda c, user, app: readiness_context(app, _legacy(c, app)),
    ),
    events.FEATURES: ("features-panel", lambda c, user, app: features_context(user, app)),
    events.BACKENDS: ("backends-panel", lambda c, user, app: backends_context(user, app)),
}


def app_parts(
    app: App, user: Any, parts: Iterable[str], order: LiveOrder | None = None
) -> Rendered:
    """The named parts of the app page as `user`'s audience sees them, rendered alone (the
    numbers as cells: live.renderers, their tables in `order`)."""
    context: dict[str, Any] = {
        "app": app,
        "user": user,
        "csrf_token": CSRF_PLACEHOLDER,
        "live_order": order,
    }
    rendered: Rendered = {}
    for part in sorted(parts):
        if part == events.COUNTS:
            rendered[part] = app_live_numbers(app, order)
            continue
        partial, build = APP_PANELS[part]
        context.update(build(context, user, app))
        html = render_to_string(f"{APP_TEMPLATE}#{partial}", context)
        rendered[part] = str(html).strip()
    return rendered


# The edge page's upgrade panel.

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


# An edge's page lists at most this many of its domains: a shared gateway carries every app's.
EDGE_PAGE_DOMAINS = 200


def edge_domains(user: Any, edge: Edge, limit: int | None = None) -> list[Domain]:
    """The domains routed through an edge that this user may see (on a shared gateway, a
    customer's own), the first `limit` by app."""
    domains = (
        Domain.objects.visible_to(user)
        .filter(edge=edge)
        .select_related("app", "app__organization")
        .order_by("app__name", "hostname")
    )
    return list(domains[:limit] if limit is not None else domains)


def edge_domain_counts(user: Any, edge: Edge) -> dict[str, int]:
    """How many of the edge's domains, and of whose apps, this user may see: one query."""
    counts = (
        Domain.objects.visible_to(user)
        .filter(edge=edge)
        .aggregate(domain_count=Count("pk"), app_count=Count("app", distinct=True))
    )
    return {"domain_count": counts["domain_count"], "app_count": counts["app_count"]}


def edge_carried_domains(user: Any, edge: Edge) -> list[Domain]:
    """The domains an upgrade of the edge concerns: a custom SSL edge's (a handful); a shared
    gateway has no upgrade panel."""
    return edge_domains(user, edge) if edge.kind == Edge.Kind.CUSTOM_SSL else []


# The steps that ask before they are taken, and what each will do, in words.
CONFIRMED_STEPS = ("start", "cancel")


def step_warnings(edge: Edge, domains: list[Domain]) -> dict[str, str]:
    owner = edge.organization.label if edge.organization else "the platform"
    apps = ", ".join(sorted({d.app.name for d in domains if d.kind == Domain.Kind.CUSTOM}))
    behind = f" ({apps})" if apps else ""
    return {
        "start": f"Start {edge.name}'s upgrade to Hipache now? {owner} sees it in progress, and "
        f"the apps behind it{behind} may lose open connections while the proxy is switched.",
        "cancel": f"Cancel {edge.name}'s upgrade? {owner} sees it cancelled; {edge.name} stays "
        f"on its current proxy, and websockets stays off for the apps behind it{behind}.",
    }


def upgrade_context(user: Any, edge: Edge, domains: list[Domain]) -> dict[str, Any]:
    """The upgrade's state, its history, what changes, and what this user may do next."""
    upgrades = list(edge.upgrades.select_related("requested_by").prefetch_related("steps"))
    open_upgrade = next((u for u in upgrades if u.is_open), None)
    actions = []
    if open_upgrade is not None and access.can_step_upgrade(user):
        actions = [a for a, (allowed, _) in TRANSITIONS.items() if open_upgrade.state in allowed]
    warnings = step_warnings(edge, domains) if actions else {}
    return {
        "start_warning": warnings.get("start", ""),
        "cancel_warning": warnings.get("cancel", ""),
        "upgrades": [u for u in upgrades if u is not open_upgrade],
        "open_upgrade": open_upgrade,
        "upgrade_early": open_upgrade is not None and starts_early(open_upgrade),
        "upgrade_overdue": open_upgrade is not None and window_overdue(open_upgrade),
        "may_request": may_request_upgrade(user, edge, open_upgrade),
        "upgrade_actions": actions,
        "changes": upgrade_changes(edge) if not edge.carries_websockets else [],
        "affected_apps": sorted({d.app.name for d in domains if d.kind == Domain.Kind.CUSTOM}),
    }


def edge_view_parts(edge: Edge) -> frozenset[str]:
    """Every edge page has its numbers and its state; a custom SSL edge's an upgrade panel."""
    if edge.kind == Edge.Kind.CUSTOM_SSL:
        return frozenset({events.COUNTS, events.EDGE_STATE, events.UPGRADE})
    return frozenset({events.COUNTS, events.EDGE_STATE})


# The edge's state shows in several places of its page: the heading's badge, the legacy warning,
# the proxy configuration (staff), the capability table's current column, the configuration.
EDGE_STATE_PARTIALS = (
    "edge-head",
    "edge-notices",
    "edge-config",
    "edge-capabilities",
    "edge-facts",
)


def edge_parts(
    edge_id: int, user: Any, organizations: frozenset[int] | None, parts: frozenset[str]
) -> Rendered:
    """The named parts of an edge's page as `user`'s audience sees them (the apps of
    `organizations`, None: all), rendered alone."""
    if parts == events.COUNTS_ONLY:
        # The numbers alone render from memory (the edge's row as the directory keeps it).
        edge = edges_directory.of([edge_id]).get(edge_id)
        if edge is not None:
            return {events.COUNTS: edge_live_numbers(edge, user, organizations)}
    # Read afresh: an upgrade changes the edge's own fields (its proxy, its hostname).
    edge = Edge.objects.select_related("organization").get(pk=edge_id)
    rendered: Rendered = {}
    if events.COUNTS in parts:
        rendered[events.COUNTS] = edge_live_numbers(edge, user, organizations)
    if parts & {events.UPGRADE, events.EDGE_STATE}:
        domains = edge_carried_domains(user, edge)
        context = {
            "edge": edge,
            "user": user,
            "csrf_token": CSRF_PLACEHOLDER,
            "capabilities": edge.capabilities,
            "all_capabilities": CAPABILITIES.values(),
            **edge_domain_counts(user, edge),
            **upgrade_context(user, edge, domains),
        }
        if events.UPGRADE in parts:
            html = render_to_string(f"{EDGE_TEMPLATE}#upgrade-panel", context)
            rendered[events.UPGRADE] = str(html).strip()
        if events.EDGE_STATE in parts:
            rendered[events.EDGE_STATE] = "\n".join(
                str(render_to_string(f"{EDGE_TEMPLATE}#{name}", context)).strip()
                for name in EDGE_STATE_PARTIALS
            ).strip()
    return rendered


# Support's queue of upgrades.


def upgrade_queue_context() -> dict[str, Any]:
    upgrades = EdgeUpgrade.objects.select_related("edge", "edge__organization", "requested_by")
    now = timezone.now()
    open_upgrades = upgrades.prefetch_related("steps").open().order_by("created_at")
    return {
        "open": [(upgrade, window_overdue(upgrade, now)) for upgrade in open_upgrades],
        "recent": list(upgrades.exclude(state__in=EdgeUpgrade.OPEN_STATES)[:20]),
    }


def upgrade_queue_parts(parts: frozenset[str]) -> dict[str, str]:
    if events.QUEUE not in parts:
        return {}
    html = render_to_string("edges/upgrade_list.html#upgrade-queue", upgrade_queue_context())
    return {events.QUEUE: str(html).strip()}


# Support's page: the legacy SSL edges and the platform's latest changes.

SUPPORT_TEMPLATE = "dashboard/support.html"
SUPPORT_ACTIVITY_LIMIT = 10


def legacy_edges() -> list[Edge]:
    """Custom SSL edges still on the legacy proxy, with the apps behind them."""
    return list(
        Edge.objects.filter(proxy=Edge.Proxy.NGINX_LEGACY, kind=Edge.Kind.CUSTOM_SSL)
        .select_related("organization")
        .prefetch_related(Prefetch("domains", queryset=Domain.objects.select_related("app")))
        .order_by("name")
    )


def support_activity() -> list[AuditEvent]:
    return list(AuditEvent.objects.select_related("app")[:SUPPORT_ACTIVITY_LIMIT])


def support_parts(parts: frozenset[str], user: Any) -> dict[str, str]:
    rendered = {}
    if events.LEGACY_EDGES in parts:
        context = {"legacy_edges": legacy_edges()}
        html = render_to_string(f"{SUPPORT_TEMPLATE}#legacy-edges", context)
        rendered[events.LEGACY_EDGES] = str(html).strip()
    if events.SUPPORT_ACTIVITY in parts:
        context = {"recent": support_activity(), "user": user}
        html = render_to_string(f"{SUPPORT_TEMPLATE}#support-activity", context)
        rendered[events.SUPPORT_ACTIVITY] = str(html).strip()
    return rendered


# An organization's page: its custom SSL edges and its recent activity (everyone who may see the
# organization sees all of both; support's internal reasons only support).

ORGANIZATION_TEMPLATE = "dashboard/organization_detail.html"


def organization_edges(organization: Organization) -> list[Edge]:
    return list(
        organization.edges.annotate(domain_count=Domain.objects.count_per("edge")).order_by("name")
    )


def organization_activity(organization: Organization) -> list[AuditEvent]:
    return list(
        AuditEvent.objects.filter(organization=organization).select_related("app")[:ACTIVITY_LIMIT]
    )


def organization_parts(
    organization: Organization, user: Any, parts: frozenset[str]
) -> dict[str, str]:
    """The organization page's parts as `user`'s audience (support, or members) sees them."""
    rendered = {}
    if events.ORG_EDGES in parts:
        context = {"edges": organization_edges(organization)}
        html = render_to_string(f"{ORGANIZATION_TEMPLATE}#org-edges", context)
        rendered[events.ORG_EDGES] = str(html).strip()
    if events.ACTIVITY in parts:
        context = {"activity": organization_activity(organization), "user": user}
        html = render_to_string(f"{ORGANIZATION_TEMPLATE}#org-activity", context)
        rendered[events.ACTIVITY] = str(html).strip()
    return rendered


# The app lists (the overview's, an organization's): one row per app.


def apps_with_summary(apps: QuerySet[App]) -> QuerySet[App]:
    """Apps with their organization, domain count and explicit websockets setting."""
    # No ordering: the default one joins the app and sorts, once per row.
    websockets = AppFeature.objects.filter(app=OuterRef("pk"), feature__name=WEBSOCKETS).order_by()
    return apps.select_related("organization").annotate(
        domain_count=Domain.objects.count_per("app"),
        websockets_explicit=Subquery(websockets.values("enabled")[:1]),
    )


def mark_websockets(apps: list[App]) -> list[App]:
    """Set `websockets_on` on apps read with `apps_with_summary`, by the feature's one rule."""
    for app in apps:
        app.websockets_on = websockets_on(app, app.websockets_explicit)  # type: ignore[attr-defined]
    return apps


def app_rows(apps: QuerySet[App], parts: frozenset[str]) -> dict[str, str]:
    """The rows named by `app-row:<name>` parts, of the apps in `apps` (the viewer's)."""
    names = {p.removeprefix(events.APP_ROWS) for p in parts if p.startswith(events.APP_ROWS)}
    if not names:
        return {}
    rows = mark_websockets(list(apps_with_summary(apps.filter(name__in=names))))
    return {
        events.app_row(app.name): str(
            render_to_string(f"{OVERVIEW_TEMPLATE}#app-row", {"app": app})
        ).strip()
        for app in rows
    }
