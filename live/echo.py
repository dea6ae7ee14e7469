"""WebSocket consumers of the dashboard itself."""

from __future__ import annotations

from live.limits import RateLimitedConsumer


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
        # What comes here is within MAX_MESSAGE_BYTES (live.limits refuses larger with 1009).
        await self.send(text_data=text_data, bytes_data=bytes_data)
