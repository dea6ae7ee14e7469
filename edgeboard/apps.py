from __future__ import annotations

from django.apps import AppConfig


class EdgeboardConfig(AppConfig):
    """The project shell: settings, URL confs, the ASGI application, the server and the demo."""

    name = "edgeboard"
    verbose_name = "Edgeboard"
