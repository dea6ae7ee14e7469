"""What each proxy build can do, from dotCloud's notes on its old and new load balancers."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Capabilities:
    proxy: str
    label: str
    websockets: bool
    websockets_detail: str
    wss: bool
    gzip: str
    dead_backend_detection: str
    on_dead_backend: str


CAPABILITIES: dict[str, Capabilities] = {
    "nginx_legacy": Capabilities(
        proxy="nginx_legacy",
        label="Nginx (legacy build)",
        websockets=False,
        websockets_detail="no",
        wss=False,
        gzip="negotiated automatically",
        dead_backend_detection="passive",
        on_dead_backend="retries the request on the next live back-end, even a POST",
    ),
    "hipache": Capabilities(
        proxy="hipache",
        label="Hipache",
        websockets=True,
        websockets_detail="yes",
        wss=True,
        gzip="no",
        dead_backend_detection="passive, flags it dead",
        on_dead_backend="serves an error page; later requests skip the dead back-end",
    ),
    "haproxy": Capabilities(
        proxy="haproxy",
        label="HAProxy",
        websockets=True,
        websockets_detail="yes, on 80/443 and passed through on 8080/8443",
        wss=True,
        gzip="configurable",
        dead_backend_detection="active health checks",
        on_dead_backend="takes it out of rotation",
    ),
}


def capabilities_of(proxy: str) -> Capabilities:
    return CAPABILITIES[proxy]
