"""Edge pages and the upgrade workflow's forms."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from dashboard import access
from dashboard.models import AuditEvent, Domain, visible_organization_ids
from edges.capabilities import CAPABILITIES
from edges.counts import edge_live
from edges.models import Certificate, Edge, EdgeUpgrade
from edges.services.proxy_config import CONTENT_TYPES, ConfigError
from edges.services.proxy_config import render as render_edge_config
from edges.services.upgrades import (
    TRANSITIONS,
    UpgradeConflict,
    moment,
    starts_early,
    upgrade_request,
    upgrade_transition,
    window_overdue,
)
from live.panels import (
    CONFIRMED_STEPS,
    edge_carried_domains,
    edge_domain_counts,
    step_warnings,
    upgrade_context,
    upgrade_queue_context,
)
from pages.history import edge_chart_context
from pages.tables import TABLES, PageLinks, paginate

UPGRADES_PER_PAGE = 50
EDGE_DOMAINS_PER_PAGE = 50


@dataclass(frozen=True)
class UpgradeAnswer:
    """What the upgrade panel says back to the person who just pressed one of its buttons:
    a refusal beside the form they used (with what they typed), or a question before an early
    start."""

    action: str = ""
    message: str = ""
    values: dict[str, str] = field(default_factory=dict)
    confirm_start: bool = False
    window_seen: str = ""
    # A step that asks before it is taken (start, cancel), when the form came without
    # JavaScript's confirmation: `message` says what will happen.
    confirm: str = ""

    @property
    def asks_for(self) -> str:
        """The action the panel asks about instead of taking it ("" when none)."""
        return "start" if self.confirm_start else self.confirm


def _edge_page(
    request: HttpRequest, edge: Edge, *, status: int = 200, answer: UpgradeAnswer | None = None
) -> HttpResponse:
    user = request.user
    organizations = visible_organization_ids(user)
    upgrade = upgrade_context(user, edge, edge_carried_domains(user, edge))
    context = {
        "edge": edge,
        "domains": _domains_page(request, edge),
        **edge_domain_counts(user, edge),
        "certificate": Certificate.objects.filter(edge=edge).first(),
        "capabilities": edge.capabilities,
        "all_capabilities": CAPABILITIES.values(),
        "live": edge_live(edge, organizations),
        **edge_chart_context(request, edge, organizations),
        **upgrade,
        "upgrade_answer": answer,
    }
    return render(request, "edges/edge_detail.html", context, status=status)


def _domains_page(request: HttpRequest, edge: Edge) -> PageLinks:
    """The page of the edge's domains (those this user may see) the URL asks for."""
    sorting = TABLES["edge-domains"].sorting(request.GET)
    domains = (
        Domain.objects.visible_to(request.user)
        .filter(edge=edge)
        .select_related("app", "app__organization")
        .order_by(*sorting.order_by)
    )
    return paginate(domains, request.GET, EDGE_DOMAINS_PER_PAGE, "domains")


def _visible_edge(request: HttpRequest, name: str) -> Edge:
    return get_object_or_404(
        Edge.objects.visible_to(request.user).select_related("organization"), name=name
    )


@require_GET
def edge_detail(request: HttpRequest, name: str) -> HttpResponse:
    edge = _visible_edge(request, name)
    if request.htmx and request.htmx.target == "edge-charts":
        charts = edge_chart_context(request, edge, visible_organization_ids(request.user))
        return render(request, "edges/edge_detail.html#edge-charts", {"edge": edge, **charts})
    return _edge_page(request, edge)


@require_POST
def upgrade_create(request: HttpRequest, name: str) -> HttpResponse:
    edge = _visible_edge(request, name)
    note = request.POST.get("note", "")
    try:
        upgrade_request(edge=edge, actor=request.user, source=AuditEvent.Source.WEB, note=note)
    except PermissionDenied:
        raise Http404 from None
    except (UpgradeConflict, ValidationError) as error:
        answer = UpgradeAnswer(action="request", message=_message(error), values={"note": note})
        return _edge_page(request, edge, status=_status(error), answer=answer)
    if access.can_step_upgrade(request.user):
        done = f"Upgrade of {edge.name} requested for {_owner(edge)}. Schedule its window below."
    else:
        done = (
            f"WebSocket support requested for {edge.name}. Support will "
            "schedule the upgrade and keep you posted here."
        )
    messages.success(request, done)
    return redirect(f"{edge.get_absolute_url()}#upgrade")


def _owner(edge: Edge) -> str:
    return edge.organization.label if edge.organization else "the platform"


def _parse_moment(value: str, field_name: str, problem: str) -> dt.datetime | None:
    if not value:
        return None
    try:
        moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ValidationError({field_name: problem}) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


@require_POST
def upgrade_step(request: HttpRequest, name: str, pk: int, action: str) -> HttpResponse:
    if not access.can_step_upgrade(request.user):
        raise Http404
    upgrade = get_object_or_404(EdgeUpgrade.objects.filter(edge__name=name), pk=pk)
    if action not in TRANSITIONS:
        raise Http404
    edge = _visible_edge(request, name)
    values = {key: request.POST.get(key, "") for key in ("scheduled_for", "note", "new_hostname")}
    try:
        window_seen = _parse_moment(
            request.POST.get("window_seen", ""),
            "window_seen",
            "This confirmation was garbled; press Start again.",
        )
        window = upgrade.scheduled_for
        if action == "start" and window_seen is None and window and starts_early(upgrade):
            # Starting before the window is allowed, once the person says they mean it.
            answer = UpgradeAnswer(
                action=action,
                confirm_start=True,
                window_seen=window.isoformat(),
                message=f"The window of {name}'s upgrade, {moment(window)}, has not come yet.",
            )
            return _edge_page(request, edge, answer=answer)
        confirmed = request.POST.get("confirmed") == "yes" or window_seen is not None
        # Ask only about a step the upgrade can take: any other answers with its refusal.
        if action in CONFIRMED_STEPS and not confirmed and upgrade.state in TRANSITIONS[action][0]:
            warning = step_warnings(edge, edge_carried_domains(request.user, edge))[action]
            answer = UpgradeAnswer(action=action, confirm=action, message=warning)
            return _edge_page(request, edge, answer=answer)
        upgrade_transition(
            upgrade=upgrade,
            action=action,
            actor=request.user,
            source=AuditEvent.Source.WEB,
            scheduled_for=_parse_moment(
                values["scheduled_for"], "scheduled_for", "Give the window as a date and time."
            ),
            note=values["note"],
            new_hostname=values["new_hostname"],
            window_seen=window_seen,
        )
    except (UpgradeConflict, ValidationError) as error:
        answer = UpgradeAnswer(action=action, message=_message(error), values=values)
        return _edge_page(request, edge, status=_status(error), answer=answer)
    upgrade.refresh_from_db()
    messages.success(
        request,
        f"Upgrade #{upgrade.pk} of {name} is now {upgrade.get_state_display().lower()}"
        + (f" for {moment(upgrade.scheduled_for)}." if action == "reschedule" else "."),
    )
    return redirect(f"{edge.get_absolute_url()}#upgrade")


def _status(error: Exception) -> int:
    return 409 if isinstance(error, UpgradeConflict) else 422


@require_GET
def upgrade_queue(request: HttpRequest) -> HttpResponse:
    """Support's queue of open upgrades. The default view is the live one: pushes redraw the
    whole queue in its default order, so a sorted or paged view is not live (a push would
    reorder what the person chose)."""
    if not access.can_search_platform(request.user):
        raise Http404
    sorting = TABLES["upgrades"].sorting(request.GET)
    context = upgrade_queue_context()
    noun = "open upgrades"
    if sorting.is_default and len(context["open"]) <= UPGRADES_PER_PAGE:
        context["page"] = paginate(context["open"], request.GET, UPGRADES_PER_PAGE, noun)
        context["live"] = True
        return render(request, "edges/upgrade_list.html", context)
    upgrades = EdgeUpgrade.objects.open().select_related("edge", "edge__organization")
    upgrades = upgrades.select_related("requested_by").prefetch_related("steps")
    page = paginate(upgrades.order_by(*sorting.order_by), request.GET, UPGRADES_PER_PAGE, noun)
    now = timezone.now()
    context["open"] = [(upgrade, window_overdue(upgrade, now)) for upgrade in page.object_list]
    context.update(page=page, live=False)
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
