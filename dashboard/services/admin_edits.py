"""Edits made in the admin site: saved and audited in one transaction."""

from __future__ import annotations

from typing import Any

from django.db import models, transaction

from dashboard.models import App, AuditEvent, Membership, Organization
from dashboard.services.accounts import membership_remove
from dashboard.services.audit import audit_write


def _owner_of(instance: models.Model) -> tuple[Organization | None, App | None]:
    app = instance if isinstance(instance, App) else getattr(instance, "app", None)
    if isinstance(instance, Organization):
        return instance, None
    organization = getattr(instance, "organization", None)
    if organization is None and app is not None:
        organization = app.organization
    if organization is None and getattr(instance, "edge_id", None):
        organization = instance.edge.organization  # type: ignore[attr-defined]
    return organization, app if isinstance(app, App) else None


def _value(instance: models.Model, field: str) -> Any:
    value = getattr(instance, field, None)
    if isinstance(value, models.Model):
        return str(value)
    if isinstance(value, str | int | float | bool | list | dict) or value is None:
        return value
    return str(value)


@transaction.atomic
def admin_model_save(
    *, instance: models.Model, changed_fields: list[str], created: bool, actor: Any
) -> None:
    if isinstance(instance, AuditEvent):
        raise PermissionError("The audit trail is read-only.")
    instance.save()
    organization, app = _owner_of(instance)
    audit_write(
        actor=actor,
        source=AuditEvent.Source.ADMIN,
        action=f"{instance._meta.model_name}.{'create' if created else 'change'}",
        target=instance,
        organization=organization,
        app=app,
        after={field: _value(instance, field) for field in changed_fields},
    )


@transaction.atomic
def admin_model_delete(*, instance: models.Model, actor: Any) -> None:
    if isinstance(instance, AuditEvent):
        raise PermissionError("The audit trail is read-only.")
    if isinstance(instance, Membership):
        membership_remove(membership=instance, actor=actor, source=AuditEvent.Source.ADMIN)
        return
    organization, app = _owner_of(instance)
    audit_write(
        actor=actor,
        source=AuditEvent.Source.ADMIN,
        action=f"{instance._meta.model_name}.delete",
        target=instance,
        organization=organization,
        app=None if isinstance(instance, App) else app,
        before={"label": str(instance)},
    )
    instance.delete()
