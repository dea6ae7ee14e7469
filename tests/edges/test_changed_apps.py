"""Which apps a report changed: the apps whose rows on the edge a page would show differently.
Found row by row when the edge lists the same hostnames in the same order as before (the usual
report), app by app otherwise; both answer what comparing every app's rows answers."""

from __future__ import annotations

import datetime as dt
import random

from edges.edge_states import EdgeState, Frontend, frontend_of
from edges.services.reports import _changed_apps

AT = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
BACKENDS = ((), ({"address": "10.0.0.1:80", "connections": 1, "state": "up"},))


def state(rows: list[Frontend], seq: int = 1) -> EdgeState:
    return EdgeState(1, seq, AT, tuple(rows))


def every_app_compared(now: EdgeState, before: EdgeState) -> set[int]:
    def rows_by_app(s: EdgeState) -> dict[int | None, list[Frontend]]:
        grouped: dict[int | None, list[Frontend]] = {}
        for row in s.frontends:
            grouped.setdefault(row.app_id, []).append(row)
        return grouped

    a, b = rows_by_app(now), rows_by_app(before)
    return {app for app in a.keys() | b.keys() if app is not None and a.get(app) != b.get(app)}


def a_report(rng: random.Random, hostnames: int, apps: int) -> list[Frontend]:
    rows = []
    for i in range(hostnames):
        app = rng.choice([None, *range(apps)]) if rng.random() < 0.1 else i % apps
        connections = rng.randint(0, 5)
        rows.append(
            frontend_of(
                (f"h{i}", app, connections, rng.randint(0, connections), rng.choice(BACKENDS))
            )
        )
    return rows


def the_next_report(rng: random.Random, rows: list[Frontend], apps: int) -> list[Frontend]:
    """Mostly the same hostnames in the same order with a few numbers moved; sometimes a row
    routed to another app, a hostname gone or new, or the order changed."""
    rows = list(rows)
    for _ in range(rng.randint(0, 4)):
        if not rows:
            break
        i = rng.randrange(len(rows))
        host, app, connections, websockets, backends = rows[i]
        change = rng.random()
        if change < 0.6:
            connections += 1
        elif change < 0.75:
            app = rng.choice([None, *range(apps)])
        elif change < 0.85:
            backends = rng.choice(BACKENDS)
        elif change < 0.92:
            del rows[i]
            continue
        else:
            rows.append(frontend_of((f"new{rng.random()}", rng.randrange(apps), 1, 0, ())))
        rows[i] = frontend_of((host, app, connections, websockets, backends))
    if rng.random() < 0.1:
        rng.shuffle(rows)
    return rows


def test_the_apps_found_changed_are_those_whose_rows_differ() -> None:
    rng = random.Random(15)
    aligned = 0
    for _ in range(2_000):
        apps = rng.randint(1, 12)
        first = a_report(rng, rng.randint(0, 30), apps)
        second = the_next_report(rng, first, apps)
        before, now = state(first), state(second, seq=2)
        assert _changed_apps(now, before, was_stale=False) == every_app_compared(now, before)
        aligned += [r.hostname for r in first] == [r.hostname for r in second]
    assert 1_000 < aligned < 2_000  # both ways of finding them were walked, many times


def test_a_first_report_or_one_after_silence_changes_every_app_on_the_edge() -> None:
    before = state([frontend_of(("a", 1, 1, 0, ())), frontend_of(("b", 2, 1, 0, ()))])
    now = state([frontend_of(("a", 1, 1, 0, ())), frontend_of(("c", 3, 1, 0, ()))], seq=2)
    assert _changed_apps(now, None, was_stale=False) == {1, 3}
    assert _changed_apps(now, before, was_stale=True) == {1, 2, 3}
    assert _changed_apps(now, state(list(now.frontends)), was_stale=False) == set()
