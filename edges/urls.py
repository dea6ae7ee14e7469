from __future__ import annotations

from django.urls import path

from edges import views

urlpatterns = [
    path("edges/<slug:name>/", views.edge_detail, name="edge-detail"),
    path("edges/<slug:name>/upgrades/", views.upgrade_create, name="upgrade-create"),
    path(
        "edges/<slug:name>/upgrades/<int:pk>/<slug:action>/",
        views.upgrade_step,
        name="upgrade-step",
    ),
    path("upgrades/", views.upgrade_queue, name="upgrade-queue"),
]
