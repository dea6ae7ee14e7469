"""A user's own display preferences."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from dashboard.models import Preferences


@transaction.atomic
def preferences_set_theme(*, user: Any, theme: str, actor: Any, source: str) -> Preferences:
    """Light, dark, or the system's. Not audited: how a page looks to one person changes
    nothing anyone else sees, nor what the platform does."""
    if actor is not None and getattr(actor, "pk", None) != user.pk:
        raise PermissionDenied("People choose their own theme.")
    if theme not in Preferences.Theme.values:
        raise ValidationError({"theme": f"Choose one of: {', '.join(Preferences.Theme.values)}."})
    preferences, _ = Preferences.objects.select_for_update().get_or_create(user=user)
    if preferences.theme != theme:
        preferences.theme = theme
        preferences.save(update_fields=["theme", "updated_at"])
    return preferences
