"""One Redis connection pool per process for the cache.

Django keeps a cache object per context (each request, each socket's task) and each object
makes its own connection pool, so every page, API call and socket handshake that touched the
cache opened a TCP connection to Redis and dropped it afterwards. Pools handed out from here are
shared by every cache object of the process with the same address and options; redis-py's pools
are thread-safe and start afresh in a forked child.
"""

from __future__ import annotations

import threading
from typing import Any

import redis


class ProcessConnectionPool(redis.ConnectionPool):
    _shared: dict[tuple[str, str], redis.ConnectionPool] = {}
    _lock = threading.Lock()

    @classmethod
    def from_url(cls, url: str, **options: Any) -> redis.ConnectionPool:
        key = (url, repr(sorted(options.items())))
        with cls._lock:
            pool = cls._shared.get(key)
            if pool is None:
                pool = cls._shared[key] = super().from_url(url, **options)
        return pool
