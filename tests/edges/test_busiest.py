"""The overview's busiest apps, found by walking each edge's ranking instead of adding up every
app of the platform, are those adding up every app would find."""

from __future__ import annotations

import datetime as dt
import random

from edges.counts import busiest_contenders
from edges.edge_states import EdgeState, frontend_of

AT = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)


def state(edge_id: int, rows: list[tuple[int, int, int]]) -> EdgeState:
    """rows: (app id, connections, websockets), one frontend each."""
    return EdgeState(
        edge_id,
        1,
        AT,
        tuple(frontend_of((f"h{i}", a, c, w, ())) for i, (a, c, w) in enumerate(rows)),
    )


def every_app_added_up(states: list[EdgeState], n: int) -> dict[int, tuple[int, int]]:
    totals: dict[int, tuple[int, int]] = {}
    for s in states:
        for frontend in s.frontends:
            c, w = totals.get(frontend.app_id, (0, 0))
            totals[frontend.app_id] = (c + frontend.connections, w + frontend.websockets)
    ranked = sorted((cw[0] for cw in totals.values()), reverse=True)
    cut = ranked[n - 1] if len(ranked) >= n else -1
    return {app: cw for app, cw in totals.items() if cw[0] >= cut}


def test_the_walk_finds_what_adding_up_every_app_finds() -> None:
    rng = random.Random(7)
    for _ in range(300):
        edges, apps = rng.randint(0, 6), rng.randint(1, 60)
        states = []
        for edge_id in range(edges):
            rows = [
                (rng.randrange(apps), rng.choice([0, 1, 5, rng.randrange(1000)]), rng.randrange(9))
                for _ in range(rng.randint(0, 40))
            ]
            states.append(state(edge_id, rows))
        n = rng.randint(1, 12)
        assert busiest_contenders(states, n) == every_app_added_up(states, n)


def test_an_app_busy_on_many_edges_beats_the_busiest_of_any_one_edge() -> None:
    spread = [state(e, [(1, 60, 0), (100 + e, 100, 1)]) for e in range(5)]
    assert set(busiest_contenders(spread, 1)) == {1}  # 300 over five edges
    assert busiest_contenders(spread, 1)[1] == (300, 0)


def test_ties_with_the_last_place_are_all_contenders_and_few_apps_are_all() -> None:
    tied = [state(1, [(1, 9, 0), (2, 5, 0), (3, 5, 0), (4, 1, 0)])]
    assert set(busiest_contenders(tied, 2)) == {1, 2, 3}
    assert set(busiest_contenders(tied, 10)) == {1, 2, 3, 4}
    assert busiest_contenders([], 10) == {}
