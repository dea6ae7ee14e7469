"""Run daphne the way the dashboard is meant to be served: `python -m dashboard.server`."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

# Keep sockets open as long as clients want them (no 24-hour cut-off), ping idle ones so dead
# peers are noticed, and cap message sizes: the dashboard's sockets only push.
WEBSOCKET_ARGS = [
    "--websocket_timeout",
    "-1",
    "--ping-interval",
    "20",
    "--ping-timeout",
    "30",
    "--websocket-max-message-size",
    str(64 * 1024),
    "--websocket-max-frame-size",
    str(64 * 1024),
    "--application-close-timeout",
    "5",
]


def daphne_argv(*, host: str, port: int, extra: list[str] | None = None) -> list[str]:
    return [
        "daphne",
        "--bind",
        host,
        "--port",
        str(port),
        *WEBSOCKET_ARGS,
        *(extra or []),
        "dashboard.asgi:application",
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
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dashboard.settings")
    from daphne.cli import CommandLineInterface

    extra = ["--proxy-headers"] if args.proxy_headers else []
    if args.demo_traffic:
        _start_demo_traffic(args.port, args.demo_traffic)
    CommandLineInterface().run(daphne_argv(host=args.host, port=args.port, extra=extra)[1:])


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
