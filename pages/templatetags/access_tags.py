"""What a page offers the viewer, read from the one access module (dashboard.access)."""

from __future__ import annotations

from typing import Any

from django import template

from dashboard import access
from dashboard.models import App

register = template.Library()


@register.filter
def may_change_domains(user: Any, app: App) -> bool:
    """Whether the domains panel offers `user` to add and remove the app's custom domains (the
    panel's pushes render it for their audience too)."""
    return access.can_change_domains(user, app)
