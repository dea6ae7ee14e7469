from __future__ import annotations

from django.urls import path, re_path

from live.consumers import LiveConsumer
from live.echo import EchoConsumer

websocket_urlpatterns = [
    path("ws/echo/", EchoConsumer.as_asgi()),
    path("ws/live/overview/", LiveConsumer.as_asgi()),
    re_path(
        r"^ws/live/(?P<kind>apps|edges|orgs)/(?P<name>[a-z0-9-]{1,30})/$", LiveConsumer.as_asgi()
    ),
]
