"""Sortable, paginated tables: a whitelist of columns turns `?sort=-name` into an `order_by`
and into the header links (with `aria-sort` and an arrow), and a page of rows says where it is
("1 to 50 of 10,000", with an en dash) with links that keep every other parameter of the page
(search, filters).

A header link keeps the filters and starts again at the first page; a pager link keeps the
filters and the sort. Unknown columns and garbled values fall back to the table's default: user
input never reaches `order_by`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.core.paginator import Page, Paginator
from django.http import HttpRequest, QueryDict
from django.utils.formats import number_format

SORT_PARAM = "sort"
PAGE_PARAM = "page"
ARROWS = {"ascending": "▲", "descending": "▼"}


@dataclass(frozen=True)
class Column:
    """One sortable column: its name in the URL, and the fields it orders by (ascending)."""

    key: str
    fields: tuple[str, ...]
    # Dates and counts read best largest or newest first on the first click.
    descending_first: bool = False


@dataclass(frozen=True)
class Header:
    """What the sortable header include needs to draw one column's header."""

    key: str
    href: str
    aria_sort: str  # "ascending", "descending" or "" when the table is sorted by another column
    arrow: str
    next_direction: str


@dataclass(frozen=True)
class Sorting:
    """A table's sort as the request asked for it, once checked against the whitelist."""

    table: Table
    key: str
    descending: bool
    query: QueryDict

    @property
    def value(self) -> str:
        """The `sort` parameter that gives this sort (for forms that keep it)."""
        return f"-{self.key}" if self.descending else self.key

    @property
    def is_default(self) -> bool:
        return self.value == self.table.default

    @property
    def order_by(self) -> list[str]:
        column = self.table.columns[self.key]
        sign = "-" if self.descending else ""
        ordering = [_signed(name, sign) for name in column.fields]
        # A unique last key keeps pages stable when many rows tie.
        return [*ordering, f"{sign}{self.table.tiebreak}"]

    def header(self, key: str) -> Header:
        column = self.table.columns[key]
        if key == self.key:
            aria_sort = "descending" if self.descending else "ascending"
            descending_next = not self.descending
        else:
            aria_sort = ""
            descending_next = column.descending_first
        params = self.query.copy()
        params.pop(PAGE_PARAM, None)
        params[SORT_PARAM] = f"-{key}" if descending_next else key
        return Header(
            key=key,
            href=f"?{params.urlencode()}",
            aria_sort=aria_sort,
            arrow=ARROWS.get(aria_sort, ""),
            next_direction="descending" if descending_next else "ascending",
        )


def _signed(name: str, sign: str) -> str:
    """`-` flips a field's direction: a column may order by a field descending first."""
    if name.startswith("-"):
        return name[1:] if sign else name
    return f"{sign}{name}"


@dataclass(frozen=True)
class Table:
    """The columns a table may be sorted by, and its sort when the URL names none."""

    columns: dict[str, Column]
    default: str
    tiebreak: str = "pk"

    @classmethod
    def of(cls, *columns: Column, default: str, tiebreak: str = "pk") -> Table:
        table = cls({column.key: column for column in columns}, default, tiebreak)
        if default.removeprefix("-") not in table.columns:
            raise ValueError(f"default sort {default!r} is not one of the columns")
        return table

    def sorting(self, query: QueryDict) -> Sorting:
        raw = query.get(SORT_PARAM, "")
        key = raw.removeprefix("-")
        if key not in self.columns:
            raw = self.default
            key = raw.removeprefix("-")
        return Sorting(table=self, key=key, descending=raw.startswith("-"), query=query)


def request_query(request: HttpRequest | None) -> QueryDict:
    return request.GET if request is not None else QueryDict()


@dataclass
class PageLinks:
    """A page of rows and the words and links of its pager."""

    page: Page
    query: QueryDict
    noun: str = "rows"

    @property
    def object_list(self) -> Any:
        return self.page.object_list

    @property
    def count(self) -> int:
        return self.page.paginator.count

    @property
    def several_pages(self) -> bool:
        return self.page.paginator.num_pages > 1

    @property
    def summary(self) -> str:
        """Where the page is: `1 to 50 of 10,000 apps`, with an en dash."""
        if not self.count:
            return f"No {self.noun}"
        first = number_format(self.page.start_index(), force_grouping=True)
        last = number_format(self.page.end_index(), force_grouping=True)
        total = number_format(self.count, force_grouping=True)
        return f"{first}\N{EN DASH}{last} of {total} {self.noun}"

    def _href(self, number: int) -> str:
        params = self.query.copy()
        params[PAGE_PARAM] = str(number)
        return f"?{params.urlencode()}"

    @property
    def previous_href(self) -> str:
        return self._href(self.page.previous_page_number()) if self.page.has_previous() else ""

    @property
    def next_href(self) -> str:
        return self._href(self.page.next_page_number()) if self.page.has_next() else ""

    @property
    def number(self) -> int:
        return self.page.number


def paginate(
    rows: Any,
    query: QueryDict,
    per_page: int,
    noun: str = "rows",
    load: Callable[[Any], list[Any]] | None = None,
) -> PageLinks:
    """The page the URL asks for; a page number that is garbled or past the end gives the first
    or the last page, never an error. `load` turns the page's slice of `rows` into the rows
    shown: costly columns are then computed for that page only, not for every row an OFFSET
    skips."""
    page = Paginator(rows, per_page).get_page(query.get(PAGE_PARAM))
    if load is not None:
        page.object_list = load(page.object_list)
    return PageLinks(page=page, query=query, noun=noun)


# Every sortable table of the pages, by the name its headers use in templates
# (`{% sort_header "apps" "name" "App" %}`). A column missing here is not sortable: the
# WebSockets column (a rule in Python over the explicit setting and the app's age). The live
# tables, whose numbers are in memory, sort in Python: live.ordering.
TABLES: dict[str, Table] = {
    "apps": Table.of(
        Column("name", ("name",)),
        Column("organization", ("organization__name", "name")),
        Column("region", ("region", "stack")),
        Column("domains", ("domain_count",), descending_first=True),
        Column("created", ("created_at",), descending_first=True),
        default="name",
    ),
    "audit": Table.of(
        Column("when", ("created_at",), descending_first=True),
        Column("who", ("actor_label",)),
        Column("action", ("action",)),
        Column("organization", ("organization__name",)),
        Column("source", ("source",)),
        default="-when",
    ),
    "upgrades": Table.of(
        Column("number", ("pk",)),
        Column("edge", ("edge__name",)),
        Column("organization", ("edge__organization__name", "edge__name")),
        Column("state", ("state",)),
        Column("requested", ("created_at",)),
        Column("window", ("scheduled_for",)),
        default="requested",
    ),
    "edge-domains": Table.of(
        Column("hostname", ("hostname",)),
        Column("app", ("app__name", "hostname")),
        Column("organization", ("app__organization__name", "app__name", "hostname")),
        Column("dns", ("dns_status", "hostname")),
        default="app",
    ),
    "tokens": Table.of(
        Column("token", ("prefix",)),
        Column("label", ("label",)),
        Column("created", ("created_at",), descending_first=True),
        Column("expires", ("expires_at",)),
        Column("last-used", ("last_used_at",), descending_first=True),
        default="-created",
    ),
}
