from __future__ import annotations

from django.contrib.admin import AdminSite
from django.contrib.admin.apps import AdminConfig
from django.http import HttpRequest


class SuperuserAdminSite(AdminSite):
    """The admin site is for superusers; support staff work in the dashboard itself."""

    site_header = "Edgeboard administration"
    site_title = "Edgeboard admin"
    index_title = "Everything the dashboard stores"

    def has_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.is_active and request.user.is_superuser)


class SuperuserAdminConfig(AdminConfig):
    default_site = "edgeboard.admin_site.SuperuserAdminSite"
