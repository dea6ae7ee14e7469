"""Connection history as server-rendered SVG: no chart library. Each chart says itself in words
(its label), each point its time and values (a `<title>`, shown on hover; static/js/charts.js
adds a tooltip and the keyboard), and axis times are UTC until the browser writes them in its
own zone (static/js/local-time.js)."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterator

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

from edges.charts import SPARK_RANGE, Point, Range, bucket_start, window_start

WIDTH, HEIGHT = 640, 180
PAD_LEFT, PAD_RIGHT, PAD_TOP, PAD_BOTTOM = 56, 16, 12, 30
SPARK_WIDTH, SPARK_HEIGHT = 60, 20


def y_ticks(peak: float, count: int = 4) -> list[int]:
    """0 and round steps (1, 2 or 5 times a power of ten) up to the peak or just above it,
    about `count` of them."""
    peak = max(peak, count)
    raw = peak / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)
    step = max(1, round(step))
    top = max(step, math.ceil(peak / step) * step)
    return list(range(0, top + 1, step))


def tick_label(value: int) -> str:
    """An axis value, short enough for the axis: 950, 1,500, 25k, 1.5M."""
    if value >= 1_000_000:
        return f"{value / 1_000_000:.3g}M"
    if value >= 10_000:
        return f"{value / 1_000:.3g}k"
    return f"{value:,}"


def time_ticks(start: dt.datetime, end: dt.datetime, every: dt.timedelta) -> list[dt.datetime]:
    """The round moments (multiples of `every` since the epoch, in UTC) from start to end."""
    first = bucket_start(start, every)
    if first < start:
        first += every
    ticks = []
    while first <= end:
        ticks.append(first)
        first += every
    return ticks


def _utc(when: dt.datetime) -> str:
    return f"{when.astimezone(dt.UTC):%Y-%m-%dT%H:%M:%SZ}"


def _moment(when: dt.datetime, chart_range: Range) -> str:
    """A point's time in words, in UTC (the tooltip says it in the reader's zone)."""
    when = when.astimezone(dt.UTC)
    if chart_range.window > dt.timedelta(days=1):
        return f"{when:%a} {when.day} {when:%H:%M} UTC"
    return f"{when:%H:%M} UTC"


def _tick_text(when: dt.datetime, chart_range: Range) -> str:
    when = when.astimezone(dt.UTC)
    return f"{when:%a} {when.day}" if chart_range.tick_style == "weekday" else f"{when:%H:%M}"


def summary(points: list[Point], chart_range: Range, subject: str) -> str:
    """The chart in words, for those who cannot see it: its peak and its latest value."""
    if not points:
        return f"{chart_range.label}: {subject}, no history yet"
    peak = max(points, key=lambda p: (p.peak, p.at))
    latest = points[-1]
    return (
        f"{chart_range.label}: {subject}, peak {peak.peak} at {_moment(peak.at, chart_range)}, "
        f"latest average {round(latest.average)} at {_moment(latest.at, chart_range)}"
    )


def _runs(points: list[Point], bucket: dt.timedelta) -> Iterator[list[Point]]:
    """Consecutive buckets: a line is broken where the history has a hole."""
    run: list[Point] = []
    for point in points:
        if run and point.at - run[-1].at > bucket:
            yield run
            run = []
        run.append(point)
    if run:
        yield run


def history_chart(
    points: list[Point], chart_range: Range, subject: str, now: dt.datetime, chart_id: str
) -> SafeString:
    """`subject`: what is counted, in words ("connections of acme-web")."""
    start = window_start(chart_range, now)
    end = start + chart_range.window
    ticks = y_ticks(max((p.peak for p in points), default=0))
    top = ticks[-1]
    plot_w, plot_h = WIDTH - PAD_LEFT - PAD_RIGHT, HEIGHT - PAD_BOTTOM - PAD_TOP
    span = chart_range.window.total_seconds()
    column = plot_w * chart_range.bucket.total_seconds() / span

    def x(when: dt.datetime) -> float:
        # A bucket's point sits in the middle of its column.
        return PAD_LEFT + plot_w * (when - start).total_seconds() / span + column / 2

    def y(value: float) -> float:
        return PAD_TOP + plot_h * (1 - value / top)

    label = summary(points, chart_range, subject)
    parts = [
        format_html(
            '<svg class="chart" id="{}" viewBox="0 0 {} {}" role="img" aria-label="{}" '
            'tabindex="0" data-chart>',
            chart_id,
            WIDTH,
            HEIGHT,
            label,
        ),
        format_html("<title>{}</title>", label),
        format_html_join(
            "",
            '<line class="grid" x1="{}" y1="{}" x2="{}" y2="{}"/>'
            '<text class="tick" x="{}" y="{}" text-anchor="end" '
            'dominant-baseline="middle">{}</text>',
            (
                (PAD_LEFT, at, WIDTH - PAD_RIGHT, at, PAD_LEFT - 6, at, tick_label(v))
                for v in ticks
                for at in [f"{y(v):.1f}"]
            ),
        ),
    ]
    for when in time_ticks(start, end, chart_range.tick):
        at = PAD_LEFT + plot_w * (when - start).total_seconds() / span
        if at > WIDTH - PAD_RIGHT - 12:
            continue
        parts.append(
            format_html(
                '<line class="axis" x1="{}" y1="{}" x2="{}" y2="{}"/>'
                '<text class="tick" x="{}" y="{}" text-anchor="middle" data-local="{}" '
                'data-utc="{}">{}</text>',
                f"{at:.1f}",
                HEIGHT - PAD_BOTTOM,
                f"{at:.1f}",
                HEIGHT - PAD_BOTTOM + 4,
                f"{at:.1f}",
                HEIGHT - 8,
                chart_range.tick_style,
                _utc(when),
                _tick_text(when, chart_range),
            )
        )
    if not points:
        parts.append(
            format_html(
                '<text class="tick" x="{}" y="{}" text-anchor="middle">no history yet</text>',
                PAD_LEFT + plot_w / 2,
                PAD_TOP + plot_h / 2,
            )
        )
    for run in _runs(points, chart_range.bucket):
        for css, value in (("max", lambda p: p.peak), ("avg", lambda p: p.average)):
            coordinates = " ".join(f"{x(p.at):.1f},{y(value(p)):.1f}" for p in run)
            if len(run) == 1:
                parts.append(
                    format_html(
                        '<circle class="{}" cx="{}" cy="{}" r="2"/>',
                        css,
                        f"{x(run[0].at):.1f}",
                        f"{y(value(run[0])):.1f}",
                    )
                )
            else:
                parts.append(format_html('<polyline class="{}" points="{}"/>', css, coordinates))
    # One column per point: hovering it (or stepping to it with the arrow keys) tells its values.
    parts.append(
        format_html_join(
            "",
            '<g class="point" data-at="{}" data-average="{}" data-peak="{}">'
            '<rect class="hit" x="{}" y="{}" width="{}" height="{}"/>'
            '<line class="guide" x1="{}" y1="{}" x2="{}" y2="{}"/>'
            '<circle class="dot max" cx="{}" cy="{}" r="3"/>'
            '<circle class="dot avg" cx="{}" cy="{}" r="3"/>'
            "<title>{}: average {}, peak {}</title></g>",
            (
                (
                    _utc(p.at),
                    round(p.average),
                    p.peak,
                    f"{x(p.at) - column / 2:.1f}",
                    PAD_TOP,
                    f"{column:.2f}",
                    plot_h,
                    f"{x(p.at):.1f}",
                    PAD_TOP,
                    f"{x(p.at):.1f}",
                    HEIGHT - PAD_BOTTOM,
                    f"{x(p.at):.1f}",
                    f"{y(p.peak):.1f}",
                    f"{x(p.at):.1f}",
                    f"{y(p.average):.1f}",
                    _moment(p.at, chart_range),
                    f"{round(p.average):,}",
                    f"{p.peak:,}",
                )
                for p in points
            ),
        )
    )
    parts.append(mark_safe("</svg>"))
    return mark_safe("".join(parts))  # noqa: S308 - every part above is escaped


def sparkline(points: list[Point], now: dt.datetime) -> SafeString:
    """The last hour's peaks, small enough for a table row, labelled with its peak."""
    start = window_start(SPARK_RANGE, now)
    peak = max((p.peak for p in points), default=0)
    label = f"{SPARK_RANGE.label}: peak {peak:,}" if points else f"{SPARK_RANGE.label}: no history"
    span = SPARK_RANGE.window.total_seconds()
    top = max(peak, 1)
    # From half the peak (or the lowest point, if lower) to the peak: a shape shows, and a
    # change of a few connections out of hundreds does not look like a cliff.
    bottom = min(min((p.peak for p in points), default=0), top / 2)

    def x(when: dt.datetime) -> float:
        middle = SPARK_RANGE.bucket.total_seconds() / 2
        return 1 + (SPARK_WIDTH - 2) * ((when - start).total_seconds() + middle) / span

    def y(value: float) -> float:
        return SPARK_HEIGHT - 2 - (SPARK_HEIGHT - 4) * (value - bottom) / (top - bottom)

    shapes = []
    for run in _runs(points, SPARK_RANGE.bucket):
        if len(run) == 1:
            shapes.append(
                format_html(
                    '<circle cx="{}" cy="{}" r="1.5"/>',
                    f"{x(run[0].at):.1f}",
                    f"{y(run[0].peak):.1f}",
                )
            )
            continue
        coordinates = " ".join(f"{x(p.at):.1f},{y(p.peak):.1f}" for p in run)
        shapes.append(format_html('<polyline points="{}"/>', coordinates))
    return format_html(
        '<svg class="spark" viewBox="0 0 {} {}" width="{}" height="{}" role="img" '
        'aria-label="{}" data-peak="{}"><title>{}</title>'
        '<line class="base" x1="0" y1="{}" x2="{}" y2="{}"/>{}</svg>',
        SPARK_WIDTH,
        SPARK_HEIGHT,
        SPARK_WIDTH,
        SPARK_HEIGHT,
        label,
        peak,
        label,
        SPARK_HEIGHT - 1.5,
        SPARK_WIDTH,
        SPARK_HEIGHT - 1.5,
        mark_safe("".join(shapes)),  # noqa: S308 - each shape is escaped above
    )
