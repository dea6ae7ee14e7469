"""Custom domains: attached, routed through the edge that fits them, removed, DNS-checked."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from dashboard import access
from dashboard.models import App, AuditEvent, Domain
from dashboard.models.features import websockets_enabled
from dashboard.services.audit import audit_write
from dashboard.services.undo import check_window, removal_of, within_window
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
def domain_remove(*, domain: Domain, actor: Any, source: str) -> AuditEvent:
    """Detach a custom domain; an app's default domain stays. The audit row keeps what an undo
    brings the domain back from: its id, edge and DNS state."""
    domain = Domain.objects.select_for_update().select_related("app", "edge").get(pk=domain.pk)
    _check_member(actor, domain.app)
    if domain.kind == Domain.Kind.DEFAULT:
        raise ValidationError("The default domain of an app cannot be removed.")
    removal = audit_write(
        actor=actor,
        source=source,
        action="domain.remove",
        target=domain,
        organization=domain.app.organization,
        app=domain.app,
        before={
            "hostname": domain.hostname,
            "app": domain.app.name,
            "edge": domain.edge.name,
            "id": str(domain.uuid),
            "dns_status": domain.dns_status,
        },
    )
    domain.delete()
    _announce(domain.app, domain.hostname)
    return removal


DOMAIN_ACTIONS = ("domain.add", "domain.remove", "domain.restore")


def _domain_history(hostname: str) -> QuerySet[AuditEvent]:
    """The audit rows that attached or detached the hostname, on any app, newest first."""
    return (
        AuditEvent.objects.filter(action__in=DOMAIN_ACTIONS)
        .filter(Q(before__hostname=hostname) | Q(after__hostname=hostname))
        .order_by("-created_at", "-id")
    )


def domain_removal(app: App, removal_id: object) -> AuditEvent | None:
    """The audit row of a custom domain's removal from the app, by its id (None if not one)."""
    return removal_of(app, removal_id, "domain.remove")


def may_restore_domain(user: Any, app: App, removal: AuditEvent | None) -> bool:
    """Whether the page offers `user` to undo the removal: a member, for a short while."""
    if removal is None:
        return False
    return access.can_change_domains(user, app) and within_window(removal.created_at)


def _restored_edge(app: App, before: dict[str, Any], hostname: str) -> Any:
    """The edge the domain went through, if it is still there and still the app's to use;
    else the one a new domain would get."""
    edges = Domain.edge_manager()
    usable = Q(organization_id=None) | Q(organization_id=app.organization_id)
    edge = edges.filter(usable, name=str(before.get("edge", ""))).first()
    return edge or edges.route_for(
        organization_id=app.organization_id, region=app.region, hostname=hostname
    )


@transaction.atomic
def domain_restore(*, app: App, removal_id: object, actor: Any, source: str) -> Domain:
    """Undo a custom domain's removal for a short while: the same hostname, id and edge again,
    unless the hostname changed hands since (added again, to this app or another)."""
    _check_member(actor, app)
    app = App.objects.select_for_update().select_related("organization").get(pk=app.pk)
    removal = domain_removal(app, removal_id)
    if removal is None or not isinstance(removal.before, dict):
        raise ValidationError("There is no such removal of a domain of this app to undo.")
    before = removal.before
    hostname = str(before.get("hostname", ""))
    check_window(removal.created_at, f"The removal of {hostname}")
    latest = _domain_history(hostname).first()
    if Domain.objects.filter(hostname=hostname).exists() or (
        latest is not None and latest.pk != removal.pk
    ):
        raise ValidationError(
            f"{hostname} changed since it was removed"
            + (f" ({latest.summary} by {latest.actor_label})" if latest else "")
            + ": add it again instead if it is still free."
        )
    edge = _restored_edge(app, before, hostname)
    _websockets_in_the_way(app, Domain.Kind.CUSTOM, edge)
    domain = Domain(app=app, hostname=hostname, kind=Domain.Kind.CUSTOM, edge=edge)
    if Domain.DnsStatus.OK == before.get("dns_status"):
        domain.dns_status = Domain.DnsStatus.OK
    old_id = str(before.get("id", ""))
    if old_id and not Domain.objects.filter(uuid=old_id).exists():
        domain.uuid = old_id
    domain.full_clean()
    domain.save()
    audit_write(
        actor=actor,
        source=source,
        action="domain.restore",
        target=domain,
        organization=app.organization,
        app=app,
        after={
            "hostname": hostname,
            "app": app.name,
            "edge": edge.name,
            "undoes": removal.pk,
        },
    )
    _announce(app, hostname)
    return domain


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
