"""The floors of B13 and B14: `python -m bench.bare_floors --app ingest|broadcast --port N`.

Bare ASGI applications (no Django, no Channels, no database) served by the dashboard's own
daphne command line (`edgeboard.server`: the same daphne, WebSocket options and protocol class),
so what the product costs beyond them is its own work.

ingest     (B14) POST /ingest/v1/reports with the body B1 sends: parse it with orjson (the
           product's parser), check the Bearer token (against BARE_FLOOR_TOKENS,
           comma-separated, when set) and that every count is a non-negative int, write the
           edge's latest numbers to Redis (REDIS_URL) in one pipelined call (an HSET of
           hostname -> connections, one of hostname -> websockets, one of the edge's seq and
           sent_at, under BARE_FLOOR_PREFIX), answer 202
           {"accepted": N, "unknown_hostnames": []}.
broadcast  (B13) every WebSocket is accepted and sent a snapshot frame; POST /ingest/v1/reports
           with an edge report (B2's own sender) sends every open socket a small frame whose
           <span id="app-acme-web-connections" data-count="N"> carries the connections value
           reported for acme-web.example.net, then answers 202 like the dashboard.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from typing import Any

import orjson

APPS = ("ingest", "broadcast")
INGEST_PATH = "/ingest/v1/reports"
HOSTNAME = "acme-web.example.net"
ELEMENT_ID = "app-acme-web-connections"
PREFIX_ENV = "BARE_FLOOR_PREFIX"
TOKENS_ENV = "BARE_FLOOR_TOKENS"


class BadReport(ValueError):
    pass


def _count(value: Any) -> bool:
    # bool is an int subclass; JSON true is not a count.
    return type(value) is int and value >= 0


def parse(body: bytes) -> tuple[str, int, str, dict[str, int], dict[str, int]]:
    """(edge, seq, sent_at, hostname -> connections, hostname -> websockets) of a report."""
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise BadReport("The body is not valid JSON.") from None
    if not isinstance(data, dict):
        raise BadReport("The report must be a JSON object.")
    edge, seq, sent_at = data.get("edge"), data.get("seq"), data.get("sent_at")
    if not isinstance(edge, str) or not edge or not _count(seq) or not isinstance(sent_at, str):
        raise BadReport("edge, seq and sent_at are required.")
    frontends = data.get("frontends")
    if not isinstance(frontends, list):
        raise BadReport("frontends must be a list.")
    connections: dict[str, int] = {}
    websockets: dict[str, int] = {}
    for item in frontends:
        if not isinstance(item, dict):
            raise BadReport("A frontend must be an object.")
        hostname = item.get("hostname")
        count = item.get("connections")
        sockets = item.get("websockets", 0)
        if not isinstance(hostname, str) or not hostname:
            raise BadReport("A frontend needs a hostname.")
        if not (_count(count) and _count(sockets)):
            raise BadReport(f"{hostname}: counts must be non-negative whole numbers.")
        connections[hostname] = count
        websockets[hostname] = sockets
    return edge, seq, sent_at, connections, websockets


# HTTP


async def _body(receive: Any) -> bytes:
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(chunks)


async def _answer(send: Any, status: int, data: Any) -> None:
    body = orjson.dumps(data)
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", b"%d" % len(body)),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def _authorized(scope: dict[str, Any]) -> bool:
    header = dict(scope["headers"]).get(b"authorization", b"")
    if not header.startswith(b"Bearer ") or len(header) <= 7:
        return False
    tokens = _tokens()
    return not tokens or header[7:].decode("latin-1") in tokens


_token_set: set[str] | None = None


def _tokens() -> set[str]:
    global _token_set
    if _token_set is None:
        _token_set = {t for t in os.environ.get(TOKENS_ENV, "").split(",") if t}
    return _token_set


async def _report(scope: dict[str, Any], receive: Any, send: Any) -> tuple[Any, ...] | None:
    """The parsed report of POST /ingest/v1/reports; None once an answer other than 202 went
    out (/healthz: 200; other paths 404; no token 401; a bad report 400)."""
    body = await _body(receive)
    if scope["path"] == "/healthz":
        await _answer(send, 200, "ok")
        return None
    if scope["path"] != INGEST_PATH or scope["method"] != "POST":
        await _answer(send, 404, {"error": "not_found"})
        return None
    if not _authorized(scope):
        await _answer(send, 401, {"error": "unauthorized"})
        return None
    try:
        return parse(body)
    except BadReport as bad:
        await _answer(send, 400, {"error": "bad_request", "message": str(bad)})
        return None


async def _no_websockets(receive: Any, send: Any) -> None:
    if (await receive())["type"] == "websocket.connect":
        await send({"type": "websocket.close", "code": 1000})


# B14: the ingest floor

_redis: Any = None


def _client() -> Any:
    global _redis
    if _redis is None:
        import redis.asyncio

        _redis = redis.asyncio.Redis.from_url(os.environ["REDIS_URL"])
    return _redis


async def ingest_application(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "websocket":
        await _no_websockets(receive, send)
    if scope["type"] != "http":
        return
    report = await _report(scope, receive, send)
    if report is None:
        return
    edge, seq, sent_at, connections, websockets = report
    prefix = os.environ.get(PREFIX_ENV, "bare-floor")
    async with _client().pipeline(transaction=False) as pipe:
        if connections:
            pipe.hset(f"{prefix}:{edge}:connections", mapping=connections)
            pipe.hset(f"{prefix}:{edge}:websockets", mapping=websockets)
        pipe.hset(f"{prefix}:{edge}", mapping={"seq": seq, "sent_at": sent_at})
        await pipe.execute()
    await _answer(send, 202, {"accepted": len(connections), "unknown_hostnames": []})


# B13: the fan-out floor

_sockets: dict[object, Any] = {}
_value = [0]


def frame(value: int) -> str:
    return f'<span id="{ELEMENT_ID}" data-count="{value}">{value}</span>'


async def broadcast_application(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "websocket":
        await _hold(receive, send)
    if scope["type"] != "http":
        return
    report = await _report(scope, receive, send)
    if report is None:
        return
    connections = report[3]
    value = connections.get(HOSTNAME)
    if value is not None:
        _value[0] = value
        message = {"type": "websocket.send", "text": frame(value)}
        for reply in list(_sockets.values()):
            with contextlib.suppress(Exception):
                await reply(message)
    accepted = 1 if value is not None else 0
    unknown = [h for h in connections if h != HOSTNAME]
    await _answer(send, 202, {"accepted": accepted, "unknown_hostnames": unknown})


async def _hold(receive: Any, send: Any) -> None:
    """Accept, send the snapshot, be told every value until the client goes."""
    if (await receive())["type"] != "websocket.connect":
        return
    await send({"type": "websocket.accept"})
    await send({"type": "websocket.send", "text": frame(_value[0])})
    key = object()
    _sockets[key] = send
    try:
        while (await receive())["type"] != "websocket.disconnect":
            pass
    finally:
        _sockets.pop(key, None)


def argv(app: str, host: str, port: int) -> list[str]:
    """The command that serves one of the applications (run from the repository's root)."""
    command = [sys.executable, "-m", "bench.bare_floors", "--app", app]
    return [*command, "--host", host, "--port", str(port)]


def main(args: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--app", choices=APPS, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    options = parser.parse_args(args)
    # The dashboard's command line and options with only the application swapped.
    from edgeboard.server import _command_line, daphne_argv

    command = daphne_argv(host=options.host, port=options.port)
    command[-1] = f"bench.bare_floors:{options.app}_application"
    _command_line().run(command[1:])


if __name__ == "__main__":
    main(sys.argv[1:])
