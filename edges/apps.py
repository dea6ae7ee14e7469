from __future__ import annotations

from django.apps import AppConfig


class EdgesConfig(AppConfig):
    name = "edges"
    verbose_name = "Edges"
