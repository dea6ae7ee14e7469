"""Membership changed through the Platform API closes the sockets of whoever lost sight."""

from __future__ import annotations

import json

import pytest
from channels.db import database_sync_to_async
from django.contrib.auth.models import User
from django.test import Client

from dashboard.services.tokens import api_token_create
from tests.conftest import World
from tests.live.test_live_sockets import connect, cookie_for

pytestmark = pytest.mark.django_db(transaction=True)


def api_call(user: User, method: str, path: str, body: object = None) -> int:
    _, raw = api_token_create(user=user, label="tests", actor=user, source="cli")
    response = getattr(Client(), method)(
        path,
        data=json.dumps(body) if body is not None else None,
        content_type="application/json",
        headers={
            "Accept": "application/vnd.heroku+json; version=3",
            "Authorization": f"Bearer {raw}",
        },
    )
    return response.status_code


async def test_a_member_removed_by_an_owner_through_the_api_loses_their_open_page(
    alice: User, bob: User, world: World
) -> None:
    bob_cookie = await database_sync_to_async(cookie_for)(bob)
    _, communicator = await connect("/ws/live/apps/acme-web/", bob_cookie)
    try:
        await communicator.receive_from(timeout=5)
        status = await database_sync_to_async(api_call)(
            alice, "delete", "/teams/acme/members/bob@example.org"
        )
        assert status == 200
        assert await communicator.receive_output(timeout=5) == {
            "type": "websocket.close",
            "code": 1008,
        }
    finally:
        await communicator.disconnect()


async def test_a_refused_removal_leaves_the_page_open(alice: User, bob: User, world: World) -> None:
    alice_cookie = await database_sync_to_async(cookie_for)(alice)
    _, communicator = await connect("/ws/live/apps/acme-web/", alice_cookie)
    try:
        await communicator.receive_from(timeout=5)
        status = await database_sync_to_async(api_call)(
            bob, "delete", "/teams/acme/members/alice@example.org"
        )
        assert status == 403
        assert await communicator.receive_nothing(timeout=0.5)
    finally:
        await communicator.disconnect()
