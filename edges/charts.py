"""Connection history as server-rendered SVG: no chart library, no script."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

from dashboard.models import App
from edges.live_state import LiveStateUnavailable, live_state
from edges.models import ConnectionRollup

WIDTH, HEIGHT = 640, 150
PAD_LEFT, PAD_BOTTOM, PAD_TOP = 44, 20, 8


@dataclass(frozen=True)
class Series:
    label: str
    window: dt.timedelta
    bucket: dt.timedelta


LAST_HOUR = Series("Last hour", dt.timedelta(hours=1), dt.timedelta(minutes=1))
LAST_DAY = Series("Last day", dt.timedelta(days=1), dt.timedelta(minutes=15))


def _buckets(app: App, series: Series, now: dt.datetime) -> list[tuple[dt.datetime, float, int]]:
    """(bucket start, average, maximum) of the app's connections, summed over edges."""
    start = now - series.window
    per_minute: dict[dt.datetime, list[float]] = defaultdict(lambda: [0.0, 0])
    rows = list(
        ConnectionRollup.objects.filter(app=app, minute__gte=start).values_list(
            "minute", "sum_connections", "samples", "max_connections"
        )
    )
    # The minutes not yet written to the database (the current one, at least).
    try:
        pending = live_state().pending_samples(app.pk)
    except LiveStateUnavailable:
        pending = []
    merged: dict[tuple[int, dt.datetime], list[int]] = {}
    for s in pending:
        merged[(s.edge_id, s.minute)] = [s.sum_connections, s.samples, s.max_connections]
    rows.extend((minute, *cell) for (_, minute), cell in merged.items() if minute >= start)
    for minute, total, samples, peak in rows:
        cell = per_minute[minute]
        cell[0] += total / samples if samples else 0.0
        cell[1] += peak
    size = series.bucket.total_seconds()
    grouped: dict[dt.datetime, list[list[float]]] = defaultdict(list)
    for minute, cell in per_minute.items():
        offset = (minute - start).total_seconds() // size
        grouped[start + dt.timedelta(seconds=offset * size)].append(cell)
    return [
        (when, sum(c[0] for c in cells) / len(cells), int(max(c[1] for c in cells)))
        for when, cells in sorted(grouped.items())
    ]


def _summary(app: App, series: Series, points: list[tuple[dt.datetime, float, int]]) -> str:
    """The chart in words, for those who cannot see it: its peak and its latest value."""
    if not points:
        return f"{series.label}: connections of {app.name}, no history yet"
    peak_at, _, peak = max(points, key=lambda p: (p[2], p[0]))
    latest_at, latest, _ = points[-1]
    return (
        f"{series.label}: connections of {app.name}, peak {peak} at "
        f"{peak_at.astimezone(dt.UTC):%H:%M} UTC, latest average {round(latest)} at "
        f"{latest_at.astimezone(dt.UTC):%H:%M} UTC"
    )


def connections_chart(app: App, series: Series, now: dt.datetime | None = None) -> SafeString:
    now = now or timezone.now()
    points = _buckets(app, series, now)
    start = now - series.window
    peak = max((p[2] for p in points), default=0)
    top = max(10, int(peak * 1.1))
    plot_w, plot_h = WIDTH - PAD_LEFT - 4, HEIGHT - PAD_BOTTOM - PAD_TOP

    def x(when: dt.datetime) -> float:
        return PAD_LEFT + plot_w * (when - start).total_seconds() / series.window.total_seconds()

    def y(value: float) -> float:
        return PAD_TOP + plot_h * (1 - value / top)

    average = " ".join(f"{x(w):.1f},{y(a):.1f}" for w, a, _ in points)
    maximum = " ".join(f"{x(w):.1f},{y(m):.1f}" for w, _, m in points)
    label = _summary(app, series, points)
    parts = [
        format_html(
            '<svg class="chart" viewBox="0 0 {} {}" role="img" aria-label="{}">',
            WIDTH,
            HEIGHT,
            label,
        ),
        format_html("<title>{}</title>", label),
        format_html(
            '<line class="axis" x1="{}" y1="{}" x2="{}" y2="{}"/>',
            PAD_LEFT,
            HEIGHT - PAD_BOTTOM,
            WIDTH - 4,
            HEIGHT - PAD_BOTTOM,
        ),
        format_html(
            '<text class="tick" x="{}" y="{}" text-anchor="end">{}</text>',
            PAD_LEFT - 6,
            PAD_TOP + 10,
            top,
        ),
        format_html(
            '<text class="tick" x="{}" y="{}" text-anchor="end">0</text>',
            PAD_LEFT - 6,
            HEIGHT - PAD_BOTTOM,
        ),
        # The browser says it in its own zone (static/js/local-time.js).
        format_html(
            '<text class="tick" x="{}" y="{}" data-local="clock" data-utc="{}">{}</text>',
            PAD_LEFT,
            HEIGHT - 4,
            f"{start.astimezone(dt.UTC):%Y-%m-%dT%H:%M:%SZ}",
            f"{start.astimezone(dt.UTC):%H:%M} UTC",
        ),
        format_html(
            '<text class="tick" x="{}" y="{}" text-anchor="end">now</text>', WIDTH - 4, HEIGHT - 4
        ),
    ]
    if points:
        parts.append(format_html('<polyline class="max" points="{}"/>', maximum))
        parts.append(format_html('<polyline class="avg" points="{}"/>', average))
    else:
        parts.append(
            format_html(
                '<text class="tick" x="{}" y="{}" text-anchor="middle">no history yet</text>',
                WIDTH / 2,
                HEIGHT / 2,
            )
        )
    parts.append(mark_safe("</svg>"))
    return mark_safe("".join(parts))  # noqa: S308 - every part above is escaped
