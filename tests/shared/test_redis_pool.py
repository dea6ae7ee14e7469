"""The cache's Redis connections are kept per process, not opened per request."""

from __future__ import annotations

import asyncio
import threading

from django.core.cache.backends.redis import RedisCache

from shared.redis_pool import ProcessConnectionPool

OPTIONS = {
    "OPTIONS": {
        "socket_timeout": 2,
        "pool_class": "shared.redis_pool.ProcessConnectionPool",
    }
}


def pool_of(cache: RedisCache) -> object:
    return cache._cache._get_connection_pool(write=True)


def test_cache_objects_of_different_requests_share_one_pool() -> None:
    # Django makes a cache object per request context; each used to make its own pool.
    first = RedisCache("redis://127.0.0.1:6399/3", OPTIONS)
    second = RedisCache("redis://127.0.0.1:6399/3", OPTIONS)

    assert pool_of(first) is pool_of(second)
    assert isinstance(pool_of(first), ProcessConnectionPool)


def test_cache_objects_made_in_other_threads_and_tasks_share_it_too() -> None:
    pools: list[object] = []

    def in_thread() -> None:
        pools.append(pool_of(RedisCache("redis://127.0.0.1:6399/4", OPTIONS)))

    async def in_task() -> None:
        pools.append(pool_of(RedisCache("redis://127.0.0.1:6399/4", OPTIONS)))

    threads = [threading.Thread(target=in_thread) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    asyncio.run(in_task())

    assert len(pools) == 5 and all(pool is pools[0] for pool in pools)


def test_another_address_or_other_options_get_a_pool_of_their_own() -> None:
    base = RedisCache("redis://127.0.0.1:6399/5", OPTIONS)
    other_db = RedisCache("redis://127.0.0.1:6399/6", OPTIONS)
    other_timeout = RedisCache(
        "redis://127.0.0.1:6399/5",
        {"OPTIONS": {**OPTIONS["OPTIONS"], "socket_timeout": 5}},
    )

    assert pool_of(base) is not pool_of(other_db)
    assert pool_of(base) is not pool_of(other_timeout)
