"""A per-account request budget, as Heroku's API has: fixed one-minute windows in the cache."""

from __future__ import annotations

import logging
import time

from django.conf import settings
from django.core.cache import cache

from dashboard.api.errors import ApiError

logger = logging.getLogger(__name__)
WINDOW_SECONDS = 60


def rate_limit(scope: str, key: str, limit: int) -> int:
    """Count one request; answer how many remain, or raise 429 with Retry-After."""
    now = time.time()
    window = int(now // WINDOW_SECONDS)
    cache_key = f"ratelimit:{scope}:{key}:{window}"
    try:
        cache.add(cache_key, 0, timeout=WINDOW_SECONDS * 2)
        used = cache.incr(cache_key)
    except Exception:
        # A cache outage must not take the API down with it: let the request through.
        logger.warning("rate limit cache unavailable", exc_info=True)
        return limit
    if used > limit:
        retry_after = max(1, int((window + 1) * WINDOW_SECONDS - now) + 1)
        raise ApiError(
            429,
            "rate_limit",
            "Your account reached the API rate limit\n"
            "Please wait a few minutes before making new requests",
            headers={"Retry-After": str(retry_after), "RateLimit-Remaining": "0"},
        )
    return limit - used


def api_rate_limit(user_id: int) -> int:
    return rate_limit("api", str(user_id), settings.API_RATE_LIMIT_PER_MINUTE)
