"""The live tables sort by their columns, server-side and in the URL (`?sort=hosts.-connections`),
without JavaScript; the page's socket carries the same order, so every push keeps it."""

from __future__ import annotations

import re
from types import SimpleNamespace

import pytest
from channels.db import database_sync_to_async
from django.contrib.auth.models import User
from django.http import QueryDict

from live.ordering import APP_TABLES, PLATFORM_TABLES, header, live_order, order_from, ordered_page
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
    first = header(hosts, "connections", None)
    assert first.href == "?sort=hosts.-connections#app-live"  # a count: most first
    assert first.aria_sort == ""
    picked = live_order("hosts.-connections", APP_TABLES)
    again = header(hosts, "connections", picked)
    assert (again.aria_sort, again.arrow) == ("descending", "▼")
    assert again.href == "?sort=hosts.connections#app-live"
    # The other tables of the page stay in their default order, and say so.
    assert header(APP_TABLES["edges"], "edge", picked).aria_sort == "ascending"


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


def test_a_long_live_table_comes_a_page_at_a_time(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("live.ordering.LIVE_ROWS", 50)
    backends = APP_TABLES["backends"]
    # Back-end rows whose connections fall as they come: sorted by them, most first, they stay.
    rows = [SimpleNamespace(connections=120 - i) for i in range(120)]
    first = ordered_page(rows, backends, None)
    assert (first.rows, first.previous_href) == (rows[:50], "")
    assert first.next_href == "?sort=backends.hostname&live_page=2#app-live"
    assert first.summary == "1\N{EN DASH}50 of 120 back-end rows"

    asked = order_from(QueryDict("sort=backends.-connections&live_page=3"), APP_TABLES)
    last = ordered_page(rows, backends, asked)
    assert last.rows == rows[100:] and last.next_href == ""
    assert last.previous_href == "?sort=backends.-connections&live_page=2#app-live"
    # Another table of the page stays on its first page.
    assert ordered_page(rows, APP_TABLES["hosts"], asked).number == 1
    # A garbled or huge page number is the first page; one past the end, the last.
    for garbled in ("x", "-2", "0", "99999999999", "²", "٣"):
        picked = live_order("backends.-connections", APP_TABLES, garbled)
        assert picked is not None and picked.page == 1, garbled
    far = live_order("backends.-connections", APP_TABLES, "999")
    assert ordered_page(rows, backends, far).number == 3


async def test_the_page_and_its_socket_show_the_page_of_rows_the_url_asks_for(
    alice: User, alice_cookie: bytes, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("live.ordering.LIVE_ROWS", 1)
    await busy_www()
    get = database_sync_to_async(lambda path: client_for(alice).get(path).content.decode())
    first = await get("/apps/acme-web/")
    assert hosts_in(first) == [HOSTS[0]]
    assert 'href="?sort=hosts.hostname&amp;live_page=2#app-live"' in first
    assert "1\N{EN DASH}1 of 2 hostnames" in first

    second = await get("/apps/acme-web/?sort=hosts.hostname&live_page=2")
    assert hosts_in(second) == [HOSTS[1]]
    assert "2\N{EN DASH}2 of 2 hostnames" in second
    assert 'ws-connect="/ws/live/apps/acme-web/?sort=hosts.hostname&amp;live_page=2"' in second

    path = "/ws/live/apps/acme-web/?sort=hosts.hostname&live_page=2"
    _, communicator = await connect(path, alice_cookie)
    try:
        assert hosts_in(await communicator.receive_from(timeout=5)) == [HOSTS[1]]
    finally:
        await communicator.disconnect()


def domains_in(html: str) -> list[str]:
    start = html.index('id="domains-panel"')
    table = html[start : html.index("</table>", start)]
    return re.findall(r'<tr id="domain-[^"]+">\s*<td><code>([^<]+)</code>', table)


async def test_the_domains_table_sorts_and_pages_and_a_form_posted_from_it_keeps_that(
    alice: User, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("live.ordering.LIVE_ROWS", 2)

    def visit() -> tuple[str, str, str]:
        client = client_for(alice)
        by_kind = client.get("/apps/acme-web/").content.decode()
        by_name = client.get("/apps/acme-web/?sort=domains.hostname").content.decode()
        # Added from the page sorted by name, with htmx: the panel comes back in that order.
        added = client.post(
            "/apps/acme-web/domains/",
            {"hostname": "api.acme.example"},
            headers={
                "HX-Request": "true",
                "HX-Target": "domains-panel",
                "HX-Current-URL": "http://testserver/apps/acme-web/?sort=domains.hostname",
            },
        ).content.decode()
        return by_kind, by_name, added

    by_kind, by_name, added = await database_sync_to_async(visit)()
    assert domains_in(by_kind) == ["www.acme.example", "acme-web.example.net"]  # custom first
    assert domains_in(by_name) == ["acme-web.example.net", "www.acme.example"]
    assert domains_in(added) == ["acme-web.example.net", "api.acme.example"]  # 2 of 3, by name
    assert "1\N{EN DASH}2 of 3 domains" in added
    assert 'href="?sort=domains.hostname&amp;live_page=2#domains-panel"' in added
    # The removal form still offers every custom domain, not only the page's.
    form = added.split('id="domain-remove-form"')[1].split("</form>")[0]
    assert (
        "<option>api.acme.example</option>" in form and "<option>www.acme.example</option>" in form
    )


async def test_a_sockets_domains_panel_comes_in_its_pages_order(
    alice_cookie: bytes, world: World
) -> None:
    _, communicator = await connect("/ws/live/apps/acme-web/?sort=domains.hostname", alice_cookie)
    try:
        snapshot = await communicator.receive_from(timeout=5)
        assert domains_in(snapshot) == ["acme-web.example.net", "www.acme.example"]
    finally:
        await communicator.disconnect()


def test_the_collaborators_sort_by_person_or_role(world: World, alice: User, bob: User) -> None:
    def people(path: str) -> list[str]:
        page = client_for(bob).get(path).content.decode()
        start = page.index('aria-label="Collaborators table"')
        table = page[start : page.index("</table>", start)]
        return re.findall(r'<td class="name"><strong>([^<]+)</strong>', table)

    assert people("/apps/acme-web/") == ["alice", "bob"]  # the owner first
    assert people("/apps/acme-web/?sort=people.-person") == ["bob", "alice"]
    assert people("/apps/acme-web/?sort=people.-role") == ["bob", "alice"]
