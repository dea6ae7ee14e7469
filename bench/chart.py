"""The README's chart: report -> socket latency against subscribers, the hub (B2), the
textbook path (B4) and the bare broadcaster's floor (B13), p50 and p99 medians with min-max
bars, drawn with matplotlib."""

from __future__ import annotations

from pathlib import Path
from typing import Any

SERIES = [
    ("B2", "hub (B2)", "#1f6feb"),
    ("B4", "textbook group_send (B4)", "#d1242f"),
    ("B13", "bare ASGI broadcaster, the floor (B13)", "#57606a"),
]


def draw(summary: list[dict[str, Any]], path: Path, title: str) -> Path | None:
    """Write the PNG; None when there is nothing to draw or matplotlib is missing."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    rows = [r for r in summary if r["bench"] in {b for b, _, _ in SERIES} and "p99_ms" in r]
    if not rows:
        return None
    figure, axes = plt.subplots(figsize=(8, 4.8), dpi=110)
    for bench, name, colour in SERIES:
        points = sorted((r for r in rows if r["bench"] == bench), key=lambda r: r["sockets"])
        if not points:
            continue
        sockets = [r["sockets"] for r in points]
        for key, style, label in (("p50_ms", "--", "p50"), ("p99_ms", "-", "p99")):
            middle = [r[key]["median"] for r in points]
            low = [m - r[key]["min"] for m, r in zip(middle, points, strict=True)]
            high = [r[key]["max"] - m for m, r in zip(middle, points, strict=True)]
            axes.errorbar(
                sockets,
                middle,
                yerr=[low, high],
                fmt="o" + style,
                color=colour,
                capsize=3,
                label=f"{name} {label}",
                alpha=1.0 if key == "p99_ms" else 0.7,
            )
    axes.axhline(100, color="#57606a", linewidth=0.8, linestyle=":")
    axes.text(axes.get_xlim()[0], 100, " p99 target at 1,000", va="bottom", fontsize=8)
    axes.set_xscale("log")
    axes.set_yscale("log")
    axes.set_xlabel("subscribers on one topic, one daphne")
    axes.set_ylabel("report -> frame on socket (ms)")
    axes.set_title(title, fontsize=10)
    axes.grid(True, which="both", alpha=0.25)
    axes.legend(fontsize=8)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path)
    plt.close(figure)
    return path
