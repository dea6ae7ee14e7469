"""A minute's samples per app (sum, number of reports, peak), kept by the live state until the
minute is written to the database: Redis and the embedded store keep the same, for an edge
carrying thousands of apps."""

from __future__ import annotations

import datetime as dt
import random
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from edges.edge_states import EdgeState, Sample
from edges.live_state import MemoryLiveState, RedisLiveState
from tests.conftest import unavailable

MINUTE = dt.datetime(2026, 12, 1, 17, 0, tzinfo=dt.UTC)
APPS = 2_500


@pytest.fixture(params=["memory", "redis"])
def store(request: Any, settings: Any) -> Iterator[Any]:
    if request.param == "memory":
        yield MemoryLiveState()
        return
    if not settings.REDIS_URL:
        unavailable("REDIS_URL is not set")
    settings.LIVE_STATE_PREFIX = f"test-minutes-{uuid.uuid4().hex[:8]}"
    redis_store = RedisLiveState(settings.REDIS_URL)
    yield redis_store
    redis_store.forget()


def test_a_minutes_samples_of_thousands_of_apps_are_kept_whole(store: Any) -> None:
    rng = random.Random(17)
    expected: dict[int, list[int]] = {}  # app -> [peak, sum, reports]
    for seq in range(1, 4):
        # Each report names most apps, not always the same ones, in no particular order.
        per_app = {app: rng.randint(0, 50_000) for app in range(1, APPS + 1) if rng.random() < 0.9}
        for app, count in per_app.items():
            peak, total, reports = expected.get(app, [-1, 0, 0])
            expected[app] = [max(peak, count), total + count, reports + 1]
        recorded = store.record(EdgeState(7, seq, MINUTE), MINUTE, per_app)
        assert recorded.applied

    # The next minute's first report finds this one due, and it is taken once.
    later = MINUTE + dt.timedelta(minutes=1)
    assert store.record(EdgeState(7, 4, later), later, {}).due_minutes == [MINUTE]
    assert store.pending_samples(123) == [Sample(7, 123, MINUTE, *expected[123])]
    taken = store.take_minutes(7, [MINUTE])
    assert taken == [Sample(7, app, MINUTE, *expected[app]) for app in sorted(expected)]
    assert store.take_minutes(7, [MINUTE]) == []


def test_an_older_report_adds_nothing_to_the_minute(store: Any) -> None:
    assert store.record(EdgeState(7, 5, MINUTE), MINUTE, {1: 10}).applied
    assert not store.record(EdgeState(7, 4, MINUTE), MINUTE, {1: 99}).applied
    assert store.take_minutes(7, [MINUTE]) == [Sample(7, 1, MINUTE, 10, 10, 1)]


def test_processes_applying_one_edges_reports_in_turn_count_every_report(settings: Any) -> None:
    """Behind a load balancer an edge's reports land on one process, then another: each counts
    the minute on from what the other stored, and names the state it replaced."""
    if not settings.REDIS_URL:
        unavailable("REDIS_URL is not set")
    settings.LIVE_STATE_PREFIX = f"test-minutes-{uuid.uuid4().hex[:8]}"
    first, second = RedisLiveState(settings.REDIS_URL), RedisLiveState(settings.REDIS_URL)
    try:
        for seq in range(1, 7):
            store = first if seq % 2 else second
            recorded = store.record(EdgeState(7, seq, MINUTE), MINUTE, {1: seq, 2: 10})
            assert recorded.applied
            assert (recorded.previous.seq if recorded.previous else None) == (seq - 1 or None)
        assert first.take_minutes(7, [MINUTE]) == [
            Sample(7, 1, MINUTE, 6, 21, 6),
            Sample(7, 2, MINUTE, 10, 60, 6),
        ]

        # Redis emptied (restarted) under a process that counted the minute so far: it counts
        # again from nothing, not from what it held.
        first.record(EdgeState(7, 7, MINUTE), MINUTE, {1: 5})
        second.forget()
        assert first.record(EdgeState(7, 8, MINUTE), MINUTE, {1: 9}).applied
        assert second.take_minutes(7, [MINUTE]) == [Sample(7, 1, MINUTE, 9, 9, 1)]
    finally:
        first.forget()


def test_a_minute_the_database_could_not_take_is_given_back_whole(store: Any) -> None:
    store.record(EdgeState(7, 1, MINUTE), MINUTE, {1: 4, 2: 8})
    store.record(EdgeState(7, 2, MINUTE), MINUTE, {1: 6})
    taken = store.take_minutes(7, [MINUTE])
    assert taken == [Sample(7, 1, MINUTE, 6, 10, 2), Sample(7, 2, MINUTE, 8, 8, 1)]

    store.give_back(taken)
    later = MINUTE + dt.timedelta(minutes=1)
    assert store.record(EdgeState(7, 3, later), later, {1: 1}).due_minutes == [MINUTE]
    assert store.take_minutes(7, [MINUTE]) == taken
    # Given back on top of samples already there, they add up.
    store.give_back(taken)
    store.give_back(taken)
    assert store.take_minutes(7, [MINUTE]) == [
        Sample(7, 1, MINUTE, 6, 20, 4),
        Sample(7, 2, MINUTE, 8, 16, 2),
    ]
