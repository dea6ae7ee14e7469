"""Plain factory functions; they go through the services, as the product does."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth.models import User

from dashboard.models import App, Membership, Organization
from dashboard.services.accounts import membership_set, organization_create, user_create
from dashboard.services.apps import app_create
from dashboard.services.domains import domain_add
from dashboard.services.features import feature_define
from edgeboard.demo import FEATURES
from edges.models import Edge
from edges.services.edges import certificate_set, edge_create

PASSWORD = "correct-horse-battery-staple"
PRE_GA = dt.datetime(2013, 3, 14, 12, 0, tzinfo=dt.UTC)
POST_GA = dt.datetime(2015, 1, 20, 12, 0, tzinfo=dt.UTC)


def make_org(name: str) -> Organization:
    return organization_create(name=name, display_name=name.title(), actor=None, source="cli")


def make_user(
    username: str,
    *,
    org: Organization | None = None,
    role: str = Membership.Role.MEMBER,
    staff: bool = False,
    superuser: bool = False,
) -> User:
    user = user_create(
        username=username,
        email=f"{username}@example.org",
        password=PASSWORD,
        is_staff=staff,
        is_superuser=superuser,
        actor=None,
        source="cli",
    )
    if org is not None:
        membership_set(organization=org, user=user, role=role, actor=None, source="cli")
    return user


def make_edge(
    name: str,
    *,
    kind: str = Edge.Kind.GATEWAY,
    proxy: str = Edge.Proxy.HIPACHE,
    org: Organization | None = None,
    hostname: str | None = None,
    **extra: Any,
) -> Edge:
    edge, _token = edge_create(
        name=name,
        hostname=hostname or f"{name}.edges.example.net",
        kind=kind,
        proxy=proxy,
        region="us",
        organization=org,
        actor=None,
        source="cli",
        **extra,
    )
    return edge


def make_ssl_edge(
    name: str,
    *,
    org: Organization,
    proxy: str = Edge.Proxy.NGINX_LEGACY,
    common_name: str = "www.example.org",
    not_after: dt.datetime | None = None,
) -> Edge:
    edge = make_edge(name, kind=Edge.Kind.CUSTOM_SSL, proxy=proxy, org=org)
    now = dt.datetime.now(dt.UTC)
    certificate_set(
        edge=edge,
        common_name=common_name,
        sans=[],
        issuer="Test CA",
        not_before=now - dt.timedelta(days=10),
        not_after=not_after or now + dt.timedelta(days=90),
        actor=None,
        source="cli",
    )
    return edge


def make_catalog() -> None:
    """The demo's lab feature catalog."""
    for spec in FEATURES:
        feature_define(actor=None, source="cli", **spec)


def make_app(
    name: str,
    *,
    org: Organization,
    created_at: dt.datetime | None = None,
    custom: list[tuple[str, Edge]] | None = None,
) -> App:
    app = app_create(name=name, organization=org, created_at=created_at, actor=None, source="cli")
    for hostname, edge in custom or []:
        domain_add(app=app, hostname=hostname, edge=edge, actor=None, source="cli")
    return app


def future_window(days: int = 5) -> dt.datetime:
    """A maintenance window, on the hour, that is in the future whenever the tests run: a window
    in the past is refused."""
    soon = dt.datetime.now(dt.UTC) + dt.timedelta(days=days)
    return soon.replace(minute=0, second=0, microsecond=0)
