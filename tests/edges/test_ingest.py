from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any
from unittest.mock import patch

import pytest
from django.test import Client
from django.utils import timezone

from dashboard.models import App
from edges.live_state import live_state
from edges.models import ConnectionRollup, Edge
from edges.services.edges import edge_ingest_token_rotate
from tests.conftest import World

URL = "/ingest/v1/reports"


@pytest.fixture
def token(world: World) -> str:
    return edge_ingest_token_rotate(edge=world.gateway, actor=None, source="cli")


def report(seq: int = 1, *, edge: str = "gateway", **frontends: Any) -> dict[str, Any]:
    return {
        "edge": edge,
        "seq": seq,
        "sent_at": "2026-11-21T10:00:00Z",
        "frontends": [{"hostname": h.replace("_", "."), **v} for h, v in frontends.items()],
    }


def post(
    token: str | None,
    body: Any,
    *,
    content_type: str = "application/json",
    raw: bytes | None = None,
) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    data = raw if raw is not None else json.dumps(body)
    return Client().post(URL, data=data, content_type=content_type, headers=headers)


def state() -> list[tuple[str, int]]:
    return sorted(
        (f.hostname, f.connections)
        for edge_state in live_state().states_of().values()
        for f in edge_state.frontends
    )


def stored_frontend(hostname: str) -> Any:
    return next(
        f
        for edge_state in live_state().states_of().values()
        for f in edge_state.frontends
        if f.hostname == hostname
    )


WEB = "acme-web_example_net"


def test_a_report_is_stored_and_answered_with_202(token: str, world: World) -> None:
    response = post(
        token,
        report(
            1,
            **{
                WEB: {
                    "connections": 120,
                    "websockets": 97,
                    "backends": [
                        {"address": "10.0.3.7:8080", "connections": 61, "state": "up"},
                        {"address": "10.0.3.8:8080", "connections": 59, "state": "dead"},
                    ],
                },
                "unknown_example_org": {"connections": 3},
            },
        ),
    )
    assert response.status_code == 202
    assert response.json() == {"accepted": 2, "unknown_hostnames": ["unknown.example.org"]}
    row = stored_frontend("acme-web.example.net")
    assert (row.app_id, row.connections, row.websockets) == (world.acme_web.pk, 120, 97)
    assert row.backends[1] == {"address": "10.0.3.8:8080", "connections": 59, "state": "dead"}
    edge = Edge.objects.get(name="gateway")
    assert edge.last_seq == 1 and edge.last_report_at is not None


def test_frontends_missing_from_a_report_drop_to_zero(token: str, world: World) -> None:
    post(token, report(1, **{WEB: {"connections": 5}, "acme-api_example_net": {"connections": 7}}))
    post(token, report(2, **{WEB: {"connections": 6}}))
    assert state() == [("acme-web.example.net", 6)]


def test_replayed_and_older_reports_are_acknowledged_and_ignored(token: str, world: World) -> None:
    post(token, report(5, **{WEB: {"connections": 50}}))
    for seq in (5, 4):
        response = post(token, report(seq, **{WEB: {"connections": 1}}))
        assert response.status_code == 200
        assert response.json() == {"ignored": True, "last_seq": 5}
    assert state() == [("acme-web.example.net", 50)]


def test_reports_are_rolled_up_per_minute_and_written_once_the_minute_is_over(
    token: str, world: World, monkeypatch: Any
) -> None:
    minute = dt.datetime(2026, 11, 30, 10, 0, tzinfo=dt.UTC)
    clock = {"now": minute + dt.timedelta(seconds=5)}
    monkeypatch.setattr("django.utils.timezone.now", lambda: clock["now"])
    post(token, report(1, **{WEB: {"connections": 10}}))
    clock["now"] += dt.timedelta(seconds=20)
    post(token, report(2, **{WEB: {"connections": 30}}))
    # Still the same minute: its samples wait in the live state, and the chart sees them.
    assert not ConnectionRollup.objects.exists()
    [pending] = live_state().pending_samples(world.acme_web.pk)
    assert (pending.max_connections, pending.samples, pending.sum_connections) == (30, 2, 40)
    clock["now"] = minute + dt.timedelta(minutes=1, seconds=1)
    post(token, report(3, **{WEB: {"connections": 7}}))
    rollup = ConnectionRollup.objects.get(app=world.acme_web)
    assert (rollup.minute, rollup.max_connections, rollup.samples, rollup.average) == (
        minute,
        30,
        2,
        20.0,
    )
    [pending] = live_state().pending_samples(world.acme_web.pk)
    assert (pending.minute, pending.samples) == (minute + dt.timedelta(minutes=1), 1)


def test_old_rollups_are_pruned(token: str, world: World, monkeypatch: Any) -> None:
    old = timezone.now() - dt.timedelta(days=8)
    ConnectionRollup.objects.create(
        edge=world.gateway,
        app=world.acme_web,
        minute=old,
        max_connections=1,
        sum_connections=1,
        samples=1,
    )
    monkeypatch.setattr("edges.services.reports._last_prune", 0.0)
    post(token, report(1, **{WEB: {"connections": 10}}))
    assert not ConnectionRollup.objects.filter(minute=old).exists()


def test_a_body_naming_another_edge_is_refused(token: str, world: World) -> None:
    response = post(token, report(1, edge="acme-ssl", **{WEB: {"connections": 1}}))
    assert response.status_code == 403
    assert response.json()["id"] == "forbidden"
    assert state() == []


@pytest.mark.parametrize("bad_token", [None, "edg_wrong", "x" * 300])
def test_bad_tokens_are_401(world: World, bad_token: str | None) -> None:
    response = post(bad_token, report(1, **{WEB: {"connections": 1}}))
    assert response.status_code == 401
    assert response.json()["id"] == "unauthorized"


def test_a_rotated_token_stops_working(token: str, world: World) -> None:
    edge_ingest_token_rotate(edge=world.gateway, actor=None, source="cli")
    assert post(token, report(1, **{WEB: {"connections": 1}})).status_code == 401


def test_other_content_types_are_415(token: str, world: World) -> None:
    response = post(token, None, content_type="text/plain", raw=b"{}")
    assert response.status_code == 415


def test_bodies_over_one_mebibyte_are_413(token: str, world: World) -> None:
    response = post(token, None, raw=b" " * (1024 * 1024 + 1))
    assert response.status_code == 413
    assert response.json()["id"] == "payload_too_large"


def frontend(**fields: Any) -> dict[str, Any]:
    return {
        "edge": "gateway",
        "seq": 1,
        "sent_at": "2026-11-21T10:00:00Z",
        "frontends": [{"hostname": "acme-web.example.net", "connections": 1, **fields}],
    }


@pytest.mark.parametrize(
    "body",
    [
        [],
        "report",
        {"seq": 1},
        {"edge": "gateway", "seq": "1", "sent_at": "x", "frontends": []},
        {"edge": "gateway", "seq": -1, "sent_at": "2026-11-21T10:00:00Z", "frontends": []},
        {"edge": "gateway", "seq": 1.5, "sent_at": "2026-11-21T10:00:00Z", "frontends": []},
        {"edge": "gateway", "seq": True, "sent_at": "2026-11-21T10:00:00Z", "frontends": []},
        {"edge": "gateway", "seq": 1, "sent_at": "yesterday", "frontends": []},
        {"edge": "gateway", "seq": 1, "sent_at": "2026-11-21T10:00:00Z", "frontends": {}},
        frontend(connections=-1),
        frontend(connections=1.5),
        frontend(connections="3"),
        frontend(websockets=2),
        frontend(hostname=7),
        frontend(hostname="bad host"),
        frontend(backends=[{"address": "10.0.0.1:80", "state": "zombie"}]),
        frontend(backends=[{"connections": 1}]),
        frontend(backends="all"),
        {
            "edge": "gateway",
            "seq": 1,
            "sent_at": "2026-11-21T10:00:00Z",
            "frontends": [
                {"hostname": "a.example", "connections": 1},
                {"hostname": "A.example.", "connections": 2},
            ],
        },
        {
            "edge": "gateway",
            "seq": 1,
            "sent_at": "2026-11-21T10:00:00Z",
            "frontends": [{"hostname": f"h{i}.example", "connections": 0} for i in range(10_001)],
        },
    ],
)
def test_malformed_reports_are_400_and_change_nothing(token: str, world: World, body: Any) -> None:
    response = post(token, body)
    assert response.status_code == 400, response.content
    assert response.json()["id"] == "bad_request"
    assert state() == []
    assert Edge.objects.get(name="gateway").last_seq is None


def test_malformed_json_is_400(token: str, world: World) -> None:
    assert post(token, None, raw=b'{"edge": ').status_code == 400


def test_gets_are_405(token: str) -> None:
    response = Client().get(URL, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 405


def test_a_report_maps_hostnames_through_domains_to_apps(token: str, world: World) -> None:
    post(
        token,
        report(
            1,
            **{
                "acme-web_example_net": {"connections": 4},
                "acme-api_example_net": {"connections": 6},
            },
        ),
    )
    by_app = {
        f.app_id: f.connections
        for edge_state in live_state().states_of().values()
        for f in edge_state.frontends
    }
    assert by_app == {world.acme_web.pk: 4, world.acme_api.pk: 6}
    assert App.objects.count() == 3


def test_connections_api_answers_the_apps_latest_numbers(
    token: str, world: World, alice: Any
) -> None:
    from tests.dashboard.test_api import api_for, assert_error

    post(
        token,
        report(
            1,
            **{
                WEB: {
                    "connections": 120,
                    "websockets": 97,
                    "backends": [
                        {"address": "10.0.3.7:8080", "connections": 61, "state": "up"},
                        {"address": "10.0.3.8:8080", "connections": 59, "state": "dead"},
                    ],
                }
            },
        ),
    )
    api = api_for(alice)
    body = api.get("/apps/acme-web/connections").json()
    assert (body["connections"], body["websockets"], body["stale"]) == (120, 97, False)
    assert body["hostnames"] == [
        {
            "hostname": "acme-web.example.net",
            "edge": "gateway",
            "connections": 120,
            "websockets": 97,
            "stale": False,
        }
    ]
    assert body["edges"][0]["edge"] == "gateway"
    assert [b["state"] for b in body["backends"]] == ["up", "dead"]
    assert body["as_of"] is not None
    assert_error(api.get("/apps/globex-store/connections"), 404, "not_found")


def test_a_silent_edge_is_stale_and_left_out_of_totals(
    token: str, world: World, alice: Any, settings: Any
) -> None:
    from tests.dashboard.test_api import api_for

    long_ago = timezone.now() - dt.timedelta(seconds=settings.EDGE_STALE_AFTER + 1)
    with patch("django.utils.timezone.now", return_value=long_ago):
        post(token, report(1, **{WEB: {"connections": 10}}))
    body = api_for(alice).get("/apps/acme-web/connections").json()
    assert (body["connections"], body["stale"]) == (0, True)
    assert body["hostnames"][0]["connections"] == 10 and body["hostnames"][0]["stale"]


def test_time_based_sequence_numbers_are_accepted(token: str, world: World) -> None:
    assert post(token, report(1_763_700_000_000, **{WEB: {"connections": 1}})).status_code == 202
    assert post(token, report(2**63, **{WEB: {"connections": 1}})).status_code == 400


def test_the_app_page_draws_history_as_svg(token: str, world: World, alice: Any) -> None:
    from tests.conftest import client_for

    post(token, report(1, **{WEB: {"connections": 40}}))
    post(token, report(2, **{WEB: {"connections": 60}}))
    page = client_for(alice).get("/apps/acme-web/").content.decode()
    charts = page.split('id="app-charts"')[1].split("</section>")[0]
    assert charts.count("<svg") == 1
    # The chart in words: its peak and its latest value, each with its minute.
    label = re.search(r'aria-label="(Last hour: [^"]*)"', charts)
    assert label, charts
    assert re.fullmatch(
        r"Last hour: connections of acme-web, peak 60 at \d\d:\d\d UTC, "
        r"latest average 50 at \d\d:\d\d UTC",
        label[1],
    ), label[1]
    quiet = client_for(alice).get("/apps/acme-api/").content.decode()
    assert 'aria-label="Last hour: connections of acme-api, no history yet"' in quiet
    day = client_for(alice).get("/apps/acme-api/?range=24h").content.decode()
    assert 'aria-label="Last 24 hours: connections of acme-api, no history yet"' in day
    # One minute so far: a dot on each line; the point says its values on hover.
    assert '<circle class="avg"' in charts
    assert re.search(r"<title>\d\d:\d\d UTC: average 50, peak 60</title>", charts)
    refreshed = (
        client_for(alice)
        .get("/apps/acme-web/", headers={"HX-Request": "true", "HX-Target": "app-charts"})
        .content.decode()
    )
    assert refreshed.lstrip().startswith('<section class="panel" id="app-charts"')


def seq_held() -> int | None:
    """The newest seq the live state holds for the gateway."""
    gateway = Edge.objects.get(name="gateway")
    held = live_state().states_of([gateway.pk]).get(gateway.pk)
    return held.seq if held else None


def test_a_report_costs_the_database_nothing_within_the_minute(
    token: str, world: World, django_assert_num_queries: Any
) -> None:
    post(token, report(1, **{WEB: {"connections": 5}}))
    assert Edge.objects.get(name="gateway").last_seq == 1  # first heard: written at once
    # The token's edge and the hostnames are remembered from the first report; the numbers and
    # the seq go to the live state.
    with django_assert_num_queries(0):
        response = post(token, report(2, **{WEB: {"connections": 6}}))
    assert response.status_code == 202
    assert state() == [("acme-web.example.net", 6)]
    assert seq_held() == 2
    assert Edge.objects.get(name="gateway").last_seq == 1


def test_the_first_report_of_a_minute_writes_the_edges_seq_with_the_rollups(
    token: str, world: World
) -> None:
    start = timezone.now().replace(second=30, microsecond=0)
    with patch("edges.services.reports.timezone.now", return_value=start):
        post(token, report(1, **{WEB: {"connections": 5}}))
        post(token, report(2, **{WEB: {"connections": 6}}))
    assert Edge.objects.get(name="gateway").last_seq == 1
    later = start + dt.timedelta(seconds=31)  # the next minute, the edge never silent
    with patch("edges.services.reports.timezone.now", return_value=later):
        assert post(token, report(3, **{WEB: {"connections": 7}})).status_code == 202
    gateway = Edge.objects.get(name="gateway")
    assert (gateway.last_seq, gateway.last_report_at) == (3, later)
    rollups = ConnectionRollup.objects.values_list("minute", "samples")
    assert list(rollups) == [(start.replace(second=0), 2)]


def test_a_token_rotated_elsewhere_is_refused_once_the_remembered_edge_runs_out(
    token: str, world: World, settings: Any
) -> None:
    """Another process rotated the token and this one did not hear of it: the old token works
    for at most INGEST_TOKEN_CACHE_SECONDS more."""
    from edges.services.reports import token_edges

    assert post(token, report(1, **{WEB: {"connections": 5}})).status_code == 202
    Edge.objects.filter(name="gateway").update(ingest_token_hash="0" * 64)  # not through here
    assert post(token, report(2, **{WEB: {"connections": 6}})).status_code == 202
    for digest, (_, edge) in list(token_edges.known.items()):
        token_edges.known[digest] = (0.0, edge)  # as the time running out does
    refused = post(token, report(3, **{WEB: {"connections": 7}}))
    assert refused.status_code == 401
    assert state() == [("acme-web.example.net", 6)]


def test_while_the_live_state_is_down_a_report_is_refused_whole_and_taken_when_sent_again(
    token: str, world: World, monkeypatch: Any
) -> None:
    from edges.live_state import LiveStateUnavailable
    from shared.breaker import redis as redis_breaker

    post(token, report(1, **{WEB: {"connections": 5}}))
    store = live_state()
    real = store.record

    def unreachable(*args: Any, **kwargs: Any) -> Any:
        raise LiveStateUnavailable("connection refused")

    monkeypatch.setattr(store, "record", unreachable)
    response = post(token, report(2, **{WEB: {"connections": 9}}))
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "2"
    assert response.json()["id"] == "unavailable"
    assert Edge.objects.get(name="gateway").last_seq == 1
    assert seq_held() == 1
    monkeypatch.setattr(store, "record", real)
    redis_breaker.succeeded()  # as the cooldown running out does
    assert post(token, report(2, **{WEB: {"connections": 9}})).status_code == 202
    assert state() == [("acme-web.example.net", 9)]
    assert seq_held() == 2


def test_a_domain_added_is_counted_for_its_app_once_the_routing_is_read_again(
    token: str, world: World, settings: Any
) -> None:
    from edges.services.reports import routing

    settings.ROUTING_CACHE_SECONDS = 60
    post(token, report(1, **{"new_example_org": {"connections": 4}}))
    world.acme_web.domains.create(hostname="new.example.org", edge=world.gateway)
    answer = post(token, report(2, **{"new_example_org": {"connections": 4}})).json()
    assert answer["unknown_hostnames"] == ["new.example.org"]
    routing.forget()  # as the cache's time running out does
    answer = post(token, report(3, **{"new_example_org": {"connections": 4}})).json()
    assert answer["unknown_hostnames"] == []
    assert stored_frontend("new.example.org").app_id == world.acme_web.pk


def test_while_the_live_state_cannot_be_read_pages_show_the_last_numbers_marked_as_such(
    token: str, world: World, alice: Any
) -> None:
    from edges import live_state as store_module
    from edges.live_state import RedisLiveState
    from tests.conftest import client_for

    post(token, report(1, **{WEB: {"connections": 7}}))
    page = client_for(alice).get("/apps/acme-web/").content.decode()
    assert 'data-count="7"' in page
    assert "last known" not in page

    # A store that cannot be reached (nothing listens on the port), holding what was read.
    known = store_module.live_state().states_of()
    unreachable = RedisLiveState("redis://127.0.0.1:9/0")
    unreachable.decoded = dict(known)
    store_module._store = unreachable
    for path in ("/apps/acme-web/", "/orgs/acme/", f"/edges/{world.gateway.name}/"):
        page = client_for(alice).get(path).content.decode()
        assert "last known" in page, path
    page = client_for(alice).get("/apps/acme-web/").content.decode()
    assert 'data-count="7"' in page


def test_a_live_update_of_an_apps_numbers_renders_from_memory_without_a_query(
    token: str, world: World, alice: Any, django_assert_num_queries: Any
) -> None:
    from live import events
    from live.cells import whole
    from live.panels import app_parts

    counts = frozenset({events.COUNTS})
    post(token, report(1, **{WEB: {"connections": 3}}))
    assert 'data-count="3"' in whole(app_parts(world.acme_web, alice, counts)[events.COUNTS])
    post(token, report(2, **{WEB: {"connections": 8}}))
    with django_assert_num_queries(0):
        html = whole(app_parts(world.acme_web, alice, counts)[events.COUNTS])
    assert 'data-count="8"' in html and "gateway" in html


def test_the_edges_rows_are_read_again_once_an_upgrade_is_announced(
    token: str, world: World, alice: Any, django_assert_num_queries: Any
) -> None:
    from edges.counts import app_live
    from live import events
    from live.hub import LiveHub

    post(token, report(1, **{WEB: {"connections": 3}}))
    app_live(world.acme_web)
    with django_assert_num_queries(0):
        app_live(world.acme_web)
    upgraded = {"edge": "acme-ssl", "upgrade": 1, "state": "completed", "proxy": "hipache"}
    LiveHub().dispatch({"event": events.EDGE_UPGRADE_CHANGED, "payload": {**upgraded, "apps": []}})
    with django_assert_num_queries(1):
        assert app_live(world.acme_web).connections == 3


def test_the_overviews_and_an_edges_numbers_render_from_memory_without_a_query(
    token: str, world: World, alice: Any, support: Any, django_assert_num_queries: Any
) -> None:
    from dashboard.models import visible_organization_ids
    from live.cells import whole
    from live.renderers import edge_live_numbers, platform_live_numbers

    post(
        token,
        report(1, **{WEB: {"connections": 3}, "globex-store_example_net": {"connections": 4}}),
    )
    whole(platform_live_numbers())
    mine = visible_organization_ids(alice)
    whole(edge_live_numbers(world.gateway, alice, mine))
    post(
        token,
        report(2, **{WEB: {"connections": 5}, "globex-store_example_net": {"connections": 4}}),
    )
    with django_assert_num_queries(0):
        overview = whole(platform_live_numbers())
        staff_edge = whole(edge_live_numbers(world.gateway, support, None))
        alices_edge = whole(edge_live_numbers(world.gateway, alice, mine))
    assert 'id="platform-connections" data-count="9"' in overview
    assert 'id="app-acme-web-connections" data-count="5"' in overview
    assert 'id="edge-gateway-connections" data-count="9"' in staff_edge
    # A customer sees their own share of the shared gateway, and no other organization's app.
    assert 'id="edge-gateway-connections" data-count="5"' in alices_edge
    assert "globex-store" not in alices_edge and "globex-store" in staff_edge


def test_a_hostname_is_checked_once_but_a_bad_one_is_refused_every_time(
    token: str, world: World
) -> None:
    good = report(1, **{WEB: {"connections": 1}})
    assert post(token, good).status_code == 202
    assert post(token, report(2, **{WEB: {"connections": 2}})).status_code == 202
    for seq in (3, 4):
        bad = report(seq, **{WEB: {"connections": 1}})
        bad["frontends"][0]["hostname"] = "-bad-.example.net"
        answer = post(token, bad)
        assert answer.status_code == 400, seq
    assert state() == [("acme-web.example.net", 2)]


def test_a_process_hearing_every_report_reads_redis_only_when_an_event_says_a_state_moved(
    token: str, world: World, settings: Any
) -> None:
    from edges.live_state import RedisLiveState
    from tests.conftest import unavailable

    if not settings.REDIS_URL:
        unavailable("REDIS_URL is not set")
    post(token, report(1, **{WEB: {"connections": 5}}))
    # Another process's view of the same store, whose hub hears every counts event.
    other = RedisLiveState(settings.REDIS_URL)
    reads: list[int] = []
    real = other.client.hgetall
    other.client.hgetall = lambda *args: reads.append(1) or real(*args)  # type: ignore[method-assign]
    other.start_listening()

    def connections() -> int:
        state = other.states_of([world.gateway.pk])[world.gateway.pk]
        return sum(f.connections for f in state.frontends)

    assert (connections(), connections()) == (5, 5)
    assert len(reads) == 1
    post(token, report(2, **{WEB: {"connections": 9}}))
    other.heard_of(world.gateway.pk, 2)  # the report's event
    assert (connections(), connections()) == (9, 9)
    assert len(reads) == 2
    # Once it no longer hears the events (the channel layer lost), every read goes to Redis.
    other.stop_listening()
    connections()
    assert len(reads) == 3


def test_a_read_of_redis_never_takes_a_process_back_to_an_older_report(
    token: str, world: World, settings: Any
) -> None:
    """A process reading the edges' states while its own ingest thread applies a newer report
    of one of them keeps the newer one, not the older blob the read fetched."""
    from edges.live_state import RedisLiveState
    from tests.conftest import unavailable

    if not settings.REDIS_URL:
        unavailable("REDIS_URL is not set")
    post(token, report(1, **{WEB: {"connections": 5}}))
    other = RedisLiveState(settings.REDIS_URL)
    fetch = other.client.mget

    def fetched_while_a_newer_report_is_applied(keys: Any) -> Any:
        from edges.live_state import live_state

        blobs = fetch(keys)  # the blob of seq 1...
        # ...while a newer report is applied, and held as this process's ingest holds it.
        post(token, report(2, **{WEB: {"connections": 9}}))
        other.decoded[world.gateway.pk] = live_state().states_of()[world.gateway.pk]
        return blobs

    other.client.mget = fetched_while_a_newer_report_is_applied  # type: ignore[method-assign]
    state = other.states_of([world.gateway.pk])[world.gateway.pk]
    assert state.seq == 2
    assert sum(f.connections for f in state.frontends) == 9


def test_the_shared_gateways_read_one_hostname_map_for_all_of_them(
    token: str, world: World, settings: Any, django_assert_num_queries: Any
) -> None:
    from edges.services.edges import edge_create
    from edges.services.reports import routing

    settings.ROUTING_CACHE_SECONDS = 60
    second, _token = edge_create(
        name="gateway-2",
        kind=Edge.Kind.GATEWAY,
        hostname="gateway-2.example.net",
        proxy=world.gateway.proxy,
        region=world.gateway.region,
        actor=None,
        source="cli",
    )
    assert routing.of(world.gateway)["acme-web.example.net"].app == "acme-web"
    with django_assert_num_queries(0):
        assert routing.of(second) is routing.of(world.gateway)
    # A custom SSL edge may report its own hostnames only: a map of its own.
    assert set(routing.of(world.acme_ssl)) == {"www.acme.example"}


def test_a_report_checked_with_a_hostname_map_read_again_since_is_routed_by_the_new_one(
    world: World,
) -> None:
    from edges.api.ingest_payloads import parse_report
    from edges.counts import app_live
    from edges.services.reports import report_apply, routing

    body = json.dumps(report(1, **{WEB: {"connections": 6}})).encode()
    # Checked and routed with the map of the moment (here: the hostname on another app)...
    routed = parse_report(body, "application/json", {"acme-web.example.net": world.acme_api.pk})
    assert routed.routed is not None and routed.routed.by_app.keys() == {world.acme_api.pk}
    # ...and applied once the process holds another map: the rows follow the map in use.
    routing.forget()
    assert report_apply(edge=world.gateway, report=routed).applied
    assert app_live(world.acme_web).connections == 6
    assert app_live(world.acme_api).connections == 0

    # A report parsed without a map is routed when applied, the same way.
    plain = parse_report(
        json.dumps(report(2, **{WEB: {"connections": 7}})).encode(), "application/json"
    )
    assert plain.routed is None
    assert report_apply(edge=world.gateway, report=plain).applied
    assert app_live(world.acme_web).connections == 7


def test_a_hostname_map_whose_read_a_forget_overtook_is_used_but_not_kept(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dashboard.models import Domain
    from edges.services.reports import routing

    carried = Domain.objects.carried_by

    def forgotten_while_read(edge: Edge) -> Any:
        routing.forget()  # a domain change heard while this read runs
        return carried(edge)

    monkeypatch.setattr(Domain.objects, "carried_by", forgotten_while_read)
    first = routing.of(world.gateway)
    monkeypatch.setattr(Domain.objects, "carried_by", carried)
    assert routing.of(world.gateway) is not first  # read again: the first was not kept
    second = routing.of(world.gateway)
    assert routing.of(world.gateway) is second
