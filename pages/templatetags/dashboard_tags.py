from __future__ import annotations

import datetime as dt
from typing import Any

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString

from dashboard.models import AuditEvent
from edges.counts import numbers_are_last_known

register = template.Library()

# How a moment reads without JavaScript, in UTC and saying so; static/js/local-time.js rewrites
# it in the browser's own zone ("relative": "3 min ago" for the last day; "since": a ticking
# "N s ago"; "date": the day alone).
TIME_STYLES = {
    "datetime": "%Y-%m-%d %H:%M UTC",
    "relative": "%Y-%m-%d %H:%M UTC",
    "since": "%H:%M:%S UTC",
    "date": "%Y-%m-%d",
}


@register.filter
def dom_id(value: str) -> str:
    """A hostname as part of an element id: dots and colons become dashes."""
    return str(value).replace(".", "-").replace(":", "-")


@register.simple_tag
def timestamp(value: dt.datetime | None, style: str = "datetime", id: str = "") -> SafeString:
    """Every moment a page shows: `<time datetime="…Z">2026-11-30 15:05 UTC</time>`, which the
    browser rewrites in its own zone (the id, first, keeps it a live cell: live/cells.py)."""
    if value is None:
        return SafeString("")
    if style not in TIME_STYLES:
        raise template.TemplateSyntaxError(f"timestamp: unknown style {style!r}")
    when = value.astimezone(dt.UTC) if isinstance(value, dt.datetime) else value
    machine = when.strftime("%Y-%m-%dT%H:%M:%SZ") if isinstance(when, dt.datetime) else str(when)
    id_attribute = format_html(' id="{}"', id) if id else ""
    return format_html(
        '<time{} datetime="{}" data-local="{}" title="{}">{}</time>',
        id_attribute,
        machine,
        style,
        when.strftime("%Y-%m-%d %H:%M:%S UTC") if isinstance(when, dt.datetime) else machine,
        when.strftime(TIME_STYLES[style]),
    )


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
