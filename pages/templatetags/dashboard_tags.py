from __future__ import annotations

from django import template

register = template.Library()


@register.filter
def dom_id(value: str) -> str:
    """A hostname as part of an element id: dots and colons become dashes."""
    return str(value).replace(".", "-").replace(":", "-")
