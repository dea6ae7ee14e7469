"""The order of a page's live tables, picked in its URL and kept by its socket.

A live table's rows are numbers held in memory (edges.counts), so it is sorted in Python, not by
the database. One table of a page is sorted at a time: `?sort=hosts.-connections` sorts the app
page's hostnames by connections, most first; the others keep their default order. The page's
socket carries the same parameter, so its view is rendered in that order for every update
(`Topic.in_order`): sockets that asked for the same order share one view. Unknown tables and
columns fall back to the defaults: user input only ever picks from these lists.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

from django.http import QueryDict

SORT_PARAM = "sort"
ARROWS = {"ascending": "▲", "descending": "▼"}
Row = TypeVar("Row")


@dataclass(frozen=True)
class LiveColumn:
    key: str
    # The row's value to sort by; ties fall back to the table's default column.
    value: Callable[[Any], Any]
    # Counts and times read best largest or newest first on the first click.
    descending_first: bool = False


@dataclass(frozen=True)
class LiveTable:
    name: str
    columns: dict[str, LiveColumn]
    default: str  # the key of the column the rows come in when nothing is picked

    @classmethod
    def of(cls, name: str, *columns: LiveColumn, default: str = "") -> LiveTable:
        return cls(name, {c.key: c for c in columns}, default or columns[0].key)


@dataclass(frozen=True)
class LiveOrder:
    table: str
    key: str
    descending: bool

    @property
    def value(self) -> str:
        return f"{self.table}.{'-' if self.descending else ''}{self.key}"


@dataclass(frozen=True)
class LiveHeader:
    href: str
    aria_sort: str
    arrow: str
    next_direction: str


def live_order(raw: str, tables: dict[str, LiveTable]) -> LiveOrder | None:
    """The order `?sort=` asks for, if it names a column of one of `tables`; else None (every
    table in its default order)."""
    table_name, _, column = raw.partition(".")
    table = tables.get(table_name)
    key = column.removeprefix("-")
    if table is None or key not in table.columns:
        return None
    order = LiveOrder(table_name, key, column.startswith("-"))
    return None if order.value == f"{table_name}.{table.default}" else order


def order_from(query: QueryDict, tables: dict[str, LiveTable]) -> LiveOrder | None:
    return live_order(query.get(SORT_PARAM, "")[:60], tables)


def in_order(rows: Iterable[Row], table: LiveTable, order: LiveOrder | None) -> list[Row]:
    """The rows in the order picked for `table` (those given are in its default order: a
    stable sort keeps it among ties)."""
    rows = list(rows)
    if order is None or order.table != table.name:
        return rows
    rows.sort(key=table.columns[order.key].value, reverse=order.descending)
    return rows


def header(table: LiveTable, key: str, order: LiveOrder | None, anchor: str) -> LiveHeader:
    """A live table's column header: a link that sorts by the column (again: the other way)."""
    column = table.columns[key]
    if order is not None and order.table == table.name:
        current = order.key == key
        descending = order.descending
    else:  # the table is in its default order, ascending by its first column
        current, descending = key == table.default, False
    aria_sort = ("descending" if descending else "ascending") if current else ""
    descending_next = (not descending) if current else column.descending_first
    value = LiveOrder(table.name, key, descending_next).value
    return LiveHeader(
        href=f"?{SORT_PARAM}={value}#{anchor}",
        aria_sort=aria_sort,
        arrow=ARROWS.get(aria_sort, ""),
        next_direction="descending" if descending_next else "ascending",
    )


def _reported(count: Any) -> tuple[bool, Any]:
    """Never reported sorts before the oldest report."""
    return (count.reported_at is not None, count.reported_at or 0)


# The app page's live tables (edges.counts.AppLive's lists, in their default order).
APP_TABLES: dict[str, LiveTable] = {
    table.name: table
    for table in (
        LiveTable.of(
            "hosts",
            LiveColumn("hostname", lambda h: h.hostname),
            LiveColumn("edge", lambda h: h.edge.name),
            LiveColumn("connections", lambda h: h.connections, descending_first=True),
            LiveColumn("websockets", lambda h: h.websockets, descending_first=True),
        ),
        LiveTable.of(
            "edges",
            LiveColumn("edge", lambda c: c.edge.name),
            LiveColumn("connections", lambda c: c.connections, descending_first=True),
            LiveColumn("reported", _reported, descending_first=True),
        ),
        LiveTable.of(
            "backends",
            LiveColumn("address", lambda b: b.address),
            LiveColumn("hostname", lambda b: b.hostname),
            LiveColumn("edge", lambda b: b.edge.name),
            LiveColumn("connections", lambda b: b.connections, descending_first=True),
            LiveColumn("state", lambda b: b.state),
            default="hostname",  # edges.counts lists them by hostname, then edge
        ),
    )
}

# The overview's edges (edges.counts.PlatformLive.edges, by name).
PLATFORM_TABLES: dict[str, LiveTable] = {
    "edges": LiveTable.of(
        "edges",
        LiveColumn("edge", lambda c: c.edge.name),
        LiveColumn("connections", lambda c: c.connections, descending_first=True),
        LiveColumn("reported", _reported, descending_first=True),
    )
}
