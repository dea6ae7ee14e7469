"""What a WebSocket client may send: frames per second and bytes per message.

Every consumer counts the frames its client sends, text and binary alike, in a token bucket of
WS_FRAME_BURST tokens refilled at WS_MAX_FRAMES_PER_SECOND; a client that empties it is closed
with 1008. Sizes: `edgeboard.server` starts daphne with MAX_MESSAGE_BYTES as its frame limit,
beyond which the protocol layer fails the connection with 1009, and every consumer closes with
1009 a message over MAX_MESSAGE_BYTES made of smaller fragments. daphne's message limit is
MAX_PUSH_BYTES: autobahn applies it to what the server sends too, and a live panel can be larger
than anything a client may send (it also bounds what daphne gathers of a fragmented message).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings

logger = logging.getLogger(__name__)

# The dashboard's sockets push; the largest thing a browser sends is the echo page's test text.
MAX_MESSAGE_BYTES = 64 * 1024
# The largest message the server sends (a live frame is a few panels; see live.consumers).
MAX_PUSH_BYTES = 1024 * 1024
CLOSE_POLICY_VIOLATION = 1008
CLOSE_TOO_BIG = 1009


class TokenBucket:
    """Allow `rate` events per second on average, and up to `burst` of them at once."""

    def __init__(
        self, *, rate: float, burst: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.rate = rate
        self.burst = burst
        self.clock = clock
        self.tokens = float(burst)
        self.updated = clock()

    def take(self) -> bool:
        """Spend one token if there is one; answer whether the event is allowed."""
        now = self.clock()
        # Never refill from a clock that went backwards.
        elapsed = max(0.0, now - self.updated)
        self.tokens = min(float(self.burst), self.tokens + elapsed * self.rate)
        self.updated = now
        if self.tokens < 1.0:
            return False
        self.tokens -= 1.0
        return True


class RateLimitedConsumer(AsyncWebsocketConsumer):
    """A consumer whose client is closed with 1008 once it sends frames faster than allowed."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.frames = TokenBucket(
            rate=settings.WS_MAX_FRAMES_PER_SECOND, burst=settings.WS_FRAME_BURST
        )
        self.frames_refused = False

    async def websocket_receive(self, message: dict[str, Any]) -> None:
        # Frames already on their way after the close must not reach receive() either.
        if self.frames_refused:
            return
        data = message.get("bytes")
        size = len(data) if data is not None else len((message.get("text") or "").encode())
        if size > MAX_MESSAGE_BYTES:
            # Fragments each under daphne's frame limit, too large together.
            self.frames_refused = True
            logger.warning(
                "closing WebSocket %s from %s: a message of %d bytes (at most %d)",
                self.scope.get("path"),
                _client(self.scope),
                size,
                MAX_MESSAGE_BYTES,
            )
            await self.close(code=CLOSE_TOO_BIG)
            return
        if not self.frames.take():
            self.frames_refused = True
            logger.warning(
                "closing WebSocket %s from %s: more than %s frames per second",
                self.scope.get("path"),
                _client(self.scope),
                settings.WS_MAX_FRAMES_PER_SECOND,
            )
            await self.close(code=CLOSE_POLICY_VIOLATION)
            return
        await super().websocket_receive(message)


def _client(scope: dict[str, Any]) -> str:
    client = scope.get("client")
    return str(client[0]) if client else "an unknown address"
