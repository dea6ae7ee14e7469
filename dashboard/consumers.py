"""WebSocket consumers of the dashboard itself."""

from __future__ import annotations

from channels.generic.websocket import AsyncWebsocketConsumer

ECHO_MAX_MESSAGE = 64 * 1024


class EchoConsumer(AsyncWebsocketConsumer):
    """Echo every message back: lets a signed-in user check that their browser and network
    carry WebSockets end to end (in the spirit of uWSGI's echo example)."""

    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=4401)
            return
        await self.accept()

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        size = len(text_data.encode()) if text_data is not None else len(bytes_data or b"")
        if size > ECHO_MAX_MESSAGE:
            await self.close(code=1009)
            return
        await self.send(text_data=text_data, bytes_data=bytes_data)
