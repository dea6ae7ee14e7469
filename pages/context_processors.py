"""What every page's frame needs from the request."""

from __future__ import annotations

import functools

from django.http import HttpRequest

from dashboard.models.preferences import Preferences, theme_of


def preferences(request: HttpRequest) -> dict[str, object]:
    """The user's theme, read only when a template shows the page's frame (a partial does not)."""
    return {
        "theme": functools.cache(lambda: theme_of(request.user)),
        "THEMES": Preferences.Theme.choices,
    }
