from __future__ import annotations

from django.urls import path

from edges import views, web_checks
from edges.ingest_views import edge_config, edge_config_status, ingest_report

urlpatterns = [
    path("edges/<slug:name>/", views.edge_detail, name="edge-detail"),
    path("edges/<slug:name>/config/", views.edge_config_view, name="edge-config-view"),
    path("edges/<slug:name>/upgrades/", views.upgrade_create, name="upgrade-create"),
    path(
        "edges/<slug:name>/upgrades/<int:pk>/<slug:action>/",
        views.upgrade_step,
        name="upgrade-step",
    ),
    path("upgrades/", views.upgrade_queue, name="upgrade-queue"),
    path("ingest/v1/reports", ingest_report, name="ingest-report"),
    path("ingest/v1/edges/<slug:name>/config", edge_config, name="ingest-edge-config"),
    path(
        "ingest/v1/edges/<slug:name>/config-status",
        edge_config_status,
        name="ingest-edge-config-status",
    ),
    path("apps/<slug:name>/dns-check/", web_checks.app_dns_check, name="app-dns-check"),
    path(
        "apps/<slug:name>/websocket-test/",
        web_checks.app_websocket_test,
        name="app-websocket-test",
    ),
]
