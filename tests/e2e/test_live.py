from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from websockets.sync.client import connect

from tests.conftest import unavailable
from tests.e2e.conftest import (
    DEMO_PASSWORD,
    Server,
    free_port,
    login,
    seeded_environment,
    start_daphne,
    stop,
)
from tests.e2e.live_client import count_in, post_report, session_cookie

pytestmark = pytest.mark.e2e


def test_a_report_changes_the_number_on_alices_page_without_a_reload(
    page: Any, dashboard_server: Server
) -> None:
    login(page, dashboard_server, "alice")
    page.goto(dashboard_server.url + "/apps/acme-web/")
    number = page.locator("#app-acme-web-connections")
    # The snapshot on connect marks the block live: the socket is up before the report.
    page.wait_for_selector("[ws-connect][data-live=live]")
    before = number.get_attribute("data-count")
    post_report(
        dashboard_server.url,
        "gateway",
        dashboard_server.edge_token("gateway"),
        **{"acme-web.example.net": 321},
    )
    page.wait_for_function(
        "() => document.getElementById('app-acme-web-connections').dataset.count === '321'",
        timeout=5000,
    )
    assert before == "0"
    assert number.inner_text() == "321"
    assert page.url == dashboard_server.url + "/apps/acme-web/"


@pytest.fixture(scope="module")
def two_processes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, str]]:
    """Two daphne processes on one database, sharing Redis as their channel layer."""
    if not os.environ.get("REDIS_URL"):
        unavailable("REDIS_URL is not set: several processes need Redis")
    tmp: Path = tmp_path_factory.mktemp("two")
    ports = [free_port(), free_port()]
    origins = [f"http://127.0.0.1:{p}" for p in ports]
    with seeded_environment(tmp, origins) as server:
        first = second = None
        try:
            first = start_daphne(ports[0], server.env, tmp / "a.log")
            second = start_daphne(ports[1], server.env, tmp / "b.log")
            yield server, origins[1]
        finally:
            stop(first)
            stop(second)


def test_a_report_posted_to_one_process_reaches_a_socket_on_the_other(
    two_processes: tuple[Server, str],
) -> None:
    server, other = two_processes
    cookie = session_cookie(other, "alice", DEMO_PASSWORD)

    # The sync client: Playwright's sync API keeps an event loop busy in this thread.
    url = other.replace("http", "ws") + "/ws/live/apps/acme-web/"
    with connect(
        url, origin=other, additional_headers={"Cookie": cookie}, open_timeout=10
    ) as socket:
        snapshot = socket.recv(timeout=10)
        assert count_in(snapshot, "app-acme-web-connections") == 0
        post_report(
            server.url, "gateway", server.edge_token("gateway"), **{"acme-web.example.net": 77}
        )
        seen = None
        while seen != 77:
            seen = count_in(socket.recv(timeout=10), "app-acme-web-connections")
