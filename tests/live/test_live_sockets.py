"""Live sockets through edgeboard.asgi.application: who may watch, snapshot, then updates."""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.contrib.auth.models import User
from django.test import Client

from edgeboard.asgi import application
from edges.api.ingest_payloads import parse_report
from edges.models import Edge
from edges.services.reports import report_apply
from live import events
from live.cells import Numbers, whole
from shared import bus
from tests.conftest import World

pytestmark = pytest.mark.django_db(transaction=True)
ORIGIN = settings.DASHBOARD_ORIGINS[0]


def cookie_for(user: User) -> bytes:
    client = Client()
    client.force_login(user)
    name = settings.SESSION_COOKIE_NAME
    return f"{name}={client.cookies[name].value}".encode()


async def connect(
    path: str, cookie: bytes | None, origin: str = ORIGIN
) -> tuple[bool, WebsocketCommunicator]:
    headers = [(b"origin", origin.encode())]
    if cookie:
        headers.append((b"cookie", cookie))
    communicator = WebsocketCommunicator(application, path, headers=headers)
    connected, _ = await communicator.connect(timeout=5)
    return connected, communicator


def count_of(frame: str, element_id: str) -> int:
    match = re.search(rf'id="{element_id}" data-count="(\d+)"', frame)
    assert match, f"{element_id} is not in the frame"
    return int(match.group(1))


_seq = {"n": 0}


@database_sync_to_async
def report(edge_name: str, **hosts: int) -> None:
    _seq["n"] += 1
    body = {
        "edge": edge_name,
        "seq": _seq["n"],
        "sent_at": "2026-11-21T10:00:00Z",
        "frontends": [{"hostname": h, "connections": c} for h, c in hosts.items()],
    }
    report_apply(
        edge=Edge.objects.get(name=edge_name),
        report=parse_report(json.dumps(body).encode(), "application/json"),
    )


@pytest.mark.parametrize(
    "path",
    [
        "/ws/live/apps/globex-store/",
        "/ws/live/overview/",
        "/ws/live/edges/globex-ssl/",
        "/ws/live/orgs/globex/",
        "/ws/live/org-pages/globex/",
        "/ws/live/apps/no-such-app/",
    ],
)
async def test_customers_are_refused_other_organizations_and_the_staff_overview(
    alice_cookie: bytes, path: str
) -> None:
    connected, communicator = await connect(path, alice_cookie)
    assert not connected
    await communicator.disconnect()


async def test_anonymous_and_foreign_origins_are_refused(alice_cookie: bytes) -> None:
    for cookie, origin in [
        (None, ORIGIN),
        (alice_cookie, "https://evil.test"),
        (alice_cookie, "http://acme-web.example.net"),
    ]:
        connected, communicator = await connect("/ws/live/apps/acme-web/", cookie, origin)
        assert not connected
        await communicator.disconnect()


async def test_snapshot_on_connect_then_updates_after_a_report(
    alice_cookie: bytes, world: World
) -> None:
    connected, communicator = await connect("/ws/live/apps/acme-web/", alice_cookie)
    try:
        assert connected
        snapshot = await communicator.receive_from(timeout=5)
        # The whole page's live parts first: the numbers and every panel.
        for panel in ("app-live", "features-panel", "readiness", "domains-panel"):
            assert f'id="{panel}"' in snapshot
        assert count_of(snapshot, "app-acme-web-connections") == 0
        await report("gateway", **{"acme-web.example.net": 42})
        update = await communicator.receive_from(timeout=5)
        assert count_of(update, "app-acme-web-connections") == 42
        assert count_of(update, "app-acme-web-host-acme-web-example-net-connections") == 42
        # A report changes the numbers only: the panels are not sent again.
        assert 'id="features-panel"' not in update
    finally:
        await communicator.disconnect()


async def test_a_changed_number_goes_out_as_its_own_cells_not_the_whole_panel(
    alice_cookie: bytes, world: World
) -> None:
    await report("gateway", **{"acme-web.example.net": 5})
    connected, communicator = await connect("/ws/live/apps/acme-web/", alice_cookie)
    try:
        assert connected
        snapshot = await communicator.receive_from(timeout=5)
        assert count_of(snapshot, "app-acme-web-connections") == 5
        await report("gateway", **{"acme-web.example.net": 6})
        update = await communicator.receive_from(timeout=5)
        # The app's total, the hostname's and the edge's, and the report's time: nothing else.
        assert 'id="app-live"' not in update and "<table" not in update
        assert count_of(update, "app-acme-web-connections") == 6
        assert count_of(update, "app-acme-web-host-acme-web-example-net-connections") == 6
        assert count_of(update, "app-acme-web-edge-gateway-connections") == 6
        assert 'id="app-acme-web-websockets"' not in update  # unchanged
        assert len(update) < len(snapshot) / 10
        # A second edge's numbers change the panel's shape: the whole panel again.
        await report("acme-ssl", **{"www.acme.example": 1})
        reshaped = await communicator.receive_from(timeout=5)
        assert 'id="app-live"' in reshaped
    finally:
        await communicator.disconnect()


async def test_staff_overview_gets_platform_totals(support_cookie: bytes, world: World) -> None:
    connected, communicator = await connect("/ws/live/overview/", support_cookie)
    try:
        assert connected
        assert count_of(await communicator.receive_from(timeout=5), "platform-connections") == 0
        await report("gateway", **{"acme-web.example.net": 5, "acme-api.example.net": 7})
        frame = await communicator.receive_from(timeout=5)
        assert count_of(frame, "platform-connections") == 12
        assert count_of(frame, "edge-gateway-connections") == 12
    finally:
        await communicator.disconnect()


async def test_customers_see_only_their_share_of_the_gateway(
    alice_cookie: bytes, carol: User, world: World
) -> None:
    await report("gateway", **{"acme-web.example.net": 5, "globex-store.example.net": 9})
    _, communicator = await connect("/ws/live/edges/gateway/", alice_cookie)
    try:
        frame = await communicator.receive_from(timeout=5)
        assert count_of(frame, "edge-gateway-connections") == 5
        assert "globex" not in frame
    finally:
        await communicator.disconnect()


async def test_updates_are_coalesced(alice_cookie: bytes, world: World, settings: Any) -> None:
    settings.LIVE_MIN_INTERVAL = 0.6
    _, communicator = await connect("/ws/live/apps/acme-web/", alice_cookie)
    try:
        await communicator.receive_from(timeout=5)  # snapshot
        for count in (1, 2, 3, 4):
            await report("gateway", **{"acme-web.example.net": count})
        frames = []
        while not await communicator.receive_nothing(timeout=1.5):
            frames.append(await communicator.receive_from())
        # At most one push per interval, and the last one carries the latest state.
        assert 1 <= len(frames) <= 2
        assert count_of(frames[-1], "app-acme-web-connections") == 4
    finally:
        await communicator.disconnect()


async def test_signing_out_closes_that_sessions_sockets(alice: User, world: World) -> None:
    client = await database_sync_to_async(Client)()
    await database_sync_to_async(client.force_login)(alice)
    name = settings.SESSION_COOKIE_NAME
    cookie = f"{name}={client.cookies[name].value}".encode()
    _, communicator = await connect("/ws/live/apps/acme-web/", cookie)
    try:
        await communicator.receive_from(timeout=5)
        await database_sync_to_async(client.post)("/logout/")
        assert await communicator.receive_output(timeout=5) == {
            "type": "websocket.close",
            "code": 1008,
        }
    finally:
        await communicator.disconnect()


async def test_losing_membership_closes_the_socket(
    bob: User, admin_user: User, world: World
) -> None:
    from dashboard.models import Membership
    from dashboard.services.admin_edits import admin_model_delete

    bob_cookie = await database_sync_to_async(cookie_for)(bob)
    _, communicator = await connect("/ws/live/apps/acme-web/", bob_cookie)
    try:
        await communicator.receive_from(timeout=5)
        membership = await database_sync_to_async(Membership.objects.get)(user=bob)
        await database_sync_to_async(admin_model_delete)(instance=membership, actor=admin_user)
        assert await communicator.receive_output(timeout=5) == {
            "type": "websocket.close",
            "code": 1008,
        }
    finally:
        await communicator.disconnect()


async def test_a_gateway_socket_whose_viewer_joins_another_organization_comes_back_under_it(
    alice: User, alice_cookie: bytes, world: World
) -> None:
    from dashboard.models import Membership
    from dashboard.services.accounts import membership_set

    # The gateway's page shows each customer their own apps: alice's view is acme's.
    _, communicator = await connect("/ws/live/edges/gateway/", alice_cookie)
    try:
        await communicator.receive_from(timeout=5)
        await database_sync_to_async(membership_set)(
            organization=world.globex,
            user=alice,
            role=Membership.Role.MEMBER,
            actor=None,
            source="cli",
        )
        # Her socket must not stay in the acme-only view (nor draw it with her wider access):
        # it is told to come back, and joins the acme + globex view.
        assert await communicator.receive_output(timeout=5) == {
            "type": "websocket.close",
            "code": 1013,
        }
    finally:
        await communicator.disconnect()


def test_event_messages_survive_a_json_round_trip() -> None:
    message = bus.message("app.acme-web", events.COUNTS_CHANGED, {"app": "acme-web"})
    assert json.loads(json.dumps(message)) == message
    with pytest.raises(TypeError):
        bus.message("app.x", events.COUNTS_CHANGED, {"app": object()})


class RecordingConsumer:
    """A LiveConsumer whose sends are recorded, or held forever to play a stalled client."""

    @staticmethod
    def make(*, stalled: bool) -> Any:
        from live.consumers import LiveConsumer

        consumer = LiveConsumer()
        consumer.pending, consumer.drain, consumer.sending_since = {}, None, None
        consumer.sent, consumer.closed = [], []
        never = asyncio.Event()

        async def send(text_data: str | None = None, **kwargs: Any) -> None:
            if stalled:
                await never.wait()
            consumer.sent.append(text_data)

        async def close(code: int | None = None) -> None:
            consumer.closed.append(code)

        consumer.send, consumer.close = send, close
        return consumer


async def test_a_stalled_socket_neither_delays_others_nor_queues_frames(monkeypatch: Any) -> None:
    monkeypatch.setattr("live.consumers.SLOW_SOCKET_SECONDS", 0.05)
    stalled = RecordingConsumer.make(stalled=True)
    healthy = RecordingConsumer.make(stalled=False)
    for frame in ("one", "two", "three"):
        for consumer in (stalled, healthy):
            consumer.push({"counts": frame})
        await asyncio.sleep(0.01)
    stalled.push({"features": "switched"})
    assert healthy.sent == ["one", "two", "three"]
    # The stalled socket holds one frame in flight and only the latest of each part pending:
    # memory bounded, and no part's change is lost behind another's.
    assert stalled.sent == [] and stalled.pending == {"counts": "three", "features": "switched"}
    await asyncio.sleep(0.1)
    stalled.push({"counts": "four"})
    stalled.push({"counts": "five"})  # told to go once, however many pushes follow
    await asyncio.sleep(0.01)
    assert stalled.closed == [1013]  # a code the browser reconnects after
    stalled.drain.cancel()


async def test_an_edge_going_silent_is_pushed_as_stale_without_a_report(
    alice_cookie: bytes, world: World, settings: Any
) -> None:
    settings.EDGE_STALE_AFTER = 1
    await report("gateway", **{"acme-web.example.net": 12})
    _, communicator = await connect("/ws/live/apps/acme-web/", alice_cookie)
    try:
        first = await communicator.receive_from(timeout=5)
        assert count_of(first, "app-acme-web-connections") == 12
        # The gateway says nothing more: a second later its numbers are stale.
        frame = await communicator.receive_from(timeout=5)
        assert count_of(frame, "app-acme-web-connections") == 0
        assert 'data-stale="true"' in frame
    finally:
        await communicator.disconnect()


async def test_a_hub_times_staleness_from_the_reports_it_hears_without_reading_the_database(
    alice_cookie: bytes, world: World, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from live import hub as hub_module

    settings.EDGE_STALE_AFTER = 1
    reads: list[int] = []
    real = hub_module.edge_report_ages
    monkeypatch.setattr(hub_module, "edge_report_ages", lambda: reads.append(1) or real())
    _, communicator = await connect("/ws/live/apps/acme-web/", alice_cookie)
    try:
        await communicator.receive_from(timeout=5)
        for value in (3, 4, 5):  # the gateway keeps reporting, faster than it turns stale
            await report("gateway", **{"acme-web.example.net": value})
            frame = await communicator.receive_from(timeout=5)
            while f'id="app-acme-web-connections" data-count="{value}"' not in frame:
                frame = await communicator.receive_from(timeout=5)
            assert 'data-stale="true"' not in frame
            await asyncio.sleep(0.6)
        frame = await communicator.receive_from(timeout=5)  # then it falls silent
        assert 'data-stale="true"' in frame and count_of(frame, "app-acme-web-connections") == 0
    finally:
        await communicator.disconnect()

    # The last reports were read once, when the process's hub subscribed; no poll since.
    assert reads == [1]


@pytest.mark.parametrize(
    ("persona", "kind", "name", "url"),
    [
        ("alice", "apps", "acme-web", "/apps/acme-web/"),
        ("alice", "edges", "gateway", "/edges/gateway/"),
        ("support", "overview", "", "/"),
        ("alice", "orgs", "acme", "/"),
        ("alice", "org-pages", "acme", "/orgs/acme/"),
        ("support", "org-pages", "globex", "/orgs/globex/"),
        ("support", "upgrades", "", "/upgrades/"),
        ("alice", "edges", "acme-ssl", "/edges/acme-ssl/"),
    ],
)
def test_every_id_a_push_targets_exists_on_the_full_page(
    request: pytest.FixtureRequest, world: World, persona: str, kind: str, name: str, url: str
) -> None:
    from live.topics import authorize
    from tests.conftest import client_for

    user = request.getfixturevalue(persona)
    body = {
        "edge": "gateway",
        "seq": 1,
        "sent_at": "2026-11-21T10:00:00Z",
        "frontends": [{"hostname": "acme-web.example.net", "connections": 8}],
    }
    report_apply(
        edge=world.gateway, report=parse_report(json.dumps(body).encode(), "application/json")
    )
    topic = authorize(user, kind, name)
    assert topic is not None
    rendered = topic.render(topic.parts)
    fragments = {part: whole(fragment) for part, fragment in rendered.items()}
    # A part of numbers also goes out as its cells alone, each swapped by its id.
    cells = {i for f in rendered.values() if isinstance(f, Numbers) for i in f.cells}
    page = client_for(user).get(url).content.decode()
    pushed = set(re.findall(r'id="([^"]+)"', "".join(fragments.values())))
    assert pushed, "the fragment has no ids"
    assert pushed | cells <= set(re.findall(r'id="([^"]+)"', page))
    # htmx swaps each top-level element of a frame in by its id.
    assert set(fragments) == {part for part in topic.parts if not events.is_family(part)}
    assert all(re.match(r'<(section|div) [^>]*id="', html) for html in fragments.values())


async def test_a_frame_the_server_refuses_is_logged_and_one_for_a_gone_client_is_not(
    caplog: Any,
) -> None:
    from autobahn.exception import Disconnected, PayloadExceededError

    for failure, logged in (
        (Disconnected("gone"), []),
        (PayloadExceededError("too big"), ["ERROR"]),
    ):
        consumer = RecordingConsumer.make(stalled=False)
        consumer.scope = {"path": "/ws/live/edges/gateway/"}

        async def send(failure: Exception = failure, **kwargs: Any) -> None:
            raise failure

        consumer.send = send
        caplog.clear()
        with caplog.at_level("WARNING", logger="live.consumers"):
            consumer.push({"counts": "frame"})
            await asyncio.sleep(0.01)
        assert [r.levelname for r in caplog.records] == logged
        assert consumer.pending == {}
