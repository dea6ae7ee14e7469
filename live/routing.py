"""The socket routes and the stack every socket passes: the exact-origin check, the session,
then the consumer. `edgeboard.asgi` mounts `websocket_application`.

The live sockets read their session's user themselves, in the same trip to the database as
their authorization (live/consumers.py); the echo socket gets it from channels' middleware."""

from __future__ import annotations

import logging
from importlib import import_module
from typing import Any

from channels.auth import AuthMiddlewareStack
from channels.generic.websocket import AsyncWebsocketConsumer
from channels.routing import URLRouter
from django.conf import settings
from django.http import parse_cookie
from django.urls import path, re_path

from live.admission import StampArrival
from live.consumers import LiveConsumer
from live.echo import EchoConsumer
from live.origin import ExactOriginValidator
from live.topics import NAMED_KINDS, SINGLE_KINDS

logger = logging.getLogger(__name__)

KIND_PATTERN = "|".join(NAMED_KINDS)


class NoSuchSocket(AsyncWebsocketConsumer):
    """A handshake on a path no socket lives at: refused like a missing page (daphne answers
    403), logged as the client's mistake rather than a server error."""

    channel_layer_alias = None

    async def connect(self) -> None:
        logger.warning("WebSocket handshake refused: no socket at %r", self.scope.get("path"))
        await self.close()


class LiveSession:
    """The session of a live socket's cookie, as `scope["session"]` (read only when used).
    Channels' session middleware also wraps `send` to save a changed session with every
    message, a cost on each of the thousands of frames a second a process writes to sockets
    that never change their session."""

    def __init__(self, application: Any) -> None:
        self.application = application
        self.store = import_module(settings.SESSION_ENGINE).SessionStore

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        cookies = {}
        for name, value in scope.get("headers", ()):
            if name == b"cookie":
                cookies = parse_cookie(value.decode("latin1"))
                break
        session = self.store(cookies.get(settings.SESSION_COOKIE_NAME))
        return await self.application({**scope, "session": session}, receive, send)


live = LiveSession(LiveConsumer.as_asgi())

websocket_urlpatterns = [
    path("ws/echo/", AuthMiddlewareStack(EchoConsumer.as_asgi())),
    *(path(f"ws/live/{kind}/", live, {"kind": kind}) for kind in SINGLE_KINDS),
    re_path(rf"^ws/live/(?P<kind>{KIND_PATTERN})/(?P<name>[a-z0-9-]{{1,30}})/$", live),
    # Last: every other path, instead of the router's exception (a 500 and a traceback).
    re_path(r"", NoSuchSocket.as_asgi()),
]

websocket_application = StampArrival(ExactOriginValidator(URLRouter(websocket_urlpatterns)))
