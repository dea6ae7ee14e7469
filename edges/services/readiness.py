"""Can a browser open ws:// and wss:// to each of an app's hostnames, and if not, why?"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone

from dashboard.models import App, Domain
from dashboard.models.features import WEBSOCKETS, app_feature_states
from edges.models import Certificate, Edge


@dataclass(frozen=True)
class Reason:
    code: str
    message: str
    blocks: tuple[str, ...]  # ("ws", "wss"), ("wss",) or () for a warning
    edge: str = ""

    def as_json(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "blocks": list(self.blocks)}


@dataclass
class HostnameReadiness:
    domain: Domain
    reasons: list[Reason] = field(default_factory=list)

    @property
    def ws(self) -> bool:
        return not any("ws" in r.blocks for r in self.reasons)

    @property
    def wss(self) -> bool:
        return not any("wss" in r.blocks for r in self.reasons)

    def as_json(self) -> dict[str, Any]:
        return {
            "hostname": self.domain.hostname,
            "kind": self.domain.kind,
            "edge": self.domain.edge.name,
            "proxy": self.domain.edge.proxy,
            "cname": self.domain.edge.hostname,
            "ws": self.ws,
            "wss": self.wss,
            "reasons": [r.as_json() for r in self.reasons],
        }


BOTH = ("ws", "wss")


def _certificate_reason(domain: Domain, certificate: Certificate | None) -> Reason | None:
    edge = domain.edge
    if domain.kind == Domain.Kind.DEFAULT:
        return None  # the platform's wildcard certificate covers default domains
    if edge.kind == Edge.Kind.GATEWAY:
        return Reason(
            "no_certificate",
            f"The shared gateway has no certificate for {domain.hostname}: wss:// needs a custom "
            "SSL edge with a certificate covering it.",
            ("wss",),
        )
    if certificate is None:
        return Reason(
            "no_certificate", f"{edge.name} has no certificate installed.", ("wss",), edge.name
        )
    if certificate.not_after <= timezone.now():
        return Reason(
            "certificate_expired",
            f"The certificate of {edge.name} expired on {certificate.not_after:%d %b %Y}.",
            ("wss",),
            edge.name,
        )
    if not certificate.covers(domain.hostname):
        names = ", ".join(certificate.names)
        return Reason(
            "certificate_mismatch",
            f"The certificate of {edge.name} covers {names}, not {domain.hostname}.",
            ("wss",),
            edge.name,
        )
    return None


def _dns_reason(domain: Domain) -> Reason | None:
    if domain.kind == Domain.Kind.DEFAULT:
        return None
    target = domain.edge.hostname
    if domain.dns_status == Domain.DnsStatus.UPDATE_REQUIRED:
        seen = domain.dns_seen_target or "somewhere else"
        return Reason(
            "dns_update_required",
            f"{domain.hostname} points at {seen}, not at {domain.edge.name}: change its CNAME "
            f"record to {target}.",
            BOTH,
        )
    if domain.dns_status == Domain.DnsStatus.UNRESOLVABLE:
        detail = f" ({domain.dns_seen_target})" if domain.dns_seen_target else ""
        return Reason(
            "dns_unresolvable",
            f"{domain.hostname} does not resolve{detail}: add a CNAME record pointing at {target}.",
            BOTH,
        )
    if domain.dns_status == Domain.DnsStatus.PENDING:
        return Reason("dns_unchecked", f"DNS of {domain.hostname} has not been checked yet.", ())
    return None


def app_readiness(app: App) -> tuple[bool, list[HostnameReadiness]]:
    enabled = next(
        (s.enabled for s in app_feature_states(app) if s.feature.name == WEBSOCKETS), False
    )
    domains = list(app.domains.select_related("edge").order_by("kind", "hostname"))
    certificates = {
        c.edge_id: c for c in Certificate.objects.filter(edge__in={d.edge_id for d in domains})
    }
    result = []
    for domain in domains:
        readiness = HostnameReadiness(domain)
        if not enabled:
            readiness.reasons.append(
                Reason("feature_off", f"The websockets feature is off for {app.name}.", BOTH)
            )
        edge = domain.edge
        if not edge.carries_websockets:
            readiness.reasons.append(
                Reason(
                    "legacy_edge",
                    f"{domain.hostname} is routed through {edge.name}, a legacy Nginx edge that "
                    "cannot carry WebSockets: it needs an upgrade to Hipache.",
                    BOTH,
                    edge.name,
                )
            )
        for reason in (_dns_reason(domain), _certificate_reason(domain, certificates.get(edge.pk))):
            if reason is not None:
                readiness.reasons.append(reason)
        result.append(readiness)
    return enabled, result


def readiness_json(app: App) -> dict[str, Any]:
    enabled, hostnames = app_readiness(app)
    return {
        "app": app.name,
        "websockets_enabled": enabled,
        "hostnames": [h.as_json() for h in hostnames],
    }
