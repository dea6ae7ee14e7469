"""A process remembers who a socket's session is and what they may watch for a few seconds, so
a reconnect storm does not read the same rows a thousand times; an announced access change
forgets it everywhere at once."""

from __future__ import annotations

from typing import Any

import pytest
from channels.db import database_sync_to_async
from django.contrib.auth.models import User
from django.test import Client

from live import grants as grants_module
from live.grants import Grants
from tests.conftest import World
from tests.live.test_live_sockets import connect, cookie_for


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class FakeSession:
    def __init__(self, key: str | None) -> None:
        self.session_key = key


class FakeUser:
    is_authenticated = True

    def __init__(self, pk: int) -> None:
        self.pk = pk


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Each session read from the session store and the user table."""
    seen: list[str] = []

    def get_user(request: Any) -> FakeUser:
        seen.append(request.session.session_key)
        return FakeUser(int(request.session.session_key.removeprefix("session-")))

    monkeypatch.setattr(grants_module, "get_user", get_user)
    return seen


def test_a_session_seen_moments_ago_is_not_read_again(
    clock: Clock, reads: list[str], settings: Any
) -> None:
    settings.LIVE_GRANT_SECONDS = 5.0
    grants = Grants(clock)
    first = grants.user(FakeSession("session-1"))
    clock.now += 4.9
    assert grants.user(FakeSession("session-1")) is first
    assert reads == ["session-1"]
    clock.now += 0.2
    grants.user(FakeSession("session-1"))
    assert reads == ["session-1", "session-1"]


def test_no_session_cookie_is_anonymous_without_a_read(clock: Clock, reads: list[str]) -> None:
    assert not Grants(clock).user(FakeSession(None)).is_authenticated
    assert reads == []


def test_zero_seconds_reads_every_time(clock: Clock, reads: list[str], settings: Any) -> None:
    settings.LIVE_GRANT_SECONDS = 0.0
    grants = Grants(clock)
    grants.user(FakeSession("session-1"))
    grants.user(FakeSession("session-1"))
    assert len(reads) == 2


def test_answers_and_refusals_are_remembered_per_user_and_topic(
    clock: Clock, settings: Any
) -> None:
    settings.LIVE_GRANT_SECONDS = 5.0
    grants = Grants(clock)
    asked: list[tuple[int, str, str]] = []

    def authorize(user: FakeUser, kind: str, target: str) -> str | None:
        asked.append((user.pk, kind, target))
        return None if target == "secret" else f"topic {target}"

    alice, bob = FakeUser(1), FakeUser(2)
    assert grants.topic(alice, "apps", "web", authorize) == "topic web"
    assert grants.topic(alice, "apps", "secret", authorize) is None
    assert grants.topic(alice, "apps", "web", authorize) == "topic web"
    assert grants.topic(alice, "apps", "secret", authorize) is None
    assert grants.topic(bob, "apps", "web", authorize) == "topic web"
    assert asked == [(1, "apps", "web"), (1, "apps", "secret"), (2, "apps", "web")]
    clock.now += 6
    grants.topic(alice, "apps", "web", authorize)
    assert asked[-1] == (1, "apps", "web") and len(asked) == 4


def test_forgetting_a_user_keeps_everyone_elses_answers(
    clock: Clock, reads: list[str], settings: Any
) -> None:
    settings.LIVE_GRANT_SECONDS = 5.0
    grants = Grants(clock)
    asked: list[int] = []

    def authorize(user: FakeUser, kind: str, target: str) -> str:
        asked.append(user.pk)
        return "topic"

    alice = grants.user(FakeSession("session-1"))
    bob = grants.user(FakeSession("session-2"))
    grants.topic(alice, "apps", "web", authorize)
    grants.topic(bob, "apps", "web", authorize)
    grants.forget(alice.pk)
    grants.user(FakeSession("session-1"))
    grants.user(FakeSession("session-2"))
    grants.topic(alice, "apps", "web", authorize)
    grants.topic(bob, "apps", "web", authorize)
    assert reads == ["session-1", "session-2", "session-1"]
    assert asked == [1, 2, 1]


def test_a_process_full_of_sessions_starts_again_from_empty(
    clock: Clock, reads: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(grants_module, "MAX_SESSIONS", 3)
    grants = Grants(clock)
    for n in range(5):
        grants.user(FakeSession(f"session-{n}"))
    assert len(grants.sessions) <= 3


def test_remembered_answers_only_what_is_still_remembered_and_reads_nothing(
    clock: Clock, reads: list[str], settings: Any
) -> None:
    settings.LIVE_GRANT_SECONDS = 5.0
    grants = Grants(clock)

    def authorize(user: FakeUser, kind: str, target: str) -> str | None:
        return None if target == "secret" else f"topic {target}"

    session = FakeSession("session-1")
    assert grants.remembered(session, "apps", "web") is None  # never seen
    alice = grants.user(session)
    assert grants.remembered(session, "apps", "web") is None  # the topic was never asked
    grants.topic(alice, "apps", "web", authorize)
    grants.topic(alice, "apps", "secret", authorize)
    assert grants.remembered(session, "apps", "web") == (alice, "topic web")
    assert grants.remembered(session, "apps", "secret") == (alice, None)  # refusals too
    assert grants.remembered(FakeSession("session-2"), "apps", "web") is None
    assert grants.remembered(FakeSession(None), "apps", "web") is None
    clock.now += 5.1
    assert grants.remembered(session, "apps", "web") is None
    assert reads == ["session-1"]


def test_a_forgotten_user_is_not_remembered(clock: Clock, reads: list[str], settings: Any) -> None:
    settings.LIVE_GRANT_SECONDS = 5.0
    grants = Grants(clock)
    alice = grants.user(FakeSession("session-1"))
    grants.topic(alice, "apps", "web", lambda *_: "topic")
    grants.forget(alice.pk)
    assert grants.remembered(FakeSession("session-1"), "apps", "web") is None


# Through the real sockets

with_database = pytest.mark.django_db(transaction=True)


@with_database
async def test_a_removed_member_is_refused_at_once_though_just_granted(
    bob: User, admin_user: User, world: World, settings: Any
) -> None:
    from dashboard.models import Membership
    from dashboard.services.admin_edits import admin_model_delete

    settings.LIVE_GRANT_SECONDS = 60.0
    cookie = await database_sync_to_async(cookie_for)(bob)
    connected, watching = await connect("/ws/live/apps/acme-web/", cookie)
    assert connected
    try:
        await watching.receive_from(timeout=5)
        membership = await database_sync_to_async(Membership.objects.get)(user=bob)
        await database_sync_to_async(admin_model_delete)(instance=membership, actor=admin_user)
        await watching.receive_output(timeout=5)  # his open socket is closed (1008)
    finally:
        await watching.disconnect()
    connected, again = await connect("/ws/live/apps/acme-web/", cookie)
    await again.disconnect()
    assert not connected


@with_database
async def test_a_signed_out_session_is_refused_at_once_though_just_granted(
    alice: User, world: World, settings: Any
) -> None:
    from django.conf import settings as django_settings

    settings.LIVE_GRANT_SECONDS = 60.0
    client = await database_sync_to_async(Client)()
    await database_sync_to_async(client.force_login)(alice)
    name = django_settings.SESSION_COOKIE_NAME
    cookie = f"{name}={client.cookies[name].value}".encode()
    connected, watching = await connect("/ws/live/apps/acme-web/", cookie)
    assert connected
    try:
        await watching.receive_from(timeout=5)
        await database_sync_to_async(client.post)("/logout/")
        await watching.receive_output(timeout=5)
    finally:
        await watching.disconnect()
    connected, again = await connect("/ws/live/apps/acme-web/", cookie)
    await again.disconnect()
    assert not connected


@with_database
async def test_a_socket_back_within_seconds_skips_the_handshake_threads(
    alice: User, world: World, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from live import admission

    settings.LIVE_GRANT_SECONDS = 60.0
    grants_module.grants.forget()
    real = admission.in_handshake_thread
    threaded: list[str] = []

    def counting(func: Any) -> Any:
        threaded.append(func.__name__)
        return real(func)

    monkeypatch.setattr(admission, "in_handshake_thread", counting)
    cookie = await database_sync_to_async(cookie_for)(alice)
    for _ in range(3):
        connected, watching = await connect("/ws/live/apps/acme-web/", cookie)
        try:
            assert connected
            assert "acme-web" in await watching.receive_from(timeout=5)
        finally:
            await watching.disconnect()
    assert threaded == ["_resolve"]
