"""Apps and their back-ends."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from dashboard import access
from dashboard.models import App, AuditEvent, Backend, Domain, Organization
from dashboard.services.audit import audit_write
from dashboard.services.undo import check_window, removal_of, within_window
from shared import bus
from shared.validators import parse_backend_address

MAX_BACKENDS_PER_APP = 100


@transaction.atomic
def app_create(
    *,
    name: str,
    organization: Organization,
    region: str = App.Region.US,
    stack: str = App.Stack.CEDAR_14,
    created_at: dt.datetime | None = None,
    actor: Any,
    source: str,
) -> App:
    """Create the app and its default domain on a shared gateway of its region."""
    app = App(
        name=name,
        organization=organization,
        region=region,
        stack=stack,
        created_at=created_at or timezone.now(),
    )
    app.full_clean()
    app.save()
    domain = Domain(
        app=app,
        hostname=app.default_hostname,
        kind=Domain.Kind.DEFAULT,
        edge=Domain.edge_manager().gateway_for(region),
        dns_status=Domain.DnsStatus.OK,
    )
    domain.full_clean()
    domain.save()
    audit_write(
        actor=actor,
        source=source,
        action="app.create",
        target=app,
        organization=organization,
        app=app,
        after={
            "name": name,
            "region": region,
            "stack": stack,
            "created_at": app.created_at.isoformat(),
            "default_domain": domain.hostname,
        },
    )
    return app


def _staff_only(actor: Any) -> None:
    if not access.can_change_backends(actor):
        raise PermissionDenied("Only support staff can change an app's back-ends.")


@transaction.atomic
def backend_add(*, app: App, address: str, actor: Any, source: str) -> Backend:
    """Route the app's hostnames to one more web process. Edges pick it up with their next
    configuration poll."""
    _staff_only(actor)
    app = App.objects.select_for_update().get(pk=app.pk)
    host, port = parse_backend_address(address)
    if Backend.objects.filter(app=app, host=host, port=port).exists():
        raise ValidationError({"address": f"{app.name} already has the back-end {address}."})
    if app.backends.count() >= MAX_BACKENDS_PER_APP:
        raise ValidationError({"address": f"An app has at most {MAX_BACKENDS_PER_APP} back-ends."})
    return _route_to(app, host, port, actor=actor, source=source, action="backend.add")


def _route_to(
    app: App, host: str, port: int, *, actor: Any, source: str, action: str, **after: Any
) -> Backend:
    """The back-end's row (the caller checked it may be added), its audit row and its
    announcement after commit."""
    backend = Backend(app=app, host=host, port=port)
    backend.full_clean()
    backend.save()
    audit_write(
        actor=actor,
        source=source,
        action=action,
        target=backend,
        organization=app.organization,
        app=app,
        after={"app": app.name, "address": backend.address, **after},
    )
    _announce_backends(app, backend.address)
    return backend


def _announce_backends(app: App, address: str) -> None:
    bus.announce_on_commit(
        "backends.changed",
        {"app": app.name, "organization": app.organization.name, "address": address},
    )


def _backend_history(app: App, address: str) -> QuerySet[AuditEvent]:
    """The audit rows of one address of the app, newest first."""
    return (
        AuditEvent.objects.filter(app=app, action__in=BACKEND_ACTIONS)
        .filter(Q(before__address=address) | Q(after__address=address))
        .order_by("-created_at", "-id")
    )


BACKEND_ACTIONS = ("backend.add", "backend.remove", "backend.restore")


def backend_removal(app: App, removal_id: object) -> AuditEvent | None:
    """The audit row of a back-end's removal from the app, by its id (None if it is not one)."""
    return removal_of(app, removal_id, "backend.remove")


def may_restore_backend(user: Any, removal: AuditEvent | None) -> bool:
    """Whether the page offers `user` to undo the removal: support, for a short while."""
    if removal is None:
        return False
    return access.can_change_backends(user) and within_window(removal.created_at)


@transaction.atomic
def backend_restore(*, app: App, removal_id: object, actor: Any, source: str) -> Backend:
    """Undo a back-end's removal for a short while: route to the same address again, unless the
    address changed since (added again, or removed later)."""
    _staff_only(actor)
    app = App.objects.select_for_update().select_related("organization").get(pk=app.pk)
    removal = backend_removal(app, removal_id)
    if removal is None or not isinstance(removal.before, dict):
        raise ValidationError("There is no such removal of a back-end of this app to undo.")
    address = str(removal.before.get("address", ""))
    check_window(removal.created_at, f"The removal of {address}")
    host, port = parse_backend_address(address)
    if Backend.objects.filter(app=app, host=host, port=port).exists():
        raise ValidationError(f"{address} is a back-end of {app.name} again already.")
    latest = _backend_history(app, address).first()
    if latest is not None and latest.pk != removal.pk:
        raise ValidationError(
            f"{address} changed since it was removed ({latest.summary} by "
            f"{latest.actor_label}): add it again instead."
        )
    if app.backends.count() >= MAX_BACKENDS_PER_APP:
        raise ValidationError(f"An app has at most {MAX_BACKENDS_PER_APP} back-ends.")
    return _route_to(
        app, host, port, actor=actor, source=source, action="backend.restore", undoes=removal.pk
    )


@transaction.atomic
def backend_remove(*, backend: Backend, actor: Any, source: str) -> AuditEvent:
    """Stop routing to the back-end; its audit row is what an undo brings it back from."""
    _staff_only(actor)
    backend = (
        Backend.objects.select_for_update().select_related("app__organization").get(pk=backend.pk)
    )
    removal = audit_write(
        actor=actor,
        source=source,
        action="backend.remove",
        target=backend,
        organization=backend.app.organization,
        app=backend.app,
        before={"app": backend.app.name, "address": backend.address},
    )
    backend.delete()
    _announce_backends(backend.app, backend.address)
    return removal
