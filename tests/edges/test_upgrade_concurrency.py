"""Many staff pressing Start at once on PostgreSQL: one wins, the rest get a conflict."""

from __future__ import annotations

import datetime as dt
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.contrib.auth.models import User
from django.db import connections

from dashboard.models import AuditEvent
from edges.models import EdgeUpgrade
from edges.services.upgrades import UpgradeConflict, upgrade_request, upgrade_transition
from tests.conftest import World
from tests.naive import without_row_locks

pytestmark = pytest.mark.django_db(transaction=True)

STARTS = 200
WORKERS = 24


@pytest.fixture
def scheduled(postgresql: None, world: World, support: User) -> EdgeUpgrade:
    upgrade = upgrade_request(edge=world.acme_ssl, actor=support, source="web")
    return upgrade_transition(
        upgrade=upgrade,
        action="schedule",
        actor=support,
        source="web",
        scheduled_for=dt.datetime(2026, 12, 6, tzinfo=dt.UTC),
    )


def start_concurrently(upgrade: EdgeUpgrade, actor: User) -> Counter[str]:
    barrier = threading.Barrier(WORKERS)

    def start(index: int) -> str:
        try:
            if index < WORKERS:
                barrier.wait(timeout=30)
            upgrade_transition(upgrade=upgrade, action="start", actor=actor, source="api")
            return "won"
        except UpgradeConflict:
            return "conflict"
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        return Counter(pool.map(start, range(STARTS)))


def test_concurrent_starts_have_exactly_one_winner(scheduled: EdgeUpgrade, support: User) -> None:
    outcomes = start_concurrently(scheduled, support)

    assert outcomes == {"won": 1, "conflict": STARTS - 1}
    assert AuditEvent.objects.filter(action="upgrade.start").count() == 1
    scheduled.refresh_from_db()
    assert scheduled.state == EdgeUpgrade.State.IN_PROGRESS


def test_the_same_starts_without_the_row_lock_have_several_winners(
    scheduled: EdgeUpgrade, support: User
) -> None:
    with without_row_locks():
        outcomes = start_concurrently(scheduled, support)

    assert outcomes["won"] > 1, "read-then-write without a lock should let several starts win"
    assert AuditEvent.objects.filter(action="upgrade.start").count() == outcomes["won"]
