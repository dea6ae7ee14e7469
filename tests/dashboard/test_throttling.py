from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.cache import cache
from django.test import Client

from edges.services.edges import edge_ingest_token_rotate
from tests.conftest import World
from tests.dashboard.test_api import Api, api_for


@pytest.fixture(autouse=True)
def empty_cache() -> Any:
    cache.clear()
    yield
    cache.clear()


def sign_in(client: Client, password: str) -> Any:
    return client.post("/login/", {"username": "alice", "password": password})


def test_the_sixth_failed_sign_in_within_the_window_is_refused(
    alice: User, monkeypatch: Any
) -> None:
    client = Client()
    for _ in range(5):
        assert sign_in(client, "wrong").status_code == 200
    checked: list[str] = []
    monkeypatch.setattr(
        "django.contrib.auth.forms.authenticate", lambda *a, **k: checked.append("password") or None
    )
    refused = sign_in(client, "correct-horse-battery-staple")
    assert checked == []  # the password is not even looked at
    assert refused.status_code == 429
    assert "Too many failed sign-ins" in refused.content.decode()
    assert int(refused["Retry-After"]) == 900
    assert "_auth_user_id" not in client.session


def test_successful_sign_ins_are_not_counted(alice: User) -> None:
    for _ in range(8):
        client = Client()
        assert sign_in(client, "correct-horse-battery-staple").status_code == 302


def test_the_ingest_api_answers_429_with_retry_after(world: World, settings: Any) -> None:
    settings.INGEST_RATE_LIMIT_PER_MINUTE = 2
    token = edge_ingest_token_rotate(edge=world.gateway, actor=None, source="cli")
    statuses = []
    for seq in range(1, 4):
        body = {"edge": "gateway", "seq": seq, "sent_at": "2026-11-21T10:00:00Z", "frontends": []}
        response = Client().post(
            "/ingest/v1/reports",
            data=json.dumps(body),
            content_type="application/json",
            headers={"Authorization": f"Bearer {token}"},
        )
        statuses.append(response.status_code)
    assert statuses == [202, 202, 429]
    assert response.json()["id"] == "rate_limit"
    assert 1 <= int(response["Retry-After"]) <= 61


@pytest.fixture
def one_window(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep the limiter in one window, so a minute turning mid-test cannot refill the budget."""
    now = 1_800_000_000.0
    monkeypatch.setattr("shared.ratelimit.time", SimpleNamespace(time=lambda: now))


@pytest.mark.usefixtures("one_window")
def test_reading_the_api_rate_limit_spends_none_of_it(alice: User, settings: Any) -> None:
    settings.API_RATE_LIMIT_PER_MINUTE = 5
    api = api_for(alice)
    for _ in range(3):
        response = api.get("/account/rate-limits")
        assert response.status_code == 200
        assert response.json() == {"remaining": 5}
        assert response["RateLimit-Remaining"] == "5"
    assert api.get("/account")["RateLimit-Remaining"] == "4"
    assert api.get("/apps")["RateLimit-Remaining"] == "3"
    assert api.get("/account/rate-limits").json() == {"remaining": 3}


@pytest.mark.usefixtures("one_window")
def test_the_rate_limit_reads_zero_once_the_limiter_refuses(alice: User, settings: Any) -> None:
    settings.API_RATE_LIMIT_PER_MINUTE = 2
    api = api_for(alice)
    statuses = [api.get("/account").status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    response = api.get("/account/rate-limits")
    assert response.status_code == 200 and response.json() == {"remaining": 0}


@pytest.mark.usefixtures("one_window")
def test_each_account_reads_its_own_rate_limit(alice: User, carol: User, settings: Any) -> None:
    settings.API_RATE_LIMIT_PER_MINUTE = 10
    alice_api, carol_api = api_for(alice), api_for(carol)
    for _ in range(4):
        alice_api.get("/account")
    assert alice_api.get("/account/rate-limits").json() == {"remaining": 6}
    assert carol_api.get("/account/rate-limits").json() == {"remaining": 10}


def test_the_rate_limit_needs_a_token_and_is_read_only(world: World, alice: User) -> None:
    anonymous = Api(None).get("/account/rate-limits")
    assert anonymous.status_code == 401 and anonymous.json()["id"] == "unauthorized"
    assert Api("wrong").get("/account/rate-limits").status_code == 401
    assert api_for(alice).patch("/account/rate-limits", {"remaining": 10**6}).status_code == 405
