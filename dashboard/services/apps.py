"""Apps and their back-ends."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from dashboard import access
from dashboard.models import App, Backend, Domain, Organization
from dashboard.services.audit import audit_write
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
    backend = Backend(app=app, host=host, port=port)
    backend.full_clean()
    backend.save()
    audit_write(
        actor=actor,
        source=source,
        action="backend.add",
        target=backend,
        organization=app.organization,
        app=app,
        after={"app": app.name, "address": backend.address},
    )
    bus.announce_on_commit(
        "backends.changed",
        {"app": app.name, "organization": app.organization.name, "address": backend.address},
    )
    return backend


@transaction.atomic
def backend_remove(*, backend: Backend, actor: Any, source: str) -> None:
    _staff_only(actor)
    backend = (
        Backend.objects.select_for_update().select_related("app__organization").get(pk=backend.pk)
    )
    audit_write(
        actor=actor,
        source=source,
        action="backend.remove",
        target=backend,
        organization=backend.app.organization,
        app=backend.app,
        before={"app": backend.app.name, "address": backend.address},
    )
    backend.delete()
    bus.announce_on_commit(
        "backends.changed",
        {
            "app": backend.app.name,
            "organization": backend.app.organization.name,
            "address": backend.address,
        },
    )
