from __future__ import annotations

import logging

import pytest
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.contrib.auth.models import User
from django.test import Client

from edgeboard.asgi import application
from tests.factories import make_user

pytestmark = pytest.mark.django_db(transaction=True)

ORIGIN = settings.DASHBOARD_ORIGINS[0]


def session_cookie(user: User) -> bytes:
    client = Client()
    client.force_login(user)
    name = settings.SESSION_COOKIE_NAME
    return f"{name}={client.cookies[name].value}".encode()


def headers(origin: str | None, cookie: bytes | None) -> list[tuple[bytes, bytes]]:
    result = []
    if origin is not None:
        result.append((b"origin", origin.encode()))
    if cookie is not None:
        result.append((b"cookie", cookie))
    return result


async def handshake(origin: str | None, cookie: bytes | None) -> tuple[bool, WebsocketCommunicator]:
    communicator = WebsocketCommunicator(application, "/ws/echo/", headers=headers(origin, cookie))
    connected, _ = await communicator.connect()
    return connected, communicator


@pytest.fixture
def cookie() -> bytes:
    return session_cookie(make_user("alice"))


async def test_a_signed_in_user_from_the_dashboard_origin_gets_an_echo(cookie: bytes) -> None:
    connected, communicator = await handshake(ORIGIN, cookie)
    try:
        assert connected
        await communicator.send_to(text_data="hello server")
        assert await communicator.receive_from() == "hello server"
    finally:
        await communicator.disconnect()


@pytest.mark.parametrize(
    "origin",
    [
        "https://evil.test",
        None,
        "null",
        ORIGIN.replace("://", "://dashboard.") + ".evil.test",
        ORIGIN + ".evil.test",
        "http://acme-web.example.net",
        "https://acme-web." + settings.PLATFORM_DOMAIN,
        ORIGIN.replace("http://", "https://"),
        ORIGIN + "/path",
        "",
    ],
)
async def test_handshakes_from_any_other_origin_are_refused(
    cookie: bytes, origin: str | None
) -> None:
    connected, communicator = await handshake(origin, cookie)
    assert not connected
    await communicator.disconnect()


async def test_two_origin_headers_are_refused(cookie: bytes) -> None:
    communicator = WebsocketCommunicator(
        application,
        "/ws/echo/",
        headers=[
            (b"origin", ORIGIN.encode()),
            (b"origin", b"https://evil.test"),
            (b"cookie", cookie),
        ],
    )
    connected, _ = await communicator.connect()
    assert not connected
    await communicator.disconnect()


async def test_anonymous_handshakes_are_refused(db: None) -> None:
    connected, communicator = await handshake(ORIGIN, None)
    assert not connected
    await communicator.disconnect()


async def test_a_forged_session_cookie_is_refused(db: None) -> None:
    connected, communicator = await handshake(ORIGIN, b"sessionid=not-a-session")
    assert not connected
    await communicator.disconnect()


async def test_oversized_echo_messages_close_the_socket(cookie: bytes) -> None:
    connected, communicator = await handshake(ORIGIN, cookie)
    try:
        assert connected
        await communicator.send_to(text_data="x" * (64 * 1024 + 1))
        assert await communicator.receive_output() == {"type": "websocket.close", "code": 1009}
    finally:
        await communicator.disconnect()


@pytest.mark.parametrize(
    "path", ["/ws/nope/", "/ws/live/foo/", "/ws/live/apps/", "/ws/echo/extra/", "/ws/%00/"]
)
async def test_a_handshake_on_an_unknown_path_is_refused_as_the_clients_mistake(
    cookie: bytes, path: str, caplog: pytest.LogCaptureFixture
) -> None:
    communicator = WebsocketCommunicator(application, path, headers=headers(ORIGIN, cookie))
    with caplog.at_level("WARNING"):
        connected, _ = await communicator.connect()
    await communicator.disconnect()

    assert not connected
    refusals = [r for r in caplog.records if "no socket at" in r.getMessage()]
    assert [r.levelname for r in refusals] == ["WARNING"]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
