"""Many staff pressing Start at once on PostgreSQL: one wins, the rest get a conflict; and
Start racing a new window: the upgrade starts in the window its starter saw, or not at all."""

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
from tests.factories import future_window
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
        scheduled_for=future_window(),
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


def start_and_reschedule_concurrently(upgrade: EdgeUpgrade, actor: User) -> Counter[str]:
    """Half the calls start the upgrade in the window they saw, half move it to a later one."""
    seen = upgrade.scheduled_for
    assert seen is not None
    barrier = threading.Barrier(WORKERS)

    def step(index: int) -> str:
        kind = "start" if index % 2 else "reschedule"
        try:
            barrier.wait(timeout=30)
            upgrade_transition(
                upgrade=upgrade,
                action=kind,
                actor=actor,
                source="web",
                scheduled_for=seen + dt.timedelta(hours=index + 1),
                window_seen=seen,
            )
            return kind
        except UpgradeConflict:
            return "conflict"
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        return Counter(pool.map(step, range(WORKERS)))


def test_a_start_racing_a_new_window_never_starts_in_a_window_nobody_saw(
    scheduled: EdgeUpgrade, support: User
) -> None:
    outcomes = start_and_reschedule_concurrently(scheduled, support)

    scheduled.refresh_from_db()
    audited = Counter(
        AuditEvent.objects.filter(action__in=["upgrade.start", "upgrade.reschedule"])
        .values_list("action", flat=True)
        .order_by()
    )
    assert audited == {f"upgrade.{kind}": n for kind, n in outcomes.items() if kind != "conflict"}
    if outcomes["start"]:
        # It started in the window its starter saw: no new window came first, or after.
        assert (outcomes["start"], outcomes["reschedule"]) == (1, 0)
        assert scheduled.state == EdgeUpgrade.State.IN_PROGRESS
    else:
        assert outcomes["reschedule"] >= 1
        assert scheduled.state == EdgeUpgrade.State.SCHEDULED
        last = scheduled.steps.order_by("-at", "-id").first()
        assert (last.action, last.window) == ("reschedule", scheduled.scheduled_for)
    assert outcomes["conflict"] == WORKERS - outcomes["start"] - outcomes["reschedule"]


def test_the_same_race_without_the_row_lock_starts_and_moves_the_window_both(
    scheduled: EdgeUpgrade, support: User
) -> None:
    with without_row_locks():
        outcomes = start_and_reschedule_concurrently(scheduled, support)

    assert outcomes["start"] > 1 or (outcomes["start"] and outcomes["reschedule"]), outcomes
