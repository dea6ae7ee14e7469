"""ASGI entry point: daphne serves the dashboard's HTTP and WebSocket traffic from here."""

from __future__ import annotations

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "edgeboard.settings")
# Load Django before anything imports models.
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter  # noqa: E402

from edges.api.ingest_asgi import IngestReports  # noqa: E402
from live.routing import websocket_application  # noqa: E402

application = ProtocolTypeRouter(
    {
        # Edges' reports beside Django's one request thread; everything else to Django.
        "http": IngestReports(django_asgi_app),
        "websocket": websocket_application,
    }
)
