"""The browsers' URL conf: the pages and the admin site (machine clients: api_urls.py)."""

from __future__ import annotations

from django.contrib import admin
from django.urls import include, path

handler500 = "edgeboard.errors.server_error"

urlpatterns = [
    path("", include("pages.urls")),
    path("admin/", admin.site.urls),
]
