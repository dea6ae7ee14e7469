from __future__ import annotations

from django.apps import AppConfig


class PagesConfig(AppConfig):
    """The browser pages over the domain packages and the live path."""

    name = "pages"
    verbose_name = "Pages"
