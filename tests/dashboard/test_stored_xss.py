"""Stored XSS: every string the database can hold arbitrary text in carries a script payload,
written straight through the ORM as legacy or imported data would be, and every page of the URL
conf, every admin page, every live fragment and every API answer is rendered with it.

No HTML answer may carry the payload unescaped; JSON answers carry it only inside JSON strings;
plain-text answers are never sniffed as HTML. The escaped payload must show up, so the sweep
proves the fields were rendered at all. A URL the sweep does not know how to fill fails the test
until it gets a visit or an exemption with a reason, so a new page cannot slip past.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import pytest
from django.apps import apps as django_apps
from django.contrib import admin
from django.contrib.auth.models import Group, User
from django.contrib.contenttypes.models import ContentType
from django.http import HttpResponse
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone
from django.utils.html import escape

from dashboard.models import (
    ApiToken,
    App,
    AppFeature,
    AuditEvent,
    Backend,
    Domain,
    Feature,
    Membership,
    Organization,
)
from dashboard.services.apps import backend_add
from dashboard.services.tokens import api_token_create
from edgeboard.middleware import API_URLCONF
from edges.dns import DnsAnswer
from edges.edge_states import EdgeState, Frontend
from edges.live_state import live_state
from edges.models import Certificate, Edge, EdgeUpgrade, UpgradeStep
from edges.services.edges import edge_ingest_token_rotate
from live.cells import whole
from live.routing import websocket_urlpatterns
from live.topics import authorize
from tests.conftest import World, client_for

SCRIPT = "<script>alert(1)</script>\"'><img src=x onerror=alert(1)>"
# What must never reach a browser as markup.
RAW_MARKERS = ("<script>alert(1)</script>", "<img src=x onerror")
ACCEPT = "application/vnd.heroku+json; version=3"


def hostile(tag: str) -> str:
    """The payload, prefixed with the field it was stored in so the sweep can tell them apart."""
    return f"xss-{tag}{SCRIPT}"


# Every field the database lets hold arbitrary text, by tag. Names that appear in URLs (apps,
# organizations, edges, features) are left alone: their validators are the only way in, and a
# page cannot even link to a row whose name is not a slug.
TAGS = [
    "org-display",
    "feature-display",
    "feature-description",
    "first-name",
    "last-name",
    "email",
    "username",
    "token-label",
    "upgrade-note",
    "old-hostname",
    "new-hostname",
    "config-message",
    "etag",
    "issuer",
    "san",
    "hostname",
    "dns-seen",
    "reported-host",
    "reported-address",
    "actor",
    "op",  # the action column holds 64 characters: exactly xss-op and the script
    "target",
    "reason",
    "after-feature",
    "group",
]


@dataclass
class Hostile:
    world: World
    support: User
    alice: User
    admin: User
    mallory: User
    support_token: str
    alice_token: str
    ingest_token: str
    domain: Domain
    backend: Backend
    open_upgrade: EdgeUpgrade
    closed_upgrade: EdgeUpgrade
    token: ApiToken
    event: AuditEvent
    group: Group
    # One row per admin model, the one holding the payload where there is such a row.
    rows: dict[type, Any] = field(default_factory=dict)


@pytest.fixture
def hostile_world(world: World, support: User, alice: User, admin_user: User) -> Hostile:
    """The usual world, then the payload in every free-text field, bypassing validation."""
    now = timezone.now()
    acme, acme_web, acme_ssl, gateway = world.acme, world.acme_web, world.acme_ssl, world.gateway
    support_token = api_token_create(user=support, label="sweep", actor=None, source="cli")[1]
    alice_token = api_token_create(user=alice, label="sweep", actor=None, source="cli")[1]
    ingest_token = edge_ingest_token_rotate(edge=gateway, actor=None, source="cli")
    backend = backend_add(app=acme_web, address="10.0.0.7:8080", actor=None, source="cli")

    Organization.objects.filter(pk=acme.pk).update(display_name=hostile("org-display"))
    websockets = Feature.objects.get(name="websockets")
    Feature.objects.filter(pk=websockets.pk).update(
        display_name=hostile("feature-display"),
        description=hostile("feature-description"),
        doc_url="javascript:alert(document.domain)",
    )
    User.objects.filter(pk=alice.pk).update(
        first_name=hostile("first-name"), last_name=hostile("last-name")
    )
    mallory = User.objects.create(username=hostile("username"), email=hostile("email"))
    Membership.objects.create(organization=acme, user=mallory, role=Membership.Role.MEMBER)
    group = Group.objects.create(name=hostile("group"))
    mallory.groups.add(group)
    token = ApiToken.objects.create(
        user=alice, label=hostile("token-label"), prefix="pat_xss", token_hash="0" * 64
    )
    closed_upgrade = EdgeUpgrade.objects.create(
        edge=acme_ssl,
        state=EdgeUpgrade.State.CANCELLED,
        from_proxy=acme_ssl.proxy,
        old_hostname=hostile("old-hostname"),
        new_hostname=hostile("new-hostname"),
        finished_at=now,
    )
    open_upgrade = EdgeUpgrade.objects.create(
        edge=acme_ssl,
        requested_by=mallory,
        from_proxy=acme_ssl.proxy,
        old_hostname=hostile("old-hostname"),
    )
    for upgrade in (closed_upgrade, open_upgrade):
        for action in ("request", "fail"):
            UpgradeStep.objects.create(
                upgrade=upgrade,
                action=action,
                actor=mallory,
                actor_label=hostile("actor"),
                note=hostile("upgrade-note"),
            )
    Edge.objects.filter(pk__in=[acme_ssl.pk, gateway.pk]).update(
        config_status="rejected",
        config_etag=hostile("etag"),
        config_message=hostile("config-message"),
        config_reported_at=now,
        last_report_at=now,
    )
    Certificate.objects.filter(edge=acme_ssl).update(
        issuer=hostile("issuer"), sans=[hostile("san")]
    )
    # A custom domain the certificate does not cover, whose DNS check saw something strange.
    Domain.objects.create(
        app=acme_web,
        hostname="api.acme.example",
        kind=Domain.Kind.CUSTOM,
        edge=acme_ssl,
        dns_status=Domain.DnsStatus.UNRESOLVABLE,
        dns_seen_target=hostile("dns-seen"),
    )
    domain = Domain.objects.create(
        app=acme_web,
        hostname=hostile("hostname"),
        kind=Domain.Kind.CUSTOM,
        edge=gateway,
        dns_status=Domain.DnsStatus.UPDATE_REQUIRED,
        dns_seen_target=hostile("dns-seen"),
    )
    live_state().record(
        EdgeState(
            gateway.pk,
            1,
            now,
            (
                Frontend(
                    hostile("reported-host"),
                    acme_web.pk,
                    7,
                    3,
                    ({"address": hostile("reported-address"), "connections": 7, "state": "up"},),
                ),
            ),
        ),
        now.replace(second=0, microsecond=0),
        {acme_web.pk: 7},
    )
    AppFeature.objects.create(app=acme_web, feature=websockets, enabled=False, updated_by=mallory)
    event = AuditEvent.objects.create(
        actor=mallory,
        actor_label=hostile("actor"),
        source=AuditEvent.Source.WEB,
        action="feature.enable",
        organization=acme,
        app=acme_web,
        target_type="app",
        target_id=str(acme_web.pk),
        target_label=hostile("target"),
        after={"feature": hostile("after-feature"), "enabled": True},
        reason=hostile("reason"),
    )
    AuditEvent.objects.create(
        actor_label=hostile("actor"),
        source=AuditEvent.Source.AGENT,
        action=hostile("op"),
        organization=acme,
        app=acme_web,
        target_type="edge",
        target_id=str(acme_ssl.pk),
        target_label=hostile("target"),
    )
    result = Hostile(
        world=world,
        support=support,
        alice=alice,
        admin=admin_user,
        mallory=mallory,
        support_token=support_token,
        alice_token=alice_token,
        ingest_token=ingest_token,
        domain=domain,
        backend=backend,
        open_upgrade=open_upgrade,
        closed_upgrade=closed_upgrade,
        token=token,
        event=event,
        group=group,
    )
    result.rows = {
        Organization: acme,
        Membership: Membership.objects.get(user=mallory),
        App: acme_web,
        Domain: domain,
        Feature: websockets,
        AppFeature: AppFeature.objects.get(app=acme_web, feature=websockets),
        AuditEvent: event,
        ApiToken: token,
        Backend: backend,
        Edge: acme_ssl,
        Certificate: Certificate.objects.get(edge=acme_ssl),
        EdgeUpgrade: open_upgrade,
        User: mallory,
        Group: group,
    }
    return result


# Visits


@dataclass(frozen=True)
class Visit:
    # A persona ("support", "alice", "admin", "anonymous"), an API token's owner ("api:alice")
    # or the gateway's agent ("ingest").
    who: str
    path: str
    method: str = "get"
    data: Any = None
    headers: tuple[tuple[str, str], ...] = ()
    follow: bool = False

    def __str__(self) -> str:
        return f"{self.method.upper()} {self.path} as {self.who}"


def page(who: str, path: str, **options: Any) -> Visit:
    return Visit(who, path, **options)


def htmx(who: str, path: str, target: str) -> Visit:
    return Visit(who, path, headers=(("HX-Request", "true"), ("HX-Target", target)))


def api(who: str, path: str, method: str = "get", body: Any = None) -> Visit:
    data = json.dumps(body) if body is not None else None
    return Visit(f"api:{who}", path, method=method, data=data)


def ingest(path: str, method: str = "get", body: Any = None, *, token: bool = True) -> Visit:
    data = json.dumps(body) if body is not None else None
    return Visit("ingest" if token else "anonymous", path, method=method, data=data)


def named(name: str, *args: Any) -> str:
    return reverse(name, args=args)


def q(value: str) -> str:
    return quote(value, safe="")


Planner = Callable[[Hostile], list[Visit]]


def _staff_and_customer(path: str) -> list[Visit]:
    return [page("support", path), page("alice", path)]


def _app_pages(h: Hostile) -> list[Visit]:
    path = named("app-detail", "acme-web")
    return [
        *_staff_and_customer(path),
        htmx("support", path, "features-panel"),
        htmx("support", path, "app-charts"),
        htmx("alice", path, "backends-panel"),
        page("support", named("app-detail", "globex-store")),
    ]


def _feature_posts(h: Hostile) -> list[Visit]:
    path = named("app-features", "acme-web")
    return [
        # Refused (legacy SSL edge), unparseable, and accepted with the payload as the reason.
        page("support", path, method="post", data={"toggle": "websockets:on", "reason": SCRIPT}),
        page("alice", path, method="post", data={"toggle": SCRIPT}),
        page(
            "support",
            named("app-features", "acme-api"),
            method="post",
            data={"toggle": "websockets:off", "reason": SCRIPT},
            follow=True,
        ),
    ]


def _edge_config_views(h: Hostile) -> list[Visit]:
    path = named("edge-config-view", "gateway")
    return [
        page("support", f"{path}?format=haproxy"),
        page("support", f"{path}?format=hipache"),
        page("support", f"{path}?format={q(SCRIPT)}"),
        page("alice", f"{path}?format=haproxy"),
    ]


def _upgrade_steps(h: Hostile) -> list[Visit]:
    pk = h.open_upgrade.pk
    return [
        page(
            "support",
            named("upgrade-step", "acme-ssl", pk, "schedule"),
            method="post",
            data={"scheduled_for": SCRIPT, "note": SCRIPT},
            follow=True,
        ),
        page(
            "support",
            named("upgrade-step", "acme-ssl", pk, "complete"),
            method="post",
            data={"new_hostname": SCRIPT},
            follow=True,
        ),
    ]


# Pages of the dashboard's own URL conf, by URL name.
PAGES: dict[str, Planner] = {
    "overview": lambda h: [
        *_staff_and_customer("/"),
        page("support", f"/?q={q(SCRIPT)}"),
        page("support", "/?q=xss"),
        htmx("alice", "/?q=acme", "results"),
    ],
    "healthz": lambda h: [page("anonymous", "/healthz")],
    "login": lambda h: [
        page("anonymous", f"/login/?next={q(SCRIPT)}"),
        page("anonymous", "/login/", method="post", data={"username": SCRIPT, "password": "x"}),
    ],
    "logout": lambda h: [page("alice", "/logout/", method="post", follow=True)],
    "organization-detail": lambda h: [
        *_staff_and_customer(named("organization-detail", "acme")),
        page("support", named("organization-detail", "globex")),
    ],
    "app-detail": _app_pages,
    "app-features": _feature_posts,
    "app-backend-add": lambda h: [
        page(
            "support", named("app-backend-add", "acme-web"), method="post", data={"address": SCRIPT}
        ),
        page(
            "alice", named("app-backend-add", "acme-web"), method="post", data={"address": SCRIPT}
        ),
    ],
    "app-backend-remove": lambda h: [
        page(
            "support",
            named("app-backend-remove", "acme-web"),
            method="post",
            data={"address": SCRIPT},
        ),
    ],
    "app-backend-restore": lambda h: [
        page(
            "support",
            named("app-backend-restore", "acme-web"),
            method="post",
            data={"removal": SCRIPT},
        ),
    ],
    "app-domain-add": lambda h: [
        # A refused hostname comes back in the field and in the error beside it.
        page(
            "alice", named("app-domain-add", "acme-web"), method="post", data={"hostname": SCRIPT}
        ),
        page(
            "alice",
            named("app-domain-add", "acme-web"),
            method="post",
            data={"hostname": SCRIPT},
            headers=(("HX-Request", "true"), ("HX-Target", "domains-panel")),
        ),
    ],
    "app-domain-restore": lambda h: [
        page(
            "alice",
            named("app-domain-restore", "acme-web"),
            method="post",
            data={"removal": SCRIPT},
            headers=(("HX-Request", "true"), ("HX-Target", "domains-panel")),
        ),
        page("alice", named("app-detail", "acme-web") + "?domain_removed=" + SCRIPT),
    ],
    "app-domain-remove": lambda h: [
        page(
            "alice",
            named("app-domain-remove", "acme-web"),
            method="post",
            data={"hostname": h.domain.hostname},
        ),
    ],
    "support": lambda h: [
        page("support", "/support/"),
        page("support", "/support/?q=xss"),
        page("support", f"/support/?q={q(SCRIPT)}"),
        htmx("support", "/support/?q=acme", "support-results"),
        page("alice", "/support/"),
    ],
    "audit": lambda h: [
        *_staff_and_customer("/audit/"),
        page("support", f"/audit/?actor={q(hostile('actor'))}&app={q(SCRIPT)}&action={q(SCRIPT)}"),
        htmx("alice", "/audit/?organization=acme", "audit-results"),
    ],
    "audit-export": lambda h: [
        *_staff_and_customer("/audit/export.csv"),
        page("support", f"/audit/export.csv?actor={q(hostile('actor'))}&sort=-who"),
    ],
    "tokens": lambda h: [
        *_staff_and_customer("/account/tokens/"),
        page("alice", "/account/tokens/", method="post", data={"label": SCRIPT}),
    ],
    "token-revoke": lambda h: [
        # First the question (the label is in it and in the button's dialog), then the answer.
        page("alice", named("token-revoke", h.token.pk), method="post"),
        page(
            "alice",
            named("token-revoke", h.token.pk),
            method="post",
            data={"confirmed": "yes"},
            follow=True,
        ),
    ],
    "token-restore": lambda h: [
        page("alice", named("token-restore", h.token.pk), method="post", follow=True),
    ],
    "theme": lambda h: [
        page("alice", "/account/theme/", method="post", data={"theme": SCRIPT}, follow=True),
        page("alice", "/account/theme/", method="post", data={"theme": "dark", "next": SCRIPT}),
    ],
    "edge-detail": lambda h: [
        *_staff_and_customer(named("edge-detail", "acme-ssl")),
        *_staff_and_customer(named("edge-detail", "gateway")),
        page("support", named("edge-detail", "globex-ssl")),
    ],
    "edge-config-view": _edge_config_views,
    "upgrade-create": lambda h: [
        page(
            "alice",
            named("upgrade-create", "acme-ssl"),
            method="post",
            data={"note": SCRIPT},
            follow=True,
        ),
    ],
    "upgrade-step": _upgrade_steps,
    "upgrade-queue": lambda h: _staff_and_customer("/upgrades/"),
    "app-dns-check": lambda h: [
        page("support", named("app-dns-check", "acme-web"), method="post", follow=True),
    ],
    "app-websocket-test": lambda h: _staff_and_customer(named("app-websocket-test", "acme-web")),
}


def _both(path: str) -> list[Visit]:
    return [api("support", path), api("alice", path)]


# The Platform API's URL conf has no names: its routes are keyed by their pattern.
API_ROUTES: dict[str, Planner] = {
    "account": lambda h: _both("/account"),
    "account/rate-limits": lambda h: _both("/account/rate-limits"),
    "account/features": lambda h: _both("/account/features"),
    "account/features/<str:id_or_name>": lambda h: [
        *_both(f"/account/features/{_account_feature()}"),
        api(
            "alice",
            f"/account/features/{_account_feature()}",
            "patch",
            {"enabled": True, "reason": SCRIPT},
        ),
    ],
    "apps": lambda h: _both("/apps"),
    "users/<str:email_or_id>/apps": lambda h: [
        *_both("/users/~/apps"),
        api("alice", "/users/bob@acme.example/apps"),
        api("support", f"/users/{q(SCRIPT)}/apps"),
    ],
    "apps/<str:id_or_name>": lambda h: _both("/apps/acme-web"),
    "apps/<str:app>/addons": lambda h: _both("/apps/acme-web/addons"),
    "apps/<str:app>/dynos": lambda h: _both("/apps/acme-web/dynos"),
    "apps/<str:app>/sni-endpoints": lambda h: _both("/apps/acme-web/sni-endpoints"),
    "apps/<str:app>/collaborators": lambda h: [
        *_both("/apps/acme-web/collaborators"),
        api("alice", "/apps/acme-web/collaborators", "post", {"user": SCRIPT}),
    ],
    "apps/<str:app>/collaborators/<str:email_or_id>": lambda h: [
        api("alice", f"/apps/acme-web/collaborators/{q(SCRIPT)}"),
        api("alice", f"/apps/acme-web/collaborators/{q(SCRIPT)}", "delete"),
    ],
    "apps/<str:app>/pipeline-couplings": lambda h: _both("/apps/acme-web/pipeline-couplings"),
    "apps/<str:app>/websocket-readiness": lambda h: _both("/apps/acme-web/websocket-readiness"),
    "apps/<str:app>/connections": lambda h: _both("/apps/acme-web/connections"),
    "apps/<str:app>/features": lambda h: _both("/apps/acme-web/features"),
    "apps/<str:app>/features/<str:id_or_name>": lambda h: [
        *_both("/apps/acme-web/features/websockets"),
        api("support", "/apps/acme-web/features/websockets", "patch", {"enabled": True}),
    ],
    "apps/<str:app>/backends": lambda h: [
        *_both("/apps/acme-web/backends"),
        api("support", "/apps/acme-web/backends", "post", {"address": SCRIPT}),
    ],
    "apps/<str:app>/backends/<str:address>": lambda h: [
        *_both(f"/apps/acme-web/backends/{q(h.backend.address)}"),
        api("support", f"/apps/acme-web/backends/{q(SCRIPT)}"),
    ],
    "apps/<str:app>/domains": lambda h: [
        *_both("/apps/acme-web/domains"),
        api("alice", "/apps/acme-web/domains", "post", {"hostname": SCRIPT}),
    ],
    "apps/<str:app>/domains/<str:id_or_hostname>": lambda h: [
        *_both(f"/apps/acme-web/domains/{h.domain.uuid}"),
        api("alice", f"/apps/acme-web/domains/{q(SCRIPT)}"),
    ],
    "ingest/v1/reports": lambda h: [
        ingest("/ingest/v1/reports", "post", {}, token=False),
        ingest(
            "/ingest/v1/reports",
            "post",
            {
                "edge": SCRIPT,
                "seq": 1,
                "sent_at": "2026-01-01T00:00:00Z",
                "frontends": [{"hostname": SCRIPT, "connections": 1}],
            },
        ),
    ],
    "ingest/v1/edges/<str:name>/config": lambda h: [
        ingest("/ingest/v1/edges/gateway/config", token=False),
        ingest("/ingest/v1/edges/gateway/config?format=haproxy"),
        ingest("/ingest/v1/edges/gateway/config?format=hipache"),
        ingest(f"/ingest/v1/edges/gateway/config?format={q(SCRIPT)}"),
    ],
    "ingest/v1/edges/<str:name>/config-status": lambda h: [
        ingest("/ingest/v1/edges/gateway/config-status", "post", {}, token=False),
        ingest(
            "/ingest/v1/edges/gateway/config-status",
            "post",
            {"status": "rejected", "etag": '"abc"', "message": SCRIPT},
        ),
    ],
    "edges": lambda h: _both("/edges"),
    "edges/<str:name>": lambda h: _both("/edges/acme-ssl"),
    "edges/<str:name>/upgrades": lambda h: [
        *_both("/edges/acme-ssl/upgrades"),
        api("alice", "/edges/acme-ssl/upgrades", "post", {"note": SCRIPT}),
    ],
    "edges/<str:name>/upgrades/<int:pk>": lambda h: [
        *_both(f"/edges/acme-ssl/upgrades/{h.closed_upgrade.pk}"),
        api("support", f"/edges/acme-ssl/upgrades/{h.open_upgrade.pk}", "patch", {"state": SCRIPT}),
    ],
    "teams": lambda h: _both("/teams"),
    "teams/<str:id_or_name>": lambda h: _both("/teams/acme"),
    "teams/<str:id_or_name>/apps": lambda h: _both("/teams/acme/apps"),
    "teams/<str:id_or_name>/features": lambda h: _both("/teams/acme/features"),
    "teams/<str:id_or_name>/members": lambda h: [
        *_both("/teams/acme/members"),
        api("alice", "/teams/acme/members", "put", {"email": SCRIPT, "role": "member"}),
        api("alice", "/teams/acme/members", "patch", {"email": SCRIPT, "role": SCRIPT}),
    ],
    "teams/<str:id_or_name>/members/<str:email_or_id>": lambda h: [
        api("alice", f"/teams/acme/members/{q(SCRIPT)}", "delete"),
    ],
    "teams/permissions": lambda h: _both("/teams/permissions"),
    "teams/apps/<str:app>": lambda h: _both("/teams/apps/acme-web"),
    "teams/apps/<str:app>/collaborators": lambda h: _both("/teams/apps/acme-web/collaborators"),
    "teams/apps/<str:app>/collaborators/<str:email_or_id>": lambda h: [
        api("support", f"/teams/apps/acme-web/collaborators/{q(SCRIPT)}", "patch", {}),
    ],
    # Any other path: the API's catch-all not_found.
    "": lambda h: _both(f"/no/such/{q(SCRIPT)}"),
}

# Routes the sweep does not visit, each with the reason. Keep this short.
EXEMPT: dict[str, str] = {}


def _account_feature() -> str:
    feature = Feature.objects.filter(scope=Feature.Scope.ACCOUNT).order_by("name").first()
    assert feature is not None
    return feature.name


_ADMIN_MODEL_VIEW = re.compile(r"admin:(\w+?)_(\w+)_(changelist|add|history|delete|change)")
_ADMIN_OBJECT_REDIRECT = re.compile(r"admin/(\w+)/(\w+)/<path:object_id>/")


def _admin_row(h: Hostile, app_label: str, model_name: str) -> Any:
    model = django_apps.get_model(app_label, model_name)
    row = h.rows.get(model) or model._default_manager.first()
    assert row is not None, f"no {model_name} row to show in the admin site"
    return row


def admin_visits(h: Hostile, key: str, route: str) -> list[Visit] | None:
    """Visits for the admin site's routes, one set per registered model."""
    simple = {
        "admin:index": [page("admin", "/admin/")],
        "admin:login": [page("anonymous", f"/admin/login/?next={q(SCRIPT)}")],
        "admin:logout": [page("admin", "/admin/logout/", method="post", follow=True)],
        "admin:password_change": [page("admin", "/admin/password_change/")],
        "admin:password_change_done": [page("admin", "/admin/password_change/done/")],
        "admin:jsi18n": [page("admin", "/admin/jsi18n/")],
        "admin:autocomplete": [
            page(
                "admin",
                "/admin/autocomplete/?app_label=dashboard&model_name=app"
                f"&field_name=organization&term={q(SCRIPT)}",
            ),
            page(
                "admin",
                "/admin/autocomplete/?app_label=dashboard&model_name=membership&field_name=user",
            ),
        ],
        "admin:view_on_site": [
            page(
                "admin",
                reverse(
                    "admin:view_on_site",
                    args=[ContentType.objects.get_for_model(App).pk, h.world.acme_web.pk],
                ),
                follow=True,
            )
        ],
        "admin:app_list": [
            page("admin", reverse("admin:app_list", args=[label]))
            for label in sorted({m._meta.app_label for m in admin.site._registry})
        ],
        "admin:auth_user_password_change": [
            page("admin", reverse("admin:auth_user_password_change", args=[h.mallory.pk]))
        ],
    }
    if key in simple:
        return simple[key]
    if match := _ADMIN_MODEL_VIEW.fullmatch(key):
        app_label, model_name, view = match.groups()
        if view == "add":
            return [page("admin", reverse(key))]
        if view == "changelist":
            path = reverse(key)
            return [page("admin", path), page("admin", f"{path}?q=xss&o=1")]
        row = _admin_row(h, app_label, model_name)
        return [page("admin", reverse(key, args=[row.pk]))]
    if match := _ADMIN_OBJECT_REDIRECT.fullmatch(route):
        row = _admin_row(h, *match.groups())
        return [page("admin", "/" + route.replace("<path:object_id>", str(row.pk)), follow=True)]
    if route == "admin/(?P<url>.*)$":
        return [page("admin", "/admin/no-such-page/", follow=True)]
    return None


@dataclass(frozen=True)
class Route:
    key: str
    route: str


def _walk(patterns: list[Any], prefix: str = "", namespace: str = "") -> Iterator[Route]:
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = ":".join(n for n in (namespace, pattern.namespace or "") if n)
            yield from _walk(pattern.url_patterns, prefix + str(pattern.pattern), inner)
        elif isinstance(pattern, URLPattern):
            route = prefix + str(pattern.pattern)
            name = f"{namespace}:{pattern.name}" if namespace and pattern.name else pattern.name
            yield Route(key=name or route, route=route)


def every_route() -> list[Route]:
    pages = list(_walk(get_resolver().url_patterns))
    api_routes = [
        Route(f"api:{r.key}", r.route) for r in _walk(get_resolver(API_URLCONF).url_patterns)
    ]
    return pages + api_routes


def plan(h: Hostile, route: Route) -> list[Visit] | None:
    if route.key.startswith("api:"):
        planner = API_ROUTES.get(route.key.removeprefix("api:"))
        return planner(h) if planner else None
    if route.key in PAGES:
        return PAGES[route.key](h)
    if route.key.startswith("admin:") or route.route.startswith("admin/"):
        return admin_visits(h, route.key, route.route)
    return None


# Looking at answers


def json_strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from json_strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from json_strings(item)


def inspect(response: HttpResponse) -> tuple[list[str], set[str]]:
    """What is wrong with an answer, and which stored fields it shows (safely)."""
    problems: list[str] = []
    content_type = response.get("Content-Type", "")
    body = response.getvalue().decode()
    lowered = body.lower()
    if content_type.startswith("text/html"):
        problems += [f"unescaped {marker!r}" for marker in RAW_MARKERS if marker in lowered]
        if re.search(r"""(href|src|action)\s*=\s*["']?\s*javascript:""", lowered):
            problems.append("a javascript: URL in a link")
        return problems, {tag for tag in TAGS if escape(hostile(tag)) in body}
    if content_type == "application/json":
        if response.get("X-Content-Type-Options") != "nosniff":
            problems.append("JSON a browser may sniff as HTML")
        try:
            strings = list(json_strings(json.loads(body))) if body else []
        except ValueError:
            return [*problems, "JSON that does not parse"], set()
        return problems, {tag for tag in TAGS if any(hostile(tag) in s for s in strings)}
    if content_type.startswith("text/csv"):
        # A download, never shown by the browser (its formula escaping has its own tests).
        if response.get("X-Content-Type-Options") != "nosniff":
            problems.append("CSV a browser may sniff as HTML")
        if not response.get("Content-Disposition", "").startswith("attachment;"):
            problems.append("CSV the browser would show in place")
        return problems, set()
    if content_type.startswith(("text/plain", "text/javascript")):
        if response.get("X-Content-Type-Options") != "nosniff":
            problems.append("plain text a browser may sniff as HTML")
        if content_type.startswith("text/javascript") and any(m in lowered for m in RAW_MARKERS):
            problems.append("the payload inside a script")
        return problems, set()
    if body:
        problems.append(f"an unexpected content type {content_type!r}")
    return problems, set()


@dataclass
class Sweep:
    problems: list[str] = field(default_factory=list)
    # Where each stored field was shown: in any answer, and in HTML (pages and fragments).
    shown: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    shown_in_html: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    answers: int = 0
    html_with_payload: set[str] = field(default_factory=set)
    json_with_payload: set[str] = field(default_factory=set)

    def record(self, where: str, response: HttpResponse) -> None:
        self.answers += 1
        problems, tags = inspect(response)
        self.problems += [f"{where}: {p}" for p in problems]
        html = response.get("Content-Type", "").startswith("text/html")
        for tag in tags:
            self.shown[tag].add(where)
            if html:
                self.shown_in_html[tag].add(where)
        if tags and html:
            self.html_with_payload.add(where)
        if tags and response.get("Content-Type") == "application/json":
            self.json_with_payload.add(where)


def _client(h: Hostile, who: str) -> tuple[Client, dict[str, str]]:
    users = {"support": h.support, "alice": h.alice, "admin": h.admin, "anonymous": None}
    if who in users:
        return client_for(users[who]), {}
    if who == "ingest":
        return Client(), {"Authorization": f"Bearer {h.ingest_token}"}
    token = {"api:support": h.support_token, "api:alice": h.alice_token}[who]
    return Client(), {"Authorization": f"Bearer {token}", "Accept": ACCEPT}


@dataclass
class Visitor:
    """One client per persona: each new client sets up the whole middleware stack again."""

    h: Hostile
    sweep: Sweep
    clients: dict[str, tuple[Client, dict[str, str]]] = field(default_factory=dict)

    def visit(self, target: Visit) -> None:
        if target.who not in self.clients:
            self.clients[target.who] = _client(self.h, target.who)
        client, persona_headers = self.clients[target.who]
        options: dict[str, Any] = {
            "headers": {**persona_headers, **dict(target.headers)},
            "follow": target.follow,
        }
        if target.data is not None:
            options["data"] = target.data
            if isinstance(target.data, str):
                options["content_type"] = "application/json"
        response = getattr(client, target.method)(target.path, **options)
        if "logout" in target.path:
            del self.clients[target.who]
        if response.status_code >= 500:
            self.sweep.problems.append(f"{target}: answered {response.status_code}")
        self.sweep.record(str(target), response)


def live_kinds() -> list[str]:
    """The live topics' kinds, read from the socket routes so a new kind is swept too."""
    kinds = []
    for pattern in websocket_urlpatterns:
        text = str(pattern.pattern)
        if text.startswith("ws/live/") and "(?P<kind>" not in text:
            kinds.append(text.removeprefix("ws/live/").strip("/"))
        if match := re.search(r"\(\?P<kind>([a-z|-]+)\)", text):
            kinds += match.group(1).split("|")
    return kinds


def sweep_live_fragments(h: Hostile, sweep: Sweep) -> set[str]:
    """Render every topic each persona may watch, as the hub renders it for their sockets."""
    names = {
        "overview": [""],
        "upgrades": [""],
        "support": [""],
        "apps": list(App.objects.values_list("name", flat=True)),
        "edges": list(Edge.objects.values_list("name", flat=True)),
        "orgs": list(Organization.objects.values_list("name", flat=True)),
        "org-pages": list(Organization.objects.values_list("name", flat=True)),
    }
    rendered = set()
    for kind in live_kinds():
        assert kind in names, f"the sweep does not know the live topic kind {kind!r}"
        for user in (h.support, h.alice):
            for name in names[kind]:
                topic = authorize(user, kind, name)
                if topic is None:
                    continue
                # A part of numbers goes out whole, or as its cells alone.
                frame = "".join(
                    whole(f) + ("" if isinstance(f, str) else "".join(f.cells.values()))
                    for f in topic.render(topic.parts).values()
                )
                response = HttpResponse(frame, content_type="text/html; charset=utf-8")
                sweep.record(f"live {kind}/{name} for {user.get_username()}", response)
                rendered.add(kind)
    return rendered


def fake_dns(domains: list[Domain], **_: Any) -> dict[int, DnsAnswer]:
    return {d.pk: DnsAnswer(Domain.DnsStatus.UNRESOLVABLE, hostile("dns-seen")) for d in domains}


# Tests


def test_every_url_in_the_url_conf_is_swept_or_exempted_with_a_reason(
    hostile_world: Hostile,
) -> None:
    routes = every_route()
    missing = [r.key for r in routes if r.key not in EXEMPT and not plan(hostile_world, r)]
    assert not missing, f"give these URLs a visit in the sweep (or an exemption): {missing}"
    known = {r.key for r in routes}
    stale = set(EXEMPT) - known
    assert not stale, f"exemptions for URLs that no longer exist: {stale}"
    assert len(routes) > 100


def test_no_page_fragment_or_answer_shows_a_stored_payload_unescaped(
    hostile_world: Hostile, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("edges.services.dns_checks.lookup_many", fake_dns)
    sweep = Sweep()
    visitor = Visitor(hostile_world, sweep)
    for route in every_route():
        for target in plan(hostile_world, route) or []:
            visitor.visit(target)
    kinds = sweep_live_fragments(hostile_world, sweep)

    assert not sweep.problems, "\n".join(sweep.problems)
    assert kinds == set(live_kinds())
    # The sweep saw the fields, escaped, on many pages: it did not pass by rendering nothing.
    not_in_html = [tag for tag in TAGS if not sweep.shown_in_html[tag]]
    assert not not_in_html, f"no page showed these stored fields: {not_in_html}"
    assert len(sweep.html_with_payload) >= 80, sorted(sweep.html_with_payload)
    assert len(sweep.json_with_payload) >= 15, sorted(sweep.json_with_payload)
    assert sweep.answers >= 230
    live = [w for w in sweep.html_with_payload if w.startswith("live ")]
    assert len(live) >= 4, live


def test_the_sweep_catches_a_payload_rendered_raw() -> None:
    raw = HttpResponse(f"<p>{hostile('reason')}</p>", content_type="text/html; charset=utf-8")
    problems, _ = inspect(raw)
    assert problems == [
        "unescaped '<script>alert(1)</script>'",
        "unescaped '<img src=x onerror'",
    ]
    safe = HttpResponse(f"<p>{escape(hostile('reason'))}</p>", content_type="text/html")
    assert inspect(safe) == ([], {"reason"})
    sniffable = HttpResponse(hostile("reason"), content_type="text/plain")
    assert inspect(sniffable)[0] == ["plain text a browser may sniff as HTML"]
    link = HttpResponse('<a href="javascript:alert(1)">Docs</a>', content_type="text/html")
    assert inspect(link)[0] == ["a javascript: URL in a link"]
