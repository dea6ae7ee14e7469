"""Reports of one edge arriving concurrently and out of order on PostgreSQL: the stored state
is always the newest report's, whole, never a mix of two."""

from __future__ import annotations

import json
import random
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from django.db import connections
from django.test import Client
from django.utils import timezone

from edges.edge_states import EdgeState, Frontend
from edges.live_state import live_state
from edges.models import Edge
from edges.services.edges import edge_ingest_token_rotate
from tests.conftest import World
from tests.naive import without_report_ordering

pytestmark = pytest.mark.django_db(transaction=True)

NAIVE_ROUNDS = 20
ROUNDS = 3
REPORTS = 40
WORKERS = 12


@pytest.fixture
def token(postgresql: None, world: World, settings: Any) -> str:
    settings.INGEST_RATE_LIMIT_PER_MINUTE = 10**6
    return edge_ingest_token_rotate(edge=world.gateway, actor=None, source="cli")


def frontends(seq: int) -> list[dict[str, Any]]:
    """Each report names hostnames of its own, so a mix of two reports shows."""
    return [
        {"hostname": "acme-web.example.net", "connections": seq, "websockets": seq // 2},
        {"hostname": f"r{seq}-a.example.org", "connections": seq},
        {"hostname": f"r{seq}-b.example.org", "connections": seq + 1},
    ]


def post(token: str, seq: int) -> int:
    body = {"edge": "gateway", "seq": seq, "sent_at": "2026-11-21T10:00:00Z"}
    body["frontends"] = frontends(seq)
    response = Client().post(
        "/ingest/v1/reports",
        data=json.dumps(body),
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}"},
    )
    return response.status_code


def stored() -> list[tuple[str, int]]:
    gateway = Edge.objects.get(name="gateway")
    state = live_state().states_of([gateway.pk]).get(gateway.pk)
    return sorted((f.hostname, f.connections) for f in state.frontends) if state else []


def expected(seq: int) -> list[tuple[str, int]]:
    return sorted((f["hostname"], f["connections"]) for f in frontends(seq))


def post_rounds(token: str, rounds: int = ROUNDS, *, until_a_problem: bool = False) -> list[str]:
    """Rounds of reports posted concurrently in shuffled order, some twice; answer every round
    whose stored state is not the newest report's."""
    rng = random.Random(11)
    problems: list[str] = []
    first = 1
    for _ in range(rounds):
        if until_a_problem and problems:
            break
        seqs = list(range(first, first + REPORTS))
        newest = seqs[-1]
        sends = seqs + rng.sample(seqs, 8)  # some reports arrive twice
        rng.shuffle(sends)
        barrier = threading.Barrier(WORKERS)

        def send(index: int, sends: list[int] = sends, barrier: threading.Barrier = barrier) -> int:
            try:
                if index < WORKERS:
                    barrier.wait(timeout=30)
                return post(token, sends[index])
            finally:
                connections.close_all()

        with ThreadPoolExecutor(max_workers=WORKERS) as pool:
            statuses = set(pool.map(send, range(len(sends))))
        if not statuses <= {200, 202}:
            problems.append(f"answers {sorted(statuses)}")
        if stored() != expected(newest):
            problems.append(
                f"round ending at {newest}: stored {len(stored())} rows, not its report"
            )
        gateway = Edge.objects.get(name="gateway")
        held = live_state().states_of([gateway.pk])[gateway.pk].seq
        if held != newest:
            problems.append(f"round ending at {newest}: the live state's seq is {held}")
        if not gateway.last_seq or gateway.last_seq > newest:
            problems.append(f"round ending at {newest}: the database's seq is {gateway.last_seq}")
        first += REPORTS
    return problems


def test_the_newest_report_wins_whatever_the_order_and_concurrency(token: str) -> None:
    assert post_rounds(token) == []
    assert stored() == expected(ROUNDS * REPORTS)


def test_an_older_report_sent_afterwards_changes_nothing(token: str) -> None:
    assert post(token, 9) == 202
    assert post(token, 9) == 200
    assert post(token, 3) == 200
    assert stored() == expected(9)


def _state(edge: Edge, seq: int) -> EdgeState:
    rows = tuple(Frontend(f["hostname"], None, f["connections"], 0) for f in frontends(seq))
    return EdgeState(edge.pk, seq, timezone.now(), rows)


def _store_in_reverse(edge: Edge) -> list[tuple[str, int]]:
    """Two reports that passed the edge's row in order (5, then 6) reach the live state in the
    other order; what does it keep?"""
    minute = timezone.now().replace(second=0, microsecond=0)
    live_state().record(_state(edge, 6), minute, {})
    live_state().record(_state(edge, 5), minute, {})
    return stored()


@pytest.mark.django_db
def test_a_report_reaching_the_store_after_a_newer_one_is_not_kept(world: World) -> None:
    assert _store_in_reverse(world.gateway) == expected(6)


@pytest.mark.django_db
def test_without_the_stores_ordering_check_the_older_report_would_win(world: World) -> None:
    with without_report_ordering():
        assert _store_in_reverse(world.gateway) == expected(5)
