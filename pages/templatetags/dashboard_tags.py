from __future__ import annotations

from django import template
from django.utils.html import format_html

from edges.counts import numbers_are_last_known

register = template.Library()


@register.filter
def dom_id(value: str) -> str:
    """A hostname as part of an element id: dots and colons become dashes."""
    return str(value).replace(".", "-").replace(":", "-")


@register.simple_tag
def last_known_badge() -> str:
    """Beside live numbers: a mark when they are the last this server could read."""
    if not numbers_are_last_known():
        return ""
    return format_html(
        '<span class="badge warn" title="{}">last known</span>',
        "The live numbers cannot be read right now; these are the last this server read.",
    )
