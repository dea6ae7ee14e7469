"""Chart maths: round axis ticks, time ticks, buckets aligned as the database aligns them, ranges
read from a request, and history bucketed in the database (a week is hourly points)."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

import pytest

from edges.chart_svg import history_chart, sparkline, tick_label, time_ticks, y_ticks
from edges.charts import (
    DEFAULT_RANGE,
    RANGES,
    Point,
    Selection,
    app_history,
    bucket_start,
    edge_history,
    range_from,
    sparkline_points,
)
from edges.models import ConnectionRollup
from tests.conftest import World
from tests.factories import make_app

NOW = dt.datetime(2026, 12, 1, 13, 7, 30, tzinfo=dt.UTC)


def at(hour: int, minute: int = 0, day: int = 1) -> dt.datetime:
    return dt.datetime(2026, 12, day, hour, minute, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("peak", "ticks"),
    [
        (0, [0, 1, 2, 3, 4]),
        (3, [0, 1, 2, 3, 4]),
        (7, [0, 2, 4, 6, 8]),
        (42, [0, 20, 40, 60]),
        (100, [0, 50, 100]),
        (1234, [0, 500, 1000, 1500]),
    ],
)
def test_y_ticks_are_round_steps_from_zero_to_the_peak_or_just_above(
    peak: int, ticks: list[int]
) -> None:
    assert y_ticks(peak) == ticks


def test_y_ticks_always_cover_the_peak_in_a_handful_of_even_steps() -> None:
    for peak in range(0, 200_000, 397):
        ticks = y_ticks(peak)
        steps = {b - a for a, b in itertools.pairwise(ticks)}
        assert ticks[0] == 0 and ticks[-1] >= peak, peak
        assert len(steps) == 1 and 3 <= len(ticks) <= 6, (peak, ticks)


@pytest.mark.parametrize(
    ("value", "label"),
    [(0, "0"), (950, "950"), (1500, "1,500"), (25_000, "25k"), (1_500_000, "1.5M")],
)
def test_axis_values_are_written_short(value: int, label: str) -> None:
    assert tick_label(value) == label


def test_time_ticks_fall_on_round_moments_inside_the_window() -> None:
    ticks = time_ticks(at(12, 7), at(13, 7), dt.timedelta(minutes=10))
    assert ticks == [at(12, 10), at(12, 20), at(12, 30), at(12, 40), at(12, 50), at(13, 0)]
    days = time_ticks(at(13, 7, day=1) - dt.timedelta(days=7), at(13, 7), dt.timedelta(days=1))
    assert [t.hour for t in days] == [0] * 7


def test_buckets_start_on_the_epochs_round_moments() -> None:
    assert bucket_start(NOW, dt.timedelta(minutes=1)) == at(13, 7)
    assert bucket_start(NOW, dt.timedelta(minutes=5)) == at(13, 5)
    assert bucket_start(NOW, dt.timedelta(minutes=15)) == at(13, 0)
    assert bucket_start(NOW, dt.timedelta(hours=1)) == at(13, 0)


@pytest.mark.parametrize("asked", ["1h", "6h", "24h", "7d"])
def test_a_range_is_read_from_its_key(asked: str) -> None:
    assert range_from(asked).key == asked


@pytest.mark.parametrize("asked", [None, "", "1y", "6H", " 6h", "6h\x00", ["6h"], 6])
def test_anything_else_is_the_default_range(asked: Any) -> None:
    assert range_from(asked) is DEFAULT_RANGE


def test_no_range_draws_more_than_a_couple_of_hundred_points() -> None:
    for chart_range in RANGES.values():
        assert chart_range.window / chart_range.bucket <= 168


def rollups(world: World, edge: Any, app: Any, minutes: list[dt.datetime], peak: Any) -> None:
    ConnectionRollup.objects.bulk_create(
        ConnectionRollup(
            edge=edge,
            app=app,
            minute=m,
            max_connections=peak(m),
            sum_connections=2 * 10,
            samples=10,
        )
        for m in minutes
    )


def test_a_week_is_hourly_points_with_each_hours_busiest_minute(world: World) -> None:
    minutes = [at(13) - dt.timedelta(minutes=n) for n in range(1, 2 * 24 * 60 + 1)]
    # Two edges whose peaks never meet: the app's busiest minute is 60 every minute, although
    # each edge's own busiest minute in an hour is 59 and 60.
    rollups(world, world.gateway, world.acme_web, minutes, lambda m: m.minute)
    rollups(world, world.acme_ssl, world.acme_web, minutes, lambda m: 60 - m.minute)
    points = app_history(world.acme_web, RANGES["7d"], NOW)
    assert len(points) == 48
    assert all(p.at.minute == 0 for p in points)
    assert {p.peak for p in points} == {60}
    assert {p.average for p in points} == {4.0}  # 2 on each edge, every minute


def test_a_range_shows_only_its_window(world: World) -> None:
    minutes = [at(13) - dt.timedelta(minutes=n) for n in range(1, 3 * 60 + 1)]
    rollups(world, world.gateway, world.acme_web, minutes, lambda m: 5)
    hour = app_history(world.acme_web, RANGES["1h"], NOW)
    assert len(hour) == 52 and hour[0].at == at(12, 8) and hour[-1].at == at(12, 59)
    six = app_history(world.acme_web, RANGES["6h"], NOW)
    assert [p.at for p in six][:2] == [at(10, 0), at(10, 5)] and len(six) == 36


def test_a_customer_sees_only_their_own_apps_in_a_gateways_history(world: World) -> None:
    minutes = [at(12, 30)]
    rollups(world, world.gateway, world.acme_web, minutes, lambda m: 7)
    rollups(world, world.gateway, world.globex_store, minutes, lambda m: 100)
    everyone = edge_history(world.gateway.pk, None, RANGES["1h"], NOW)
    acme = edge_history(world.gateway.pk, frozenset({world.acme.pk}), RANGES["1h"], NOW)
    assert [p.peak for p in everyone] == [107]
    assert [p.peak for p in acme] == [7]


def test_sparklines_of_every_row_are_one_query(
    world: World, django_assert_num_queries: Any
) -> None:
    apps = [make_app(f"many-{n}", org=world.acme) for n in range(30)]
    for n, app in enumerate(apps):
        rollups(world, world.gateway, app, [at(12, 40), at(12, 50)], lambda m, n=n: n)
    app_ids = tuple(a.pk for a in apps)
    edge_ids = (world.gateway.pk, world.acme_ssl.pk)
    with django_assert_num_queries(1):
        by_app, by_edge = sparkline_points(
            [Selection("app_id", app_ids), Selection("edge_id", edge_ids)], NOW
        )
    assert [max(p.peak for p in by_app[i]) for i in app_ids] == list(range(30))
    assert [p.peak for p in by_edge[world.gateway.pk]] == [sum(range(30))] * 2
    assert world.acme_ssl.pk not in by_edge


def test_a_chart_says_each_points_time_and_values_and_the_whole_in_words() -> None:
    points = [Point(at(12, 50), 3.4, 9), Point(at(12, 51), 5.0, 12)]
    svg = str(history_chart(points, RANGES["1h"], "connections of acme-web", NOW, "c"))
    assert 'aria-label="Last hour: connections of acme-web, peak 12 at 12:51 UTC' in svg
    assert "<title>12:50 UTC: average 3, peak 9</title>" in svg
    assert 'data-at="2026-12-01T12:51:00Z" data-average="5" data-peak="12"' in svg
    # Round y ticks and clock ticks the browser rewrites in its own zone.
    for tick in (">0<", ">5<", ">10<", ">15<"):
        assert tick in svg
    assert 'data-local="tick" data-utc="2026-12-01T13:00:00Z">13:00</text>' in svg
    week = str(history_chart(points, RANGES["7d"], "connections of acme-web", NOW, "c"))
    assert 'data-local="weekday" data-utc="2026-11-30T00:00:00Z">Mon 30</text>' in week
    assert "<title>Tue 1 12:50 UTC: average 3, peak 9</title>" in week


def test_a_sparkline_is_labelled_with_its_peak() -> None:
    svg = str(sparkline([Point(at(12, 40), 1, 4), Point(at(12, 45), 2, 42)], NOW))
    assert 'aria-label="last hour: peak 42"' in svg and "<polyline" in svg
    assert 'aria-label="last hour: no history"' in str(sparkline([], NOW))


def test_a_whole_edges_history_is_read_once_a_while_a_customers_share_every_time(
    world: World, django_assert_num_queries: Any
) -> None:
    rollups(world, world.gateway, world.acme_web, [at(12, 30)], lambda m: 7)
    edge_history(world.gateway.pk, None, RANGES["1h"], NOW)
    acme = frozenset({world.acme.pk})
    with django_assert_num_queries(1):
        assert [p.peak for p in edge_history(world.gateway.pk, None, RANGES["1h"], NOW)] == [7]
        assert [p.peak for p in edge_history(world.gateway.pk, acme, RANGES["1h"], NOW)] == [7]
    # Another range, or the next window, is read afresh.
    with django_assert_num_queries(2):
        edge_history(world.gateway.pk, None, RANGES["6h"], NOW)
        edge_history(world.gateway.pk, None, RANGES["1h"], NOW + dt.timedelta(minutes=1))
