"""Request budgets in fixed windows, kept in the cache (Redis when REDIS_URL is set).

While Redis is unavailable the budgets are counted in this process's memory instead: limits stay
in force (per process) and requests do not wait on a Redis that does not answer.
"""

from __future__ import annotations

import logging
import time

import redis
from django.conf import settings
from django.core.cache import BaseCache, caches
from django.core.cache.backends.redis import RedisCache

from shared.breaker import redis as redis_breaker
from shared.redis_pool import ProcessConnectionPool

logger = logging.getLogger(__name__)
WINDOW_SECONDS = 60


def _store() -> BaseCache:
    return caches["default"] if redis_breaker.closed else caches["local"]


def _failed() -> None:
    logger.warning("rate limit cache unavailable; counting in this process", exc_info=True)
    redis_breaker.failed()


def _key(scope: str, key: str, window: int, now: float) -> tuple[str, int]:
    index = int(now // window)
    return f"ratelimit:{scope}:{key}:{index}", index


def used(scope: str, key: str, *, window: int = WINDOW_SECONDS) -> int:
    """How many requests the current window has counted so far."""
    cache_key, _ = _key(scope, key, window, time.time())
    try:
        return int(_store().get(cache_key) or 0)
    except Exception:
        _failed()
        return int(caches["local"].get(cache_key) or 0)


class RateLimited(Exception):
    """A budget is spent until the window turns, `retry_after` seconds from now."""

    status = 429

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"rate limited for {retry_after} s")
        self.retry_after = retry_after

    @property
    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after), "RateLimit-Remaining": "0"}


def count(scope: str, key: str, *, window: int = WINDOW_SECONDS) -> int:
    """Count one occurrence in the current window (e.g. a failed sign-in); answer the total."""
    now = time.time()
    cache_key, _ = _key(scope, key, window, now)
    try:
        return _count(_store(), cache_key, window)
    except Exception:
        # A cache outage must not take the service down with it, nor lift the limits.
        _failed()
        return _count(caches["local"], cache_key, window)


def hit(scope: str, key: str, limit: int, *, window: int = WINDOW_SECONDS) -> int:
    """Count one request; answer how many remain, or raise RateLimited beyond the limit."""
    now = time.time()
    total = count(scope, key, window=window)
    if total > limit:
        index = int(now // window)
        raise RateLimited(max(1, int((index + 1) * window - now) + 1))
    return limit - total


def _count(store: BaseCache, cache_key: str, window: int) -> int:
    if isinstance(store, RedisCache):
        # One round trip: the cache's add and incr are three (SET NX, EXISTS, INCR).
        key = store.make_and_validate_key(cache_key)
        pipe = _redis().pipeline(transaction=False)
        pipe.incr(key)
        pipe.expire(key, window * 2, nx=True)
        total, _ = pipe.execute()
        return int(total)
    store.add(cache_key, 0, timeout=window * 2)
    return store.incr(cache_key)


_clients: dict[str, redis.Redis] = {}


def _redis() -> redis.Redis:
    """The cache's Redis, through the process's shared pool (the counters are cache keys)."""
    config = settings.CACHES["default"]
    client = _clients.get(config["LOCATION"])
    if client is None:
        options = config.get("OPTIONS", {})
        pool = ProcessConnectionPool.from_url(
            config["LOCATION"],
            socket_timeout=options.get("socket_timeout"),
            socket_connect_timeout=options.get("socket_connect_timeout"),
        )
        client = _clients[config["LOCATION"]] = redis.Redis(connection_pool=pool)
    return client
