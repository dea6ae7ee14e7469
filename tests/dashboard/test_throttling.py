from __future__ import annotations

import json
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.cache import cache
from django.test import Client

from edges.services.edges import edge_ingest_token_rotate
from tests.conftest import World


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
