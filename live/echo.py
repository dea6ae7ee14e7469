"""WebSocket consumers of the dashboard itself."""

from __future__ import annotations

from live.limits import CLOSE_TOO_BIG, MAX_MESSAGE_BYTES, RateLimitedConsumer

ECHO_MAX_MESSAGE = MAX_MESSAGE_BYTES


class EchoConsumer(RateLimitedConsumer):
    """Echo every message back: lets a signed-in user check that their browser and network
    carry WebSockets end to end (in the spirit of uWSGI's echo example)."""

    # Echoing needs no channel layer, so an outage of Redis cannot reach this socket.
    channel_layer_alias = None

    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=4401)
            return
        await self.accept()

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        # daphne refuses larger messages first; this holds wherever else the app is served.
        size = len(text_data.encode()) if text_data is not None else len(bytes_data or b"")
        if size > ECHO_MAX_MESSAGE:
            await self.close(code=CLOSE_TOO_BIG)
            return
        await self.send(text_data=text_data, bytes_data=bytes_data)
