"""The Platform API's routes for accounts, apps, features, domains, back-ends and teams."""

from __future__ import annotations

from django.urls import path

from dashboard.api import views

urlpatterns = [
    path("account", views.account),
    path("account/rate-limits", views.account_rate_limits),
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
    path("apps/<str:app>/features", views.app_feature_list),
    path("apps/<str:app>/features/<str:id_or_name>", views.app_feature_detail),
    path("apps/<str:app>/backends", views.backend_list),
    path("apps/<str:app>/backends/<str:address>", views.backend_detail),
    path("apps/<str:app>/domains", views.domain_list),
    path("apps/<str:app>/domains/<str:id_or_hostname>", views.domain_detail),
    path("teams", views.team_list),
    path("teams/<str:id_or_name>", views.team_detail),
    path("teams/<str:id_or_name>/apps", views.team_app_list),
]
