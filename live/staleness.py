"""Numbers that change with no event: an edge that goes silent turns stale, and every page
showing it must grey it out and leave it out of totals.

Every report is announced (`counts.changed` names the edge that reported), so each hub knows when
it last heard from each edge and sets a timer for the moment it would turn stale; the database is
read once, when the hub subscribes, for the reports before it was listening.
"""

from __future__ import annotations

from django.utils import timezone

from edges.live_state import live_state
from edges.models import Edge


def edge_report_ages() -> dict[str, float | None]:
    """Seconds since each edge's last report (None: never heard from): the live state's time
    where it has the edge (the database's is written about once a minute), else the database's."""
    now = timezone.now()
    heard = {i: s.reported_at for i, s in live_state().states_of().items()}
    return {
        name: (now - at).total_seconds() if at is not None else None
        for pk, name, stored in Edge.objects.values_list("pk", "name", "last_report_at")
        for at in [heard.get(pk, stored)]
    }
