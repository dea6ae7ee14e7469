"""A storm of handshakes: beyond what a process takes in, a socket is told to come back (1013)
before any work is done for it, and a handshake that waited past its patience is dropped."""

from __future__ import annotations

from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.contrib.auth.models import User

from edgeboard.asgi import application
from live import admission, grants
from tests.live.test_live_sockets import connect, cookie_for

pytestmark = pytest.mark.django_db(transaction=True)
ORIGIN = settings.DASHBOARD_ORIGINS[0]
TRY_AGAIN = 1013


@pytest.fixture
async def alice_cookie(alice: User) -> bytes:
    return await database_sync_to_async(cookie_for)(alice)


@pytest.fixture
def fresh_gate(monkeypatch: pytest.MonkeyPatch) -> admission.Gate:
    gate = admission.Gate()
    monkeypatch.setattr(admission, "gate", gate)
    return gate


@pytest.fixture
def user_reads(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Every time a handshake reads its session's user (the first database work it does)."""
    reads: list[object] = []
    real = grants.get_user

    def reading(request: object) -> object:
        reads.append(request)
        return real(request)

    monkeypatch.setattr(grants, "get_user", reading)
    return reads


async def _first_message(path: str, cookie: bytes) -> tuple[bool, Any]:
    headers = [(b"origin", ORIGIN.encode()), (b"cookie", cookie)]
    communicator = WebsocketCommunicator(application, path, headers=headers)
    connected, _ = await communicator.connect(timeout=5)
    first = await communicator.receive_output(timeout=5) if connected else None
    await communicator.disconnect()
    return connected, first


async def test_a_full_process_tells_the_socket_to_come_back_without_touching_the_database(
    alice_cookie: bytes, fresh_gate: admission.Gate, settings: Any, user_reads: list[object]
) -> None:
    settings.LIVE_HANDSHAKES_IN_FLIGHT = 2
    fresh_gate.in_flight = 2  # two handshakes are being worked on

    connected, first = await _first_message("/ws/live/apps/acme-web/", alice_cookie)

    assert connected
    assert first == {"type": "websocket.close", "code": TRY_AGAIN}
    assert user_reads == []
    assert fresh_gate.turned_away == 1 and fresh_gate.admitted == 0


async def test_a_handshake_that_waited_past_its_patience_is_dropped_unworked(
    alice_cookie: bytes,
    fresh_gate: admission.Gate,
    monkeypatch: pytest.MonkeyPatch,
    user_reads: list[object],
) -> None:
    monkeypatch.setattr(admission.Ticket, "overdue", lambda ticket: True)

    connected, first = await _first_message("/ws/live/apps/acme-web/", alice_cookie)

    assert connected
    assert first == {"type": "websocket.close", "code": TRY_AGAIN}
    assert user_reads == []
    assert fresh_gate.overdue == 1 and fresh_gate.in_flight == 0


async def test_an_admitted_socket_gets_its_snapshot_and_frees_its_place(
    alice_cookie: bytes, fresh_gate: admission.Gate, user_reads: list[object]
) -> None:
    connected, communicator = await connect("/ws/live/apps/acme-web/", alice_cookie)
    frame = await communicator.receive_from(timeout=5)
    await communicator.disconnect()

    assert connected
    assert 'id="app-acme-web-connections"' in frame
    assert len(user_reads) == 1
    assert fresh_gate.admitted == 1 and fresh_gate.in_flight == 0


async def test_a_session_signed_out_while_away_is_refused_on_return(
    alice: User, alice_cookie: bytes, fresh_gate: admission.Gate
) -> None:
    from importlib import import_module

    from django.conf import settings

    # Signed out in another tab: the session goes from the database and the cache.
    session_key = alice_cookie.decode().partition("=")[2]
    store = import_module(settings.SESSION_ENGINE).SessionStore(session_key)
    await database_sync_to_async(store.flush)()

    connected, communicator = await connect("/ws/live/apps/acme-web/", alice_cookie)
    await communicator.disconnect()

    assert not connected


async def test_a_member_removed_while_away_is_refused_on_return(
    alice: User, alice_cookie: bytes, fresh_gate: admission.Gate
) -> None:
    from dashboard.models import Membership
    from dashboard.services.accounts import membership_remove

    def remove() -> None:
        membership = Membership.objects.get(user=alice, organization__name="acme")
        membership_remove(membership=membership, actor=None, source="cli")

    await database_sync_to_async(remove)()

    connected, communicator = await connect("/ws/live/apps/acme-web/", alice_cookie)
    await communicator.disconnect()

    assert not connected
