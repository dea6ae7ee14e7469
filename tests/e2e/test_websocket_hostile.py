"""Hostile WebSocket clients against a real daphne serving the dashboard the way `make run` does.

Random and malformed frames, broken framing at the TCP level, oversized messages and floods must
each end in a close code that says what the client did wrong (1002, 1007, 1008, 1009), never in a
server error (1011, a traceback in the log), and must leave the server serving everyone else.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import random
import socket
import struct
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import ClientConnection, connect

from live.limits import MAX_MESSAGE_BYTES
from tests.e2e.conftest import (
    DEMO_PASSWORD,
    Server,
    free_port,
    seeded_environment,
    start_daphne,
    stop,
)
from tests.e2e.live_client import count_in, post_report, session_cookie

# The flood: 20 sockets of 500 frames each. The burst is raised above what one socket sends, so
# the flood tests how the server copes with the frames, not the rate limit; the rate is
# lowered so that a client sending past the burst is refused whatever the test's pace.
FLOOD_SOCKETS = 20
FRAMES_PER_SOCKET = 500
BURST = 600
PAST_THE_BURST = BURST + 200
ERROR_MARKERS = ("Traceback", "Exception", " ERROR ", " CRITICAL ")


@dataclass
class Target:
    server: Server
    log: Path
    cookie: str

    @property
    def port(self) -> int:
        return int(self.server.url.rsplit(":", 1)[1])

    def ws_url(self, path: str) -> str:
        return self.server.url.replace("http", "ws", 1) + path

    def open(self, path: str) -> ClientConnection:
        return connect(
            self.ws_url(path),
            origin=self.server.url,
            additional_headers={"Cookie": self.cookie},
            open_timeout=10,
            close_timeout=10,
            max_size=None,
        )

    def server_errors(self) -> list[str]:
        text = self.log.read_text(errors="replace")
        return [line for line in text.splitlines() if any(m in line for m in ERROR_MARKERS)]

    def report(self, connections: int) -> None:
        token = self.server.edge_token("gateway")
        post_report(self.server.url, "gateway", token, **{"acme-web.example.net": connections})


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Target]:
    tmp = tmp_path_factory.mktemp("hostile")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    limits = {"WS_FRAME_BURST": str(BURST), "WS_MAX_FRAMES_PER_SECOND": "1"}
    with seeded_environment(tmp, [url], PORT=str(port), **limits) as server:
        log = tmp / "daphne.log"
        try:
            server.process = start_daphne(port, server.env, log)
            yield Target(server, log, session_cookie(url, "alice", DEMO_PASSWORD))
        finally:
            stop(server.process)


def assert_still_serving(target: Target) -> None:
    """The server answers HTTP, echoes on a new socket, and has logged no error."""
    with urllib.request.urlopen(target.server.url + "/healthz", timeout=10) as response:
        assert response.status == 200
    with target.open("/ws/echo/") as ws:
        ws.send("still there?")
        assert ws.recv(timeout=10) == "still there?"
    assert target.server_errors() == []


def close_code(ws: ClientConnection) -> int | None:
    """Read what the server still sends until it closes; answer the code it closed with."""
    with contextlib.suppress(ConnectionClosed):
        while True:
            ws.recv(timeout=10)
    return ws.close_code


# Random and malformed frames

MALFORMED_JSON = [
    '{"type": "subscribe", "topic": ',
    '{"HEADERS": {"HX-Request": "true", "HX-Trigger":',
    "[" * 5000,
    "{" * 5000 + "}",
    '"\\u12',
    "NaN",
    '{"x": 1e999999}',
    "\ufeff{}",
    "{'single': 'quotes'}",
    '{"__proto__": {"admin": true}}',
    '{"HEADERS": {"HX-Request": "true"}, "name": "<script>alert(1)</script>"}',
    '{"a": "\\ud800"}',
    "null",
    "",
]
CONTROL = [chr(c) for c in range(32)] + ["\x7f", "\x85", "\u2028", "\u2029", "\ufeff", "\ufffe"]


@dataclass
class Frames:
    """One message as the client sends it, and how many frames it takes on the wire."""

    kind: str
    data: Any
    frames: int = 1

    def echo(self) -> str | bytes | None:
        """What the echo socket answers (daphne sends no empty messages)."""
        if self.kind == "ping":
            return None
        if self.kind == "fragments":
            joined = "".join(self.data) if isinstance(self.data[0], str) else b"".join(self.data)
            return joined or None
        return self.data or None


def random_text(rng: random.Random, size: int) -> str:
    chars = []
    while len(chars) < size:
        code = rng.randrange(0x20, 0x110000)
        if not 0xD800 <= code <= 0xDFFF:
            chars.append(chr(code))
    return "".join(chars)


def hostile_messages(rng: random.Random, frames: int) -> Iterator[Frames]:
    """Messages of every awkward kind, `frames` frames in all."""
    left = frames
    while left:
        roll = rng.random()
        if roll < 0.2:
            message = Frames("text", random_text(rng, rng.randrange(0, 200)))
        elif roll < 0.35:
            sample = rng.choice(MALFORMED_JSON)
            message = Frames("text", sample[: rng.randrange(len(sample) + 1)] or sample)
        elif roll < 0.5:
            message = Frames("text", "".join(rng.choices(CONTROL, k=rng.randrange(1, 300))))
        elif roll < 0.7:
            message = Frames("binary", rng.randbytes(rng.randrange(0, 2000)))
        elif roll < 0.8:
            message = Frames("ping", struct.pack("!I", left) + rng.randbytes(rng.randrange(121)))
        elif roll < 0.99 and left >= 2:
            count = rng.randrange(2, min(left, 6) + 1)
            if rng.random() < 0.5:
                parts: list[Any] = [random_text(rng, rng.randrange(0, 50)) for _ in range(count)]
            else:
                parts = [rng.randbytes(rng.randrange(0, 500)) for _ in range(count)]
            message = Frames("fragments", parts, frames=count)
        elif rng.random() < 0.5:
            size = rng.randrange(MAX_MESSAGE_BYTES // 4, MAX_MESSAGE_BYTES - 64)
            message = Frames("text", "x" * size)
        else:
            size = rng.randrange(MAX_MESSAGE_BYTES // 4, MAX_MESSAGE_BYTES)
            message = Frames("binary", rng.randbytes(size))
        left -= message.frames
        yield message


def send(ws: ClientConnection, message: Frames) -> None:
    if message.kind == "ping":
        ws.ping(message.data)
    elif message.kind == "fragments":
        ws.send(iter(message.data))
    else:
        ws.send(message.data)


def test_ten_thousand_random_and_malformed_frames_cause_no_server_error(target: Target) -> None:
    rng = random.Random(20261121)  # a fixed seed, so a failure can be replayed
    sent = 0
    for _ in range(FLOOD_SOCKETS // 2):
        with target.open("/ws/echo/") as ws:
            messages = list(hostile_messages(rng, FRAMES_PER_SOCKET))
            for message in messages:
                send(ws, message)
            sent += sum(m.frames for m in messages)
            expected = [m.echo() for m in messages if m.echo() is not None]
            received = []
            with contextlib.suppress(ConnectionClosed, TimeoutError):
                while len(received) < len(expected):
                    received.append(ws.recv(timeout=10))
            assert ws.close_code is None
            assert received == expected
        assert ws.close_code == 1000

    with contextlib.ExitStack() as stack:
        sockets = [stack.enter_context(target.open("/ws/live/apps/acme-web/")) for _ in range(10)]
        for ws in sockets:
            assert count_in(ws.recv(timeout=10), "app-acme-web-connections") is not None
        for ws in sockets:
            messages = list(hostile_messages(rng, FRAMES_PER_SOCKET))
            for message in messages:
                send(ws, message)
            sent += sum(m.frames for m in messages)
        target.report(4321)
        for ws in sockets:
            seen = None
            while seen != 4321:
                seen = count_in(ws.recv(timeout=10), "app-acme-web-connections")
        # Now send past the burst: the consumer handles frames in order, so its 1008 proves
        # it got through every frame before without failing (that would have been a 1011).
        for ws in sockets:
            with contextlib.suppress(ConnectionClosed):
                for _ in range(PAST_THE_BURST):
                    ws.send("{}")
        assert [close_code(ws) for ws in sockets] == [1008] * len(sockets)

    assert sent == FLOOD_SOCKETS * FRAMES_PER_SOCKET
    assert_still_serving(target)


# Broken framing at the TCP level, after a valid handshake


def frame(
    opcode: int,
    payload: bytes = b"",
    *,
    fin: bool = True,
    rsv: int = 0,
    masked: bool = True,
    length: int | None = None,
) -> bytes:
    """One client frame as RFC 6455 lays it out, or breaks it when asked."""
    size = len(payload) if length is None else length
    head = bytes([(0x80 if fin else 0) | rsv << 4 | opcode])
    mask_bit = 0x80 if masked else 0
    if size < 126:
        head += bytes([mask_bit | size])
    elif size < 1 << 16:
        head += bytes([mask_bit | 126]) + struct.pack("!H", size)
    else:
        head += bytes([mask_bit | 127]) + struct.pack("!Q", size)
    if not masked:
        return head + payload
    key = os.urandom(4)
    return head + key + bytes(b ^ key[i % 4] for i, b in enumerate(payload))


def handshake(target: Target, path: str) -> tuple[socket.socket, bytes]:
    """An accepted WebSocket on a bare TCP socket, and what the server sent after its 101."""
    sock = socket.create_connection(("127.0.0.1", target.port), timeout=10)
    key = base64.b64encode(os.urandom(16)).decode()
    request = (
        f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{target.port}\r\n"
        "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
        f"Sec-WebSocket-Key: {key}\r\nOrigin: {target.server.url}\r\n"
        f"Cookie: {target.cookie}\r\n\r\n"
    )
    sock.sendall(request.encode())
    received = b""
    while b"\r\n\r\n" not in received:
        chunk = sock.recv(65536)
        assert chunk, "the server hung up during the handshake"
        received += chunk
    head, _, rest = received.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 101 "), head
    return sock, rest


def server_close_code(sock: socket.socket, received: bytes) -> int | None:
    """Read the server's frames until its close frame; its code, or None if it only hung up."""
    data = received
    while True:
        while len(data) >= 2:
            opcode, size, offset = data[0] & 0x0F, data[1] & 0x7F, 2
            if size == 126:
                size, offset = struct.unpack("!H", data[2:4])[0], 4
            elif size == 127:
                size, offset = struct.unpack("!Q", data[2:10])[0], 10
            if len(data) < offset + size:
                break
            payload, data = data[offset : offset + size], data[offset + size :]
            if opcode == 0x8:
                return struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else None
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            return None
        if not chunk:
            return None
        data += chunk


# A broken close frame still begins a close: the server answers the violation (1002) and hangs
# up at once, which may discard its answer before it leaves.
CLOSING_ANYWAY = {1002, None}
BROKEN_FRAMES: dict[str, tuple[bytes, int | set[int | None]]] = {
    "reserved bits set": (frame(0x1, b"hi", rsv=0b100), 1002),
    "all reserved bits set": (frame(0x2, b"\x00", rsv=0b111), 1002),
    "unknown data opcode": (frame(0x3, b"hi"), 1002),
    "unknown control opcode": (frame(0xB), 1002),
    "unmasked client frame": (frame(0x1, b"hi", masked=False), 1002),
    "continuation with nothing to continue": (frame(0x0, b"x"), 1002),
    "new message inside a fragmented one": (frame(0x1, b"a", fin=False) + frame(0x1, b"b"), 1002),
    "fragmented ping": (frame(0x9, b"", fin=False), 1002),
    "ping over 125 bytes": (frame(0x9, b"x" * 126), 1002),
    "close with a one-byte body": (frame(0x8, b"\x03"), CLOSING_ANYWAY),
    "close with a reserved code": (frame(0x8, struct.pack("!H", 999)), CLOSING_ANYWAY),
    "invalid UTF-8 in a text frame": (frame(0x1, b"abc\xc3\x28"), 1007),
    "UTF-8 encoded surrogate": (frame(0x1, b"\xed\xa0\x80"), 1007),
    "invalid UTF-8 across fragments": (
        frame(0x1, b"\xe2\x82", fin=False) + frame(0x0, b"\xff"),
        1007,
    ),
    "invalid UTF-8 in a close reason": (
        frame(0x8, struct.pack("!H", 1000) + b"\xff"),
        CLOSING_ANYWAY,
    ),
    "frame announcing 2**62 bytes": (frame(0x2, length=1 << 62), 1009),
    "message over the limit in small fragments": (
        frame(0x2, b"x" * 40_000, fin=False) + frame(0x0, b"x" * 40_000),
        1009,
    ),
}


@pytest.mark.parametrize("path", ["/ws/echo/", "/ws/live/apps/acme-web/"])
@pytest.mark.parametrize("case", list(BROKEN_FRAMES))
def test_broken_framing_is_closed_by_the_protocol_layer_with_its_reason(
    target: Target, path: str, case: str
) -> None:
    data, expected = BROKEN_FRAMES[case]
    sock, received = handshake(target, path)
    with sock:
        sock.sendall(data)
        code = server_close_code(sock, received)
    assert code in expected if isinstance(expected, set) else code == expected
    assert target.server_errors() == []


def test_the_server_still_serves_after_broken_framing(target: Target) -> None:
    for data, _ in BROKEN_FRAMES.values():
        sock, received = handshake(target, "/ws/echo/")
        with sock:
            sock.sendall(data)
            server_close_code(sock, received)
    assert_still_serving(target)


# Unknown paths


@pytest.mark.parametrize("path", ["/ws/nope/", "/ws/live/foo/", "/ws/live/apps/", "/ws/../admin/"])
def test_a_handshake_on_an_unknown_path_is_refused_like_a_missing_page(
    target: Target, path: str
) -> None:
    with pytest.raises(InvalidStatus) as refused:
        target.open(path)
    assert refused.value.response.status_code in (403, 404)
    assert_still_serving(target)
    log = target.log.read_text(errors="replace")
    assert f"no socket at {path!r}" in log


# Oversized messages


@pytest.mark.parametrize("path", ["/ws/echo/", "/ws/live/apps/acme-web/"])
@pytest.mark.parametrize(
    "message",
    [
        "x" * (MAX_MESSAGE_BYTES + 1),
        "é" * (MAX_MESSAGE_BYTES // 2 + 1),
        b"\x00" * (MAX_MESSAGE_BYTES + 1),
        b"\x00" * (4 * 1024 * 1024),
        [b"\x00" * (MAX_MESSAGE_BYTES // 2)] * 3,
    ],
    ids=["text", "multibyte-text", "binary", "four-mib", "fragmented"],
)
def test_an_oversized_message_is_dropped_with_1009(
    target: Target, path: str, message: str | bytes | list[bytes]
) -> None:
    with target.open(path) as ws:
        with contextlib.suppress(ConnectionClosed):
            # A list goes out as one message in fragments, each under the frame limit.
            ws.send(iter(message) if isinstance(message, list) else message)
        assert close_code(ws) == 1009
    assert_still_serving(target)


def test_a_message_of_exactly_the_limit_is_echoed(target: Target) -> None:
    with target.open("/ws/echo/") as ws:
        ws.send(b"\x01" * MAX_MESSAGE_BYTES)
        assert ws.recv(timeout=10) == b"\x01" * MAX_MESSAGE_BYTES
    assert ws.close_code == 1000


# Clients sending faster than allowed


@pytest.mark.parametrize("path", ["/ws/echo/", "/ws/live/apps/acme-web/"])
@pytest.mark.parametrize("kind", ["text", "binary"])
def test_a_client_sending_faster_than_allowed_is_closed_with_1008(
    target: Target, path: str, kind: str
) -> None:
    data: str | bytes = json.dumps({"n": 1}) if kind == "text" else b"\x00\x01"
    with target.open(path) as ws:
        with contextlib.suppress(ConnectionClosed):
            for _ in range(PAST_THE_BURST):
                ws.send(data)
        assert close_code(ws) == 1008
    assert_still_serving(target)


def test_a_refused_client_can_come_back_on_a_new_socket(target: Target) -> None:
    with target.open("/ws/live/apps/acme-web/") as ws:
        with contextlib.suppress(ConnectionClosed):
            for _ in range(PAST_THE_BURST):
                ws.send("{}")
        assert close_code(ws) == 1008
    with target.open("/ws/live/apps/acme-web/") as ws:
        assert count_in(ws.recv(timeout=10), "app-acme-web-connections") is not None
        target.report(55)
        seen = None
        while seen != 55:
            seen = count_in(ws.recv(timeout=10), "app-acme-web-connections")
    assert ws.close_code == 1000


# What the server sends


def test_a_live_frame_larger_than_a_client_may_send_still_reaches_the_page(
    target: Target,
) -> None:
    """daphne holds sent messages to its message limit too: a page whose panels are larger than
    a client's largest message (an app with 900 domains) still gets its snapshot."""
    target.server.manage(
        "shell",
        "-c",
        "from dashboard.models import App, Domain\n"
        "app = App.objects.get(name='acme-api')\n"
        "edge = app.domains.first().edge\n"
        "Domain.objects.bulk_create(\n"
        "    Domain(app=app, hostname=f'd{i:04}.acme-api.example', edge=edge) for i in range(900)\n"
        ")\n",
    )
    with target.open("/ws/live/apps/acme-api/") as ws:
        snapshot = ws.recv(timeout=10)
    assert len(snapshot.encode()) > MAX_MESSAGE_BYTES
    assert "d0899.acme-api.example" in snapshot
    assert_still_serving(target)
