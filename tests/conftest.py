from __future__ import annotations

import contextlib
import inspect
import os
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from dashboard.models import App, Membership, Organization
from edges.models import Edge
from tests.factories import (
    POST_GA,
    PRE_GA,
    make_app,
    make_catalog,
    make_edge,
    make_org,
    make_ssl_edge,
    make_user,
)

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


@pytest.fixture(autouse=True)
def fast_password_hashing(settings: Any) -> None:
    """Tests create many users; the production hasher's deliberate slowness is not under test."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
async def live_hubs_stopped() -> AsyncIterator[None]:
    """An async test's live hub stops before its event loop closes: its reader, cancelled while
    the loop still runs, lets go of the channel layer's connection (left to the loop's own
    shutdown, a reader inside channels-redis's receive could keep the loop waiting forever)."""
    yield
    import asyncio

    from live import hub

    mine = hub._hubs.pop(asyncio.get_running_loop(), None)
    if mine is not None:
        await mine.stop()


@pytest.fixture(autouse=True)
def fresh_channel_layer() -> Iterator[None]:
    """Each test gets its own channel layer and live hubs, and no remembered socket grants.
    Each async test runs on an event loop of its own, and a Redis layer keeps asyncio locks
    bound to the loop that first waited on them: a hub whose reader still held one when its
    test's loop closed would stop the readers of every later test. (A server process has one
    loop for its life.)"""
    yield
    from channels.layers import channel_layers

    from live import hub
    from live.grants import grants

    channel_layers.backends.clear()
    hub._hubs.clear()
    grants.forget()


@pytest.fixture(autouse=True)
def fresh_live_state(settings: Any) -> Iterator[None]:
    """Each test starts with no edge numbers and no remembered routing: a store of its own in
    Redis (a prefix of its own), or an emptied one in memory."""
    import uuid

    from edges import live_state
    from edges.charts import edge_history_cache
    from edges.directories import apps_directory, edges_directory, organization_apps
    from edges.services.reports import forget_edges
    from shared.breaker import redis as redis_breaker

    settings.LIVE_STATE_PREFIX = f"test-{uuid.uuid4().hex[:8]}"
    live_state._store = None
    forget_edges()
    edges_directory.forget()
    apps_directory.forget()
    organization_apps.forget()
    edge_history_cache.forget()
    # A breaker left open by an earlier test's outage would refuse this test's reports.
    redis_breaker.succeeded()
    yield
    store = live_state._store
    live_state._store = None
    forget_edges()
    if store is not None:
        import redis

        # Redis may have been taken down by the test itself.
        with contextlib.suppress(redis.RedisError):
            store.forget()


def unavailable(reason: str) -> None:
    """Skip a test whose real dependency is missing here; under CI that is a failure."""
    if IN_CI:
        pytest.fail(f"CI must provide this: {reason}")
    pytest.skip(reason)


# Connections the concurrency tests' threads may hold at once: one each, so the pool does not
# queue them (which would serialise the very writes that must race).
CONCURRENT_CONNECTIONS = 32


@pytest.fixture
def postgresql() -> Iterator[None]:
    """Row locks and concurrent writers need PostgreSQL; SQLite serialises every writer."""
    from django.db import connection

    if connection.vendor != "postgresql":
        unavailable("this test needs PostgreSQL (set DATABASE_URL)")
    pool = connection.settings_dict.get("OPTIONS", {}).get("pool")
    if not pool:
        yield
        return
    sizes = pool["min_size"], pool["max_size"]
    connection.close_pool()
    # Opened in full before the threads start, so each gets a connection at once.
    pool["min_size"] = pool["max_size"] = CONCURRENT_CONNECTIONS
    connection.pool.open(wait=True)
    try:
        yield
    finally:
        connection.close_pool()
        pool["min_size"], pool["max_size"] = sizes


@dataclass
class World:
    acme: Organization
    globex: Organization
    gateway: Edge
    acme_ssl: Edge
    globex_ssl: Edge
    acme_web: App
    acme_api: App
    globex_store: App


@pytest.fixture
def world(db: None) -> World:
    """Two customers: acme behind a legacy SSL edge, globex behind an upgraded one."""
    make_catalog()
    acme, globex = make_org("acme"), make_org("globex")
    gateway = make_edge("gateway", hostname="gateway.example.net")
    acme_ssl = make_ssl_edge("acme-ssl", org=acme, common_name="www.acme.example")
    globex_ssl = make_ssl_edge(
        "globex-ssl", org=globex, proxy=Edge.Proxy.HIPACHE, common_name="shop.globex.example"
    )
    return World(
        acme=acme,
        globex=globex,
        gateway=gateway,
        acme_ssl=acme_ssl,
        globex_ssl=globex_ssl,
        acme_web=make_app(
            "acme-web", org=acme, created_at=PRE_GA, custom=[("www.acme.example", acme_ssl)]
        ),
        acme_api=make_app("acme-api", org=acme, created_at=POST_GA),
        globex_store=make_app(
            "globex-store",
            org=globex,
            created_at=PRE_GA,
            custom=[("shop.globex.example", globex_ssl)],
        ),
    )


@pytest.fixture
def support(world: World) -> User:
    return make_user("support", staff=True)


@pytest.fixture
def admin_user(world: World) -> User:
    return make_user("admin", superuser=True)


@pytest.fixture
def alice(world: World) -> User:
    return make_user("alice", org=world.acme, role=Membership.Role.OWNER)


@pytest.fixture
def bob(world: World) -> User:
    return make_user("bob", org=world.acme, role=Membership.Role.MEMBER)


@pytest.fixture
def carol(world: World) -> User:
    return make_user("carol", org=world.globex, role=Membership.Role.OWNER)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Run browser tests last: Playwright's sync API keeps an event loop running in the main
    thread for the rest of the session, which async tests cannot share. Async tests stop their
    live hub before their loop closes (`live_hubs_stopped`; sync ones may run Playwright's
    loop, where another cannot start)."""
    items.sort(key=lambda item: item.get_closest_marker("e2e") is not None)
    for item in items:
        if inspect.iscoroutinefunction(getattr(item, "function", None)):
            item.fixturenames.append("live_hubs_stopped")  # type: ignore[attr-defined]


def client_for(user: User | None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


@pytest.fixture
def pushed(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, dict[str, Any]]]:
    """The live events sent (inside `committed()`, once the transactions commit)."""
    sent: list[tuple[str, dict[str, Any]]] = []
    monkeypatch.setattr(
        "shared.bus.publish_many",
        lambda events: sent.extend((event, payload) for _, event, payload in events),
    )
    return sent


@pytest.fixture
def committed(django_capture_on_commit_callbacks: Any) -> Callable[[], Any]:
    """Run what commits inside it, the way a request outside a test's transaction would."""
    return lambda: django_capture_on_commit_callbacks(execute=True)
