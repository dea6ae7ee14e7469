"""Concurrent switches of one app's feature on PostgreSQL: state and audit must agree."""

from __future__ import annotations

import random
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.contrib.auth.models import User
from django.db import DatabaseError, connections

from dashboard.models import App, AppFeature, AuditEvent, Feature
from dashboard.services.features import feature_set
from tests.conftest import World
from tests.naive import without_row_locks

pytestmark = pytest.mark.django_db(transaction=True)

TOGGLES = 200
WORKERS = 24


def toggle_concurrently(app: App, actor: User) -> list[str]:
    """200 switches of websockets, 24 at a time; answer every way state and audit disagree."""
    websockets = Feature.objects.get(name="websockets")
    start = threading.Barrier(WORKERS)
    rng = random.Random(7)
    wanted = [rng.choice([True, False]) for _ in range(TOGGLES)]

    def toggle(index: int) -> str:
        try:
            if index < WORKERS:
                start.wait(timeout=30)
            change = feature_set(
                app=app, feature=websockets, enabled=wanted[index], actor=actor, source="api"
            )
            return "changed" if change.changed else "unchanged"
        except DatabaseError as error:
            return f"error: {error}"
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        outcomes = list(pool.map(toggle, range(TOGGLES)))

    problems = [o for o in outcomes if o.startswith("error")]
    rows = list(AuditEvent.objects.filter(app=app, action__startswith="feature.").order_by("id"))
    if len(rows) != outcomes.count("changed"):
        problems.append(f"{len(rows)} audit rows for {outcomes.count('changed')} changes")
    # Every row records a real change, and each starts where the previous one ended.
    state = True  # post-GA app: on by default
    for row in rows:
        if row.before != {"feature": "websockets", "enabled": state}:
            problems.append(f"audit row {row.pk} starts from {row.before}, not enabled={state}")
        state = bool(row.after and row.after.get("enabled"))
    stored = AppFeature.objects.filter(app=app, feature=websockets).first()
    if stored is not None and stored.enabled != state:
        problems.append(f"stored enabled={stored.enabled}, audit trail ends at {state}")
    return problems


def test_concurrent_toggles_leave_state_matching_the_audit_trail(
    postgresql: None, world: World, alice: User
) -> None:
    assert toggle_concurrently(world.acme_api, alice) == []
    assert AuditEvent.objects.filter(app=world.acme_api).exists()


def test_the_same_toggles_without_the_row_lock_break_the_audit_trail(
    postgresql: None, world: World, alice: User
) -> None:
    with without_row_locks():
        problems = toggle_concurrently(world.acme_api, alice)
    assert problems, "read-then-write without a lock should lose or duplicate changes"
