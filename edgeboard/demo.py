"""The demo world: two customers, their apps and edges, support staff and the lab features."""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from dashboard.models import App, AuditEvent, Domain, Feature, Membership, Organization
from dashboard.services.accounts import membership_set, organization_create, user_create
from dashboard.services.apps import app_create, backend_add
from dashboard.services.domains import domain_add, domain_dns_record
from dashboard.services.features import feature_define
from dashboard.services.tokens import api_token_create
from edges.models import Edge
from edges.services.edges import certificate_set, edge_create

SOURCE = AuditEvent.Source.CLI

ORGS = [("acme", "Acme Corporation"), ("globex", "Globex Corporation")]

USERS = [
    # username, email, role, organization
    ("alice", "alice@acme.example", Membership.Role.OWNER, "acme"),
    ("bob", "bob@acme.example", Membership.Role.MEMBER, "acme"),
    ("carol", "carol@globex.example", Membership.Role.OWNER, "globex"),
    ("support", "support@example.net", "staff", None),
    ("admin", "admin@example.net", "superuser", None),
]

EDGES = [
    {
        "name": "gateway",
        "hostname": "gateway.example.net",
        "kind": Edge.Kind.GATEWAY,
        "proxy": Edge.Proxy.HIPACHE,
        "region": "us",
        "org": None,
    },
    {
        "name": "acme-ssl",
        "hostname": "acme-ssl.edges.example.net",
        "kind": Edge.Kind.CUSTOM_SSL,
        "proxy": Edge.Proxy.NGINX_LEGACY,
        "region": "us",
        "org": "acme",
        "certificate": {
            "common_name": "www.acme.example",
            "sans": ["www.acme.example", "acme.example"],
            "issuer": "RapidSSL CA",
            "days_left": 21,
        },
    },
    {
        "name": "globex-ssl",
        "hostname": "globex-ssl.edges.example.net",
        "kind": Edge.Kind.CUSTOM_SSL,
        "proxy": Edge.Proxy.HIPACHE,
        "region": "us",
        "org": "globex",
        "certificate": {
            "common_name": "*.globex.example",
            "sans": ["globex.example"],
            "issuer": "DigiCert High Assurance CA-3",
            "days_left": 290,
        },
    },
]


def _utc(year: int, month: int, day: int) -> dt.datetime:
    return dt.datetime(year, month, day, 12, 0, tzinfo=dt.UTC)


APPS = [
    # name, organization, created_at, [(custom hostname, edge name, DNS status, seen target)]
    ("acme-web", "acme", _utc(2013, 3, 14), [("www.acme.example", "acme-ssl", "ok", "")]),
    (
        "acme-chat",
        "acme",
        _utc(2014, 2, 3),
        [("chat.acme.example", "gateway", "dns_update_required", "lb1.acme-hosting.example")],
    ),
    ("acme-api", "acme", _utc(2015, 1, 20), []),
    (
        "globex-store",
        "globex",
        _utc(2012, 11, 5),
        [("shop.globex.example", "globex-ssl", "ok", "")],
    ),
    ("globex-live", "globex", _utc(2016, 4, 18), []),
    (
        "globex-api",
        "globex",
        _utc(2015, 6, 1),
        [("api.globex-corp.example", "globex-ssl", "pending", "")],
    ),
]

FEATURES = [
    {
        "name": "websockets",
        "display_name": "WebSockets",
        "description": "Experimental WebSocket support for the app's default domain, custom "
        "domains and custom SSL endpoints.",
        "doc_url": "https://devcenter.heroku.com/articles/websockets",
        "feedback_email": "websockets-feedback@example.net",
        "state": Feature.State.BETA,
        "scope": Feature.Scope.APP,
        "self_serve": True,
    },
    {
        "name": "http-request-id",
        "display_name": "HTTP Request IDs",
        "description": "Add a unique X-Request-ID header to every request routed to the app.",
        "doc_url": "https://devcenter.heroku.com/articles/http-request-id",
        "feedback_email": "router-feedback@example.net",
        "state": Feature.State.BETA,
        "scope": Feature.Scope.APP,
        "self_serve": True,
    },
    {
        "name": "log-runtime-metrics",
        "display_name": "Log runtime metrics",
        "description": "Emit memory and CPU load of each process into the app's log stream.",
        "doc_url": "https://devcenter.heroku.com/articles/log-runtime-metrics",
        "feedback_email": "metrics-feedback@example.net",
        "state": Feature.State.ALPHA,
        "scope": Feature.Scope.APP,
        "self_serve": True,
    },
    {
        "name": "preboot",
        "display_name": "Preboot",
        "description": "Start new web processes and wait for them to accept traffic before "
        "retiring the old ones on deploy.",
        "doc_url": "https://devcenter.heroku.com/articles/preboot",
        "feedback_email": "preboot-feedback@example.net",
        "state": Feature.State.GENERAL,
        "scope": Feature.Scope.APP,
        "self_serve": True,
    },
    {
        "name": "router-debug-headers",
        "display_name": "Router debug headers",
        "description": "Add the edge's routing decisions as response headers. Support staff turn "
        "this on while investigating a ticket.",
        "doc_url": "",
        "feedback_email": "support@example.net",
        "state": Feature.State.ALPHA,
        "scope": Feature.Scope.APP,
        "self_serve": False,
    },
    {
        "name": "two-factor-beta",
        "display_name": "Two-factor sign-in",
        "description": "Ask for a one-time code when signing in to the dashboard.",
        "doc_url": "",
        "feedback_email": "security@example.net",
        "state": Feature.State.BETA,
        "scope": Feature.Scope.ACCOUNT,
        "self_serve": True,
    },
]


@transaction.atomic
def demo_seed(*, password: str | None = None) -> dict[str, Any]:
    """Create whatever of the demo is missing and describe all of it.

    Secrets (passwords, API and ingest tokens) are known only when created here; for rows that
    already existed they are reported as None.
    """
    user_model = get_user_model()
    now = timezone.now()
    orgs = {}
    for name, display in ORGS:
        orgs[name] = Organization.objects.filter(name=name).first() or organization_create(
            name=name, display_name=display, actor=None, source=SOURCE
        )

    users_out = []
    for username, email, role, org_name in USERS:
        user = user_model.objects.filter(username=username).first()
        secret = token = None
        if user is None:
            secret = password or secrets.token_urlsafe(12)
            user = user_create(
                username=username,
                email=email,
                password=secret,
                is_staff=role in ("staff", "superuser"),
                is_superuser=role == "superuser",
                actor=None,
                source=SOURCE,
            )
            if org_name:
                membership_set(
                    organization=orgs[org_name], user=user, role=role, actor=None, source=SOURCE
                )
            _, token = api_token_create(user=user, label="demo", actor=None, source=SOURCE)
        users_out.append(
            {
                "username": username,
                "email": email,
                "password": secret,
                "role": role,
                "org": org_name,
                "api_token": token,
            }
        )

    for spec in FEATURES:
        if not Feature.objects.filter(name=spec["name"]).exists():
            feature_define(actor=None, source=SOURCE, **spec)

    edges = {}
    edges_out = []
    for spec in EDGES:
        edge = Edge.objects.filter(name=spec["name"]).first()
        ingest = None
        if edge is None:
            edge, ingest = edge_create(
                name=spec["name"],
                hostname=spec["hostname"],
                kind=spec["kind"],
                proxy=spec["proxy"],
                region=spec["region"],
                organization=orgs[spec["org"]] if spec["org"] else None,
                actor=None,
                source=SOURCE,
            )
            cert = spec.get("certificate")
            if cert:
                certificate_set(
                    edge=edge,
                    common_name=cert["common_name"],
                    sans=cert["sans"],
                    issuer=cert["issuer"],
                    not_before=now - dt.timedelta(days=340),
                    not_after=now + dt.timedelta(days=cert["days_left"]),
                    actor=None,
                    source=SOURCE,
                )
        edges[spec["name"]] = edge
        edges_out.append(
            {
                "name": edge.name,
                "kind": edge.kind,
                "proxy": edge.proxy,
                "hostname": edge.hostname,
                "org": spec["org"],
                "ingest_token": ingest,
            }
        )

    apps_out = []
    for name, org_name, created_at, custom in APPS:
        app = App.objects.filter(name=name).first()
        if app is None:
            app = app_create(
                name=name,
                organization=orgs[org_name],
                created_at=created_at,
                actor=None,
                source=SOURCE,
            )
            for hostname, edge_name, dns_status, seen in custom:
                domain = domain_add(
                    app=app, hostname=hostname, edge=edges[edge_name], actor=None, source=SOURCE
                )
                if dns_status != Domain.DnsStatus.PENDING:
                    domain_dns_record(
                        domain=domain, status=dns_status, seen=seen, actor=None, source=SOURCE
                    )
        if not app.backends.exists():
            # Two web processes per app, on a private network the edges reach.
            octet = 10 + [a[0] for a in APPS].index(name)
            for last in (7, 8):
                backend_add(app=app, address=f"10.0.{octet}.{last}:8080", actor=None, source=SOURCE)
        domains = list(Domain.objects.filter(app=app).select_related("edge").order_by("kind"))
        routed = next(
            (d.edge for d in domains if d.edge.kind == Edge.Kind.CUSTOM_SSL),
            domains[0].edge if domains else None,
        )
        apps_out.append(
            {
                "name": app.name,
                "org": org_name,
                "created_at": app.created_at.isoformat(),
                "domains": [
                    {"hostname": d.hostname, "kind": d.kind, "edge": d.edge.name} for d in domains
                ],
                "edge": routed.name if routed else None,
            }
        )

    return {
        "users": users_out,
        "orgs": [{"name": o.name, "display_name": o.display_name} for o in orgs.values()],
        "apps": apps_out,
        "edges": edges_out,
    }
