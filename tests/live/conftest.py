"""The signed-in sockets' session cookies."""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async
from django.contrib.auth.models import User

from tests.live.test_live_sockets import cookie_for


@pytest.fixture
async def alice_cookie(alice: User) -> bytes:
    return await database_sync_to_async(cookie_for)(alice)


@pytest.fixture
async def support_cookie(support: User) -> bytes:
    return await database_sync_to_async(cookie_for)(support)
