from __future__ import annotations

from django.urls import path

from edges import views

urlpatterns = [
    path("edges/<slug:name>/", views.edge_detail, name="edge-detail"),
]
