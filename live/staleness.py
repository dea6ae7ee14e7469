"""Numbers that change with no event: an edge that goes silent turns stale, and every page
showing it must grey it out and leave it out of totals. The hub polls this once a second."""

from __future__ import annotations

from edges.models import Edge


def stale_edge_names() -> set[str]:
    return set(Edge.objects.stale().values_list("name", flat=True))
