"""Every browser page and htmx panel of the dashboard."""

from __future__ import annotations

from django.urls import path

from pages.views import (
    app_tools,
    apps,
    audit,
    auth,
    backends,
    domains,
    edges,
    features,
    overview,
    preferences,
    support,
    tokens,
)

urlpatterns = [
    path("", overview.overview, name="overview"),
    path("healthz", overview.healthz, name="healthz"),
    path("login/", auth.ThrottledLoginView.as_view(), name="login"),
    path("logout/", auth.LogoutClosingSockets.as_view(), name="logout"),
    path("orgs/<slug:name>/", overview.organization_detail, name="organization-detail"),
    path("apps/<slug:name>/", apps.app_detail, name="app-detail"),
    path("apps/<slug:name>/features/", features.app_feature_toggle, name="app-features"),
    path("apps/<slug:name>/backends/", backends.app_backend_add, name="app-backend-add"),
    path(
        "apps/<slug:name>/backends/remove/", backends.app_backend_remove, name="app-backend-remove"
    ),
    path(
        "apps/<slug:name>/backends/restore/",
        backends.app_backend_restore,
        name="app-backend-restore",
    ),
    path("apps/<slug:name>/domains/", domains.app_domain_add, name="app-domain-add"),
    path("apps/<slug:name>/domains/remove/", domains.app_domain_remove, name="app-domain-remove"),
    path(
        "apps/<slug:name>/domains/restore/",
        domains.app_domain_restore,
        name="app-domain-restore",
    ),
    path("apps/<slug:name>/dns-check/", app_tools.app_dns_check, name="app-dns-check"),
    path(
        "apps/<slug:name>/websocket-test/",
        app_tools.app_websocket_test,
        name="app-websocket-test",
    ),
    path("edges/<slug:name>/", edges.edge_detail, name="edge-detail"),
    path("edges/<slug:name>/config/", edges.proxy_config_page, name="edge-config-view"),
    path("edges/<slug:name>/upgrades/", edges.upgrade_create, name="upgrade-create"),
    path(
        "edges/<slug:name>/upgrades/<int:pk>/<slug:action>/",
        edges.upgrade_step,
        name="upgrade-step",
    ),
    path("upgrades/", edges.upgrade_queue, name="upgrade-queue"),
    path("support/", support.support, name="support"),
    path("audit/", audit.audit, name="audit"),
    path("audit/export.csv", audit.audit_export, name="audit-export"),
    path("account/theme/", preferences.theme_set, name="theme"),
    path("account/tokens/", tokens.token_list, name="tokens"),
    path("account/tokens/<int:pk>/revoke/", tokens.token_revoke, name="token-revoke"),
    path("account/tokens/<int:pk>/restore/", tokens.token_restore, name="token-restore"),
]
