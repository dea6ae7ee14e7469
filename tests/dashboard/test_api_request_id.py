"""Every machine client's answer carries a Request-Id, and the server's log lines carry the same."""

from __future__ import annotations

import io
import json
import logging
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.cache import cache
from django.test import Client

from dashboard.services.tokens import api_token_create
from edges.services.edges import edge_ingest_token_rotate
from shared.request_id import RequestIdFilter
from tests.conftest import World
from tests.dashboard.test_api import Api, api_for


def fresh_uuid4(value: str) -> bool:
    return uuid.UUID(value).version == 4 and str(uuid.UUID(value)) == value


@pytest.fixture
def alice_api(alice: User) -> Api:
    return api_for(alice)


@pytest.fixture
def server_log() -> Iterator[io.StringIO]:
    """What the configured console handler (settings.LOGGING) writes, as the operator sees it."""
    handler = next(
        h
        for h in logging.getLogger().handlers
        if any(isinstance(f, RequestIdFilter) for f in h.filters)
    )
    lines = io.StringIO()
    previous = handler.setStream(lines)  # type: ignore[attr-defined]
    try:
        yield lines
    finally:
        handler.setStream(previous)  # type: ignore[attr-defined]


def test_every_answer_carries_a_fresh_request_id(alice_api: Api) -> None:
    first = alice_api.get("/account")["Request-Id"]
    second = alice_api.get("/account")["Request-Id"]
    assert fresh_uuid4(first) and fresh_uuid4(second)
    assert first != second


@pytest.mark.parametrize("sent", [str(uuid.uuid4()), "cli-1701.a_b", "x" * 200])
def test_a_clients_own_safe_request_id_is_echoed(alice_api: Api, sent: str) -> None:
    assert alice_api.get("/account", **{"Request-Id": sent})["Request-Id"] == sent


@pytest.mark.parametrize(
    "sent", ["", "<script>alert(1)</script>", "a b", "x" * 201, "id;drop", "ünïcode"]
)
def test_an_unsafe_request_id_is_replaced_not_reflected(alice_api: Api, sent: str) -> None:
    answered = alice_api.get("/account", **{"Request-Id": sent})["Request-Id"]
    assert answered != sent and fresh_uuid4(answered)


def test_errors_carry_a_request_id_too(
    alice_api: Api, alice: User, settings: Any, monkeypatch: Any
) -> None:
    assert alice_api.get("/apps/no-such-app").status_code == 404
    assert fresh_uuid4(alice_api.get("/apps/no-such-app")["Request-Id"])
    assert fresh_uuid4(alice_api.get("/no/such/endpoint")["Request-Id"])
    assert fresh_uuid4(Api("wrong").get("/account")["Request-Id"])
    assert fresh_uuid4(alice_api.delete("/account")["Request-Id"])
    settings.API_RATE_LIMIT_PER_MINUTE = 0
    cache.clear()
    limited = alice_api.get("/account")
    assert limited.status_code == 429 and fresh_uuid4(limited["Request-Id"])
    cache.clear()
    settings.API_RATE_LIMIT_PER_MINUTE = 600
    monkeypatch.setattr("dashboard.api.views.account_json", lambda user: 1 / 0)
    alice_api.client.raise_request_exception = False
    failed = alice_api.get("/account")
    assert failed.status_code == 500 and fresh_uuid4(failed["Request-Id"])


def test_token_only_clients_and_edges_get_one_but_browsers_do_not(
    world: World, alice: User
) -> None:
    _, raw = api_token_create(user=alice, label="script", actor=alice, source="web")
    script = Client().get("/account", headers={"Authorization": f"Bearer {raw}"})
    assert script.status_code == 200 and fresh_uuid4(script["Request-Id"])
    token = edge_ingest_token_rotate(edge=world.gateway, actor=None, source="cli")
    body = {"edge": "gateway", "seq": 1, "sent_at": "2026-11-21T10:00:00Z", "frontends": []}
    edge = Client().post(
        "/ingest/v1/reports",
        data=json.dumps(body),
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}", "Request-Id": "edge-gateway-1"},
    )
    assert edge.status_code == 202 and edge["Request-Id"] == "edge-gateway-1"
    browser = Client()
    browser.force_login(alice)
    page = browser.get("/apps/acme-web/", headers={"Request-Id": "page-1"})
    assert page.status_code == 200 and "Request-Id" not in page


def test_the_log_line_of_a_failed_call_names_its_request_id(
    alice_api: Api, server_log: io.StringIO
) -> None:
    missing = alice_api.get("/apps/no-such-app", **{"Request-Id": "cli-trace-42"})
    assert missing.status_code == 404
    unknown = alice_api.get("/no/such/endpoint")
    lines = server_log.getvalue().splitlines()
    assert any("[cli-trace-42]" in line and "/apps/no-such-app" in line for line in lines), lines
    assert any(
        f"[{unknown['Request-Id']}]" in line and "/no/such/endpoint" in line for line in lines
    )


def test_a_server_errors_log_line_and_answer_share_the_request_id(
    alice_api: Api, monkeypatch: Any, server_log: io.StringIO
) -> None:
    def explode(user: Any) -> dict:
        raise RuntimeError("boom")

    monkeypatch.setattr("dashboard.api.views.account_json", explode)
    alice_api.client.raise_request_exception = False
    response = alice_api.get("/account")
    assert response.status_code == 500
    logged = [
        line for line in server_log.getvalue().splitlines() if "Internal Server Error" in line
    ]
    assert logged and all(f"[{response['Request-Id']}]" in line for line in logged), logged


def test_log_lines_outside_an_api_call_say_so(server_log: io.StringIO) -> None:
    logging.getLogger("edgeboard.tests").warning("not about a request")
    assert "[-] not about a request" in server_log.getvalue()


def test_djangos_request_warnings_reach_only_handlers_that_write_the_id() -> None:
    """Django's own console handler (DEBUG only) would write them a second time, without it."""
    handlers = []
    logger: logging.Logger | None = logging.getLogger("django.request")
    while logger is not None:
        handlers += [h for h in logger.handlers if not type(h).__module__.startswith("_pytest")]
        logger = logger.parent if logger.propagate else None
    assert handlers
    for handler in handlers:
        assert any(isinstance(f, RequestIdFilter) for f in handler.filters), handler


def test_each_api_call_writes_one_access_line_with_its_request_id(
    alice_api: Api, server_log: io.StringIO, world: World
) -> None:
    alice_api.get("/teams/acme/members", **{"Request-Id": "cli-access-7"})
    alice_api.get("/apps/no-such-app", **{"Request-Id": "cli-access-8"})
    # An edge's calls (many a second) write none.
    token = edge_ingest_token_rotate(edge=world.gateway, actor=None, source="cli")
    config = Client().get(
        "/ingest/v1/edges/gateway/config", headers={"Authorization": f"Bearer {token}"}
    )
    assert config.status_code == 200
    lines = [line for line in server_log.getvalue().splitlines() if "edgeboard.access" in line]
    assert len(lines) == 2, lines
    assert " INFO edgeboard.access [cli-access-7] GET /teams/acme/members 200 " in lines[0]
    assert " INFO edgeboard.access [cli-access-8] GET /apps/no-such-app 404 " in lines[1]
