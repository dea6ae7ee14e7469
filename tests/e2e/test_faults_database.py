"""PostgreSQL restarted under a real daphne: pages, the API, ingest and the live sockets come back
by themselves within 10 s, and requests made while it is down get a clear 503.

The server runs with production settings (DJANGO_DEBUG=0), as the 503 page is what production
shows; only the redirect to HTTPS is off, there being no TLS on loopback.
"""

from __future__ import annotations

import secrets
import urllib.error
from collections.abc import Iterator

import pytest

from tests.e2e.conftest import (
    DEMO_PASSWORD,
    Server,
    free_port,
    seeded_environment,
    start_daphne,
    stop,
)
from tests.e2e.faults import LiveSockets, PostgresServer, Session, api, report_gateway, wait_for

COUNT_ID = "app-acme-web-connections"
HOST = "acme-web.example.net"


@pytest.fixture(scope="module")
def postgres_and_server(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[Server, PostgresServer]]:
    tmp = tmp_path_factory.mktemp("database-faults")
    postgres = PostgresServer()
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    try:
        postgres.start()
        with seeded_environment(
            tmp,
            [url],
            database_url=postgres.url,
            DJANGO_DEBUG="0",
            DJANGO_SECRET_KEY=secrets.token_urlsafe(48),
            SECURE_SSL_REDIRECT="0",
            # The gateway reports now and then here: it must not turn stale (and count 0).
            EDGE_STALE_AFTER="600",
        ) as server:
            try:
                server.process = start_daphne(port, server.env, tmp / "daphne.log")
                yield server, postgres
            finally:
                stop(server.process)
    finally:
        postgres.remove()


def report(server: Server, count: int) -> bool:
    return report_gateway(server, HOST, count)


def test_a_database_restart_is_recovered_from_without_a_manual_step(
    postgres_and_server: tuple[Server, PostgresServer],
) -> None:
    server, postgres = postgres_and_server
    alice = Session(server.url, "alice", DEMO_PASSWORD)
    token = server.user("alice")["api_token"]

    def everything_answers() -> bool:
        try:
            page = alice.get("/apps/acme-web/", timeout=5)
            status, body = api(server.url, token, "GET", "/apps/acme-chat/features/websockets")
            return "acme-web" in page and status == 200 and "enabled" in body and report(server, 7)
        except (urllib.error.URLError, OSError, ValueError):
            return False

    with LiveSockets(
        server.url, "/ws/live/apps/acme-web/", alice.cookie_header(), COUNT_ID, 5
    ) as sockets:
        assert report(server, 5)
        wait_for(lambda: sockets.all_show(5), 15, "the sockets to show the first report")

        postgres.restart()
        wait_for(everything_answers, 10, "pages, the API and ingest to answer after the restart")
        wait_for(lambda: sockets.all_show(7), 10, "the sockets to show a report made afterwards")

    status, body = api(
        server.url, token, "PATCH", "/apps/acme-chat/features/websockets", {"enabled": True}
    )
    assert status == 200 and body["enabled"] is True


def test_while_the_database_is_down_requests_get_a_clear_503(
    postgres_and_server: tuple[Server, PostgresServer],
) -> None:
    server, postgres = postgres_and_server
    alice = Session(server.url, "alice", DEMO_PASSWORD)
    token = server.user("alice")["api_token"]
    postgres.halt()
    try:
        with pytest.raises(urllib.error.HTTPError) as page:
            alice.get("/apps/acme-web/")
        status, body = api(server.url, token, "GET", "/apps/acme-chat/features/websockets")
    finally:
        postgres.start()

    assert page.value.code == 503
    assert page.value.headers["Retry-After"]
    assert "temporarily unavailable" in page.value.read().decode()
    assert status == 503 and body["id"] == "service_unavailable"
    assert "acme-web" in alice.get("/apps/acme-web/")
