from __future__ import annotations

import datetime as dt
from typing import Any

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString

from dashboard.models import AuditEvent
from edges.counts import numbers_are_last_known
from live.cells import TIME_STYLES, count_cell, time_cell
from live.cells import dom_id as cells_dom_id
from live.ordering import APP_TABLES, PLATFORM_TABLES
from live.ordering import header as live_header
from pages.tables import TABLES, PageLinks, request_query

register = template.Library()


@register.filter
def dom_id(value: str) -> str:
    """A hostname as part of an element id (live.cells.dom_id)."""
    return cells_dom_id(str(value))


@register.simple_tag
def timestamp(value: dt.datetime | None, style: str = "datetime", id: str = "") -> SafeString:
    """Every moment a page shows, as `<time datetime="…Z">` reading UTC without JavaScript
    (live.cells.time_cell: the same markup as the hub's pushes)."""
    if value is None:
        return SafeString("")
    if style not in TIME_STYLES:
        raise template.TemplateSyntaxError(f"timestamp: unknown style {style!r}")
    return SafeString(time_cell(value, style, id))


@register.simple_tag
def number(*id_parts: object, of: int) -> SafeString:
    """A live number, its id the parts joined with dashes: `{% number "app" app.name
    "connections" of=live.connections %}` (live.cells.count_cell: the markup of the pushes)."""
    return SafeString(count_cell("-".join(map(str, id_parts)), of))


@register.filter
def reason_for(event: AuditEvent, viewer: Any) -> str:
    """An audit event's reason as the viewer may read it (support's stay internal); a template
    rendered without a viewer reads none."""
    if not hasattr(viewer, "is_authenticated"):
        return ""
    return event.reason_for(viewer)


@register.simple_tag(takes_context=True)
def last_known_badge(context: template.Context) -> str:
    """Beside live numbers: a mark when they are the last this server could read (as the panel's
    render read it, `last_known`, when it did)."""
    known = context.get("last_known")
    if not (numbers_are_last_known() if known is None else known):
        return ""
    return format_html(
        '<span class="badge warn" title="{}">last known</span>',
        "The live numbers cannot be read right now; these are the last this server read.",
    )


@register.inclusion_tag("_sort_header.html", takes_context=True)
def sort_header(
    context: template.Context, table: str, key: str, label: str, num: bool = False
) -> dict[str, Any]:
    """A sortable column's header: a link that sorts by it (keeping the page's filters), with
    `aria-sort` and an arrow on the column the table is sorted by. Rendered without a request
    (a live push), it shows the table's default sort."""
    sorting = TABLES[table].sorting(request_query(context.get("request")))
    return {"header": sorting.header(key), "label": label, "num": num}


# The pages with sortable live tables, and their tables.
LIVE_PAGES = {"app": APP_TABLES, "platform": PLATFORM_TABLES}


@register.inclusion_tag("_sort_header.html", takes_context=True)
def live_sort_header(
    context: template.Context, page: str, table: str, key: str, label: str, num: bool = False
) -> dict[str, Any]:
    """A live table's sortable header (live.ordering), the same in the page and in its pushes:
    both read the order the view is rendered in from `live_order`."""
    header = live_header(LIVE_PAGES[page][table], key, context.get("live_order"))
    return {"header": header, "label": label, "num": num}


@register.inclusion_tag("_pager.html")
def pager(page: PageLinks, label: str = "Pages") -> dict[str, Any]:
    """`1 to 50 of 10,000 apps` (an en dash) with Previous and Next links that keep the
    filters and the sort."""
    return {"page": page, "label": label}


def _audit_value(value: Any) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, list):
        return ", ".join(str(item) for item in value) or "—"
    if isinstance(value, dict):
        return ", ".join(f"{key}: {item}" for key, item in value.items()) or "—"
    return str(value)


@register.filter
def audit_changes(event: AuditEvent) -> list[dict[str, str]]:
    """An event's before and after, one line per field that changed (a field the change left as
    it was says nothing); a creation lists what was set, a removal what was there."""
    before = event.before if isinstance(event.before, dict) else {}
    after = event.after if isinstance(event.after, dict) else {}
    fields = [*before, *(key for key in after if key not in before)]
    return [
        {
            "field": field.replace("_", " "),
            "before": _audit_value(before[field]) if field in before else "",
            "after": _audit_value(after[field]) if field in after else "",
        }
        for field in fields
        if field not in before or field not in after or before[field] != after[field]
    ]


@register.filter
def lookup(mapping: dict[Any, Any] | None, key: Any) -> Any:
    """`mapping[key]`, or "" when the mapping or the key is missing (a row pushed live carries
    no sparkline: the page keeps the one it has)."""
    return (mapping or {}).get(key, "")
