"""Run daphne the way the dashboard is meant to be served: `python -m edgeboard.server`."""

from __future__ import annotations

import argparse
import gc
import os
import sys
from pathlib import Path
from typing import Any

from live.limits import MAX_MESSAGE_BYTES, MAX_PUSH_BYTES

# Keep sockets open as long as clients want them (no 24-hour cut-off), ping idle ones so dead
# peers are noticed, and cap message sizes: the dashboard's sockets only push.
WEBSOCKET_ARGS = [
    "--websocket_timeout",
    "-1",
    "--ping-interval",
    "20",
    "--ping-timeout",
    "30",
    # autobahn holds sent messages to this limit too: it is the largest live frame.
    "--websocket-max-message-size",
    str(MAX_PUSH_BYTES),
    "--websocket-max-frame-size",
    str(MAX_MESSAGE_BYTES),
    "--application-close-timeout",
    "5",
]


def server_argv(*, host: str, port: int, extra: list[str] | None = None) -> list[str]:
    """The command that serves the dashboard (what `make run` runs, minus the demo traffic)."""
    return [
        sys.executable,
        "-m",
        "edgeboard.server",
        "--host",
        host,
        "--port",
        str(port),
        *(extra or []),
    ]


# Connections the kernel queues for daphne before it accepts them. Twisted's default of 50
# overflows when every browser reconnects at once after a deploy: the overflow's SYNs are dropped
# and retried a second later. The kernel caps it at net.core.somaxconn.
LISTEN_BACKLOG = 2048


def listen_endpoint(host: str, port: int) -> str:
    """Twisted's endpoint for daphne's `-e`: `--bind`/`--port` cannot set the backlog."""
    interface = host.strip("[]").replace(":", "\\:")
    return f"tcp:port={port}:interface={interface}:backlog={LISTEN_BACKLOG}"


def daphne_argv(*, host: str, port: int, extra: list[str] | None = None) -> list[str]:
    """daphne's own command line with the dashboard's options (what `main` hands to daphne)."""
    return [
        "daphne",
        "-e",
        listen_endpoint(host, port),
        *WEBSOCKET_ARGS,
        *(extra or []),
        "edgeboard.asgi:application",
    ]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    parser.add_argument(
        "--proxy-headers",
        action="store_true",
        help="Trust X-Forwarded-For from a load balancer in front.",
    )
    parser.add_argument(
        "--demo-traffic",
        metavar="CREDENTIALS",
        help="Also run simulate_edges with the demo's edge tokens from this file.",
    )
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "edgeboard.settings")
    extra = ["--proxy-headers"] if args.proxy_headers else []
    if args.demo_traffic:
        _start_demo_traffic(args.port, args.demo_traffic)
    _command_line().run(daphne_argv(host=args.host, port=args.port, extra=extra)[1:])


# Close codes RFC 6455 (and IANA's registry) let a server put on the wire, besides 3000-4999.
SERVER_CLOSE_CODES = frozenset({1000, 1001, 1002, 1003, 1007, 1008, 1009, 1011, 1012, 1013, 1014})


def _command_line() -> Any:
    """daphne's command line, serving with the dashboard's WebSocket behaviour."""
    # Importing daphne.server installs Twisted's reactor: only the serving process may do it.
    from daphne.cli import CommandLineInterface
    from daphne.server import Server
    from daphne.ws_protocol import WebSocketProtocol

    class DashboardWebSocketProtocol(WebSocketProtocol):
        def serverClose(self, code: int | None = None) -> None:
            # autobahn lets an application close with 1000 or 3000-4999 only and raises on
            # anything else, which daphne turns into a 1011 (django/daphne#374): send the
            # standard codes consumers close with (1008, 1009, 1013) as they are.
            if code in SERVER_CLOSE_CODES:
                self.sendCloseFrame(code=code, isReply=False)
            else:
                super().serverClose(code)

    class DashboardServer(Server):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            kwargs.setdefault("ready_callable", self.configure_websockets)
            super().__init__(*args, **kwargs)

        def configure_websockets(self) -> None:
            # daphne calls this once its WebSocket factory exists, before accepting connections.
            self.ws_factory.protocol = DashboardWebSocketProtocol
            # Fail a connection on a protocol error, invalid UTF-8 or an oversized message with
            # a close frame that says why (1002, 1007, 1009), as RFC 6455 asks, instead of
            # dropping the TCP connection without a word.
            self.ws_factory.setProtocolOptions(failByDrop=False)
            settle_garbage_collector()

    class DashboardCommandLine(CommandLineInterface):
        server_class = DashboardServer

    _format_autobahn_debug_only_when_logged()
    return DashboardCommandLine()


# The collector's first threshold: allocations between young-generation collections. Python's
# 700 made a 1,000-frontend report (thousands of short-lived tuples) pay several collections,
# each also walking the generations above; this many keeps a collection's pause short.
GC_YOUNG_THRESHOLD = 20_000


def settle_garbage_collector() -> None:
    """Once Django and the project are loaded (they live as long as the process): move what
    exists now out of the collector's sight, and collect the young generation less often.
    Applying a 1,000-frontend report took 8.4 ms of CPU in one process with Python's defaults
    and 5.1-5.9 ms like this; the floors of B13 and B14 are served the same way."""
    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(GC_YOUNG_THRESHOLD, middle, old)


def _format_autobahn_debug_only_when_logged() -> None:
    """autobahn pretty-prints each new socket's thirty-odd options for a debug log line whether
    or not debug logging is on (txaio drops the line after the text is made): 8 % of a
    handshake's CPU in B12's profile. Its module's `pformat` now formats only while txaio logs
    at debug level."""
    import pprint

    import txaio
    from autobahn.websocket import protocol

    def pformat_if_logged(value: object, *args: Any, **kwargs: Any) -> str:
        if txaio.get_global_log_level() in ("debug", "trace"):
            return pprint.pformat(value, *args, **kwargs)
        return "(not formatted: autobahn logs at debug level only)"

    protocol.pformat = pformat_if_logged


def _start_demo_traffic(port: int, credentials: str) -> None:
    """simulate_edges in a child process, stopped when the server stops."""
    import atexit
    import signal
    import subprocess

    manage = Path(__file__).resolve().parent.parent / "manage.py"
    child = subprocess.Popen(  # noqa: S603 - our own interpreter and manage.py
        [
            sys.executable,
            str(manage),
            "simulate_edges",
            "--url",
            f"http://127.0.0.1:{port}",
            "--credentials",
            credentials,
            "--quiet",
        ],
    )

    def stop(*_: object) -> None:
        if child.poll() is None:
            child.terminate()

    atexit.register(stop)
    signal.signal(signal.SIGTERM, lambda *_: (stop(), sys.exit(0)))


if __name__ == "__main__":
    main(sys.argv[1:])
