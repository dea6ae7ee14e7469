"""Frames carry only what changed.

A panel re-rendered after an event mostly differs from the last render in a few numbers and
times. Each such value is a cell: a `<span>` or `<time>` with an id and text only inside. When
the new render has the same structure as the last (the same markup once every cell is set
aside), the sockets get only the cells that differ, each swapped by its id in the page (htmx
swaps every element of a frame by id); otherwise the whole panel goes out, as it does to a
socket joining the view.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass
from html import escape
from typing import Any

CELL = re.compile(r'<(?P<tag>span|time) id="(?P<id>[^"]+)"[^>]*>[^<]*</(?P=tag)>')
# How a cell's key reads in what a socket has pending: the part, then the cell's id.
SEPARATOR = "#"


def cell_key(part: str, cell_id: str) -> str:
    return f"{part}{SEPARATOR}{cell_id}"


def is_cell_of(key: str, part: str) -> bool:
    return key.startswith(part + SEPARATOR)


def _skeleton(html: str) -> tuple[str, dict[str, str]] | None:
    """The markup with each cell replaced by its id, and the cells by id (None when two cells
    share an id: they could not be swapped one by one)."""
    cells: dict[str, str] = {}
    duplicate = False

    def set_aside(match: re.Match[str]) -> str:
        nonlocal duplicate
        duplicate |= match["id"] in cells
        cells[match["id"]] = match[0]
        return f"\x00{match['id']}\x00"

    skeleton = CELL.sub(set_aside, html)
    return None if duplicate else (skeleton, cells)


def changed_cells(before: str | None, after: str) -> dict[str, str] | None:
    """The cells of `after` that differ from `before` (cell id -> markup), or None when the
    whole of `after` must be sent: no earlier render, or its structure changed."""
    if before is None:
        return None
    old, new = _skeleton(before), _skeleton(after)
    if old is None or new is None or old[0] != new[0] or not new[1]:
        return None
    return {i: html for i, html in new[1].items() if old[1].get(i) != html}


# The cells themselves. Pages (their template tags) and the hub's pushes write a number or a
# moment with these, so a cell computed without its panel's template is the cell the template
# writes.

# How a moment reads without JavaScript, in UTC and saying so; static/js/local-time.js rewrites
# it in the browser's own zone ("relative": "3 min ago" for the last day; "since": a ticking
# "N s ago"; "date": the day alone).
TIME_STYLES = {
    "datetime": "%Y-%m-%d %H:%M UTC",
    "relative": "%Y-%m-%d %H:%M UTC",
    "since": "%H:%M:%S UTC",
    "date": "%Y-%m-%d",
}


def dom_id(value: str) -> str:
    """A hostname as part of an element id: dots and colons become dashes."""
    return value.replace(".", "-").replace(":", "-")


def count_cell(cell_id: str, number: int) -> str:
    """A live number: `<span id="…" data-count="1234">1,234</span>` (the id is a slug, a
    hostname made an id, or a fixed word: see the templates)."""
    return f'<span id="{escape(cell_id)}" data-count="{number}">{number:,}</span>'


def time_cell(when: dt.datetime | dt.date, style: str = "datetime", cell_id: str = "") -> str:
    """A moment: `<time datetime="…Z">2026-11-30 15:05 UTC</time>`, which the browser rewrites
    in its own zone (with an id, first, it is a live cell)."""
    if isinstance(when, dt.datetime):
        # Sliced from one ISO form: strftime thrice costs more than the rest of a cell.
        iso = when.astimezone(dt.UTC).isoformat()
        day, clock = iso[:10], iso[11:19]
        machine, title = f"{day}T{clock}Z", f"{day} {clock} UTC"
        shown = {"since": f"{clock} UTC", "date": day}.get(style, f"{day} {clock[:5]} UTC")
    else:
        machine = title = str(when)
        shown = when.strftime(TIME_STYLES[style])
    id_attribute = f' id="{escape(cell_id)}"' if cell_id else ""
    return (
        f'<time{id_attribute} datetime="{machine}" data-local="{style}" title="{title}">'
        f"{shown}</time>"
    )


@dataclass(slots=True)
class Numbers:
    """A part whose changes are mostly its numbers, computed without its template: `cells` (id
    -> markup) and `shape` (everything else the part shows, e.g. which rows, which are stale).
    Two renders of one shape differ only in their cells, so the hub sends the cells that
    changed; `whole` renders the part from the same figures (for a new shape, or a socket
    joining), and `html` holds that render once the hub asked for it."""

    shape: tuple[Any, ...]
    cells: dict[str, str]
    whole: Callable[[], str]
    html: str | None = None


# A view's parts as rendered: part -> its whole fragment, or its numbers.
Rendered = dict[str, "str | Numbers"]


def whole(fragment: str | Numbers) -> str:
    """A rendered part's whole fragment."""
    return fragment if isinstance(fragment, str) else fragment.whole()


def with_cells(html: str, cells: dict[str, str]) -> str:
    """`html` (a render of the same shape) with its cells set to `cells`."""
    return CELL.sub(lambda match: cells.get(match["id"], match[0]), html)
