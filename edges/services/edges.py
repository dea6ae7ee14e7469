"""Edges and their certificates; every write goes through here."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from dashboard.models import AuditEvent, Organization
from dashboard.services.audit import audit_write
from edges.models import Certificate, Edge
from shared import bus
from shared.secret_tokens import generate_token
from shared.validators import normalize_hostname


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
    return new.raw


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
    before = (
        {"common_name": certificate.common_name, "not_after": certificate.not_after.isoformat()}
        if certificate
        else None
    )
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
        after={
            "common_name": certificate.common_name,
            "sans": certificate.sans,
            "issuer": issuer,
            "not_after": not_after.isoformat(),
        },
    )
    return certificate


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
