"""Apps and their domains."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from dashboard.models import App, Domain, Organization
from dashboard.services.audit import audit_write
from dashboard.validators import normalize_hostname
from edges.models import Edge


def default_gateway(region: str) -> Edge:
    gateways = Edge.objects.filter(kind=Edge.Kind.GATEWAY).order_by("name")
    gateway = gateways.filter(region=region).first() or gateways.first()
    if gateway is None:
        raise ValidationError("There is no shared gateway to route the app's default domain.")
    return gateway


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
        edge=default_gateway(region),
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


@transaction.atomic
def domain_add(
    *, app: App, hostname: str, edge: Edge | None = None, actor: Any, source: str
) -> Domain:
    """Attach a custom domain, routed through the given edge or the app's shared gateway."""
    app = App.objects.select_for_update().get(pk=app.pk)
    domain = Domain(
        app=app,
        hostname=normalize_hostname(hostname),
        kind=Domain.Kind.CUSTOM,
        edge=edge or default_gateway(app.region),
    )
    domain.full_clean()
    domain.save()
    audit_write(
        actor=actor,
        source=source,
        action="domain.add",
        target=domain,
        organization=app.organization,
        app=app,
        after={"hostname": domain.hostname, "app": app.name, "edge": domain.edge.name},
    )
    return domain
