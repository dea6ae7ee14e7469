"""A web process for the edge tests: a WebSocket echo server on a loopback port.

python -m tests.e2e.echo_backend PORT
"""

from __future__ import annotations

import asyncio
import logging
import sys

from websockets.asyncio.server import ServerConnection, serve


async def echo(connection: ServerConnection) -> None:
    async for message in connection:
        await connection.send(message)


async def main(port: int) -> None:
    # HAProxy's health checks connect and close without a handshake: not worth a log line.
    logging.getLogger("websockets").setLevel(logging.CRITICAL)
    async with serve(echo, "127.0.0.1", port, ping_interval=None) as server:
        print(f"echo back-end on 127.0.0.1:{port}", flush=True)
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1])))
