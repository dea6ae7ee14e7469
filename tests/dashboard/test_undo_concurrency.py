"""Undo clicked twice at once (two tabs, a double click reaching two workers) on PostgreSQL:
the row lock lets one through; the other is refused with the reason, and one audit row says so."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import DatabaseError, IntegrityError, connections

from dashboard.models import ApiToken, AuditEvent
from dashboard.services.apps import backend_add, backend_remove, backend_restore
from dashboard.services.tokens import api_token_create, api_token_restore, api_token_revoke
from tests.conftest import World

pytestmark = pytest.mark.django_db(transaction=True)

WORKERS = 8


def at_once(undo: Any) -> list[str]:
    start = threading.Barrier(WORKERS)

    def attempt(_: int) -> str:
        try:
            start.wait(timeout=30)
            undo()
            return "undone"
        except ValidationError as refusal:
            return f"refused: {refusal.messages[0]}"
        except (DatabaseError, IntegrityError) as error:
            return f"error: {error}"
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        return list(pool.map(attempt, range(WORKERS)))


def test_a_removal_undone_twice_at_once_comes_back_once(
    postgresql: None, world: World, support: User
) -> None:
    backend = backend_add(app=world.acme_api, address="10.3.0.7:8080", actor=support, source="web")
    removal = backend_remove(backend=backend, actor=support, source="web")

    outcomes = at_once(
        lambda: backend_restore(
            app=world.acme_api, removal_id=removal.pk, actor=support, source="web"
        )
    )

    assert outcomes.count("undone") == 1, outcomes
    assert all(o.startswith("refused") for o in outcomes if o != "undone"), outcomes
    assert world.acme_api.backends.count() == 1
    assert AuditEvent.objects.filter(action="backend.restore").count() == 1


def test_a_revocation_undone_twice_at_once_is_audited_once(
    postgresql: None, world: World, alice: User
) -> None:
    token, _ = api_token_create(user=alice, label="deploy", actor=alice, source="web")
    api_token_revoke(token=token, actor=alice, source="web")

    outcomes = at_once(lambda: api_token_restore(token=token, actor=alice, source="web"))

    assert outcomes.count("undone") == 1, outcomes
    assert all(o.startswith("refused") for o in outcomes if o != "undone"), outcomes
    assert ApiToken.objects.get(pk=token.pk).revoked_at is None
    assert AuditEvent.objects.filter(action="api_token.restore").count() == 1
