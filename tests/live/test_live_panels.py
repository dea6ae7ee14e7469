"""Everything the app page shows is live: each event type pushes the parts it names to every
open page allowed to see them, as that page's viewer would see them."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.contrib.auth.models import User

from dashboard.models import Feature
from dashboard.services.apps import backend_add
from dashboard.services.domains import domain_add
from dashboard.services.features import feature_set
from edges.services.upgrades import upgrade_request
from live import events
from live.events import APP_PARTS
from live.panels import CSRF_PLACEHOLDER
from tests.conftest import World
from tests.live.test_live_sockets import connect, cookie_for

pytestmark = pytest.mark.django_db(transaction=True)

# The element each part of the app page is swapped in by.
PART_IDS = {
    events.COUNTS: "app-live",
    events.NOTICES: "app-notices",
    events.DOMAINS: "domains-panel",
    events.READINESS: "readiness",
    events.FEATURES: "features-panel",
    events.BACKENDS: "backends-panel",
    events.UPGRADE: "upgrade",
    events.EDGE_STATE: "edge-head",
    events.QUEUE: "upgrade-queue",
    events.ORG_EDGES: "org-edges",
    events.ACTIVITY: "org-activity",
    events.LEGACY_EDGES: "legacy-edges",
    events.SUPPORT_ACTIVITY: "support-activity",
}


async def frame_with(communicator: WebsocketCommunicator, element_id: str) -> str:
    """The next frame that carries this element (others, e.g. numbers, are skipped)."""
    while True:
        frame = await communicator.receive_from(timeout=5)
        if f'id="{element_id}"' in frame:
            return frame


async def open_page(user: User, path: str) -> tuple[WebsocketCommunicator, str]:
    """A page's socket, signed in as `user`, with its snapshot."""
    cookie = await database_sync_to_async(cookie_for)(user)
    connected, communicator = await connect(path, cookie)
    assert connected
    return communicator, await communicator.receive_from(timeout=5)


async def open_app_page(user: User, app: str) -> tuple[WebsocketCommunicator, str]:
    return await open_page(user, f"/ws/live/apps/{app}/")


def switch_state(frame: str, app: str, feature: str) -> str:
    row = re.search(rf'id="app-{app}-feature-{feature}".*?data-enabled="(\w+)"', frame, re.S)
    assert row, f"{feature} is not in the frame"
    return row.group(1)


# How each event type that changes a panel happens in the product, and what an open page then
# shows: (the page's socket kind and name, whose page, the change, what the frames must contain).
Change = Callable[[World, User], Any]


def _websockets_off(world: World, support: User) -> Any:
    return feature_set(
        app=world.acme_api,
        feature=Feature.objects.get(name="websockets"),
        enabled=False,
        actor=support,
        source="web",
        reason="ticket #12: customer asked",
    )


def _domain_added(world: World, support: User) -> Any:
    return domain_add(app=world.acme_api, hostname="api.acme.example", actor=support, source="web")


def _backend_added(world: World, support: User) -> Any:
    return backend_add(app=world.acme_api, address="10.0.3.7:8080", actor=support, source="api")


def _upgrade_requested(world: World, support: User) -> Any:
    return upgrade_request(edge=world.acme_ssl, actor=support, source="web")


def _acme_ssl_switched_to_haproxy(world: World, support: User) -> Any:
    from edges.services.edges import edge_update

    return edge_update(
        edge=world.acme_ssl, changes={"proxy": "haproxy"}, actor=support, source="admin"
    )


def _bob_joins_globex(world: World, support: User) -> Any:
    from dashboard.services.accounts import membership_set

    bob = User.objects.create_user("bob-the-new", "bob@globex.example")
    return membership_set(
        organization=world.globex, user=bob, role="member", actor=support, source="web"
    )


def _config_applied(world: World, support: User) -> Any:
    from edges.services.edges import edge_config_status_record

    return edge_config_status_record(
        edge=world.gateway, status="applied", etag='"cfg-7"', message=""
    )


def _acme_ssl_config_refused(world: World, support: User) -> Any:
    from edges.services.edges import edge_config_status_record

    return edge_config_status_record(
        edge=world.acme_ssl, status="rejected", etag='"cfg-8"', message="bad line 3"
    )


CHANGES: dict[str, list[tuple[str, str, str, Change, str]]] = {
    events.FEATURE_CHANGED: [
        ("apps", "acme-api", "alice", _websockets_off, "feature.disable"),
        ("overview", "", "support", _websockets_off, '<tr id="app-acme-api">'),
        ("orgs", "acme", "alice", _websockets_off, '<tr id="app-acme-api">'),
        ("org-pages", "acme", "alice", _websockets_off, 'title="feature.disable"'),
        ("support", "", "support", _websockets_off, 'title="feature.disable"'),
    ],
    events.DOMAINS_CHANGED: [
        ("apps", "acme-api", "alice", _domain_added, "api.acme.example"),
        ("orgs", "acme", "alice", _domain_added, '<tr id="app-acme-api">'),
        ("org-pages", "acme", "alice", _domain_added, "api.acme.example"),
        ("support", "", "support", _domain_added, "api.acme.example"),
    ],
    events.BACKENDS_CHANGED: [
        ("apps", "acme-api", "alice", _backend_added, "10.0.3.7:8080"),
        ("org-pages", "acme", "alice", _backend_added, "10.0.3.7:8080"),
        ("support", "", "support", _backend_added, 'title="backend.add"'),
    ],
    events.EDGE_UPGRADE_CHANGED: [
        ("apps", "acme-web", "alice", _upgrade_requested, "Upgrade under way"),
        ("edges", "acme-ssl", "alice", _upgrade_requested, 'data-state="requested"'),
        ("upgrades", "", "support", _upgrade_requested, ">acme-ssl</strong>"),
        ("org-pages", "acme", "alice", _upgrade_requested, 'title="upgrade.request"'),
        ("support", "", "support", _upgrade_requested, 'title="upgrade.request"'),
    ],
    events.EDGE_CHANGED: [
        ("edges", "acme-ssl", "alice", _acme_ssl_switched_to_haproxy, "runs HAProxy"),
        ("org-pages", "acme", "alice", _acme_ssl_switched_to_haproxy, 'title="edge.change"'),
        # acme-ssl leaves support's list of legacy edges.
        ("support", "", "support", _acme_ssl_switched_to_haproxy, 'title="edge.change"'),
    ],
    events.ACCESS_CHANGED: [
        ("support", "", "support", _bob_joins_globex, "bob-the-new"),
    ],
    events.EDGE_CONFIG_CHANGED: [
        ("edges", "gateway", "support", _config_applied, "cfg-7"),
        ("org-pages", "acme", "alice", _acme_ssl_config_refused, 'title="edge.config_rejected"'),
        ("support", "", "support", _acme_ssl_config_refused, 'title="edge.config_rejected"'),
    ],
}
CASES = [(event, *case) for event, cases in CHANGES.items() for case in cases]
TOPICS = {
    "apps": events.app_topic,
    "edges": events.edge_topic,
    "orgs": events.organization_topic,
    "org-pages": events.organization_topic,
    "overview": lambda name: events.OVERVIEW_TOPIC,
    "upgrades": lambda name: events.UPGRADES_TOPIC,
    "support": lambda name: events.SUPPORT_TOPIC,
}


def _payload(event: str, edge: str = "acme-ssl") -> dict[str, Any]:
    """The payload the changes above announce (the fields the table reads)."""
    app = "acme-web" if event in (events.EDGE_UPGRADE_CHANGED, events.EDGE_CHANGED) else "acme-api"
    return {"app": app, "organization": "acme", "edge": edge, "apps": [app], "user": 1}


def element_of(part: str) -> str:
    if part.startswith(events.APP_ROWS):
        return "app-" + part.removeprefix(events.APP_ROWS)
    return PART_IDS[part]


def test_every_event_that_changes_a_panel_is_tried_here() -> None:
    panel_events = {
        event
        for event, views in events.VIEWS.items()
        if any(parts - events.COUNTS_ONLY for parts in views(_payload(event)).values())
    }
    assert panel_events == set(CHANGES)


@pytest.mark.parametrize(("event", "kind", "name", "persona", "change", "shown"), CASES)
async def test_an_event_pushes_the_parts_it_names_to_an_open_page(
    world: World,
    alice: User,
    support: User,
    event: str,
    kind: str,
    name: str,
    persona: str,
    change: Change,
    shown: str,
) -> None:
    viewer = {"alice": alice, "support": support}[persona]
    cookie = await database_sync_to_async(cookie_for)(viewer)
    path = f"/ws/live/{kind}/{name}/" if name else f"/ws/live/{kind}/"
    connected, communicator = await connect(path, cookie)
    try:
        assert connected
        snapshot = await communicator.receive_from(timeout=5)
        assert shown not in snapshot
        await database_sync_to_async(change)(world, support)
        seen = ""
        while shown not in seen:
            seen += await communicator.receive_from(timeout=5)
    finally:
        await communicator.disconnect()

    # What arrived is what the table names for this event (those of its parts that changed).
    payload = _payload(event, name if event == events.EDGE_CONFIG_CHANGED else "acme-ssl")
    named = events.concerned_views(event, payload)[TOPICS[kind](name)]
    candidates = set(PART_IDS) | {events.app_row("acme-api"), events.app_row("acme-web")}
    pushed = {part for part in candidates if f'id="{element_of(part)}"' in seen}
    assert pushed and pushed <= named


async def test_a_customer_sees_the_switch_change_and_no_staff_only_text(
    world: World, alice: User, support: User
) -> None:
    alice_page, alice_snapshot = await open_app_page(alice, "acme-api")
    support_page, support_snapshot = await open_app_page(support, "acme-api")
    try:
        assert switch_state(alice_snapshot, "acme-api", "websockets") == "true"
        await database_sync_to_async(_websockets_off)(world, support)
        to_alice = await frame_with(alice_page, "features-panel")
        to_support = await frame_with(support_page, "features-panel")

        assert switch_state(to_alice, "acme-api", "websockets") == "false"
        assert switch_state(to_support, "acme-api", "websockets") == "false"
        # Support's page asks for a reason and offers the back-end forms; alice's does not.
        assert 'name="reason"' in to_support and 'name="reason"' not in to_alice
        assert "Reason for the change" in support_snapshot
        assert "Reason for the change" not in alice_snapshot
        assert 'id="features-form"' in to_alice  # her own self-serve switches stay usable
    finally:
        await alice_page.disconnect()
        await support_page.disconnect()


async def test_a_report_pushes_the_numbers_only(world: World, alice: User) -> None:
    from tests.live.test_live_sockets import report

    communicator, snapshot = await open_app_page(alice, "acme-web")
    try:
        assert all(f'id="{PART_IDS[part]}"' in snapshot for part in APP_PARTS)
        await report("gateway", **{"acme-web.example.net": 7})
        frame = await communicator.receive_from(timeout=5)
        assert 'id="app-live"' in frame
        panels = [PART_IDS[part] for part in sorted(APP_PARTS - events.COUNTS_ONLY)]
        assert not any(f'id="{element}"' in frame for element in panels)
    finally:
        await communicator.disconnect()


async def test_pushed_forms_carry_the_placeholder_the_page_replaces_with_its_token(
    world: World, support: User
) -> None:
    communicator, snapshot = await open_app_page(support, "acme-api")
    await communicator.disconnect()

    tokens = re.findall(r'name="csrfmiddlewaretoken" value="([^"]*)"', snapshot)
    assert tokens and set(tokens) == {CSRF_PLACEHOLDER}
    script = (Path(__file__).parents[2] / "static/js/live.js").read_text()
    assert f'const CSRF_PLACEHOLDER = "{CSRF_PLACEHOLDER}";' in script


async def test_many_pages_of_one_audience_cost_one_render(
    world: World,
    alice: User,
    bob: User,
    support: User,
    monkeypatch: pytest.MonkeyPatch,
    settings: Any,
) -> None:
    settings.LIVE_MIN_INTERVAL = 0.05
    from live import panels

    renders: list[frozenset[str]] = []
    real = panels.app_parts

    def counting(app: Any, user: Any, parts: Any) -> dict[str, str]:
        renders.append(frozenset(parts))
        return real(app, user, parts)

    monkeypatch.setattr("live.topics.app_parts", counting)
    pages = [await open_app_page(alice, "acme-api")]
    await asyncio.sleep(0.3)  # the process's subscription is in place and caught up
    renders.clear()
    try:
        pages += [await open_app_page(user, "acme-api") for user in (bob, alice)]
        await database_sync_to_async(_backend_added)(world, support)
        for communicator, _ in pages:
            await frame_with(communicator, "backends-panel")
        await asyncio.sleep(0.1)
    finally:
        for communicator, _ in pages:
            await communicator.disconnect()

    # Pages joining the members' view get its snapshot from memory; the event costs one render
    # of the parts it changed, for all three pages.
    assert renders.count(APP_PARTS) == 0
    assert renders.count(frozenset({events.BACKENDS, events.FEATURES})) == 1


async def test_a_customers_open_edge_page_shows_the_upgrade_support_scheduled(
    world: World, alice: User, support: User
) -> None:
    import datetime as dt

    from edges.services.upgrades import upgrade_transition

    upgrade = await database_sync_to_async(upgrade_request)(
        edge=world.acme_ssl, actor=alice, source="web"
    )
    communicator, snapshot = await open_page(alice, "/ws/live/edges/acme-ssl/")
    try:
        assert 'id="upgrade-state" data-state="requested"' in snapshot
        window = dt.datetime(2031, 3, 2, 22, 0, tzinfo=dt.UTC)
        await database_sync_to_async(upgrade_transition)(
            upgrade=upgrade, action="schedule", actor=support, source="web", scheduled_for=window
        )
        frame = await frame_with(communicator, "upgrade")
    finally:
        await communicator.disconnect()

    assert 'data-state="scheduled"' in frame and "2031-03-02 22:00 UTC" in frame
    # The steps are support's: a customer's page never gets their forms.
    assert 'id="upgrade-start"' not in frame and 'id="upgrade-cancel"' not in frame


async def test_a_new_window_reaches_the_customers_edge_page_and_supports_queue(
    world: World, alice: User, support: User
) -> None:
    import datetime as dt

    from edges.services.upgrades import upgrade_transition

    def scheduled() -> Any:
        upgrade = upgrade_request(edge=world.acme_ssl, actor=alice, source="web", note="Sunday")
        window = dt.datetime(2031, 3, 2, 22, 0, tzinfo=dt.UTC)
        return upgrade_transition(
            upgrade=upgrade, action="schedule", actor=support, source="web", scheduled_for=window
        )

    upgrade = await database_sync_to_async(scheduled)()
    edge_page, _ = await open_page(alice, "/ws/live/edges/acme-ssl/")
    queue, _ = await open_page(support, "/ws/live/upgrades/")
    try:
        await database_sync_to_async(upgrade_transition)(
            upgrade=upgrade,
            action="reschedule",
            actor=support,
            source="web",
            scheduled_for=dt.datetime(2031, 3, 9, 22, 0, tzinfo=dt.UTC),
            note="the customer asked for the next Sunday",
        )
        frame = await frame_with(edge_page, "upgrade")
        queue_frame = await frame_with(queue, "upgrade-queue")
    finally:
        await edge_page.disconnect()
        await queue.disconnect()

    assert 'data-action="reschedule"' in frame
    assert "window moved from" in frame and "2031-03-09 22:00 UTC" in frame
    assert "the customer asked for the next Sunday" in frame
    assert 'id="upgrade-reschedule"' not in frame  # support's form stays on support's pages
    assert "2031-03-09 22:00" in queue_frame and "Sunday" in queue_frame


async def test_a_completed_upgrade_turns_the_open_edge_page_to_hipache(
    world: World, alice: User, support: User
) -> None:
    import datetime as dt

    from edges.services.upgrades import upgrade_transition

    def schedule_and_start() -> Any:
        upgrade = upgrade_request(edge=world.acme_ssl, actor=alice, source="web")
        window = dt.datetime(2031, 3, 2, 22, 0, tzinfo=dt.UTC)
        for action in ("schedule", "start"):
            upgrade = upgrade_transition(
                upgrade=upgrade, action=action, actor=support, source="web", scheduled_for=window
            )
        return upgrade

    upgrade = await database_sync_to_async(schedule_and_start)()
    communicator, snapshot = await open_page(alice, "/ws/live/edges/acme-ssl/")
    try:
        assert "no WebSockets" in snapshot
        await database_sync_to_async(upgrade_transition)(
            upgrade=upgrade, action="complete", actor=support, source="web"
        )
        frame = await frame_with(communicator, "edge-head")
    finally:
        await communicator.disconnect()

    assert "carries WebSockets" in frame
    assert "This edge runs the legacy Nginx build" not in frame
    assert re.search(r'id="capability-hipache" class="current"', frame)
    assert "<dt>Proxy</dt><dd>Hipache</dd>" in frame


async def test_a_view_renders_for_a_viewer_still_watching_not_one_who_left(
    world: World, alice: User, bob: User, support: User
) -> None:
    from dashboard.models import Membership
    from dashboard.services.accounts import membership_remove

    alice_page, _ = await open_app_page(alice, "acme-api")
    bob_page, _ = await open_app_page(bob, "acme-api")

    def remove_alice() -> None:
        membership = Membership.objects.get(user=alice, organization__name="acme")
        membership_remove(membership=membership, actor=None, source="cli")

    try:
        await database_sync_to_async(remove_alice)()
        closed = await alice_page.receive_output(timeout=5)
        assert closed["type"] == "websocket.close"
        await alice_page.disconnect()  # her browser's side of the close
        await database_sync_to_async(_websockets_off)(world, support)
        frame = await frame_with(bob_page, "features-panel")
    finally:
        await bob_page.disconnect()

    # The members' view rendered for bob: his own switches are still his to use.
    assert switch_state(frame, "acme-api", "websockets") == "false"
    assert 'name="toggle" value="websockets:on"' in frame
