"""The frame rate limit every WebSocket consumer applies: the token bucket, then the consumers."""

from __future__ import annotations

from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.contrib.auth.models import User
from django.test import Client, override_settings

from edgeboard.asgi import application
from live.limits import TokenBucket
from tests.dashboard.test_settings import run_manage
from tests.factories import make_user

ORIGIN = settings.DASHBOARD_ORIGINS[0]
# No refill worth speaking of: whatever the test's pace, only the burst is allowed.
STRICT = {"WS_MAX_FRAMES_PER_SECOND": 1e-9, "WS_FRAME_BURST": 3}


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_full_bucket_allows_the_burst_at_once_then_refuses() -> None:
    bucket = TokenBucket(rate=2.0, burst=5, clock=FakeClock())
    assert [bucket.take() for _ in range(6)] == [True] * 5 + [False]


def test_tokens_come_back_at_the_rate() -> None:
    clock = FakeClock()
    bucket = TokenBucket(rate=4.0, burst=5, clock=clock)
    for _ in range(5):
        bucket.take()
    clock.now += 0.5
    assert [bucket.take() for _ in range(3)] == [True, True, False]
    clock.now += 0.2
    assert bucket.take() is False
    clock.now += 0.05
    assert bucket.take() is True


def test_a_long_silence_refills_no_more_than_the_burst() -> None:
    clock = FakeClock()
    bucket = TokenBucket(rate=10.0, burst=3, clock=clock)
    bucket.take()
    clock.now += 3600
    assert [bucket.take() for _ in range(4)] == [True, True, True, False]


def test_a_clock_going_backwards_gives_no_tokens() -> None:
    clock = FakeClock()
    bucket = TokenBucket(rate=1.0, burst=2, clock=clock)
    bucket.take()
    bucket.take()
    clock.now -= 60
    assert bucket.take() is False
    clock.now += 61
    assert bucket.take() is True


def test_a_steady_client_at_the_rate_is_never_refused() -> None:
    clock = FakeClock()
    bucket = TokenBucket(rate=5.0, burst=1, clock=clock)
    results = []
    for _ in range(100):
        results.append(bucket.take())
        clock.now += 0.2
    assert all(results)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"WS_MAX_FRAMES_PER_SECOND": "lots"}, "WS_MAX_FRAMES_PER_SECOND must be a number"),
        ({"WS_MAX_FRAMES_PER_SECOND": "0"}, "WS_MAX_FRAMES_PER_SECOND must be at least 0.1"),
        ({"WS_FRAME_BURST": "0"}, "WS_FRAME_BURST must be at least 1"),
        ({"WS_FRAME_BURST": "2.5"}, "WS_FRAME_BURST must be an integer"),
    ],
)
def test_bad_frame_limits_stop_the_process_with_a_clear_message(
    env: dict[str, str], message: str
) -> None:
    result = run_manage("check", **env)
    assert result.returncode != 0
    assert message in result.stderr


# Consumers, through the whole ASGI application (origin check, session auth, routing)


def cookie_for(user: User) -> bytes:
    client = Client()
    client.force_login(user)
    name = settings.SESSION_COOKIE_NAME
    return f"{name}={client.cookies[name].value}".encode()


@pytest.fixture
def dana_cookie(transactional_db: None) -> bytes:
    return cookie_for(make_user("dana"))


async def open_socket(path: str, cookie: bytes) -> WebsocketCommunicator:
    communicator = WebsocketCommunicator(
        application, path, headers=[(b"origin", ORIGIN.encode()), (b"cookie", cookie)]
    )
    connected, _ = await communicator.connect(timeout=5)
    assert connected
    return communicator


async def until_closed(communicator: WebsocketCommunicator) -> tuple[list[Any], int | None]:
    """What the socket sends before it closes, and the close code."""
    sent = []
    while True:
        output = await communicator.receive_output(timeout=5)
        if output["type"] == "websocket.close":
            return sent, output.get("code")
        sent.append(output.get("text", output.get("bytes")))


@pytest.mark.django_db(transaction=True)
@override_settings(**STRICT)
async def test_an_echo_client_sending_past_its_burst_is_closed_with_1008(
    dana_cookie: bytes,
) -> None:
    communicator = await open_socket("/ws/echo/", dana_cookie)
    try:
        for i in range(6):
            await communicator.send_to(text_data=f"frame {i}")
        echoed, code = await until_closed(communicator)
        assert code == 1008
        # Frames behind the one refused never reach the consumer.
        assert echoed == ["frame 0", "frame 1", "frame 2"]
        assert await communicator.receive_nothing()
    finally:
        await communicator.disconnect()


@pytest.mark.django_db(transaction=True)
@override_settings(**STRICT)
async def test_binary_frames_count_against_the_echo_limit_too(dana_cookie: bytes) -> None:
    communicator = await open_socket("/ws/echo/", dana_cookie)
    try:
        for data in [b"\x00", b"\xff\xfe", b"\x80", b"\x01"]:
            await communicator.send_to(bytes_data=data)
        echoed, code = await until_closed(communicator)
        assert (echoed, code) == ([b"\x00", b"\xff\xfe", b"\x80"], 1008)
    finally:
        await communicator.disconnect()


@pytest.mark.django_db(transaction=True)
async def test_an_echo_client_within_the_default_burst_gets_every_echo(dana_cookie: bytes) -> None:
    communicator = await open_socket("/ws/echo/", dana_cookie)
    try:
        frames = [f"test {i}" for i in range(settings.WS_FRAME_BURST)]
        for frame in frames:
            await communicator.send_to(text_data=frame)
        assert [await communicator.receive_from(timeout=5) for _ in frames] == frames
        assert await communicator.receive_nothing()
    finally:
        await communicator.disconnect()


@pytest.mark.django_db(transaction=True)
@override_settings(**STRICT)
@pytest.mark.parametrize(
    "frames",
    [
        [{"text_data": "{}"}] * 4,
        [{"bytes_data": b"\x00\x01"}] * 4,
        [
            {"text_data": "not json"},
            {"bytes_data": b"\xff"},
            {"text_data": "\x00"},
            {"bytes_data": b"["},
        ],
    ],
    ids=["text", "binary", "mixed"],
)
async def test_a_live_client_sending_past_its_burst_is_closed_with_1008(
    alice: User, frames: list[dict[str, Any]]
) -> None:
    cookie = await database_sync_to_async(cookie_for)(alice)
    communicator = await open_socket("/ws/live/apps/acme-web/", cookie)
    try:
        snapshot = await communicator.receive_from(timeout=5)
        assert 'id="app-acme-web-connections"' in snapshot
        for frame in frames[:3]:
            await communicator.send_to(**frame)
        # Within the burst, what the browser sends is ignored: no reply, no close.
        assert await communicator.receive_nothing()
        await communicator.send_to(**frames[3])
        assert await communicator.receive_output(timeout=5) == {
            "type": "websocket.close",
            "code": 1008,
        }
    finally:
        await communicator.disconnect()
