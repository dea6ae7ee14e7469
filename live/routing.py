"""The socket routes and the stack every socket passes: the exact-origin check, the session,
then the consumer. `edgeboard.asgi` mounts `websocket_application`.

The live sockets read their session's user themselves, in the same trip to the database as
their authorization (live/consumers.py); the echo socket gets it from channels' middleware."""

from __future__ import annotations

from channels.auth import AuthMiddlewareStack
from channels.routing import URLRouter
from channels.sessions import SessionMiddlewareStack
from django.urls import path, re_path

from live.admission import StampArrival
from live.consumers import LiveConsumer
from live.echo import EchoConsumer
from live.origin import ExactOriginValidator
from live.topics import NAMED_KINDS, SINGLE_KINDS

KIND_PATTERN = "|".join(NAMED_KINDS)

live = SessionMiddlewareStack(LiveConsumer.as_asgi())

websocket_urlpatterns = [
    path("ws/echo/", AuthMiddlewareStack(EchoConsumer.as_asgi())),
    *(path(f"ws/live/{kind}/", live, {"kind": kind}) for kind in SINGLE_KINDS),
    re_path(rf"^ws/live/(?P<kind>{KIND_PATTERN})/(?P<name>[a-z0-9-]{{1,30}})/$", live),
]

websocket_application = StampArrival(ExactOriginValidator(URLRouter(websocket_urlpatterns)))
