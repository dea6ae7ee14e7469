from __future__ import annotations

from django.contrib import admin
from django.urls import include, path

from dashboard.views import backends, features, pages, support, tokens
from dashboard.views.auth import LogoutClosingSockets, ThrottledLoginView

handler500 = "dashboard.views.errors.server_error"

urlpatterns = [
    path("", pages.overview, name="overview"),
    path("healthz", pages.healthz, name="healthz"),
    path("login/", ThrottledLoginView.as_view(), name="login"),
    path("logout/", LogoutClosingSockets.as_view(), name="logout"),
    path("orgs/<slug:name>/", pages.organization_detail, name="organization-detail"),
    path("apps/<slug:name>/", pages.app_detail, name="app-detail"),
    path("apps/<slug:name>/features/", features.app_feature_toggle, name="app-features"),
    path("apps/<slug:name>/backends/", backends.app_backend_add, name="app-backend-add"),
    path(
        "apps/<slug:name>/backends/remove/", backends.app_backend_remove, name="app-backend-remove"
    ),
    path("support/", support.support, name="support"),
    path("audit/", support.audit, name="audit"),
    path("account/tokens/", tokens.token_list, name="tokens"),
    path("account/tokens/<int:pk>/revoke/", tokens.token_revoke, name="token-revoke"),
    path("", include("edges.urls")),
    path("admin/", admin.site.urls),
]
