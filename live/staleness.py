"""Numbers that change with no event: an edge that goes silent turns stale, and every page
showing it must grey it out and leave it out of totals.

Every report is announced (`counts.changed` names the edge that reported), so each hub knows when
it last heard from each edge and sets a timer for the moment it would turn stale; the database is
read once, when the hub subscribes, for the reports before it was listening.
"""

from __future__ import annotations

from django.utils import timezone

from edges.models import Edge


def edge_report_ages() -> dict[str, float | None]:
    """Seconds since each edge's last report (None: never heard from)."""
    now = timezone.now()
    return {
        name: (now - at).total_seconds() if at is not None else None
        for name, at in Edge.objects.values_list("name", "last_report_at")
    }
