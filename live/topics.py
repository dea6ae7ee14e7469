"""Who may watch which live topic, and how each topic renders: the same named partials as the
pages, so a page and its pushes never disagree."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.template.loader import render_to_string

from dashboard.models import App, Membership, Organization
from edges.counts import app_live, edge_live, organization_live, platform_live
from edges.models import Edge
from live import events


@dataclass(frozen=True)
class Topic:
    name: str
    audience: str
    render: Callable[[], str]


def _frame(html: str) -> str:
    return str(html).strip()


def app_live_fragment(app: App) -> str:
    context = {"app": app, "live": app_live(app)}
    return _frame(render_to_string("dashboard/app_detail.html#app-live", context))


def edge_live_fragment(edge: Edge, user: Any) -> str:
    context = {"edge": edge, "user": user, "live": edge_live(edge, App.objects.visible_to(user))}
    return _frame(render_to_string("edges/edge_detail.html#edge-live", context))


def platform_live_fragment() -> str:
    context = {"platform": platform_live()}
    return _frame(render_to_string("dashboard/overview.html#platform-live", context))


def organization_live_fragment(organization: Organization) -> str:
    context = {"organization": organization, "org_apps": organization_live(organization)}
    return _frame(render_to_string("dashboard/overview.html#org-live", context))


def _audience(user: Any) -> str:
    if user.is_staff:
        return "staff"
    orgs = Membership.objects.filter(user=user).order_by("organization_id")
    return "orgs:" + ",".join(str(o) for o in orgs.values_list("organization_id", flat=True))


def authorize(user: Any, kind: str, name: str) -> Topic | None:
    """The topic a user may watch, or None: the same rules as the pages."""
    if not (user.is_authenticated and user.is_active):
        return None
    if kind == "overview":
        if not user.is_staff:
            return None
        return Topic(events.OVERVIEW_TOPIC, "staff", platform_live_fragment)
    if kind == "apps":
        app = App.objects.visible_to(user).filter(name=name).first()
        if app is None:
            return None
        return Topic(events.app_topic(app.name), "all", lambda: app_live_fragment(app))
    if kind == "edges":
        edge = Edge.objects.visible_to(user).filter(name=name).first()
        if edge is None:
            return None
        return Topic(
            events.edge_topic(edge.name), _audience(user), lambda: edge_live_fragment(edge, user)
        )
    if kind == "orgs":
        organization = Organization.objects.visible_to(user).filter(name=name).first()
        if organization is None:
            return None
        return Topic(
            events.organization_topic(organization.name),
            "all",
            lambda: organization_live_fragment(organization),
        )
    return None
