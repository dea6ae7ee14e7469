from __future__ import annotations

from django.apps import AppConfig


class LiveConfig(AppConfig):
    """The real-time path: what reaches an open page, when and why."""

    name = "live"
    verbose_name = "Live"

    def ready(self) -> None:
        from live import events
        from shared import bus

        bus.install_router(events.topics_of)
