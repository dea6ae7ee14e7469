"""Request budgets in fixed windows, kept in the cache (Redis when REDIS_URL is set)."""

from __future__ import annotations

import logging
import time

from django.conf import settings
from django.core.cache import cache

from dashboard.api.errors import ApiError

logger = logging.getLogger(__name__)
WINDOW_SECONDS = 60


def _key(scope: str, key: str, window: int, now: float) -> tuple[str, int]:
    index = int(now // window)
    return f"ratelimit:{scope}:{key}:{index}", index


def used(scope: str, key: str, *, window: int = WINDOW_SECONDS) -> int:
    """How many requests the current window has counted so far."""
    cache_key, _ = _key(scope, key, window, time.time())
    try:
        return int(cache.get(cache_key) or 0)
    except Exception:
        logger.warning("rate limit cache unavailable", exc_info=True)
        return 0


def rate_limit(scope: str, key: str, limit: int, *, window: int = WINDOW_SECONDS) -> int:
    """Count one request; answer how many remain, or raise 429 with Retry-After."""
    now = time.time()
    cache_key, index = _key(scope, key, window, now)
    try:
        cache.add(cache_key, 0, timeout=window * 2)
        count = cache.incr(cache_key)
    except Exception:
        # A cache outage must not take the service down with it: let the request through.
        logger.warning("rate limit cache unavailable", exc_info=True)
        return limit
    if count > limit:
        retry_after = max(1, int((index + 1) * window - now) + 1)
        raise ApiError(
            429,
            "rate_limit",
            "Your account reached the API rate limit\n"
            "Please wait a few minutes before making new requests",
            headers={"Retry-After": str(retry_after), "RateLimit-Remaining": "0"},
        )
    return limit - count


def api_rate_limit(user_id: int) -> int:
    return rate_limit("api", str(user_id), settings.API_RATE_LIMIT_PER_MINUTE)
