"""Connection history from the per-minute rollups: the ranges a chart can show, and the points
of each, bucketed in the database (a week is 168 hourly points, not 10,080 minutes)."""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.utils import timezone

from dashboard.models import App
from edges.live_state import LiveStateUnavailable, live_state
from edges.models import ConnectionRollup


@dataclass(frozen=True)
class Range:
    """A time range a chart shows: its window, the size of its buckets, its axis' time ticks."""

    key: str
    short: str
    label: str
    window: dt.timedelta
    bucket: dt.timedelta
    tick: dt.timedelta
    # How local-time.js writes a tick: a clock ("14:00") or a day ("Tue 1").
    tick_style: str

    @property
    def per(self) -> str:
        """A bucket in words: "minute", "5 minutes", "hour"."""
        minutes = int(self.bucket.total_seconds() // 60)
        return {1: "minute", 60: "hour"}.get(minutes, f"{minutes} minutes")


RANGES: dict[str, Range] = {
    r.key: r
    for r in (
        Range(
            "1h",
            "1 h",
            "Last hour",
            dt.timedelta(hours=1),
            dt.timedelta(minutes=1),
            dt.timedelta(minutes=10),
            "tick",
        ),
        Range(
            "6h",
            "6 h",
            "Last 6 hours",
            dt.timedelta(hours=6),
            dt.timedelta(minutes=5),
            dt.timedelta(hours=1),
            "tick",
        ),
        Range(
            "24h",
            "24 h",
            "Last 24 hours",
            dt.timedelta(days=1),
            dt.timedelta(minutes=15),
            dt.timedelta(hours=4),
            "tick",
        ),
        Range(
            "7d",
            "7 d",
            "Last 7 days",
            dt.timedelta(days=7),
            dt.timedelta(hours=1),
            dt.timedelta(days=1),
            "weekday",
        ),
    )
}
DEFAULT_RANGE = RANGES["1h"]
# A sparkline: the last hour in 5-minute buckets.
SPARK_RANGE = Range(
    "spark", "1 h", "last hour", dt.timedelta(hours=1), dt.timedelta(minutes=5),
    dt.timedelta(hours=1), "tick",
)  # fmt: skip


def range_from(value: object) -> Range:
    """The range a request asks for (`?range=6h`); anything else is the default."""
    return RANGES.get(value, DEFAULT_RANGE) if isinstance(value, str) else DEFAULT_RANGE


@dataclass(frozen=True)
class Point:
    """One bucket: when it starts, the average connections over its minutes, and the peak of
    any minute (both summed over edges, or over apps for an edge)."""

    at: dt.datetime
    average: float
    peak: int


def bucket_start(when: dt.datetime, bucket: dt.timedelta) -> dt.datetime:
    """The start of the bucket `when` falls in; buckets are aligned on the epoch (hours on the
    hour, quarters on the quarter), as the database aligns them."""
    size = int(bucket.total_seconds())
    seconds = int(when.timestamp())
    return dt.datetime.fromtimestamp(seconds - seconds % size, dt.UTC)


def window_start(chart_range: Range, now: dt.datetime) -> dt.datetime:
    """The first bucket shown: the one holding the moment a window ago, after the last one."""
    return bucket_start(now - chart_range.window, chart_range.bucket) + chart_range.bucket


def _bucket_sql(seconds: int) -> str:
    if connection.vendor == "postgresql":
        return f"(FLOOR(EXTRACT(EPOCH FROM minute) / {seconds}) * {seconds})::bigint"
    return f"(CAST(strftime('%%s', minute) AS INTEGER) / {seconds} * {seconds})"


def _ids_sql(column: str, ids: Iterable[int]) -> tuple[str, list[Any]]:
    ids = sorted(set(ids))
    if not ids:
        return "1 = 0", []
    return f"{column} IN ({', '.join(['%s'] * len(ids))})", ids


@dataclass(frozen=True)
class Selection:
    """Whose history: the apps (`key="app_id"`) or edges (`"edge_id"`) of `ids`, counting only
    the apps of `organizations` (None: every app)."""

    key: str
    ids: tuple[int, ...]
    organizations: frozenset[int] | None = None

    def sql(self, seconds: int) -> tuple[str, list[Any]]:
        if self.key not in ("app_id", "edge_id"):
            raise ValueError(f"no history by {self.key!r}")
        where, params = _ids_sql(self.key, self.ids)
        if self.organizations is not None:
            apps, app_params = _ids_sql("organization_id", self.organizations)
            where += f" AND app_id IN (SELECT id FROM {App._meta.db_table} WHERE {apps})"  # noqa: S608
            params += app_params
        # Per minute first (summed over the other dimension), then per bucket: a bucket's peak
        # is its busiest minute, its average the mean of its minutes. Names come from the
        # models, values go as parameters.
        sql = (
            f"SELECT k, bucket, SUM(average), COUNT(*), MAX(peak), MAX(minute) FROM ("  # noqa: S608
            f"SELECT {self.key} AS k, minute, {_bucket_sql(seconds)} AS bucket, "
            f"SUM(sum_connections * 1.0 / samples) AS average, SUM(max_connections) AS peak "
            f"FROM {ConnectionRollup._meta.db_table} WHERE samples > 0 AND minute >= %s "
            f"AND {where} GROUP BY {self.key}, minute) per_minute GROUP BY k, bucket"
        )
        return sql, params


History = dict[int, list[tuple[Point, int, dt.datetime]]]


def _read(selections: list[Selection], chart_range: Range, start: dt.datetime) -> list[History]:
    """Per selection, per app or edge: each bucket's point, how many minutes it holds and its
    last minute. One query for all the selections."""
    seconds = int(chart_range.bucket.total_seconds())
    parts, params = [], []
    for n, selection in enumerate(selections):
        sql, selected = selection.sql(seconds)
        parts.append(f"SELECT {n} AS selection, * FROM ({sql}) s{n}")  # noqa: S608
        params += [connection.ops.adapt_datetimefield_value(start), *selected]
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(parts) + " ORDER BY 1, 2, 3", params)
        rows = cursor.fetchall()
    found: list[History] = [defaultdict(list) for _ in selections]
    for n, k, bucket, total, minutes, peak, last in rows:
        at = dt.datetime.fromtimestamp(int(bucket), dt.UTC)
        if isinstance(last, str):  # SQLite hands back the text of a subquery's column
            last = dt.datetime.fromisoformat(last).replace(tzinfo=dt.UTC)
        found[n][k].append((Point(at, total / minutes, int(peak)), int(minutes), last))
    return found


# How long a process reuses the history of whole edges (staff's view) it read. An edge's history
# sums every app it carries (a gateway with 10,000 apps: 600,000 rollups an hour, about 0.1 s
# on PostgreSQL), and the rollups change once a minute: read at most this often per process,
# not once per page view. An app's history, or a customer's share of an edge, reads a few rows
# by the (app, minute) index and is not kept.
EDGE_HISTORY_SECONDS = 20.0


class EdgeHistoryCache:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.entries: dict[tuple[Any, ...], tuple[float, History]] = {}

    def get(self, key: tuple[Any, ...]) -> History | None:
        entry = self.entries.get(key)
        return entry[1] if entry is not None and entry[0] > time.monotonic() else None

    def put(self, key: tuple[Any, ...], history: History) -> None:
        now = time.monotonic()
        with self.lock:
            if len(self.entries) > 256:
                self.entries = {k: e for k, e in self.entries.items() if e[0] > now}
            self.entries[key] = (now + EDGE_HISTORY_SECONDS, history)

    def forget(self) -> None:
        with self.lock:
            self.entries = {}


edge_history_cache = EdgeHistoryCache()


def _history(selections: list[Selection], chart_range: Range, now: dt.datetime) -> list[History]:
    start = window_start(chart_range, now)
    keys = [
        (s, chart_range.key, start) if s.key == "edge_id" and s.organizations is None else None
        for s in selections
    ]
    found: list[History | None] = [edge_history_cache.get(k) if k else None for k in keys]
    missing = [n for n, history in enumerate(found) if history is None]
    if missing:
        read = _read([selections[n] for n in missing], chart_range, start)
        for n, history in zip(missing, read, strict=True):
            found[n] = history
            if keys[n] is not None:
                edge_history_cache.put(keys[n], history)
    return [history if history is not None else {} for history in found]


def _with_pending(
    rows: list[tuple[Point, int, dt.datetime]], app: App, chart_range: Range, now: dt.datetime
) -> list[Point]:
    """The app's buckets with the minutes not yet written to the database (the current one, at
    least) added from the live state."""
    try:
        pending = live_state().pending_samples(app.pk)
    except LiveStateUnavailable:
        pending = []
    start = window_start(chart_range, now)
    per_minute: dict[dt.datetime, list[float]] = defaultdict(lambda: [0.0, 0])
    for s in pending:
        if s.minute >= start and s.samples:
            per_minute[s.minute][0] += s.sum_connections / s.samples
            per_minute[s.minute][1] += s.max_connections
    buckets = {p.at: [p.average * n, n, p.peak, last] for p, n, last in rows}
    for minute, (average, peak) in sorted(per_minute.items()):
        cell = buckets.setdefault(bucket_start(minute, chart_range.bucket), [0.0, 0, 0, minute])
        # A minute the database holds too (part of it was written) counts once.
        new_minute = cell[1] == 0 or minute > cell[3]
        cell[0] += average
        cell[1] += 1 if new_minute else 0
        cell[2] = max(cell[2], int(peak))
        cell[3] = max(cell[3], minute)
    return [
        Point(at, total / max(n, 1), peak) for at, (total, n, peak, _) in sorted(buckets.items())
    ]


def app_history(app: App, chart_range: Range, now: dt.datetime | None = None) -> list[Point]:
    """The app's connections over every edge, with the minutes still in the live state."""
    now = now or timezone.now()
    [rows] = _history([Selection("app_id", (app.pk,))], chart_range, now)
    return _with_pending(rows.get(app.pk, []), app, chart_range, now)


def edge_history(
    edge_id: int,
    organizations: frozenset[int] | None,
    chart_range: Range,
    now: dt.datetime | None = None,
) -> list[Point]:
    """The edge's connections over the apps of `organizations` (None: all), to the last minute
    written."""
    selection = Selection("edge_id", (edge_id,), organizations)
    [rows] = _history([selection], chart_range, now or timezone.now())
    return [p for p, _, _ in rows.get(edge_id, [])]


def sparkline_points(
    selections: list[Selection], now: dt.datetime | None = None
) -> list[dict[int, list[Point]]]:
    """The last hour of each app or edge of each selection: one query however many rows a page
    shows."""
    found = _history(selections, SPARK_RANGE, now or timezone.now())
    return [{k: [p for p, _, _ in points] for k, points in rows.items()} for rows in found]
