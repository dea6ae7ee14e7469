"""The audit trail: every service writes its row here, inside its own transaction."""

from __future__ import annotations

from typing import Any

from django.db import models

from dashboard.models import App, AuditEvent, Organization

SYSTEM_ACTOR = "system"


def actor_label(actor: Any) -> str:
    return actor.get_username() if actor is not None else SYSTEM_ACTOR


def audit_write(
    *,
    actor: Any,
    source: str,
    action: str,
    target: models.Model,
    organization: Organization | None,
    app: App | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    reason: str = "",
    reason_shared: bool | None = None,
) -> AuditEvent:
    """`reason_shared`: whether the organization's members may read the reason; by default
    only when the actor is one of them (support's and the platform's reasons are internal)."""
    if source not in AuditEvent.Source.values:
        raise ValueError(f"unknown audit source {source!r}")
    if reason_shared is None:
        reason_shared = bool(actor is not None and not actor.is_staff)
    return AuditEvent.objects.create(
        actor=actor,
        actor_label=actor_label(actor),
        source=source,
        action=action,
        organization=organization,
        app=app,
        target_type=target._meta.model_name or "",
        target_id=str(target.pk),
        target_label=str(target)[:255],
        before=before,
        after=after,
        reason=reason,
        reason_shared=bool(reason) and reason_shared,
    )
