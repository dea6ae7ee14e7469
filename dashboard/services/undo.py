"""Undoing a change for a short while: how long, and which audit row a change left."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.utils import timezone

from dashboard.models import AuditEvent

# How long a revoked token or a removed back-end can be brought back from the page.
UNDO_WINDOW = dt.timedelta(minutes=5)


def undo_deadline(done_at: dt.datetime) -> dt.datetime:
    return done_at + UNDO_WINDOW


def within_window(done_at: dt.datetime | None, now: dt.datetime | None = None) -> bool:
    return done_at is not None and (now or timezone.now()) <= undo_deadline(done_at)


def check_window(done_at: dt.datetime, what: str) -> None:
    if not within_window(done_at):
        minutes = int(UNDO_WINDOW.total_seconds() // 60)
        raise ValidationError(
            f"{what} can only be undone for {minutes} minutes; that time has passed.",
            code="too_late",
        )


def removal_of(app: Any, removal_id: object, action: str) -> AuditEvent | None:
    """The audit row of a removal from the app (`action`), by the id a form or a URL gave
    (None if it is not one: garbled, out of range, another app's or another action's)."""
    try:
        pk = int(str(removal_id))
    except ValueError:
        return None
    if not 0 < pk < 2**63:
        return None
    return AuditEvent.objects.filter(pk=pk, app=app, action=action).first()


def last_change(target_type: str, target_id: object) -> AuditEvent | None:
    """The latest audit row about one row (its type and primary key)."""
    return (
        AuditEvent.objects.filter(target_type=target_type, target_id=str(target_id))
        .order_by("-created_at", "-id")
        .first()
    )
