"""Edges' reports as daphne serves them: beside Django's request thread (edges.api.ingest_asgi),
through the same function as Django's door, answered the same way; anything else goes to
Django unchanged."""

from __future__ import annotations

import json
import logging
import uuid
from typing import Any

import pytest
from channels.testing import HttpCommunicator
from django.db import OperationalError
from django.test import Client

from edgeboard.asgi import application
from edges.api import ingest_payloads
from edges.live_state import live_state
from edges.services.edges import edge_ingest_token_rotate
from tests.conftest import World

pytestmark = pytest.mark.django_db(transaction=True)  # applied on threads of its own

URL = "/ingest/v1/reports"


@pytest.fixture
def token(world: World) -> str:
    return edge_ingest_token_rotate(edge=world.gateway, actor=None, source="cli")


def report(seq: int = 1, edge: str = "gateway", connections: int = 12) -> bytes:
    return json.dumps(
        {
            "edge": edge,
            "seq": seq,
            "sent_at": "2026-11-21T10:00:00Z",
            "frontends": [
                {"hostname": "acme-web.example.net", "connections": connections, "websockets": 3}
            ],
        }
    ).encode()


async def send(
    body: bytes,
    token: str | None = None,
    *,
    method: str = "POST",
    host: str = "testserver",
    extra: list[tuple[bytes, bytes]] | None = None,
) -> dict[str, Any]:
    headers = [(b"host", host.encode()), (b"content-type", b"application/json")]
    if token:
        headers.append((b"authorization", f"Bearer {token}".encode()))
    communicator = HttpCommunicator(application, method, URL, body, [*headers, *(extra or [])])
    return await communicator.get_response(timeout=10)


def frontends() -> list[tuple[str, int]]:
    return [
        (f.hostname, f.connections)
        for state in live_state().states_of().values()
        for f in state.frontends
    ]


async def test_a_report_is_applied_and_answered_like_djangos_door(
    token: str, settings: Any
) -> None:
    settings.ALLOWED_HOSTS = ["testserver"]
    traced = [(b"request-id", b"gateway-report-2")]
    response = await send(report(1, connections=12), token, extra=traced)
    assert response["status"] == 202
    assert json.loads(response["body"]) == {"accepted": 1, "unknown_hostnames": []}
    assert frontends() == [("acme-web.example.net", 12)]
    # The same request through Django's stack: the same answer, with the same headers.
    django = await _django_post(
        report(2, connections=13), token, **{"Request-Id": "gateway-report-2"}
    )
    assert django.status_code == 202
    assert frontends() == [("acme-web.example.net", 13)]
    ours = dict((k.decode().lower(), v.decode()) for k, v in response["headers"])
    theirs = {k.lower(): v for k, v in django.items()}
    theirs.pop("vary", None)  # Django's session middleware: ingest has no session
    assert ours == {**theirs, "content-length": str(len(response["body"]))}


async def _django_post(body: bytes, token: str, **headers: str) -> Any:
    from channels.db import database_sync_to_async

    return await database_sync_to_async(Client().post)(
        URL,
        data=body,
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}", **headers},
    )


async def test_each_answer_has_a_request_id_and_its_log_line_names_it(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="edges.api.ingest_asgi"):
        refused = await send(report(), "not-a-token")
        other = await send(report(), "not-a-token", extra=[(b"request-id", b"<img src=x>")])
        traced = await send(report(), "not-a-token", extra=[(b"request-id", b"gateway-7")])
    ids = [dict(r["headers"])[b"request-id"].decode() for r in (refused, other, traced)]
    assert uuid.UUID(ids[0]).version == 4 and uuid.UUID(ids[1]).version == 4
    assert ids[0] != ids[1] and ids[2] == "gateway-7"
    assert [getattr(r, "request_id", None) for r in caplog.records] == ids


async def test_an_older_report_is_ignored(token: str) -> None:
    assert (await send(report(5), token))["status"] == 202
    response = await send(report(4, connections=99), token)
    assert response["status"] == 200
    assert json.loads(response["body"]) == {"ignored": True, "last_seq": 5}
    assert frontends() == [("acme-web.example.net", 12)]


async def test_a_bad_token_is_refused_and_logged_as_the_clients_mistake(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="edges.api.ingest_asgi"):
        response = await send(report(), "not-a-token")
    assert response["status"] == 401
    assert (b"www-authenticate", b'Bearer realm="ingest"') in response["headers"]
    assert json.loads(response["body"])["id"] == "unauthorized"
    assert [r.levelname for r in caplog.records] == ["WARNING"]
    assert frontends() == []


async def test_a_body_past_the_limit_is_refused_unread_but_only_for_a_known_edge(
    token: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ingest_payloads, "MAX_BODY_BYTES", 100)
    monkeypatch.setattr("edges.api.ingest_asgi.MAX_BODY_BYTES", 100)
    body = report() + b" " * 200  # no Content-Length: only reading tells
    assert (await send(body, "not-a-token"))["status"] == 401
    response = await send(body, token)
    assert response["status"] == 413
    assert json.loads(response["body"])["id"] == "payload_too_large"
    assert frontends() == []


async def test_a_failure_while_applying_answers_json_and_nothing_is_half_written(
    token: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(**_: Any) -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr("edges.api.ingest.report_apply", broken)
    with caplog.at_level(logging.ERROR, logger="edges.api.ingest_asgi"):
        response = await send(report(), token)
    assert response["status"] == 500
    assert json.loads(response["body"])["id"] == "internal_server_error"
    assert any("disk on fire" in (r.exc_text or "") for r in caplog.records)
    # Logged on the ingest thread, under the answer's Request-Id.
    rid = dict(response["headers"])[b"request-id"].decode()
    assert {getattr(r, "request_id", None) for r in caplog.records} == {rid}

    def unreachable(**_: Any) -> None:
        raise OperationalError("connection refused")

    monkeypatch.setattr("edges.api.ingest.report_apply", unreachable)
    response = await send(report(), token)
    assert response["status"] == 503
    assert (b"retry-after", b"5") in response["headers"]
    assert frontends() == []


async def test_what_django_would_answer_otherwise_goes_to_django(token: str, settings: Any) -> None:
    settings.ALLOWED_HOSTS = ["dashboard.example.com"]
    response = await send(report(), token, host="evil.example.net")
    assert response["status"] == 400  # Django's refusal of a host it does not serve
    assert frontends() == []
    response = await send(b"", token, method="GET", host="dashboard.example.com")
    assert response["status"] == 405
    assert json.loads(response["body"])["id"] == "method_not_allowed"


async def test_plain_http_goes_to_django_where_https_is_required(token: str, settings: Any) -> None:
    from edges.api.ingest_asgi import IngestReports

    handed: list[str] = []

    async def django(scope: dict[str, Any], receive: Any, send: Any) -> None:
        handed.append(scope["path"])  # Django's SecurityMiddleware redirects it
        await send({"type": "http.response.start", "status": 301, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    settings.SECURE_SSL_REDIRECT = True
    settings.ALLOWED_HOSTS = ["testserver"]
    front = IngestReports(django)
    headers = [(b"host", b"testserver"), (b"content-type", b"application/json")]
    headers.append((b"authorization", f"Bearer {token}".encode()))
    response = await HttpCommunicator(front, "POST", URL, report(), headers).get_response()
    assert response["status"] == 301 and handed == [URL]
    assert frontends() == []
    # Behind a proxy that says the edge came over HTTPS: applied here, with HSTS.
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.SECURE_HSTS_SECONDS = 60
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    settings.SECURE_HSTS_PRELOAD = False
    forwarded = [*headers, (b"x-forwarded-proto", b"https")]
    response = await HttpCommunicator(front, "POST", URL, report(), forwarded).get_response(5)
    assert response["status"] == 202 and handed == [URL]
    assert (b"strict-transport-security", b"max-age=60; includeSubDomains") in response["headers"]
