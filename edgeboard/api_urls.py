"""The URL conf of machine clients: the Platform API and the edges' ingest endpoints.

PlatformApiMiddleware sends requests here; every answer is JSON, errors included.
"""

from __future__ import annotations

from django.urls import include, path

handler400 = "shared.errors.handler400"
handler403 = "shared.errors.handler403"
handler404 = "shared.errors.handler404"
handler500 = "edgeboard.errors.server_error"

urlpatterns = [
    path("", include("dashboard.api.urls")),
    path("", include("edges.api.urls")),
]
