"""Redis stopped and frozen under a real daphne: pages and the API keep answering, ingest answers
at once (503 with Retry-After: the live numbers live in Redis), every change is saved and
audited, live sockets are told to reconnect, and once Redis is back the edge's next report
restores the numbers and every page shows the final state.

Redis here is a server of the test's own (nothing on disk, as on the platform), so stopping it
leaves the machine's Redis alone.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.conftest import (
    DEMO_PASSWORD,
    Server,
    free_port,
    login,
    seeded_environment,
    start_daphne,
    stop,
)
from tests.e2e.faults import (
    LiveSockets,
    RedisServer,
    Session,
    api,
    report_gateway,
    report_gateway_answer,
    wait_for,
)

pytestmark = pytest.mark.e2e

SOCKET_TIMEOUT = 6  # REDIS_SOCKET_TIMEOUT for this server: its smallest allowed value
COUNT_ID = "app-acme-web-connections"
HOST = "acme-web.example.net"


@pytest.fixture(scope="module")
def redis_and_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, Any]]:
    tmp = tmp_path_factory.mktemp("redis-faults")
    redis = RedisServer(tmp)
    redis.start()
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    try:
        with seeded_environment(
            tmp,
            [url],
            REDIS_URL=redis.url,
            REDIS_SOCKET_TIMEOUT=str(SOCKET_TIMEOUT),
            API_RATE_LIMIT_PER_MINUTE="10000",
            # The gateway reports once here: it must not turn stale (and count 0) meanwhile.
            EDGE_STALE_AFTER="600",
        ) as server:
            try:
                server.process = start_daphne(port, server.env, tmp / "daphne.log")
                yield server, redis
            finally:
                stop(server.process)
    finally:
        redis.stop()


def feature_audit_rows(server: Server, app: str) -> int:
    out = server.manage(
        "shell",
        "-c",
        "from dashboard.models import AuditEvent; print(AuditEvent.objects.filter("
        f"app__name={app!r}, action__in=['feature.enable', 'feature.disable']).count())",
    )
    return int(out.strip().splitlines()[-1])


def report(server: Server, count: int) -> None:
    assert report_gateway(server, HOST, count)


def websockets_on(server: Server, token: str, app: str) -> bool:
    status, body = api(server.url, token, "GET", f"/apps/{app}/features/websockets")
    assert status == 200, body
    return bool(body["enabled"])


def switch(server: Server, session: Session, token: str, app: str, on: bool, by_page: bool) -> int:
    """Switch websockets through the app page's form or through the Platform API."""
    if by_page:
        return session.post(
            f"/apps/{app}/features/", {"toggle": f"websockets:{'on' if on else 'off'}"}
        )
    status, _ = api(server.url, token, "PATCH", f"/apps/{app}/features/websockets", {"enabled": on})
    return status


def test_redis_stopped_for_ten_seconds_loses_no_change_and_pages_catch_up(
    redis_and_server: tuple[Server, RedisServer], page: Any
) -> None:
    server, redis = redis_and_server
    alice = Session(server.url, "alice", DEMO_PASSWORD)
    token = server.user("alice")["api_token"]
    audited = feature_audit_rows(server, "acme-chat")
    state = websockets_on(server, token, "acme-chat")
    login(page, server, "alice")
    page.goto(server.url + "/apps/acme-web/")
    page.wait_for_selector("[ws-connect][data-live=live]")

    with LiveSockets(
        server.url, "/ws/live/apps/acme-web/", alice.cookie_header(), COUNT_ID, 50
    ) as sockets:
        report(server, 11)
        wait_for(lambda: sockets.all_show(11), 15, "50 sockets to show the first report")
        closes = sockets.close_counts()

        redis.stop()
        stopped = time.monotonic()
        for change in range(20):
            state = not state
            status = switch(server, alice, token, "acme-chat", state, by_page=change % 2 == 1)
            assert status == 200, f"change {change + 1} answered {status}"
        assert "acme-chat" in alice.get("/apps/acme-chat/")
        # The numbers the server last read, marked as such.
        stale_page = alice.get("/apps/acme-web/")
        assert 'data-count="11"' in stale_page
        assert "last known" in stale_page
        assert "Overview" in alice.get("/")
        assert websockets_on(server, token, "acme-chat") == state
        # The report cannot be kept: the edge is told to send its next one a little later.
        assert report_gateway_answer(server, HOST, 41) == (503, "2")
        wait_for(
            lambda: sockets.all_closed_with_a_retried_code(closes),
            SOCKET_TIMEOUT + 4,
            "every socket to be closed with a code the browser retries",
        )
        assert all(w.latest == 11 for w in sockets.watchers)  # nothing could reach them
        time.sleep(max(0.0, 10 - (time.monotonic() - stopped)))

        redis.start()  # empty: it keeps nothing on disk
        # The edge's next report is its whole state: the numbers are back with it.
        wait_for(
            lambda: report_gateway_answer(server, HOST, 42)[0] == 202,
            10,
            "a report to be taken again",
        )
        wait_for(
            lambda: sockets.all_show(42),
            10,
            "every socket to reconnect and show the final count once Redis is back",
            sockets,
        )
    page.wait_for_function(
        f"() => document.getElementById('{COUNT_ID}').dataset.count === '42'", timeout=10_000
    )
    assert "last known" not in alice.get("/apps/acme-web/")
    assert feature_audit_rows(server, "acme-chat") == audited + 20
    assert websockets_on(server, token, "acme-chat") == state


def test_a_frozen_redis_costs_a_request_at_most_its_socket_timeout(
    redis_and_server: tuple[Server, RedisServer],
) -> None:
    server, redis = redis_and_server
    alice = Session(server.url, "alice", DEMO_PASSWORD)
    token = server.user("alice")["api_token"]
    state = websockets_on(server, token, "acme-chat")
    audited = feature_audit_rows(server, "acme-chat")
    count = 100

    with LiveSockets(
        server.url, "/ws/live/apps/acme-web/", alice.cookie_header(), COUNT_ID, 10
    ) as sockets:
        report(server, count)
        wait_for(lambda: sockets.all_show(count), 15, "10 sockets to show the first report")

        redis.freeze()
        frozen = time.monotonic()
        slowest: dict[str, float] = {}

        def timed(name: str, call: Any, *args: Any) -> None:
            started = time.monotonic()
            call(*args)
            slowest[name] = max(slowest.get(name, 0.0), time.monotonic() - started)

        changes = 0
        try:
            while time.monotonic() - frozen < 30:
                state = not state
                changes += 1
                count += 1
                timed("page", alice.get, "/apps/acme-chat/")
                timed("form", switch, server, alice, token, "acme-chat", state, True)
                state = not state
                changes += 1
                timed("api", switch, server, alice, token, "acme-chat", state, False)
                timed("ingest", report_gateway_answer, server, HOST, count)
                time.sleep(1)
        finally:
            redis.thaw()
        wait_for(
            lambda: report_gateway_answer(server, HOST, count)[0] == 202,
            10,
            "a report to be taken again",
        )

        assert max(slowest.values()) <= SOCKET_TIMEOUT + 1, slowest
        wait_for(
            lambda: sockets.all_show(count), 15, "sockets to show the last count after the thaw"
        )
    assert websockets_on(server, token, "acme-chat") == state
    assert feature_audit_rows(server, "acme-chat") == audited + changes
