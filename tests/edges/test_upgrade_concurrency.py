"""Many staff pressing Start at once on PostgreSQL: one wins, the rest get a conflict."""

from __future__ import annotations

import datetime as dt
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.contrib.auth.models import User
from django.db import connection, connections

from dashboard.models import AuditEvent
from edges.models import EdgeUpgrade
from edges.upgrades import UpgradeConflict, upgrade_request, upgrade_transition
from tests.conftest import World, unavailable

pytestmark = pytest.mark.django_db(transaction=True)

STARTS = 200
WORKERS = 24


def test_concurrent_starts_have_exactly_one_winner(world: World, support: User) -> None:
    if connection.vendor != "postgresql":
        unavailable("row locks need PostgreSQL (set DATABASE_URL)")
    upgrade = upgrade_request(edge=world.acme_ssl, actor=support, source="web")
    upgrade = upgrade_transition(
        upgrade=upgrade,
        action="schedule",
        actor=support,
        source="web",
        scheduled_for=dt.datetime(2026, 12, 6, tzinfo=dt.UTC),
    )
    barrier = threading.Barrier(WORKERS)

    def start(index: int) -> str:
        try:
            if index < WORKERS:
                barrier.wait(timeout=30)
            upgrade_transition(upgrade=upgrade, action="start", actor=support, source="api")
            return "won"
        except UpgradeConflict:
            return "conflict"
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        outcomes = list(pool.map(start, range(STARTS)))

    assert outcomes.count("won") == 1
    assert outcomes.count("conflict") == STARTS - 1
    assert AuditEvent.objects.filter(action="upgrade.start").count() == 1
    upgrade.refresh_from_db()
    assert upgrade.state == EdgeUpgrade.State.IN_PROGRESS
