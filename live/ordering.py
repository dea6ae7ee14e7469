"""The order and page of a page's live tables, picked in its URL and kept by its socket.

A live table's rows are numbers held in memory (edges.counts), so it is sorted in Python, not by
the database. One table of a page is sorted at a time: `?sort=hosts.-connections` sorts the app
page's hostnames by connections, most first; the others keep their default order. A table shows
LIVE_ROWS rows; `&live_page=2` turns the sorted table's page. The page's socket carries the
same parameters, so its view is rendered in that order for every update (`Topic.in_order`):
sockets that asked for the same share one view. Unknown tables and columns fall back to the
defaults: user input only ever picks from these lists.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

from django.core.paginator import Paginator
from django.http import QueryDict
from django.utils.formats import number_format

SORT_PARAM = "sort"
PAGE_PARAM = "live_page"  # not `page`: the overview's apps table turns its pages with that
# The rows of a live table on one page: an app's back-ends times its hostnames and edges can
# run to thousands, each rendered again when its numbers move.
LIVE_ROWS = 50
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
    anchor: str  # the id of the panel a header or pager link comes back to
    noun: str  # what the pager calls its rows

    @classmethod
    def of(
        cls, name: str, *columns: LiveColumn, anchor: str, noun: str, default: str = ""
    ) -> LiveTable:
        return cls(name, {c.key: c for c in columns}, default or columns[0].key, anchor, noun)


@dataclass(frozen=True)
class LiveOrder:
    table: str
    key: str
    descending: bool
    page: int = 1

    @property
    def value(self) -> str:
        """The `sort` parameter."""
        return f"{self.table}.{'-' if self.descending else ''}{self.key}"

    @property
    def query(self) -> str:
        """The URL's query (and the socket's) that picks this order and page."""
        page = f"&{PAGE_PARAM}={self.page}" if self.page > 1 else ""
        return f"{SORT_PARAM}={self.value}{page}"


@dataclass(frozen=True)
class LiveHeader:
    href: str
    aria_sort: str
    arrow: str
    next_direction: str


def live_order(raw: str, tables: dict[str, LiveTable], page: str = "") -> LiveOrder | None:
    """The order `?sort=` asks for (and the page of that table), if it names a column of one of
    `tables`; else None (every table in its default order, on its first page)."""
    table_name, _, column = raw.partition(".")
    table = tables.get(table_name)
    key = column.removeprefix("-")
    if table is None or key not in table.columns:
        return None
    # ASCII digits only: "²" is a digit to str.isdigit, not to int().
    number = int(page) if page.isascii() and page.isdigit() and len(page) < 7 else 1
    order = LiveOrder(table_name, key, column.startswith("-"), max(number, 1))
    default = order.value == f"{table_name}.{table.default}"
    return None if default and order.page == 1 else order


def order_from(query: QueryDict, tables: dict[str, LiveTable]) -> LiveOrder | None:
    return live_order(query.get(SORT_PARAM, "")[:60], tables, query.get(PAGE_PARAM, ""))


@dataclass(frozen=True)
class LivePage:
    """One page of a live table, with what its pager says and links to (pages/_pager.html)."""

    rows: list[Any]
    number: int
    count: int
    noun: str
    previous_href: str
    next_href: str

    @property
    def several_pages(self) -> bool:
        return bool(self.previous_href or self.next_href)

    @property
    def summary(self) -> str:
        first = (self.number - 1) * LIVE_ROWS + 1
        last = min(self.number * LIVE_ROWS, self.count)
        grouped = [number_format(n, force_grouping=True) for n in (first, last, self.count)]
        return f"{grouped[0]}\N{EN DASH}{grouped[1]} of {grouped[2]} {self.noun}"


def ordered_page(rows: Iterable[Row], table: LiveTable, order: LiveOrder | None) -> LivePage:
    """The rows (given in the table's default order) sorted as the URL picked, if it picked
    this table (a stable sort keeps the default order among ties), and the page of them it
    asks for, else the first; a page past the end gives the last."""
    at = order if order is not None and order.table == table.name else None
    rows = list(rows)
    if at is not None:
        rows.sort(key=table.columns[at.key].value, reverse=at.descending)
    if len(rows) <= LIVE_ROWS:
        # One page, whichever was asked for: what the paginator would say, without it (a
        # live update renders three tables, most of a handful of rows).
        return LivePage(rows, 1, len(rows), table.noun, "", "")
    page = Paginator(rows, LIVE_ROWS).get_page(at.page if at is not None else 1)
    links = at or LiveOrder(table.name, table.default, False)

    def href(number: int) -> str:
        query = LiveOrder(links.table, links.key, links.descending, number).query
        return f"?{query}#{table.anchor}"

    return LivePage(
        rows=list(page.object_list),
        number=page.number,
        count=len(rows),
        noun=table.noun,
        previous_href=href(page.previous_page_number()) if page.has_previous() else "",
        next_href=href(page.next_page_number()) if page.has_next() else "",
    )


def header(table: LiveTable, key: str, order: LiveOrder | None) -> LiveHeader:
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
        href=f"?{SORT_PARAM}={value}#{table.anchor}",
        aria_sort=aria_sort,
        arrow=ARROWS.get(aria_sort, ""),
        next_direction="descending" if descending_next else "ascending",
    )


def _username(row: tuple[Any, Any]) -> str:
    return str(row[0].user.get_username())


def _reported(count: Any) -> tuple[bool, Any]:
    """Never reported sorts before the oldest report."""
    return (count.reported_at is not None, count.reported_at or 0)


def _edge_counts(anchor: str) -> LiveTable:
    """A table of edges' numbers (edges.counts.EdgeCount), by name unless sorted."""
    return LiveTable.of(
        "edges",
        LiveColumn("edge", lambda c: c.edge.name),
        LiveColumn("connections", lambda c: c.connections, descending_first=True),
        LiveColumn("reported", _reported, descending_first=True),
        anchor=anchor,
        noun="edges",
    )


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
            anchor="app-live",
            noun="hostnames",
        ),
        _edge_counts(anchor="app-live"),
        LiveTable.of(
            "backends",
            LiveColumn("address", lambda b: b.address),
            LiveColumn("hostname", lambda b: b.hostname),
            LiveColumn("edge", lambda b: b.edge.name),
            LiveColumn("connections", lambda b: b.connections, descending_first=True),
            LiveColumn("state", lambda b: b.state),
            default="hostname",  # edges.counts lists them by hostname, then edge
            anchor="app-live",
            noun="back-end rows",
        ),
        # Not numbers, but pushed whole like them when a domain changes (live.panels).
        LiveTable.of(
            "domains",
            LiveColumn("kind", lambda d: d.kind),  # the default: then by hostname
            LiveColumn("hostname", lambda d: d.hostname),
            LiveColumn("edge", lambda d: d.edge.name),
            LiveColumn("dns", lambda d: d.dns_status),
            anchor="domains-panel",
            noun="domains",
        ),
        # Not live at all, but sorted in Python as well: (membership, what the role may do).
        LiveTable.of(
            "people",
            LiveColumn("role", lambda row: (row[0].role != "owner", _username(row))),
            LiveColumn("person", _username),
            anchor="collaborators",
            noun="people",
        ),
    )
}

# The overview's edges (edges.counts.PlatformLive.edges, by name).
PLATFORM_TABLES: dict[str, LiveTable] = {"edges": _edge_counts(anchor="platform-live")}
