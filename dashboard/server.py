"""Run daphne the way the dashboard is meant to be served: `python -m dashboard.server`."""

from __future__ import annotations

import argparse
import os
import sys

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
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dashboard.settings")
    from daphne.cli import CommandLineInterface

    extra = ["--proxy-headers"] if args.proxy_headers else []
    CommandLineInterface().run(daphne_argv(host=args.host, port=args.port, extra=extra)[1:])


if __name__ == "__main__":
    main(sys.argv[1:])
