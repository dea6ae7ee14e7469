"""The floor of B12 (and of B11's storm): `python -m bench.bare_asgi --port N`.

A bare ASGI application that accepts every WebSocket and sends it one small text frame: no
Django, no origin check, no session, no database, no hub. It is served by the dashboard's own
daphne command line (`edgeboard.server`: the same daphne, the same WebSocket options and the same
protocol class), so what the dashboard's sockets cost beyond it is the product's own work.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

APPLICATION = "bench.bare_asgi:application"
FRAME = '<span id="bare" data-count="0">0</span>'


async def application(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        return
    if scope["type"] == "http":
        await _http(scope, receive, send)
        return
    if scope["type"] != "websocket":
        return
    message = await receive()
    if message["type"] != "websocket.connect":
        return
    await send({"type": "websocket.accept"})
    await send({"type": "websocket.send", "text": FRAME})
    # Like a consumer, stay until the client goes, ignoring what it sends.
    while (await receive())["type"] != "websocket.disconnect":
        pass


async def _http(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """/healthz answers 200 (the benchmark waits for it); anything else 404."""
    while (await receive()).get("more_body"):
        pass
    status = 200 if scope["path"] == "/healthz" else 404
    body = b"ok" if status == 200 else b"not found"
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"text/plain"), (b"content-length", b"%d" % len(body))],
        }
    )
    await send({"type": "http.response.body", "body": body})


def argv(host: str, port: int) -> list[str]:
    """The command that serves this application (run from the repository's root)."""
    return [sys.executable, "-m", "bench.bare_asgi", "--host", host, "--port", str(port)]


def main(args: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    options = parser.parse_args(args)
    # The dashboard's command line and options with only the application swapped, so the floor
    # is measured on exactly the server the dashboard runs in.
    from edgeboard.server import _command_line, daphne_argv

    command = daphne_argv(host=options.host, port=options.port)
    command[-1] = APPLICATION
    _command_line().run(command[1:])


if __name__ == "__main__":
    main(sys.argv[1:])
