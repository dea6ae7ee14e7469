"""The live tables sort by their columns, server-side and in the URL (`?sort=hosts.-connections`),
without JavaScript; the page's socket carries the same order, so every push keeps it."""

from __future__ import annotations

import re

import pytest
from channels.db import database_sync_to_async
from django.contrib.auth.models import User
from django.http import QueryDict

from live.ordering import APP_TABLES, PLATFORM_TABLES, header, live_order, order_from
from tests.conftest import World, client_for
from tests.live.test_live_sockets import connect, report

pytestmark = pytest.mark.django_db(transaction=True)

HOSTS = ("acme-web.example.net", "www.acme.example")


def hosts_in(html: str) -> list[str]:
    """The hostnames of the app page's live hostnames table, in order."""
    start = html.index('aria-label="Connections by hostname table"')
    table = html[start : html.index("</table>", start)]
    return re.findall(r"<tr[^>]*><td><code>([^<]+)</code>", table)


def edges_in(html: str) -> list[str]:
    start = html.index('aria-label="Connections by edge table"')
    table = html[start : html.index("</table>", start)]
    return re.findall(r'<tr id="edge-([a-z0-9-]+)"', table)


async def busy_www() -> None:
    """acme-web: 5 connections on its default hostname, 50 on www.acme.example."""
    await report("gateway", **{HOSTS[0]: 5})
    await report("acme-ssl", **{HOSTS[1]: 50})


def test_only_listed_tables_and_columns_are_orders() -> None:
    picked = live_order("hosts.-connections", APP_TABLES)
    assert picked is not None and picked.value == "hosts.-connections"
    for raw in ("", "hosts", "hosts.secret", "nope.connections", "hosts.--connections", "-x"):
        assert live_order(raw, APP_TABLES) is None, raw
    # A table's default order is no order of its own: the page shares the default view.
    assert live_order("hosts.hostname", APP_TABLES) is None
    assert order_from(QueryDict("sort=edges.connections"), PLATFORM_TABLES) is not None


def test_a_header_sorts_by_its_column_and_then_the_other_way() -> None:
    hosts = APP_TABLES["hosts"]
    first = header(hosts, "connections", None, "app-live")
    assert first.href == "?sort=hosts.-connections#app-live"  # a count: most first
    assert first.aria_sort == ""
    picked = live_order("hosts.-connections", APP_TABLES)
    again = header(hosts, "connections", picked, "app-live")
    assert (again.aria_sort, again.arrow) == ("descending", "▼")
    assert again.href == "?sort=hosts.connections#app-live"
    # The other tables of the page stay in their default order, and say so.
    assert header(APP_TABLES["edges"], "edge", picked, "app-live").aria_sort == "ascending"


async def test_the_app_page_lists_its_hostnames_in_the_order_of_its_url(
    alice: User, world: World
) -> None:
    await busy_www()
    get = database_sync_to_async(lambda path: client_for(alice).get(path).content.decode())
    page = await get("/apps/acme-web/")
    assert hosts_in(page) == list(HOSTS)
    assert 'ws-connect="/ws/live/apps/acme-web/"' in page

    by_connections = await get("/apps/acme-web/?sort=hosts.-connections")
    assert hosts_in(by_connections) == [HOSTS[1], HOSTS[0]]
    assert 'ws-connect="/ws/live/apps/acme-web/?sort=hosts.-connections"' in by_connections
    assert 'aria-sort="descending"' in by_connections

    # Garbage in the URL is the default order, not an error.
    assert hosts_in(await get("/apps/acme-web/?sort=hosts.nope")) == list(HOSTS)


async def test_a_socket_keeps_its_pages_order_as_the_numbers_change(
    alice_cookie: bytes, world: World
) -> None:
    await busy_www()
    _, by_name = await connect("/ws/live/apps/acme-web/", alice_cookie)
    _, busiest = await connect("/ws/live/apps/acme-web/?sort=hosts.-connections", alice_cookie)
    try:
        assert hosts_in(await by_name.receive_from(timeout=5)) == list(HOSTS)
        assert hosts_in(await busiest.receive_from(timeout=5)) == [HOSTS[1], HOSTS[0]]

        await report("gateway", **{HOSTS[0]: 500})  # the default hostname is now the busiest

        reordered = await busiest.receive_from(timeout=5)
        assert hosts_in(reordered) == list(HOSTS)
        assert 'aria-sort="descending"' in reordered
        # The page sorted by name only needs the changed numbers.
        numbers = await by_name.receive_from(timeout=5)
        assert 'id="app-live"' not in numbers and "500" in numbers
    finally:
        await by_name.disconnect()
        await busiest.disconnect()


async def test_the_overview_sorts_its_edges_by_connections(
    support_cookie: bytes, world: World
) -> None:
    await busy_www()
    _, communicator = await connect("/ws/live/overview/?sort=edges.-connections", support_cookie)
    try:
        snapshot = await communicator.receive_from(timeout=5)
        order = edges_in(snapshot)
        assert order[:2] == ["acme-ssl", "gateway"] and set(order) >= {"globex-ssl"}
    finally:
        await communicator.disconnect()
