"""Edge changes racing each other on PostgreSQL: token rotations, admin edits and reports in
flight, and a proxy switch racing websockets being turned on behind the edge."""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.core.exceptions import ValidationError
from django.db import connections
from django.test import Client

from dashboard.models import AppFeature, AuditEvent, Feature
from dashboard.services.features import FeatureRefused, feature_set
from edges.live_state import live_state
from edges.models import Edge
from edges.services.edges import edge_ingest_token_rotate, edge_update
from shared.secret_tokens import hash_token
from tests.conftest import World
from tests.naive import checks_meet, without_row_locks

pytestmark = pytest.mark.django_db(transaction=True)

ROTATIONS = 120
WORKERS = 24


def post_report(token: str, seq: int) -> int:
    body = {"edge": "gateway", "seq": seq, "sent_at": "2026-11-21T10:00:00Z", "frontends": []}
    headers = {"Authorization": f"Bearer {token}"}
    data = json.dumps(body)
    return (
        Client()
        .post("/ingest/v1/reports", data, content_type="application/json", headers=headers)
        .status_code
    )


def rotate_concurrently(edge: Edge) -> list[str]:
    """120 rotations, 24 at a time; answer every way the tokens and the audit trail disagree."""
    barrier = threading.Barrier(WORKERS)

    def rotate(index: int) -> str:
        try:
            if index < WORKERS:
                barrier.wait(timeout=30)
            return edge_ingest_token_rotate(edge=edge, actor=None, source="cli")
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        tokens = list(pool.map(rotate, range(ROTATIONS)))
    rows = list(AuditEvent.objects.filter(action="edge.ingest_token_rotate").order_by("id"))
    problems = []
    # Each rotation replaces the token the previous one set, and the last one set is stored.
    for previous, row in itertools.pairwise(rows):
        if row.before != previous.after:
            problems.append(f"rotation {row.pk} replaced {row.before}, not {previous.after}")
    edge.refresh_from_db()
    working = [t for t in tokens if hash_token(t) == edge.ingest_token_hash]
    if len(working) != 1 or rows[-1].after != {"ingest_token_prefix": edge.ingest_token_prefix}:
        problems.append(f"{len(working)} tokens work; the trail ends elsewhere")
    return problems


def test_concurrent_rotations_leave_one_working_token_and_an_unbroken_trail(
    postgresql: None, world: World
) -> None:
    edge_ingest_token_rotate(edge=world.gateway, actor=None, source="cli")
    assert rotate_concurrently(world.gateway) == []


def test_the_same_rotations_without_the_row_lock_break_the_trail(
    postgresql: None, world: World
) -> None:
    edge_ingest_token_rotate(edge=world.gateway, actor=None, source="cli")
    with without_row_locks():
        problems = rotate_concurrently(world.gateway)
    assert problems, "read-then-write without a lock should let rotations replace the same token"


def test_rotations_and_admin_edits_racing_reports_in_flight_lose_nothing(
    postgresql: None, world: World
) -> None:
    """Reports sent with whichever token was current, rotations and edits of the edge's idle
    timeout, all at once: every report is accepted or refused as unauthorized (never a server
    error), none is undone by an edit, and the edge ends with the last rotation's token and the
    last edit's timeout."""
    current = [edge_ingest_token_rotate(edge=world.gateway, actor=None, source="cli")]
    barrier = threading.Barrier(WORKERS)
    lock = threading.Lock()

    def current_token() -> str:
        """The token the edge holds now. A rotation's token is noted here when the rotation
        returns, which is after its commit and its announcement, in any order: wait for the
        committed one to be noted."""
        digest = Edge.objects.filter(pk=world.gateway.pk).values_list(
            "ingest_token_hash", flat=True
        )
        for _ in range(1000):
            with lock:
                noted = {hash_token(t): t for t in current}
            token = noted.get(digest.get())
            if token is not None:
                return token
            time.sleep(0.01)
        raise AssertionError("the edge holds a token no rotation returned")

    def work(index: int) -> tuple[str, int]:
        try:
            if index < WORKERS:
                barrier.wait(timeout=30)
            if index % 8 == 3:
                token = edge_ingest_token_rotate(edge=world.gateway, actor=None, source="cli")
                with lock:
                    current.append(token)
                return "rotated", 0
            if index % 8 == 5:
                timeout = 30 + index
                edge_update(
                    edge=world.gateway,
                    changes={"idle_timeout_seconds": timeout},
                    actor=None,
                    source="cli",
                )
                return "edited", timeout
            token = current_token()
            return "report", post_report(token, seq=index + 1) * 100_000 + index + 1
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        outcomes = list(pool.map(work, range(200)))

    answers = Counter(value // 100_000 for kind, value in outcomes if kind == "report")
    assert set(answers) <= {200, 202, 401}, answers
    assert answers[202] > 0, answers
    accepted = [
        value % 100_000 for kind, value in outcomes if kind == "report" and value // 100_000 == 202
    ]
    gateway = Edge.objects.get(pk=world.gateway.pk)
    assert live_state().states_of([gateway.pk])[gateway.pk].seq == max(accepted)
    assert gateway.last_seq in accepted  # written when first heard, then once a minute
    last_rotation = AuditEvent.objects.filter(action="edge.ingest_token_rotate").latest("id")
    assert last_rotation.after == {"ingest_token_prefix": gateway.ingest_token_prefix}
    assert post_report(current_token(), seq=10_000) == 202
    last_edit = AuditEvent.objects.filter(action="edge.change").latest("id")
    assert last_edit.after == {"idle_timeout_seconds": gateway.idle_timeout_seconds}


def race_switch_and_enable(
    world: World, rounds: int, outcomes: Counter[tuple[str, str]]
) -> list[str]:
    """Round after round, one thread turns websockets on for globex-store while another
    switches globex-ssl (which carries its domain) to the legacy Nginx build; answer the rounds
    that end with both done."""
    websockets = Feature.objects.get(name="websockets")
    problems: list[str] = []
    for round_ in range(rounds):
        Edge.objects.filter(pk=world.globex_ssl.pk).update(proxy=Edge.Proxy.HIPACHE)
        AppFeature.objects.filter(app=world.globex_store).delete()
        barrier = threading.Barrier(2)

        def enable(barrier: threading.Barrier = barrier) -> str:
            try:
                barrier.wait(timeout=30)
                feature_set(
                    app=world.globex_store,
                    feature=websockets,
                    enabled=True,
                    actor=None,
                    source="cli",
                )
                return "enabled"
            except FeatureRefused:
                return "refused"
            finally:
                connections.close_all()

        def switch(barrier: threading.Barrier = barrier) -> str:
            try:
                barrier.wait(timeout=30)
                edge_update(
                    edge=world.globex_ssl,
                    changes={"proxy": Edge.Proxy.NGINX_LEGACY},
                    actor=None,
                    source="cli",
                )
                return "switched"
            except ValidationError:
                return "refused"
            finally:
                connections.close_all()

        with ThreadPoolExecutor(max_workers=2) as pool:
            enabled, switched = pool.submit(enable), pool.submit(switch)
            outcome = (enabled.result(), switched.result())
        outcomes[outcome] += 1
        if outcome == ("enabled", "switched"):
            problems.append(f"round {round_}: websockets on behind a legacy edge")
    return problems


def test_websockets_cannot_come_on_behind_an_edge_switching_to_legacy_nginx(
    postgresql: None, world: World
) -> None:
    outcomes: Counter[tuple[str, str]] = Counter()
    assert race_switch_and_enable(world, rounds=60, outcomes=outcomes) == []
    # Each round, one of the two wins and the other is refused.
    assert set(outcomes) <= {("enabled", "refused"), ("refused", "switched")}
    assert sum(outcomes.values()) == 60


def test_the_same_race_without_the_row_locks_lets_both_through(
    postgresql: None, world: World
) -> None:
    """Without the row locks nothing stops both checks reading before either writes: held at
    that point, every round lets both through. With the locks the second side cannot reach its
    check until the first has committed."""
    from dashboard.services import features
    from edges.services import edges

    outcomes: Counter[tuple[str, str]] = Counter()
    with (
        without_row_locks(),
        checks_meet((features, "feature_refusal"), (edges, "websocket_apps_behind")),
    ):
        problems = race_switch_and_enable(world, rounds=5, outcomes=outcomes)
    assert outcomes == {("enabled", "switched"): 5}
    assert len(problems) == 5
