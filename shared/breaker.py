"""A circuit breaker for Redis: once a call fails, stop waiting on it for a moment.

Pages and the API must keep answering while Redis is down or frozen. A frozen Redis costs each
call its full socket timeout, so a request that made three calls would wait three times; after
one failure the breaker is open for COOLDOWN_SECONDS, during which callers use their fallback
at once (a per-process rate-limit count, a publish with a short deadline), then the next call
finds out whether Redis is back.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

logger = logging.getLogger(__name__)

COOLDOWN_SECONDS = 2.0


class Breaker:
    def __init__(
        self,
        name: str,
        *,
        cooldown: float = COOLDOWN_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.name = name
        self.cooldown = cooldown
        self.clock = clock
        self.open_until = float("-inf")
        self.lock = threading.Lock()

    @property
    def closed(self) -> bool:
        """True when calls should go through and wait as long as they must."""
        return self.clock() >= self.open_until

    def failed(self) -> None:
        with self.lock:
            if self.closed:
                logger.warning("%s is unavailable; using fallbacks for a while", self.name)
            self.open_until = self.clock() + self.cooldown

    def succeeded(self) -> None:
        with self.lock:
            if self.open_until != float("-inf"):
                logger.info("%s is reachable again", self.name)
            self.open_until = float("-inf")


redis = Breaker("Redis")
