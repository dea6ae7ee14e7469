"""The edge agent's reading of HAProxy and its handling of configurations HAProxy refuses."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from edges.agent import Agent, Backoff, frontends_from_stat, old_worker_pids, parse_stat
from edges.models import Edge
from edges.services.edges import edge_ingest_token_rotate
from tests.conftest import World

HEADER = "# pxname,svname,qcur,scur,status,addr\n"


def stat_of(*rows: str) -> list[dict[str, str]]:
    return parse_stat(HEADER + "\n".join(rows) + "\n")


def test_show_stat_becomes_connections_per_hostname_and_backend() -> None:
    rows = stat_of(
        "edge,FRONTEND,,31,OPEN,",
        "unknown_hostname,BACKEND,0,0,UP,",
        "host_www.acme.example,10.0.0.7:80,0,3,UP,10.0.0.7:80",
        "host_www.acme.example,10.0.0.8:80,0,1,DOWN 1/2,10.0.0.8:80",
        "host_www.acme.example,BACKEND,0,4,UP,",
        "ws_www.acme.example,10.0.0.7:80,0,20,UP,10.0.0.7:80",
        "ws_www.acme.example,10.0.0.8:80,0,7,DOWN,10.0.0.8:80",
        "ws_www.acme.example,BACKEND,0,27,UP,",
        "host_shop.globex.example,BACKEND,0,0,DOWN,",
        "ws_shop.globex.example,BACKEND,0,0,DOWN,",
    )
    assert frontends_from_stat(rows) == [
        {"hostname": "shop.globex.example", "connections": 0, "websockets": 0, "backends": []},
        {
            "hostname": "www.acme.example",
            "connections": 31,
            "websockets": 27,
            "backends": [
                {"address": "10.0.0.7:80", "connections": 23, "state": "up"},
                {"address": "10.0.0.8:80", "connections": 8, "state": "dead"},
            ],
        },
    ]


def test_connections_still_held_by_old_workers_after_a_reload_are_counted() -> None:
    current = stat_of(
        "ws_chat.example,10.0.0.7:80,0,2,UP,10.0.0.7:80", "ws_chat.example,BACKEND,0,2,UP,"
    )
    old = stat_of(
        "ws_chat.example,10.0.0.7:80,0,18,DOWN,10.0.0.7:80",
        "ws_chat.example,10.0.0.9:80,0,5,UP,10.0.0.9:80",  # gone from the current config
        "ws_chat.example,BACKEND,0,18,UP,",
    )
    [chat] = frontends_from_stat(current, [old])
    assert (chat["connections"], chat["websockets"]) == (20, 20)
    # States come from the current worker; servers it no longer has are not reported.
    assert chat["backends"] == [{"address": "10.0.0.7:80", "connections": 20, "state": "up"}]


def test_old_workers_are_read_from_the_masters_process_list() -> None:
    answer = (
        "#<PID>          <type>          <reloads>       <uptime>        <version>\n"
        "8957            master          2 [failed: 0]   0d00h00m09s     2.6.12\n"
        "# workers\n"
        "9095            worker          0               0d00h00m02s     2.6.12\n"
        "# old workers\n"
        "9016            worker          1               0d00h00m05s     2.6.12\n"
        "9077            worker          2               0d00h00m07s     2.6.12\n"
        "# programs\n\n"
    )
    assert old_worker_pids(answer) == [9016, 9077]


def test_an_answer_that_is_not_show_stat_is_an_error() -> None:
    from edges.agent import SocketError

    with pytest.raises(SocketError, match="unexpected answer"):
        parse_stat("Unknown command. Please enter one of the following commands only :\n")


def test_backoff_doubles_up_to_thirty_seconds_and_honours_retry_after() -> None:
    backoff = Backoff(interval=1.0)
    assert [backoff.failed(0.0) for _ in range(6)] == [2.0, 4.0, 8.0, 16.0, 30.0, 30.0]
    assert backoff.failed(0.0, retry_after=120) == 120
    backoff.succeeded()
    assert backoff.ready(0.0)


@pytest.fixture
def refusing_haproxy(tmp_path: Path) -> str:
    """An haproxy -c stand-in that refuses every configuration, as an older HAProxy build
    would refuse keywords it does not know."""
    script = tmp_path / "haproxy"
    script.write_text(
        "#!/bin/sh\n"
        "echo \"[ALERT] (1) : config : parsing [$4:28] : unknown keyword 'http-request return'\"\n"
        "exit 1\n"
    )
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return str(script)


def test_a_config_haproxy_refuses_is_not_applied_and_is_reported(
    transactional_db: None, world: World, live_server: object, tmp_path: Path, refusing_haproxy: str
) -> None:
    token = edge_ingest_token_rotate(edge=world.gateway, actor=None, source="cli")
    config = tmp_path / "haproxy.cfg"
    config.write_text("# the running configuration\n")
    reloads: list[str] = []
    agent = Agent(
        edge="gateway",
        url=live_server.url,  # type: ignore[attr-defined]
        token=token,
        config_path=config,
        stats_socket=str(tmp_path / "admin.sock"),
        reload_command="true",
        haproxy_bin=refusing_haproxy,
        log=reloads.append,
    )
    assert agent.poll_config() == "rejected"
    assert config.read_text() == "# the running configuration\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["haproxy", "haproxy.cfg"]
    edge = Edge.objects.get(name="gateway")
    assert edge.config_status == "rejected"
    assert "unknown keyword 'http-request return'" in edge.config_message
    assert str(config) in edge.config_message  # the temporary file's name is not shown
    # The same configuration is not fetched and refused again every interval.
    assert agent.poll_config() == "unchanged"
