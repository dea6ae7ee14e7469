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


@register.simple_tag
def last_known_badge() -> str:
    """Beside live numbers: a mark when they are the last this server could read."""
    if not numbers_are_last_known():
        return ""
    return format_html(
        '<span class="badge warn" title="{}">last known</span>',
        "The live numbers cannot be read right now; these are the last this server read.",
    )
