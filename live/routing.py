"""The socket routes and the stack every socket passes: the exact-origin check, the session's
user, then the consumer. `edgeboard.asgi` mounts `websocket_application`."""

from __future__ import annotations

from channels.auth import AuthMiddlewareStack
from channels.routing import URLRouter
from django.urls import path, re_path

from live.consumers import LiveConsumer
from live.echo import EchoConsumer
from live.origin import ExactOriginValidator
from live.topics import NAMED_KINDS, OVERVIEW

KIND_PATTERN = "|".join(NAMED_KINDS)

websocket_urlpatterns = [
    path("ws/echo/", EchoConsumer.as_asgi()),
    path(f"ws/live/{OVERVIEW}/", LiveConsumer.as_asgi()),
    re_path(
        rf"^ws/live/(?P<kind>{KIND_PATTERN})/(?P<name>[a-z0-9-]{{1,30}})/$",
        LiveConsumer.as_asgi(),
    ),
]

websocket_application = ExactOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns)))
