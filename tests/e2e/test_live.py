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


def live_hostnames(page: Any) -> list[str]:
    return page.eval_on_selector_all(
        "[aria-label='Connections by hostname table'] tbody code",
        "cells => cells.map(c => c.textContent)",
    )


def test_a_sorted_live_table_keeps_its_order_as_the_numbers_move(
    page: Any, dashboard_server: Server
) -> None:
    def report(edge: str, **hosts: int) -> None:
        post_report(dashboard_server.url, edge, dashboard_server.edge_token(edge), **hosts)

    report("gateway", **{"acme-web.example.net": 5})
    report("acme-ssl", **{"www.acme.example": 50})
    login(page, dashboard_server, "bob")
    page.goto(dashboard_server.url + "/apps/acme-web/")
    assert live_hostnames(page) == ["acme-web.example.net", "www.acme.example"]

    table = page.locator("[aria-label='Connections by hostname table']")
    table.get_by_role("link", name="Connections").click()
    page.wait_for_url("**/apps/acme-web/?sort=hosts.-connections#app-live")
    assert live_hostnames(page) == ["www.acme.example", "acme-web.example.net"]
    assert table.locator("th[aria-sort=descending]").text_content().startswith("Connections")
    page.wait_for_selector("[ws-connect][data-live=live]")

    report("gateway", **{"acme-web.example.net": 500})  # now the busiest: it moves up

    page.wait_for_function(
        "() => document.querySelector(\"[aria-label='Connections by hostname table'] tbody code\")"
        ".textContent === 'acme-web.example.net'",
        timeout=5000,
    )
    assert live_hostnames(page) == ["acme-web.example.net", "www.acme.example"]
    assert table.locator("th[aria-sort=descending]").count() == 1


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
