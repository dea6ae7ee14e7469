"""Edges and their certificates; every write goes through here."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from dashboard.models import App, AuditEvent, Domain, Feature, Organization
from dashboard.models.features import WEBSOCKETS, websockets_enabled
from dashboard.services.audit import audit_write
from dashboard.services.features import feature_set
from edges.models import Certificate, Edge
from edges.services.reports import forget_edges
from shared import bus
from shared.secret_tokens import generate_token
from shared.validators import normalize_hostname, validate_text

# What an edit of an edge may change; its name, token and what its agent reports stay.
EDITABLE_FIELDS = (
    "hostname",
    "kind",
    "organization",
    "proxy",
    "region",
    "http_port",
    "https_port",
    "ws_port",
    "wss_port",
    "idle_timeout_seconds",
)


def _edge_state(edge: Edge) -> dict[str, Any]:
    return {**edge.setup(), "organization": edge.organization.name if edge.organization else None}


@transaction.atomic
def edge_create(
    *,
    name: str,
    hostname: str,
    kind: str,
    proxy: str,
    region: str,
    organization: Organization | None = None,
    actor: Any,
    source: str,
    **ports: int,
) -> tuple[Edge, str]:
    """Create an edge with its ingest token; the raw token is returned here once."""
    new = generate_token("edg")
    edge = Edge(
        name=name,
        hostname=normalize_hostname(hostname),
        kind=kind,
        proxy=proxy,
        region=region,
        organization=organization,
        ingest_token_prefix=new.prefix,
        ingest_token_hash=new.digest,
        **ports,
    )
    edge.full_clean()
    edge.save()
    audit_write(
        actor=actor,
        source=source,
        action="edge.create",
        target=edge,
        organization=organization,
        after=_edge_state(edge),
    )
    return edge, new.raw


@transaction.atomic
def edge_ingest_token_rotate(*, edge: Edge, actor: Any, source: str) -> str:
    """Replace the edge's ingest token; the old one stops working at once."""
    edge = Edge.objects.select_for_update().get(pk=edge.pk)
    before = {"ingest_token_prefix": edge.ingest_token_prefix}
    new = generate_token("edg")
    edge.ingest_token_prefix = new.prefix
    edge.ingest_token_hash = new.digest
    edge.save(update_fields=["ingest_token_prefix", "ingest_token_hash", "updated_at"])
    audit_write(
        actor=actor,
        source=source,
        action="edge.ingest_token_rotate",
        target=edge,
        organization=edge.organization,
        before=before,
        after={"ingest_token_prefix": new.prefix},
    )
    _publish(edge, [])
    return new.raw


def _publish(edge: Edge, app_names: list[str]) -> None:
    payload: dict[str, Any] = {"edge": edge.name, "proxy": edge.proxy, "apps": app_names}
    if edge.organization_id is not None:
        payload["organization"] = edge.organization.name
    bus.announce_on_commit("edge.changed", payload)
    # This process forgets what it kept of the edge now and again once the change is committed
    # (a report read in between would keep the old row); every process whose hub hears the
    # event forgets too.
    forget_edges()
    transaction.on_commit(forget_edges)


def websocket_apps_behind(edge: Edge) -> list[App]:
    """The apps with websockets on whose custom domains the edge carries, by name; locked, so
    that none turns websockets on while the caller decides (feature_set locks the app too)."""
    carried = Domain.objects.filter(edge=edge, kind=Domain.Kind.CUSTOM).values("app_id")
    apps = list(App.objects.select_for_update().filter(pk__in=carried).order_by("name"))
    enabled = websockets_enabled(apps)
    return [app for app in apps if enabled[app.pk]]


def websockets_in_the_way(edge: Edge, apps: list[App]) -> str:
    names = ", ".join(app.name for app in apps)
    return (
        f"{edge.name} cannot run {edge.get_proxy_display()}, which carries no WebSockets, while "
        f"websockets is on for {names}. Turn it off for them first, or use the action that "
        "switches the proxy and turns it off with a reason."
    )


@transaction.atomic
def edge_update(
    *, edge: Edge, changes: dict[str, Any], actor: Any, source: str, reason: str = ""
) -> Edge:
    """Change how an edge is set up. An edge that stops carrying WebSockets is refused while
    apps behind it have websockets on (the message names them); no change writes nothing."""
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise TypeError(f"fields an edit cannot change: {', '.join(sorted(unknown))}")
    reason = validate_text(reason, what="The reason").strip()
    edge = (
        Edge.objects.select_for_update(of=("self",)).select_related("organization").get(pk=edge.pk)
    )
    before, blocked_before = _edge_state(edge), edge.blocks_websockets
    for name, value in changes.items():
        setattr(edge, name, normalize_hostname(value) if name == "hostname" else value)
    edge.full_clean()
    if edge.blocks_websockets and not blocked_before:
        in_the_way = websocket_apps_behind(edge)
        if in_the_way:
            field = "proxy" if "proxy" in changes else "kind"
            raise ValidationError(
                {field: websockets_in_the_way(edge, in_the_way)}, code="websockets_on"
            )
    after = _edge_state(edge)
    changed = [key for key in after if after[key] != before[key]]
    if not changed:
        return edge
    edge.save(update_fields=[*changes, "updated_at"])
    audit_write(
        actor=actor,
        source=source,
        action="edge.change",
        target=edge,
        organization=edge.organization,
        before={key: before[key] for key in changed},
        after={key: after[key] for key in changed},
        reason=reason,
    )
    carried = Domain.objects.filter(edge=edge).values_list("app__name", flat=True)
    _publish(edge, sorted(set(carried)))
    return edge


@transaction.atomic
def edge_proxy_switch_turning_websockets_off(
    *, edge: Edge, proxy: str, actor: Any, source: str, reason: str
) -> list[str]:
    """Switch the edge to a proxy that cannot carry WebSockets, first turning websockets off
    for the apps behind it, each audited with the reason. Answers those apps' names."""
    reason = validate_text(reason, what="The reason").strip()
    if not reason:
        raise ValidationError({"reason": "Give a reason; it is kept in each app's audit trail."})
    if proxy not in Edge.Proxy.values:
        raise ValidationError({"proxy": f"Proxy must be one of {', '.join(Edge.Proxy.values)}."})
    edge = Edge.objects.select_for_update().get(pk=edge.pk)
    websockets = Feature.objects.get(name=WEBSOCKETS)
    turned_off = []
    for app in websocket_apps_behind(edge):
        feature_set(
            app=app, feature=websockets, enabled=False, actor=actor, source=source, reason=reason
        )
        turned_off.append(app.name)
    edge_update(edge=edge, changes={"proxy": proxy}, actor=actor, source=source, reason=reason)
    return turned_off


@transaction.atomic
def edge_delete(*, edge: Edge, actor: Any, source: str) -> None:
    """Delete an edge that carries no domain (a domain must be moved off it first)."""
    edge = (
        Edge.objects.select_for_update(of=("self",)).select_related("organization").get(pk=edge.pk)
    )
    carried = Domain.objects.filter(edge=edge).count()
    if carried:
        raise ValidationError(f"{edge.name} still carries {carried} domain(s): move them first.")
    audit_write(
        actor=actor,
        source=source,
        action="edge.delete",
        target=edge,
        organization=edge.organization,
        before=_edge_state(edge),
    )
    _publish(edge, [])
    edge.delete()


def _certificate_state(certificate: Certificate) -> dict[str, Any]:
    return {
        "common_name": certificate.common_name,
        "sans": certificate.sans,
        "issuer": certificate.issuer,
        "not_before": certificate.not_before.isoformat(),
        "not_after": certificate.not_after.isoformat(),
    }


@transaction.atomic
def certificate_set(
    *,
    edge: Edge,
    common_name: str,
    sans: list[str],
    issuer: str,
    not_before: dt.datetime,
    not_after: dt.datetime,
    actor: Any,
    source: str,
) -> Certificate:
    """Install or replace the certificate a custom SSL edge presents."""
    edge = Edge.objects.select_for_update().get(pk=edge.pk)
    if edge.kind != Edge.Kind.CUSTOM_SSL:
        raise ValidationError("Only custom SSL edges carry a customer certificate.")
    certificate = Certificate.objects.filter(edge=edge).first()
    before = _certificate_state(certificate) if certificate else None
    certificate = certificate or Certificate(edge=edge)
    certificate.common_name = normalize_hostname(common_name)
    certificate.sans = [normalize_hostname(s) for s in sans]
    certificate.issuer = issuer
    certificate.not_before = not_before
    certificate.not_after = not_after
    certificate.full_clean()
    certificate.save()
    audit_write(
        actor=actor,
        source=source,
        action="certificate.set",
        target=certificate,
        organization=edge.organization,
        before=before,
        after=_certificate_state(certificate),
    )
    return certificate


@transaction.atomic
def certificate_remove(*, certificate: Certificate, actor: Any, source: str) -> None:
    edge = (
        Edge.objects.select_for_update(of=("self",))
        .select_related("organization")
        .get(pk=certificate.edge_id)
    )
    certificate = Certificate.objects.get(pk=certificate.pk)
    audit_write(
        actor=actor,
        source=source,
        action="certificate.remove",
        target=certificate,
        organization=edge.organization,
        before=_certificate_state(certificate),
    )
    certificate.delete()


@transaction.atomic
def edge_config_status_record(*, edge: Edge, status: str, etag: str, message: str) -> Edge:
    """The edge agent's word on the configuration it was served. Only a change of status or
    ETag is audited: an agent repeating itself does not fill the trail."""
    edge = Edge.objects.select_for_update().get(pk=edge.pk)
    changed = (edge.config_status, edge.config_etag) != (status, etag)
    before = {"status": edge.config_status, "etag": edge.config_etag}
    edge.config_status = status
    edge.config_etag = etag
    edge.config_message = message
    edge.config_reported_at = timezone.now()
    edge.save(
        update_fields=["config_status", "config_etag", "config_message", "config_reported_at"]
    )
    if changed:
        audit_write(
            actor=None,
            source=AuditEvent.Source.AGENT,
            action=f"edge.config_{status}",
            target=edge,
            organization=edge.organization,
            before=before,
            after={"status": status, "etag": etag},
            reason=message[:500] if status == "rejected" else "",
        )
        payload = {"edge": edge.name, "status": status}
        if edge.organization_id is not None:
            payload["organization"] = edge.organization.name
        bus.announce_on_commit("edge.config_changed", payload)
    return edge
