"""Custom domains: attached, routed through the edge that fits them, removed, DNS-checked."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from dashboard import access
from dashboard.models import App, Domain
from dashboard.models.features import websockets_enabled
from dashboard.services.audit import audit_write
from shared import bus
from shared.validators import normalize_hostname


def _check_member(actor: Any, app: App) -> None:
    if not access.can_change_domains(actor, app):
        raise PermissionDenied("Only members of the app's organization can change its domains.")


def _announce(app: App, hostname: str) -> None:
    payload = {"app": app.name, "organization": app.organization.name, "hostname": hostname}
    bus.announce_on_commit("domains.changed", payload)


def _websockets_in_the_way(app: App, kind: str, edge: Any) -> None:
    """A custom domain cannot go through an edge that blocks WebSockets while the app has
    websockets on (the app would show the feature on while readiness says no)."""
    if kind == Domain.Kind.CUSTOM and edge.blocks_websockets and websockets_enabled([app])[app.pk]:
        raise ValidationError(
            {
                "edge": f"{edge.name} cannot carry WebSockets and websockets is on for "
                f"{app.name}: turn it off first, or route the domain through another edge."
            },
            code="websockets_on",
        )


@transaction.atomic
def domain_add(*, app: App, hostname: str, edge: Any = None, actor: Any, source: str) -> Domain:
    """Attach a custom domain, routed through the given edge or the one that fits it."""
    _check_member(actor, app)
    app = App.objects.select_for_update().get(pk=app.pk)
    hostname = normalize_hostname(hostname)
    domain = Domain(
        app=app,
        hostname=hostname,
        kind=Domain.Kind.CUSTOM,
        edge=edge
        or Domain.edge_manager().route_for(
            organization_id=app.organization_id, region=app.region, hostname=hostname
        ),
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
    _announce(app, domain.hostname)
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
    _announce(domain.app, domain.hostname)


@transaction.atomic
def domain_update(*, domain: Domain, edge: Any, dns_status: str, actor: Any, source: str) -> Domain:
    """Route the domain through another edge, or correct its DNS status (the admin site)."""
    domain = Domain.objects.select_for_update().select_related("app", "edge").get(pk=domain.pk)
    _check_member(actor, domain.app)
    app = App.objects.select_for_update().select_related("organization").get(pk=domain.app_id)
    before = {"edge": domain.edge.name, "dns_status": domain.dns_status}
    domain.edge, domain.dns_status = edge, dns_status
    domain.full_clean()
    if edge.name != before["edge"]:
        _websockets_in_the_way(app, domain.kind, edge)
    after = {"edge": edge.name, "dns_status": dns_status}
    if after == before:
        return domain
    domain.save(update_fields=["edge", "dns_status", "updated_at"])
    audit_write(
        actor=actor,
        source=source,
        action="domain.change",
        target=domain,
        organization=app.organization,
        app=app,
        before=before,
        after=after,
    )
    _announce(app, domain.hostname)
    return domain


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
        _announce(domain.app, domain.hostname)
    return domain
