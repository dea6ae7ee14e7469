"""The textbook fan-out, for benchmark B4 only: `daphne bench.textbook:application`.

Every socket is its own Channels consumer with its own channel-layer channel in the group
`bench-app`; whoever has news calls `group_send` on the group and each consumer sends the frame
it received, as is. Nothing is rendered, coalesced or authenticated here (no session, no Origin
check): only the delivery path is compared with the dashboard's one subscription per process.

The channel layer is Redis (the textbook path cannot cross processes otherwise), configured
from REDIS_URL and CHANNEL_LAYER_PREFIX like the dashboard's own settings.
"""

from __future__ import annotations

import os
from typing import Any

import django
from django.conf import settings

GROUP = "bench-app"
MESSAGE_TYPE = "bench.frame"
SNAPSHOT = '<span id="app-acme-web-connections" data-count="0">0</span>'

if not settings.configured:
    redis_url = os.environ.get("REDIS_URL", "")
    if not redis_url:
        raise RuntimeError("the textbook benchmark server needs REDIS_URL")
    settings.configure(
        DEBUG=False,
        INSTALLED_APPS=["channels"],
        CHANNEL_LAYERS={
            "default": {
                "BACKEND": "channels_redis.core.RedisChannelLayer",
                "CONFIG": {
                    "hosts": [
                        {
                            "address": redis_url,
                            "socket_timeout": 10,
                            "socket_connect_timeout": 3,
                        }
                    ],
                    "prefix": os.environ.get("CHANNEL_LAYER_PREFIX", "bench"),
                    "capacity": 1000,
                    "expiry": 30,
                },
            }
        },
    )
    django.setup()

from channels.generic.websocket import AsyncWebsocketConsumer  # noqa: E402
from channels.routing import ProtocolTypeRouter  # noqa: E402


class TextbookConsumer(AsyncWebsocketConsumer):
    async def connect(self) -> None:
        # Joined before the snapshot goes out, so a client holding it is subscribed.
        await self.channel_layer.group_add(GROUP, self.channel_name)
        await self.accept()
        await self.send(text_data=SNAPSHOT)

    async def disconnect(self, code: int) -> None:
        await self.channel_layer.group_discard(GROUP, self.channel_name)

    async def bench_frame(self, event: dict[str, Any]) -> None:
        await self.send(text_data=event["frame"])


async def http(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """/healthz answers 200 (the benchmark waits for it); anything else 404."""
    if scope["type"] != "http":
        return
    while (await receive()).get("more_body"):
        pass
    status = 200 if scope["path"] == "/healthz" else 404
    body = b"ok" if status == 200 else b"not found"
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"text/plain"), (b"content-length", b"%d" % len(body))],
        }
    )
    await send({"type": "http.response.body", "body": body})


application = ProtocolTypeRouter({"http": http, "websocket": TextbookConsumer.as_asgi()})
