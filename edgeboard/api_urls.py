"""The URL conf of machine clients: the Platform API and the edges' ingest endpoints.

PlatformApiMiddleware sends requests here; every answer is JSON, errors included. A path no
route knows is answered by the last route, not by handler404: under DEBUG Django answers a failed
URL lookup with its technical 404 page and never calls handler404.
"""

from __future__ import annotations

from django.urls import include, path, re_path

from edgeboard.errors import api_not_found

handler400 = "shared.errors.handler400"
handler403 = "shared.errors.handler403"
handler404 = "shared.errors.handler404"
handler500 = "edgeboard.errors.server_error"

urlpatterns = [
    path("", include("dashboard.api.urls")),
    path("", include("edges.api.urls")),
    re_path(r"", api_not_found),
]
