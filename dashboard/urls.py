from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from dashboard import views

urlpatterns = [
    path("", views.overview, name="overview"),
    path("healthz", views.healthz, name="healthz"),
    path(
        "login/",
        auth_views.LoginView.as_view(redirect_authenticated_user=True),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("orgs/<slug:name>/", views.organization_detail, name="organization-detail"),
    path("apps/<slug:name>/", views.app_detail, name="app-detail"),
    path("", include("edges.urls")),
    path("admin/", admin.site.urls),
]
