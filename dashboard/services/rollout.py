"""Choosing which pre-GA apps get websockets in a staged rollout."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from dashboard.models import App, AppFeature
from dashboard.models.features import WEBSOCKETS, websockets_ga_start
from dashboard.services.features import legacy_ssl_edges

BUCKETS = 10_000


def rollout_bucket(app: App) -> int:
    """A stable position in 0..9999 from the app's id: raising the percentage only adds apps."""
    digest = hashlib.sha256(f"websockets-rollout:{app.uuid}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % BUCKETS


@dataclass(frozen=True)
class RolloutDecision:
    app: App
    action: str  # "enable", "already_on", "opted_out", "blocked"
    reason: str = ""


def rollout_plan(percent: float) -> tuple[list[RolloutDecision], int]:
    """Decisions for the cohort of pre-GA apps within `percent`, and the number of eligible
    pre-GA apps outside it."""
    threshold = round(percent * BUCKETS / 100)
    explicit = {
        row.app_id: row
        for row in AppFeature.objects.filter(feature__name=WEBSOCKETS).select_related("updated_by")
    }
    decisions = []
    outside = 0
    pre_ga = App.objects.filter(created_at__lt=websockets_ga_start()).order_by("name")
    for app in pre_ga.iterator(chunk_size=500):
        if rollout_bucket(app) >= threshold:
            outside += 1
            continue
        row = explicit.get(app.pk)
        if row is not None and row.enabled:
            decisions.append(RolloutDecision(app, "already_on"))
        elif row is not None:
            who = row.updated_by.get_username() if row.updated_by else "the system"
            decisions.append(RolloutDecision(app, "opted_out", f"turned off by {who}"))
        elif blocking := legacy_ssl_edges(app):
            names = ", ".join(edge.name for edge in blocking)
            decisions.append(RolloutDecision(app, "blocked", f"behind legacy SSL edge {names}"))
        else:
            decisions.append(RolloutDecision(app, "enable"))
    return decisions, outside
