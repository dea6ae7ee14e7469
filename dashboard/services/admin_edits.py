"""Admin edits of rows no other service owns a rule for: locked, saved, audited with their before
and after values, and pushed to the live pages they change, in one transaction."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.db import models, transaction

from dashboard.models import App, AuditEvent, Backend, Domain, Membership, Organization
from dashboard.services.accounts import membership_remove
from dashboard.services.audit import audit_write
from shared import bus

# Never copied into the audit trail.
SECRET_FIELDS = frozenset({"password", "token_hash", "ingest_token_hash"})


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
    if field in SECRET_FIELDS:
        return "(changed)"
    model_field = next((f for f in instance._meta.get_fields() if f.name == field), None)
    if model_field is not None and model_field.many_to_many:
        if instance.pk is None:
            return []
        return sorted(str(related) for related in getattr(instance, field).all())
    value = getattr(instance, field, None)
    if isinstance(value, models.Model):
        return str(value)
    if isinstance(value, str | int | float | bool | list | dict) or value is None:
        return value
    return str(value)


def _announce(instance: models.Model, *, was: models.Model | None = None) -> None:
    """The live pages an admin edit of the row changes."""
    if isinstance(instance, Domain | Backend):
        if isinstance(instance, Domain):
            event, detail = "domains.changed", {"hostname": instance.hostname}
        else:
            event, detail = "backends.changed", {"address": instance.address}
        apps = {instance.app, *([was.app] if was is not None else [])}  # type: ignore[attr-defined]
        for app in sorted(apps, key=lambda a: a.pk):
            payload = {"app": app.name, "organization": app.organization.name, **detail}
            bus.announce_on_commit(event, payload)
    elif isinstance(instance, get_user_model()):
        # Deactivated, or no longer staff: the user's sockets check their access again.
        bus.announce_on_commit("access.changed", {"user": instance.pk})


@transaction.atomic
def admin_model_save(
    *,
    instance: models.Model,
    changed_fields: list[str],
    created: bool,
    actor: Any,
    values: dict[str, Any] | None = None,
) -> None:
    """Save the row with the fields the admin form changed, and only those (a concurrent write
    to another field stays). `values` are the new values of fields saved later (many-to-many)."""
    if isinstance(instance, AuditEvent):
        raise PermissionError("The audit trail is read-only.")
    model = type(instance)
    before, was = None, None
    if created:
        instance.save()
    else:
        was = model._default_manager.select_for_update().get(pk=instance.pk)
        before = {field: _value(was, field) for field in changed_fields}
        concrete = {f.name for f in model._meta.concrete_fields if not f.primary_key}
        automatic = [f.name for f in model._meta.concrete_fields if getattr(f, "auto_now", False)]
        update = [f for f in changed_fields if f in concrete]
        if update:
            instance.save(update_fields=[*update, *automatic])
    after = {field: _value(instance, field) for field in changed_fields}
    after.update({k: v for k, v in (values or {}).items() if k in after})
    organization, app = _owner_of(instance)
    audit_write(
        actor=actor,
        source=AuditEvent.Source.ADMIN,
        action=f"{instance._meta.model_name}.{'create' if created else 'change'}",
        target=instance,
        organization=organization,
        app=app,
        before=before,
        after=after,
    )
    _announce(instance, was=was)


@transaction.atomic
def admin_model_delete(*, instance: models.Model, actor: Any) -> None:
    if isinstance(instance, AuditEvent):
        raise PermissionError("The audit trail is read-only.")
    if isinstance(instance, Membership):
        membership_remove(membership=instance, actor=actor, source=AuditEvent.Source.ADMIN)
        return
    instance = type(instance)._default_manager.select_for_update().get(pk=instance.pk)
    organization, app = _owner_of(instance)
    concrete = [f.name for f in instance._meta.concrete_fields if not f.primary_key]
    audit_write(
        actor=actor,
        source=AuditEvent.Source.ADMIN,
        action=f"{instance._meta.model_name}.delete",
        target=instance,
        organization=organization,
        app=None if isinstance(instance, App) else app,
        before={"label": str(instance), **{f: _value(instance, f) for f in concrete}},
    )
    _announce(instance)
    instance.delete()
