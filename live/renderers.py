"""How the live numbers of the edge, organization and overview pages render (the app page's
parts are in live/panels.py): the same named partials as the pages, so a page and its pushes
never disagree. The hub renders once per update, whatever the number of sockets watching."""

from __future__ import annotations

from typing import Any

from django.template.loader import render_to_string

from dashboard.models import Organization
from edges.counts import edge_live, organization_live, platform_live
from edges.models import Edge


def _frame(html: str) -> str:
    return str(html).strip()


def edge_live_fragment(edge: Edge, user: Any, organizations: frozenset[int] | None) -> str:
    """`organizations`: those whose apps the viewer sees (None: all), decided when the socket
    subscribed (a change of membership sends the socket back to subscribe again)."""
    context = {"edge": edge, "user": user, "live": edge_live(edge, organizations)}
    return _frame(render_to_string("edges/edge_detail.html#edge-live", context))


def platform_live_fragment() -> str:
    context = {"platform": platform_live()}
    return _frame(render_to_string("dashboard/overview.html#platform-live", context))


def organization_live_fragment(organization: Organization) -> str:
    context = {"organization": organization, "org_apps": organization_live(organization)}
    return _frame(render_to_string("dashboard/overview.html#org-live", context))
