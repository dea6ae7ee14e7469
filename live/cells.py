"""Frames carry only what changed.

A panel re-rendered after an event mostly differs from the last render in a few numbers and
times. Each such value is a cell: a `<span>` or `<time>` with an id and text only inside. When
the new render has the same structure as the last (the same markup once every cell is set
aside), the sockets get only the cells that differ, each swapped by its id in the page (htmx
swaps every element of a frame by id); otherwise the whole panel goes out, as it does to a
socket joining the view.
"""

from __future__ import annotations

import re

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
