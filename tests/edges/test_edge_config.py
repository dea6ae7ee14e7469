"""The edge's routing rendered for HAProxy and Hipache, served to the edge agent."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.test import Client

from dashboard.models import AuditEvent, Backend, Feature
from dashboard.models.features import WEBSOCKETS
from dashboard.services.apps import backend_add
from dashboard.services.features import feature_set
from edges.models import Edge
from edges.services.edges import edge_ingest_token_rotate
from edges.services.proxy_config import edge_routes, hipache_write, render_haproxy
from tests.conftest import World, unavailable
from tests.factories import make_edge

HAPROXY = shutil.which("haproxy") or "/usr/sbin/haproxy"


def haproxy_check(config: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    if not Path(HAPROXY).exists():
        unavailable("haproxy is missing (apt-get install haproxy)")
    path = tmp_path / "haproxy.cfg"
    path.write_text(config)
    return subprocess.run(
        [HAPROXY, "-c", "-f", str(path)], capture_output=True, text=True, timeout=30
    )


@pytest.fixture
def haproxy_edge(world: World) -> Edge:
    """A custom SSL edge of acme on HAProxy carrying www2.acme.example for acme-web."""
    from dashboard.services.domains import domain_add

    edge = make_edge(
        "acme-rt",
        kind=Edge.Kind.CUSTOM_SSL,
        proxy=Edge.Proxy.HAPROXY,
        org=world.acme,
        http_port=10080,
        ws_port=10081,
        idle_timeout_seconds=300,
    )
    domain_add(app=world.acme_api, hostname="rt.acme.example", edge=edge, actor=None, source="cli")
    backend_add(app=world.acme_api, address="10.1.0.7:5000", actor=None, source="cli")
    backend_add(app=world.acme_api, address="[fd00::8]:5000", actor=None, source="cli")
    return edge


@pytest.fixture
def edge_token(haproxy_edge: Edge) -> str:
    return edge_ingest_token_rotate(edge=haproxy_edge, actor=None, source="cli")


def config_url(name: str = "acme-rt", **query: str) -> str:
    params = "&".join(f"{k}={v}" for k, v in query.items())
    return f"/ingest/v1/edges/{name}/config" + (f"?{params}" if params else "")


def get(token: str | None, url: str, **headers: str) -> object:
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return Client().get(url, headers=headers)


def test_the_haproxy_config_passes_haproxy_c_and_routes_each_hostname(
    haproxy_edge: Edge, tmp_path: Path
) -> None:
    config = render_haproxy(haproxy_edge, stats_socket=str(tmp_path / "admin.sock"))
    result = haproxy_check(config, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "    bind :10080" in config and "    bind :10081" in config
    # acme-api was created after GA: websockets on, tunnels live as long as the edge allows.
    ws = config[config.index("backend ws_rt.acme.example") :]
    assert ws.splitlines()[1] == "    timeout tunnel 300s"
    assert "server 10.1.0.7:5000 10.1.0.7:5000 track host_rt.acme.example/10.1.0.7:5000" in ws
    assert "server fd00::8:5000 [fd00::8]:5000 check" in config
    assert f"stats socket {tmp_path / 'admin.sock'} mode 600 level admin" in config


def test_websocket_upgrades_to_an_app_with_websockets_off_are_refused_with_403(
    haproxy_edge: Edge, world: World, tmp_path: Path
) -> None:
    feature = Feature.objects.get(name=WEBSOCKETS)
    feature_set(
        app=world.acme_api, feature=feature, enabled=False, actor=None, source="cli", reason="t"
    )
    config = render_haproxy(haproxy_edge)
    ws = config[config.index("backend ws_rt.acme.example") :].splitlines()
    assert ws[1] == "    http-request deny deny_status 403"
    assert not any(line.strip().startswith("server") for line in ws)
    assert haproxy_check(config, tmp_path).returncode == 0


def test_a_legacy_edge_never_carries_websockets_whatever_the_feature(world: World) -> None:
    routes = {r.hostname: r for r in edge_routes(world.acme_ssl)}
    assert routes["www.acme.example"].websockets is False


def test_routes_cost_three_queries_whatever_the_number_of_hostnames(
    haproxy_edge: Edge, world: World, django_assert_num_queries: object
) -> None:
    from dashboard.services.domains import domain_add

    for n in range(20):
        domain_add(
            app=world.acme_api, hostname=f"h{n}.acme.example", edge=haproxy_edge, actor=None,
            source="cli",
        )  # fmt: skip
    with django_assert_num_queries(4):  # domains, back-ends, the feature, explicit settings
        routes = edge_routes(haproxy_edge)
    assert len(routes) == 21


def test_the_config_endpoint_answers_the_config_with_an_etag_and_304_when_unchanged(
    edge_token: str, world: World
) -> None:
    first = get(edge_token, config_url())
    assert first.status_code == 200
    assert first["Content-Type"].startswith("text/plain")
    assert b"backend host_rt.acme.example" in first.content
    etag = first["ETag"]
    assert get(edge_token, config_url(), If_None_Match=etag).status_code == 304

    backend_add(app=world.acme_api, address="10.1.0.9:5000", actor=None, source="cli")
    changed = get(edge_token, config_url(), If_None_Match=etag)
    assert changed.status_code == 200
    assert changed["ETag"] != etag
    assert b"10.1.0.9:5000" in changed.content


def test_the_feature_switch_changes_the_config_the_edge_is_served(
    edge_token: str, world: World
) -> None:
    before = get(edge_token, config_url())
    feature = Feature.objects.get(name=WEBSOCKETS)
    feature_set(
        app=world.acme_api, feature=feature, enabled=False, actor=None, source="cli", reason="t"
    )
    after = get(edge_token, config_url(), If_None_Match=before["ETag"])
    assert after.status_code == 200
    assert b"deny_status 403" in after.content and b"deny_status 403" not in before.content


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"format": "nginx"}, "format must be one of haproxy, hipache."),
        ({"stats_socket": "relative.sock"}, "stats_socket must be an absolute path"),
        ({"stats_socket": "/run/x%0Aglobal"}, "stats_socket must be an absolute path"),
        ({"stats_socket": "/run/../etc/x"}, "stats_socket must be an absolute path"),
        ({"bind": "0.0.0.0%0Abind"}, "bind must be an IP address."),
    ],
)
def test_bad_options_are_refused_with_400(
    edge_token: str, query: dict[str, str], message: str
) -> None:
    response = get(edge_token, config_url(**query))
    assert response.status_code == 400
    assert response.json()["message"].startswith(message)


def test_only_the_edges_own_token_reads_its_config(edge_token: str, world: World) -> None:
    assert get(None, config_url()).status_code == 401
    assert get("edg_wrong", config_url()).status_code == 401
    other = edge_ingest_token_rotate(edge=world.gateway, actor=None, source="cli")
    refused = get(other, config_url())
    assert refused.status_code == 403
    assert refused.json()["message"] == "This token belongs to edge gateway, not acme-rt."
    assert b"rt.acme.example" not in refused.content


def test_the_hipache_format_lists_each_hostnames_app_then_its_backends(
    edge_token: str,
) -> None:
    response = get(edge_token, config_url(format="hipache"))
    assert response.status_code == 200
    assert response.json() == {
        "frontend:rt.acme.example": ["acme-api", "http://10.1.0.7:5000", "http://[fd00::8]:5000"]
    }


def test_hipache_lists_are_written_to_redis_and_stale_ones_removed(
    haproxy_edge: Edge, world: World
) -> None:
    url = os.environ.get("REDIS_URL")
    if not url:
        unavailable("REDIS_URL is not set")
    import redis

    client = redis.Redis.from_url(url)
    client.delete("frontend:old.acme.example")
    client.sadd("edgeboard:hipache:acme-rt:frontends", "frontend:old.acme.example")
    client.rpush("frontend:old.acme.example", "acme-web", "http://10.9.9.9:80")
    try:
        assert hipache_write(haproxy_edge, client) == (1, 1)
        assert client.lrange("frontend:rt.acme.example", 0, -1) == [
            b"acme-api",
            b"http://10.1.0.7:5000",
            b"http://[fd00::8]:5000",
        ]
        assert not client.exists("frontend:old.acme.example")
        # Idempotent: a second write leaves the same lists.
        assert hipache_write(haproxy_edge, client) == (1, 0)
        assert client.llen("frontend:rt.acme.example") == 3
    finally:
        client.delete("frontend:rt.acme.example", "edgeboard:hipache:acme-rt:frontends")


def test_the_agent_reports_whether_haproxy_took_the_config(edge_token: str) -> None:
    url = "/ingest/v1/edges/acme-rt/config-status"
    headers = {"Authorization": f"Bearer {edge_token}"}
    body = {"status": "rejected", "etag": '"abc"', "message": "[ALERT] parsing: bad\x00 line"}
    response = Client().post(url, body, content_type="application/json", headers=headers)
    assert response.status_code == 202
    edge = Edge.objects.get(name="acme-rt")
    assert (edge.config_status, edge.config_etag) == ("rejected", '"abc"')
    assert edge.config_message == "[ALERT] parsing: bad line"
    # Saying the same again does not add to the audit trail.
    Client().post(url, body, content_type="application/json", headers=headers)
    assert AuditEvent.objects.filter(action="edge.config_rejected").count() == 1

    bad = Client().post(
        url, {"status": "fine", "etag": "x"}, content_type="application/json", headers=headers
    )
    assert bad.status_code == 400
    assert Edge.objects.get(name="acme-rt").config_status == "rejected"


def test_the_edge_config_command_prints_or_writes_the_config(
    haproxy_edge: Edge, tmp_path: Path
) -> None:
    from io import StringIO

    from django.core.management import CommandError, call_command

    out = StringIO()
    call_command("edge_config", "acme-rt", "--format", "haproxy", stdout=out)
    assert "backend host_rt.acme.example" in out.getvalue()
    target = tmp_path / "edge.cfg"
    call_command(
        "edge_config", "acme-rt", "--format", "haproxy", "--output", str(target), stderr=StringIO()
    )
    assert target.read_text() == out.getvalue()
    out = StringIO()
    call_command("edge_config", "acme-rt", "--format", "hipache", stdout=out)
    assert json.loads(out.getvalue())["frontend:rt.acme.example"][0] == "acme-api"
    with pytest.raises(CommandError, match="There is no edge named 'nope'"):
        call_command("edge_config", "nope", "--format", "haproxy")
    with pytest.raises(CommandError, match="bind must be an IP address"):
        call_command("edge_config", "acme-rt", "--format", "haproxy", "--bind", "example.com")


def test_back_end_addresses_are_ip_literals_with_ports(world: World, support: User) -> None:
    from django.core.exceptions import ValidationError

    app = world.acme_api
    bad_addresses = [
        "web1:8080", "10.0.0.1", "10.0.0.1:0", "10.0.0.1:65536", "fd00::1:80", "0.0.0.0:80",
        "[10.0.0.1]:80", "10.0.0.1:80\x00", "10.0.0.1:\uff18\uff10",
    ]  # fmt: skip
    for bad in bad_addresses:
        with pytest.raises(ValidationError):
            backend_add(app=app, address=bad, actor=support, source="web")
    backend_add(app=app, address="10.0.0.1:80", actor=support, source="web")
    with pytest.raises(ValidationError, match="already has the back-end"):
        backend_add(app=app, address=" 10.0.0.1:80 ", actor=support, source="web")
    assert list(Backend.objects.filter(app=app).values_list("host", "port")) == [("10.0.0.1", 80)]
