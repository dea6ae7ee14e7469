"""The edges' API routes: the edge inventory and upgrades, app readiness and counts, and ingest."""

from __future__ import annotations

from django.urls import path

from edges.api import apps, edges, ingest

urlpatterns = [
    path("apps/<str:app>/websocket-readiness", apps.app_websocket_readiness),
    path("apps/<str:app>/connections", apps.app_connections),
    path("ingest/v1/reports", ingest.ingest_report),
    path("ingest/v1/edges/<str:name>/config", ingest.agent_config),
    path("ingest/v1/edges/<str:name>/config-status", ingest.agent_config_status),
    path("edges", edges.edge_list),
    path("edges/<str:name>", edges.edge_detail),
    path("edges/<str:name>/upgrades", edges.upgrade_list),
    path("edges/<str:name>/upgrades/<int:pk>", edges.upgrade_detail),
]
