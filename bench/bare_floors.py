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
broadcast  (B13) every WebSocket is accepted, grouped by the app of its path
           (/ws/live/apps/<app>/; any other path: acme-web's group) and sent a snapshot frame;
           POST /ingest/v1/reports with an edge report (B2's or B3's own sender) sends every
           open socket of each app the report names a small frame whose
           <span id="app-<app>-connections" data-count="N"> carries the connections value
           reported for that app's default hostname, <app>.<PLATFORM_DOMAIN> (the product's
           scheme; PLATFORM_DOMAIN as in the settings, default example.net), then answers 202
           like the dashboard (hostnames outside the platform domain are unknown).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import sys
from typing import Any

import orjson

APPS = ("ingest", "broadcast")
INGEST_PATH = "/ingest/v1/reports"
# Sockets on any path but an app's watch this app (B2's: acme-web.example.net).
DEFAULT_APP = "acme-web"
APP_PATH = re.compile(r"^/ws/live/apps/([a-z0-9-]{1,30})/$")
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

# app -> {key: the socket's send}, and app -> the last value reported for it.
_groups: dict[str, dict[object, Any]] = {}
_values: dict[str, int] = {}


def _domain() -> str:
    return os.environ.get("PLATFORM_DOMAIN", "example.net").lower()


def app_of(hostname: str, domain: str) -> str | None:
    """The app whose default hostname this is (<app>.<domain>), else None."""
    app, dot, rest = hostname.lower().partition(".")
    return app if dot and app and rest == domain else None


def frame(app: str, value: int) -> str:
    return f'<span id="app-{app}-connections" data-count="{value}">{value}</span>'


async def broadcast_application(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "websocket":
        await _hold(scope, receive, send)
    if scope["type"] != "http":
        return
    report = await _report(scope, receive, send)
    if report is None:
        return
    domain = _domain()
    accepted = 0
    unknown = []
    for hostname, value in report[3].items():
        app = app_of(hostname, domain)
        if app is None:
            unknown.append(hostname)
            continue
        accepted += 1
        _values[app] = value
        message = {"type": "websocket.send", "text": frame(app, value)}
        for reply in list(_groups.get(app, {}).values()):
            with contextlib.suppress(Exception):
                await reply(message)
    await _answer(send, 202, {"accepted": accepted, "unknown_hostnames": unknown})


async def _hold(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Accept, send the snapshot, be told every value of the socket's app until it goes."""
    if (await receive())["type"] != "websocket.connect":
        return
    match = APP_PATH.match(scope["path"])
    app = match.group(1) if match else DEFAULT_APP
    await send({"type": "websocket.accept"})
    await send({"type": "websocket.send", "text": frame(app, _values.get(app, 0))})
    key = object()
    group = _groups.setdefault(app, {})
    group[key] = send
    try:
        while (await receive())["type"] != "websocket.disconnect":
            pass
    finally:
        group.pop(key, None)


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
