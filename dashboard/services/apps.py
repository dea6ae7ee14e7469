"""Apps and their domains."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from dashboard.models import App, Backend, Domain, Membership, Organization
from dashboard.services.audit import audit_write
from edges.models import Edge
from shared.validators import normalize_hostname, parse_backend_address

MAX_BACKENDS_PER_APP = 100


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


def _check_member(actor: Any, app: App) -> None:
    if actor is None or (actor.is_active and actor.is_staff):
        return
    if not Membership.objects.filter(user=actor, organization_id=app.organization_id).exists():
        raise PermissionDenied("Only members of the app's organization can change its domains.")


def edge_for_hostname(app: App, hostname: str) -> Edge:
    """The organization's custom SSL edge whose certificate covers the hostname, else the
    shared gateway of the app's region."""
    ssl_edges = Edge.objects.filter(
        kind=Edge.Kind.CUSTOM_SSL, organization_id=app.organization_id
    ).select_related("certificate")
    for edge in ssl_edges.order_by("name"):
        certificate = getattr(edge, "certificate", None)
        if certificate is not None and certificate.covers(hostname):
            return edge
    return default_gateway(app.region)


@transaction.atomic
def domain_add(
    *, app: App, hostname: str, edge: Edge | None = None, actor: Any, source: str
) -> Domain:
    """Attach a custom domain, routed through the given edge or the one that fits it."""
    _check_member(actor, app)
    app = App.objects.select_for_update().get(pk=app.pk)
    hostname = normalize_hostname(hostname)
    domain = Domain(
        app=app,
        hostname=hostname,
        kind=Domain.Kind.CUSTOM,
        edge=edge or edge_for_hostname(app, hostname),
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


@transaction.atomic
def domain_remove(*, domain: Domain, actor: Any, source: str) -> None:
    """Detach a custom domain; an app's default domain stays."""
    domain = Domain.objects.select_for_update().select_related("app", "edge").get(pk=domain.pk)
    _check_member(actor, domain.app)
    if domain.kind == Domain.Kind.DEFAULT:
        raise ValidationError("The default domain of an app cannot be removed.")
    audit_write(
        actor=actor,
        source=source,
        action="domain.remove",
        target=domain,
        organization=domain.app.organization,
        app=domain.app,
        before={"hostname": domain.hostname, "app": domain.app.name, "edge": domain.edge.name},
    )
    domain.delete()


@transaction.atomic
def domain_dns_record(*, domain: Domain, status: str, seen: str, actor: Any, source: str) -> Domain:
    """Store what a DNS check found; a changed status is audited."""
    if status not in Domain.DnsStatus.values:
        raise ValidationError(f"Unknown DNS status {status!r}.")
    domain = Domain.objects.select_for_update().select_related("app", "edge").get(pk=domain.pk)
    before = {"dns_status": domain.dns_status, "seen": domain.dns_seen_target}
    domain.dns_status = status
    domain.dns_seen_target = "" if status == Domain.DnsStatus.OK else seen[:253]
    domain.dns_checked_at = timezone.now()
    domain.save(update_fields=["dns_status", "dns_seen_target", "dns_checked_at", "updated_at"])
    if before["dns_status"] != status:
        audit_write(
            actor=actor,
            source=source,
            action="domain.dns_check",
            target=domain,
            organization=domain.app.organization,
            app=domain.app,
            before=before,
            after={"dns_status": status, "seen": domain.dns_seen_target},
        )
    return domain


def _staff_only(actor: Any) -> None:
    if actor is not None and not (actor.is_active and actor.is_staff):
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
