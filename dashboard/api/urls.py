"""The Platform API's URLs, used for requests that PlatformApiMiddleware recognises."""

from __future__ import annotations

from django.urls import path

from dashboard.api import views
from edges import api as edges_api
from edges.api_apps import app_connections, app_websocket_readiness
from edges.ingest_views import edge_config, edge_config_status, ingest_report

handler400 = "dashboard.api.errors.handler400"
handler403 = "dashboard.api.errors.handler403"
handler404 = "dashboard.api.errors.handler404"
handler500 = "dashboard.views.errors.server_error"

urlpatterns = [
    path("account", views.account),
    path("account/features", views.account_feature_list),
    path("account/features/<str:id_or_name>", views.account_feature_detail),
    path("apps", views.app_list),
    path("users/~/apps", views.app_list),
    path("apps/<str:id_or_name>", views.app_detail),
    path("apps/<str:app>/addons", views.app_empty_list),
    path("apps/<str:app>/dynos", views.app_empty_list),
    path("apps/<str:app>/sni-endpoints", views.app_empty_list),
    path("apps/<str:app>/collaborators", views.app_collaborator_list),
    path("apps/<str:app>/pipeline-couplings", views.app_pipeline_coupling),
    path("apps/<str:app>/websocket-readiness", app_websocket_readiness),
    path("apps/<str:app>/connections", app_connections),
    path("apps/<str:app>/features", views.app_feature_list),
    path("apps/<str:app>/features/<str:id_or_name>", views.app_feature_detail),
    path("apps/<str:app>/backends", views.backend_list),
    path("apps/<str:app>/backends/<str:address>", views.backend_detail),
    path("apps/<str:app>/domains", views.domain_list),
    path("apps/<str:app>/domains/<str:id_or_hostname>", views.domain_detail),
    path("ingest/v1/reports", ingest_report),
    path("ingest/v1/edges/<str:name>/config", edge_config),
    path("ingest/v1/edges/<str:name>/config-status", edge_config_status),
    path("edges", edges_api.edge_list),
    path("edges/<str:name>", edges_api.edge_detail),
    path("edges/<str:name>/upgrades", edges_api.upgrade_list),
    path("edges/<str:name>/upgrades/<int:pk>", edges_api.upgrade_detail),
    path("teams", views.team_list),
    path("teams/<str:id_or_name>", views.team_detail),
    path("teams/<str:id_or_name>/apps", views.team_app_list),
]
