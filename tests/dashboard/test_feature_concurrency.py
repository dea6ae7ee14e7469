"""Concurrent switches of one app's feature on PostgreSQL: state and audit must agree."""

from __future__ import annotations

import random
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.contrib.auth.models import User
from django.db import connection, connections

from dashboard.models import AppFeature, AuditEvent, Feature
from dashboard.services.features import feature_set
from tests.conftest import World, unavailable

pytestmark = pytest.mark.django_db(transaction=True)

TOGGLES = 200
WORKERS = 24


@pytest.fixture
def postgresql() -> None:
    if connection.vendor != "postgresql":
        unavailable("row locks need PostgreSQL (set DATABASE_URL)")


def test_concurrent_toggles_leave_state_matching_the_last_audit_row(
    postgresql: None, world: World, alice: User
) -> None:
    websockets = Feature.objects.get(name="websockets")
    app = world.acme_api
    start = threading.Barrier(WORKERS)
    rng = random.Random(7)
    wanted = [rng.choice([True, False]) for _ in range(TOGGLES)]

    def toggle(index: int) -> bool:
        try:
            if index < WORKERS:
                start.wait(timeout=30)
            change = feature_set(
                app=app, feature=websockets, enabled=wanted[index], actor=alice, source="api"
            )
            return change.changed
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        changed = list(pool.map(toggle, range(TOGGLES)))

    rows = list(AuditEvent.objects.filter(app=app, action__startswith="feature.").order_by("id"))
    assert len(rows) == sum(changed) > 0
    # Every row records a real change, and each starts where the previous one ended.
    state = True  # post-GA app: on by default
    for row in rows:
        assert row.before == {"feature": "websockets", "enabled": state}
        state = not state
        assert row.after == {"feature": "websockets", "enabled": state}
    assert AppFeature.objects.get(app=app, feature=websockets).enabled == state
