"""An edge's routing rendered for the proxy that runs it: an HAProxy configuration file, or the
``frontend:<hostname>`` lists Hipache reads from Redis.

HAProxy gets two back-ends per hostname: ``host_<hostname>`` for plain HTTP and
``ws_<hostname>`` for WebSocket upgrades, so ``show stat`` gives each hostname's connections
and, separately, its WebSockets. An app with websockets off gets a ``ws_`` back-end that refuses
every upgrade with 403: the feature switch has an effect on the wire.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import re
from collections import defaultdict
from dataclasses import dataclass

from dashboard.models import Backend, Domain
from dashboard.models.features import websockets_enabled
from edges.models import Edge

FORMATS = ("haproxy", "hipache")
CONTENT_TYPES = {"haproxy": "text/plain; charset=utf-8", "hipache": "application/json"}
DEFAULT_STATS_SOCKET = "/run/haproxy/admin.sock"
_SOCKET_PATH = re.compile(r"/[A-Za-z0-9._/-]{1,200}")
# Health checks: a back-end is DOWN after two failed connects a second apart, UP after two good.
CHECK = "check inter 1s fall 2 rise 2"


class ConfigError(ValueError):
    """A rendering option the edge asked for is not acceptable."""


@dataclass(frozen=True)
class Route:
    hostname: str
    app: str
    websockets: bool
    backends: tuple[str, ...]


def edge_routes(edge: Edge) -> list[Route]:
    """Every hostname routed through the edge with its app's web processes, in three queries."""
    domains = list(Domain.objects.filter(edge=edge).select_related("app").order_by("hostname"))
    apps = {d.app_id: d.app for d in domains}
    addresses: dict[int, list[str]] = defaultdict(list)
    for backend in Backend.objects.filter(app_id__in=apps).order_by("host", "port"):
        addresses[backend.app_id].append(backend.address)
    enabled = websockets_enabled(list(apps.values()))
    return [
        Route(
            hostname=d.hostname,
            app=d.app.name,
            websockets=enabled[d.app_id] and edge.carries_websockets,
            backends=tuple(addresses[d.app_id]),
        )
        for d in domains
    ]


def stats_socket_option(value: str | None) -> str:
    if not value:
        return DEFAULT_STATS_SOCKET
    if not _SOCKET_PATH.fullmatch(value) or "/../" in value + "/":
        raise ConfigError("stats_socket must be an absolute path of letters, digits and ._-/.")
    return value


def bind_option(value: str | None) -> str:
    """The address the frontend listens on: every IPv4 address unless the edge names one."""
    if not value:
        return ""
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        raise ConfigError("bind must be an IP address.") from None
    return f"[{address}]" if address.version == 6 else str(address)


def _server_name(address: str) -> str:
    # HAProxy names allow letters, digits and -_.: only.
    return address.replace("[", "").replace("]", "")


def render_haproxy(edge: Edge, *, stats_socket: str = DEFAULT_STATS_SOCKET, bind: str = "") -> str:
    routes = edge_routes(edge)
    ports = sorted({edge.http_port, edge.ws_port})
    lines = [
        f"# HAProxy configuration of edge {edge.name} ({edge.hostname}), rendered by Edgeboard.",
        f"# {len(routes)} hostnames. The edge agent replaces this file: change the dashboard,",
        "# not this file.",
        "global",
        f"    stats socket {stats_socket} mode 600 level admin expose-fd listeners",
        "    stats timeout 30s",
        "",
        "defaults",
        "    mode http",
        "    option dontlognull",
        "    timeout connect 5s",
        "    timeout client 30s",
        "    timeout server 30s",
        "    timeout http-request 10s",
        "    timeout http-keep-alive 10s",
        "    timeout queue 30s",
        "",
        "frontend edge",
        *[f"    bind {bind}:{port}" for port in ports],
        "    http-request set-var(txn.host) req.hdr(host),field(1,:),lower",
        "    acl is_websocket req.hdr(upgrade),lower -m str websocket",
        "    use_backend ws_%[var(txn.host)] if is_websocket",
        "    use_backend host_%[var(txn.host)]",
        "    default_backend unknown_hostname",
        "",
        "backend unknown_hostname",
        "    http-request return status 404 content-type text/plain"
        ' string "No app is routed through this edge under that hostname.\\n"',
    ]
    for route in routes:
        servers = [(_server_name(a), a) for a in route.backends]
        lines += [
            "",
            f"# {route.app}: websockets {'on' if route.websockets else 'off'}, "
            f"{len(servers)} web process{'es' if len(servers) != 1 else ''}",
            f"backend host_{route.hostname}",
            *[f"    server {name} {address} {CHECK}" for name, address in servers],
            "",
            f"backend ws_{route.hostname}",
        ]
        if route.websockets:
            lines += [
                f"    timeout tunnel {edge.idle_timeout_seconds}s",
                *[
                    f"    server {name} {address} track host_{route.hostname}/{name}"
                    for name, address in servers
                ],
            ]
        else:
            lines.append("    http-request deny deny_status 403")
    return "\n".join(lines) + "\n"


def hipache_frontends(edge: Edge) -> dict[str, list[str]]:
    """Hipache's Redis lists: ``frontend:<hostname>`` holds the app's name, then back-end URLs."""
    return {
        f"frontend:{route.hostname}": [route.app, *[f"http://{a}" for a in route.backends]]
        for route in edge_routes(edge)
    }


def render(
    edge: Edge, fmt: str, *, stats_socket: str | None = None, bind: str | None = None
) -> str:
    if fmt == "haproxy":
        return render_haproxy(
            edge, stats_socket=stats_socket_option(stats_socket), bind=bind_option(bind)
        )
    if fmt == "hipache":
        return json.dumps(hipache_frontends(edge), indent=2, sort_keys=True) + "\n"
    raise ConfigError(f"format must be one of {', '.join(FORMATS)}.")


def etag_of(body: str) -> str:
    return '"' + hashlib.sha256(body.encode()).hexdigest()[:32] + '"'


def hipache_write(edge: Edge, client: object) -> tuple[int, int]:
    """Write the edge's frontend lists into Hipache's Redis in one transaction, and remove the
    lists this edge wrote before that no longer route anywhere. Answers (written, removed)."""
    frontends = hipache_frontends(edge)
    owned = f"edgeboard:hipache:{edge.name}:frontends"
    previous = {k.decode() if isinstance(k, bytes) else k for k in client.smembers(owned)}
    stale = sorted(previous - set(frontends))
    pipe = client.pipeline(transaction=True)
    for key in stale:
        pipe.delete(key)
    for key, values in frontends.items():
        pipe.delete(key)
        pipe.rpush(key, *values)
    pipe.delete(owned)
    if frontends:
        pipe.sadd(owned, *frontends)
    pipe.execute()
    return len(frontends), len(stale)
