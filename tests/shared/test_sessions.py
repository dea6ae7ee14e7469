"""Sessions: the database is the record, the cache serves the reads, Redis going away costs
nothing but speed, and a sign-out is honoured at once."""

from __future__ import annotations

import logging
from importlib import import_module
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.contrib.sessions.backends import cached_db
from django.contrib.sessions.models import Session
from django.test import Client

from shared import breaker
from shared import sessions as sessions_module
from tests.dashboard.test_redis_outage import DownCache


def store(key: str | None = None) -> Any:
    return import_module(settings.SESSION_ENGINE).SessionStore(key)


def signed_in(user: User) -> tuple[Client, str]:
    client = Client()
    client.force_login(user)
    return client, client.cookies[settings.SESSION_COOKIE_NAME].value


@pytest.fixture
def fresh_breaker(monkeypatch: pytest.MonkeyPatch) -> breaker.Breaker:
    fresh = breaker.Breaker("Redis")
    monkeypatch.setattr(sessions_module, "redis_breaker", fresh)
    return fresh


@pytest.fixture
def cache_down(monkeypatch: pytest.MonkeyPatch, fresh_breaker: breaker.Breaker) -> DownCache:
    down = DownCache()
    monkeypatch.setattr(cached_db, "caches", {settings.SESSION_CACHE_ALIAS: down})
    return down


def test_the_sessions_are_the_cached_database_store() -> None:
    assert settings.SESSION_ENGINE == "shared.sessions"


def test_a_signed_in_session_is_read_without_a_database_query(
    alice: User, django_assert_num_queries: Any
) -> None:
    _client, key = signed_in(alice)

    with django_assert_num_queries(0):
        data = store(key).load()

    assert data["_auth_user_id"] == str(alice.pk)


def test_a_session_missing_from_the_cache_is_read_from_the_database_and_cached_again(
    alice: User, django_assert_num_queries: Any
) -> None:
    from django.core.cache import caches

    _client, key = signed_in(alice)
    caches[settings.SESSION_CACHE_ALIAS].delete(cached_db.KEY_PREFIX + key)

    with django_assert_num_queries(1):
        first = store(key).load()
    with django_assert_num_queries(0):
        second = store(key).load()

    assert first == second and first["_auth_user_id"] == str(alice.pk)


def test_a_signed_out_session_is_gone_from_the_cache_and_the_database(alice: User) -> None:
    client, key = signed_in(alice)

    response = client.post("/logout/")

    assert response.status_code in (200, 302)
    assert not Session.objects.filter(session_key=key).exists()
    assert store(key).load() == {}


def test_cached_copies_live_no_longer_than_the_configured_bound(alice: User, settings: Any) -> None:
    settings.SESSION_CACHE_SECONDS = 30
    session = store()
    session.set_expiry(3600)

    assert session._cache_lifetime() == 30
    session.set_expiry(10)
    assert session._cache_lifetime() == 10


def test_sign_in_and_pages_keep_working_while_the_cache_is_down(
    alice: User, cache_down: DownCache, fresh_breaker: breaker.Breaker
) -> None:
    client = Client()
    signed = client.login(username="alice", password="correct-horse-battery-staple")
    page = client.get("/apps/acme-web/")
    again = client.get("/apps/acme-web/")

    assert signed
    assert page.status_code == 200 and again.status_code == 200
    # One failure opened the breaker; the rest of the requests did not wait on Redis.
    assert cache_down.calls == 1
    assert not fresh_breaker.closed


def test_a_sign_out_that_cannot_reach_the_cache_is_logged_as_an_error(
    alice: User, cache_down: DownCache, caplog: pytest.LogCaptureFixture
) -> None:
    client, key = signed_in(alice)

    with caplog.at_level(logging.ERROR, logger="shared.sessions"):
        response = client.post("/logout/")

    assert response.status_code in (200, 302)
    assert not Session.objects.filter(session_key=key).exists()
    assert any("deleted while its cache was unreachable" in r.message for r in caplog.records)
