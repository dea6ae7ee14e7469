"""The Platform API's routes for accounts, apps, features, domains, back-ends and teams."""

from __future__ import annotations

from django.urls import path

from dashboard.api import teams, views

urlpatterns = [
    path("account", views.account),
    path("account/rate-limits", views.account_rate_limits),
    path("account/features", views.account_feature_list),
    path("account/features/<str:id_or_name>", views.account_feature_detail),
    path("apps", views.app_list),
    path("users/<str:email_or_id>/apps", teams.user_app_list),
    path("apps/<str:id_or_name>", views.app_detail),
    path("apps/<str:app>/addons", views.app_empty_list),
    path("apps/<str:app>/dynos", views.app_empty_list),
    path("apps/<str:app>/sni-endpoints", views.app_empty_list),
    path("apps/<str:app>/collaborators", teams.app_collaborator_list),
    path("apps/<str:app>/collaborators/<str:email_or_id>", teams.app_collaborator_detail),
    path("apps/<str:app>/pipeline-couplings", views.app_pipeline_coupling),
    path("apps/<str:app>/features", views.app_feature_list),
    path("apps/<str:app>/features/<str:id_or_name>", views.app_feature_detail),
    path("apps/<str:app>/backends", views.backend_list),
    path("apps/<str:app>/backends/<str:address>", views.backend_detail),
    path("apps/<str:app>/domains", views.domain_list),
    path("apps/<str:app>/domains/<str:id_or_hostname>", views.domain_detail),
    path("teams", teams.team_list),
    # Before `teams/<name>`: Heroku's paths for all teams' permissions and team apps.
    path("teams/permissions", teams.team_permission_list),
    path("teams/apps/<str:app>", teams.team_app_detail),
    path("teams/apps/<str:app>/collaborators", teams.app_collaborator_list),
    path("teams/apps/<str:app>/collaborators/<str:email_or_id>", teams.app_collaborator_detail),
    path("teams/<str:id_or_name>", teams.team_detail),
    path("teams/<str:id_or_name>/apps", teams.team_app_list),
    path("teams/<str:id_or_name>/features", teams.team_feature_list),
    path("teams/<str:id_or_name>/members", teams.team_member_list),
    path("teams/<str:id_or_name>/members/<str:email_or_id>", teams.team_member_detail),
]
