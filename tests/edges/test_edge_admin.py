"""The admin site keeps the platform's rules: no websockets behind a legacy SSL edge, whether
the switch is flipped on the app or the edge's proxy is switched back; and an edge's ingest
token is rotated there (or with `manage.py edges rotate-token`), shown once, the old one dead."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client

from dashboard.models import AppFeature, AuditEvent, Feature
from dashboard.services.features import SSL_ENDPOINT_REFUSAL, feature_set
from edges.models import Edge
from edges.services.edges import edge_ingest_token_rotate
from tests.admin_forms import Pushed, form_data, url
from tests.conftest import World, client_for

APP_FEATURE_ADD = "/admin/dashboard/appfeature/add/"
EDGES = "/admin/edges/edge/"
INGEST = "/ingest/v1/reports"


@pytest.fixture
def admin_client(admin_user: User) -> Client:
    return client_for(admin_user)


def websockets() -> Feature:
    return Feature.objects.get(name="websockets")


def admin_rows() -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(source="admin").order_by("id"))


def ingest(token: str, edge: str = "globex-ssl", seq: int = 1) -> int:
    body = {"edge": edge, "seq": seq, "sent_at": "2026-11-21T10:00:00Z", "frontends": []}
    headers = {"Authorization": f"Bearer {token}"}
    return Client().post(INGEST, body, content_type="application/json", headers=headers).status_code


def websockets_on_for_globex_store(world: World) -> None:
    feature_set(
        app=world.globex_store, feature=websockets(), enabled=True, actor=None, source="cli"
    )


# Switching websockets on an app


def test_enabling_websockets_behind_the_legacy_ssl_edge_is_refused_on_the_field(
    world: World, admin_client: Client, pushed: Pushed, committed: Callable[[], Any]
) -> None:
    data = {
        "app": world.acme_web.pk,
        "feature": websockets().pk,
        "enabled": "on",
        "reason": "customer asked",
    }
    with committed():
        response = admin_client.post(APP_FEATURE_ADD, data)

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert errors["enabled"] == [f"{SSL_ENDPOINT_REFUSAL} Upgrade first: acme-ssl."]
    assert SSL_ENDPOINT_REFUSAL in response.content.decode()
    assert not AppFeature.objects.filter(app=world.acme_web).exists()
    assert admin_rows() == []
    assert pushed == []


def test_a_switch_without_a_reason_is_refused_and_changes_nothing(
    world: World, admin_client: Client
) -> None:
    data = {"app": world.acme_api.pk, "feature": websockets().pk, "reason": "  "}

    response = admin_client.post(APP_FEATURE_ADD, data)

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["reason"]
    assert not AppFeature.objects.filter(app=world.acme_api).exists()
    assert admin_rows() == []


def test_a_switch_goes_through_the_feature_service_with_its_audit_row_and_push(
    world: World,
    admin_client: Client,
    admin_user: User,
    pushed: Pushed,
    committed: Callable[[], Any],
) -> None:
    data = {"app": world.acme_api.pk, "feature": websockets().pk, "reason": "ticket #16"}
    with committed():
        response = admin_client.post(APP_FEATURE_ADD, data)

    assert response.status_code == 302
    assert AppFeature.objects.get(app=world.acme_api).enabled is False
    [row] = admin_rows()
    assert (row.action, row.actor, row.reason) == ("feature.disable", admin_user, "ticket #16")
    assert (row.before, row.after) == (
        {"feature": "websockets", "enabled": True},
        {"feature": "websockets", "enabled": False},
    )
    payload = {"app": "acme-api", "organization": "acme", "feature": "websockets"}
    assert pushed == [("feature.changed", {**payload, "enabled": False})]


# Switching an edge's proxy


def test_switching_an_edge_to_legacy_nginx_is_refused_while_apps_behind_it_have_websockets(
    world: World, admin_client: Client, pushed: Pushed, committed: Callable[[], Any]
) -> None:
    websockets_on_for_globex_store(world)
    edge = world.globex_ssl
    data = form_data(admin_client, url(edge, "change"))
    data["proxy"] = Edge.Proxy.NGINX_LEGACY

    with committed():
        response = admin_client.post(url(edge, "change"), data)

    assert response.status_code == 200
    [message] = response.context["adminform"].form.errors["proxy"]
    assert "globex-store" in message and "websockets is on" in message
    assert message in response.content.decode().replace("&#x27;", "'")
    edge.refresh_from_db()
    assert edge.proxy == Edge.Proxy.HIPACHE
    assert admin_rows() == []
    assert pushed == []


def test_switching_an_edge_with_no_websockets_behind_it_is_audited_and_pushed(
    world: World,
    admin_client: Client,
    admin_user: User,
    pushed: Pushed,
    committed: Callable[[], Any],
) -> None:
    edge = world.globex_ssl
    data = form_data(admin_client, url(edge, "change"))
    data["proxy"] = Edge.Proxy.NGINX_LEGACY

    with committed():
        assert admin_client.post(url(edge, "change"), data).status_code == 302

    edge.refresh_from_db()
    assert edge.proxy == Edge.Proxy.NGINX_LEGACY
    [row] = admin_rows()
    assert (row.action, row.actor) == ("edge.change", admin_user)
    assert (row.before, row.after) == ({"proxy": "hipache"}, {"proxy": "nginx_legacy"})
    assert pushed == [
        (
            "edge.changed",
            {
                "edge": "globex-ssl",
                "proxy": "nginx_legacy",
                "apps": ["globex-store"],
                "organization": "globex",
            },
        )
    ]


def test_the_switch_action_turns_websockets_off_app_by_app_with_the_reason(
    world: World, admin_client: Client, admin_user: User
) -> None:
    websockets_on_for_globex_store(world)
    chosen = {
        "action": "switch_proxy_turning_websockets_off",
        "_selected_action": [world.globex_ssl.pk],
    }
    asked = admin_client.post(EDGES, chosen)
    assert asked.status_code == 200
    assert "websockets goes off for globex-store" in asked.content.decode()

    response = admin_client.post(
        EDGES, {**chosen, "apply": "1", "proxy": "nginx_legacy", "reason": "rollback INC-7"}
    )

    assert response.status_code == 302
    world.globex_ssl.refresh_from_db()
    assert world.globex_ssl.proxy == Edge.Proxy.NGINX_LEGACY
    off, changed = admin_rows()
    assert (off.action, off.app, off.reason, off.actor) == (
        "feature.disable",
        world.globex_store,
        "rollback INC-7",
        admin_user,
    )
    assert (changed.action, changed.reason) == ("edge.change", "rollback INC-7")
    assert AppFeature.objects.get(app=world.globex_store).enabled is False


def test_the_switch_action_without_a_reason_asks_again_and_changes_nothing(
    world: World, admin_client: Client
) -> None:
    websockets_on_for_globex_store(world)
    response = admin_client.post(
        EDGES,
        {
            "action": "switch_proxy_turning_websockets_off",
            "_selected_action": [world.globex_ssl.pk],
            "apply": "1",
            "proxy": "nginx_legacy",
            "reason": "",
        },
    )

    assert response.status_code == 200
    assert response.context["form"].errors["reason"] == ["This field is required."]
    world.globex_ssl.refresh_from_db()
    assert world.globex_ssl.proxy == Edge.Proxy.HIPACHE
    assert admin_rows() == []


def test_the_switch_action_offers_only_proxies_without_websockets(
    world: World, admin_client: Client
) -> None:
    response = admin_client.post(
        EDGES,
        {
            "action": "switch_proxy_turning_websockets_off",
            "_selected_action": [world.globex_ssl.pk],
            "apply": "1",
            "proxy": "haproxy",
            "reason": "why not",
        },
    )

    assert response.status_code == 200
    assert "proxy" in response.context["form"].errors
    assert admin_rows() == []


# Ingest tokens


def shown_token(html: str, edge: str) -> str:
    found = re.search(rf'id="ingest-token-{edge}">([^<]+)<', html)
    assert found, html
    return found.group(1)


def test_rotating_a_token_in_the_admin_shows_the_new_one_once_and_kills_the_old(
    world: World, admin_client: Client, admin_user: User
) -> None:
    old = edge_ingest_token_rotate(edge=world.globex_ssl, actor=None, source="cli")
    assert ingest(old) == 202
    chosen = {"action": "rotate_ingest_token", "_selected_action": [world.globex_ssl.pk]}

    response = admin_client.post(EDGES, {**chosen, "confirmed": "yes"})

    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    new = shown_token(response.content.decode(), "globex-ssl")
    assert ingest(old, seq=2) == 401
    assert ingest(new, seq=3) == 202
    [row] = admin_rows()
    world.globex_ssl.refresh_from_db()
    assert (row.action, row.actor) == ("edge.ingest_token_rotate", admin_user)
    assert row.before == {"ingest_token_prefix": old[: len(world.globex_ssl.ingest_token_prefix)]}
    assert row.after == {"ingest_token_prefix": world.globex_ssl.ingest_token_prefix}
    assert new not in str(row.before) + str(row.after)
    # Shown once: the edge's page only ever shows the prefix.
    assert new not in admin_client.get(url(world.globex_ssl, "change")).content.decode()


def test_an_edge_added_in_the_admin_is_created_by_its_service_and_shows_its_token(
    world: World, admin_client: Client, admin_user: User
) -> None:
    data = {
        "name": "eu-gw",
        "hostname": "eu-gw.example.net",
        "kind": "gateway",
        "proxy": "haproxy",
        "region": "eu",
        "http_port": 80,
        "https_port": 443,
        "ws_port": 8080,
        "wss_port": 8443,
        "idle_timeout_seconds": 55,
        "certificate-TOTAL_FORMS": 0,
        "certificate-INITIAL_FORMS": 0,
    }

    response = admin_client.post(f"{EDGES}add/", data)

    assert response.status_code == 200
    token = shown_token(response.content.decode(), "eu-gw")
    assert ingest(token, edge="eu-gw") == 202
    [row] = admin_rows()
    assert (row.action, row.actor, row.after["proxy"]) == ("edge.create", admin_user, "haproxy")


def test_the_rotate_token_command_prints_the_new_token_and_kills_the_old(world: World) -> None:
    old = edge_ingest_token_rotate(edge=world.globex_ssl, actor=None, source="cli")
    out = io.StringIO()

    call_command("edges", "rotate-token", "globex-ssl", stdout=out)

    new = out.getvalue().strip().rsplit(" ", 1)[1]
    assert ingest(old) == 401
    assert ingest(new) == 202
    row = AuditEvent.objects.filter(action="edge.ingest_token_rotate").latest("id")
    assert (row.source, row.actor) == ("cli", None)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["nope"], "Couldn't find that edge: nope."),
        (["globex-ssl", "--as", "nobody"], "No user is called 'nobody'."),
    ],
)
def test_the_rotate_token_command_refuses_what_it_cannot_find_and_changes_nothing(
    world: World, args: list[str], message: str
) -> None:
    before = Edge.objects.get(name="globex-ssl").ingest_token_hash

    with pytest.raises(CommandError, match=re.escape(message)):
        call_command("edges", "rotate-token", *args, stdout=io.StringIO())

    assert Edge.objects.get(name="globex-ssl").ingest_token_hash == before
    assert not AuditEvent.objects.filter(action="edge.ingest_token_rotate").exists()
