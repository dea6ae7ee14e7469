from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from dashboard.models import AuditEvent
from dashboard.services.admin_edits import admin_model_save
from edges.services.edges import certificate_set
from tests.conftest import World, client_for


def test_staff_overview_lists_every_organization_app_and_edge(support: User) -> None:
    page = client_for(support).get(reverse("overview")).content.decode()
    for name in [
        "acme-web",
        "acme-api",
        "globex-store",
        "gateway",
        "acme-ssl",
        "globex-ssl",
        'id="org-acme"',
        'id="org-globex"',
    ]:
        assert name in page


def test_customer_overview_lists_only_their_apps(alice: User) -> None:
    page = client_for(alice).get(reverse("overview")).content.decode()
    assert 'id="app-acme-web"' in page
    assert 'id="app-acme-api"' in page
    assert "globex" not in page


def test_overview_search_finds_apps_by_domain(support: User) -> None:
    page = client_for(support).get(reverse("overview"), {"q": "shop.globex"}).content.decode()
    assert 'id="app-globex-store"' in page
    assert 'id="app-acme-web"' not in page


def test_overview_search_finds_apps_by_member_email(support: User, carol: User) -> None:
    page = client_for(support).get(reverse("overview"), {"q": "carol@"}).content.decode()
    assert 'id="app-globex-store"' in page
    assert 'id="app-acme-api"' not in page


def test_customers_cannot_search_their_way_into_other_organizations(
    alice: User, carol: User
) -> None:
    page = client_for(alice).get(reverse("overview"), {"q": "globex"}).content.decode()
    assert 'id="app-globex-store"' not in page


def test_htmx_search_renders_only_the_results_partial(support: User) -> None:
    response = client_for(support).get(
        reverse("overview"), {"q": "acme"}, headers={"HX-Request": "true", "HX-Target": "results"}
    )
    body = response.content.decode()
    assert body.lstrip().startswith('<div id="results">')
    assert "<html" not in body
    assert 'id="app-acme-web"' in body


def test_websockets_default_follows_the_general_availability_date(support: User) -> None:
    page = client_for(support).get(reverse("overview")).content.decode()
    pre_ga_row = page.split('id="app-acme-web"')[1].split("</tr>")[0]
    post_ga_row = page.split('id="app-acme-api"')[1].split("</tr>")[0]
    assert ">off<" in pre_ga_row
    assert ">on<" in post_ga_row


def test_app_behind_a_legacy_ssl_edge_says_so(alice: User) -> None:
    page = client_for(alice).get(reverse("app-detail", args=["acme-web"])).content.decode()
    assert "acme-ssl cannot carry WebSockets." in page
    assert reverse("edge-detail", args=["acme-ssl"]) in page


def test_app_on_the_gateway_has_no_legacy_warning(alice: User) -> None:
    page = client_for(alice).get(reverse("app-detail", args=["acme-api"])).content.decode()
    assert "cannot carry WebSockets" not in page
    row = page.split('id="app-acme-api-feature-websockets"')[1].split("</tr>")[0]
    assert 'data-enabled="true"' in row


def test_edge_page_shows_capabilities_and_certificate_warning(alice: User, world: World) -> None:
    now = timezone.now()
    certificate_set(
        edge=world.acme_ssl,
        common_name="www.acme.example",
        sans=["acme.example"],
        issuer="RapidSSL CA",
        not_before=now - dt.timedelta(days=300),
        not_after=now + dt.timedelta(days=10, hours=1),
        actor=None,
        source="cli",
    )
    page = client_for(alice).get(reverse("edge-detail", args=["acme-ssl"])).content.decode()
    assert 'id="capability-nginx_legacy" class="current"' in page
    assert "retries the request on the next live back-end, even a POST" in page
    assert "expires in 10 days" in page
    assert "send a ping at least every 27 s" in page


def test_expired_certificate_is_shown_as_an_error(alice: User, world: World) -> None:
    now = timezone.now()
    certificate_set(
        edge=world.acme_ssl,
        common_name="www.acme.example",
        sans=[],
        issuer="RapidSSL CA",
        not_before=now - dt.timedelta(days=400),
        not_after=now - dt.timedelta(days=1),
        actor=None,
        source="cli",
    )
    page = client_for(alice).get(reverse("edge-detail", args=["acme-ssl"])).content.decode()
    assert '<span class="badge bad">expired</span>' in page


def test_organization_page_lists_members_apps_and_edges(alice: User, bob: User) -> None:
    page = client_for(bob).get(reverse("organization-detail", args=["acme"])).content.decode()
    for text in ["alice", "bob", "acme-web", "acme-api", "acme-ssl", "Owner", "Member"]:
        assert text in page


def test_user_strings_are_escaped_on_pages(alice: User, world: World, admin_user: User) -> None:
    world.acme.display_name = "<script>alert(1)</script>"
    admin_model_save(
        instance=world.acme, changed_fields=["display_name"], created=False, actor=admin_user
    )
    page = client_for(alice).get(reverse("organization-detail", args=["acme"])).content.decode()
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_admin_edits_are_audited(admin_user: User, world: World) -> None:
    client = client_for(admin_user)
    response = client.post(
        f"/admin/edges/edge/{world.gateway.pk}/change/",
        {
            "name": "gateway",
            "hostname": "gateway.example.net",
            "kind": "gateway",
            "proxy": "haproxy",
            "region": "us",
            "http_port": 80,
            "https_port": 443,
            "ws_port": 8080,
            "wss_port": 8443,
            "idle_timeout_seconds": 55,
            "certificate-TOTAL_FORMS": 0,
            "certificate-INITIAL_FORMS": 0,
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    event = AuditEvent.objects.filter(action="edge.change").get()
    assert event.source == "admin"
    assert event.actor == admin_user
    assert (event.before, event.after) == ({"proxy": "hipache"}, {"proxy": "haproxy"})


def test_login_page_signs_a_user_in(alice: User) -> None:
    client = Client()
    response = client.post(
        reverse("login"), {"username": "alice", "password": "correct-horse-battery-staple"}
    )
    assert response.status_code == 302
    assert client.get(reverse("overview")).status_code == 200


def test_wrong_password_is_refused_with_a_message(alice: User) -> None:
    response = Client().post(reverse("login"), {"username": "alice", "password": "nope"})
    assert response.status_code == 200
    assert "Please enter a correct username and password" in response.content.decode()


def test_logout_needs_a_post(alice: User) -> None:
    client = client_for(alice)
    assert client.get(reverse("logout")).status_code == 405
    client.post(reverse("logout"))
    assert client.get(reverse("overview")).status_code == 302


def test_healthz_answers_without_login(db: None) -> None:
    assert Client().get("/healthz").json() == {"status": "ok"}


def test_support_adds_and_removes_a_backend_from_the_app_page(world: World, support: User) -> None:
    client = client_for(support)
    added = client.post(
        "/apps/acme-api/backends/", {"address": "10.3.0.7:8080"}, headers={"HX-Request": "true",
        "HX-Target": "backends-panel"},
    )  # fmt: skip
    assert added.status_code == 200
    assert b'id="backends-panel"' in added.content and b"<html" not in added.content
    assert b"Added 10.3.0.7:8080" in added.content
    refused = client.post("/apps/acme-api/backends/", {"address": "web1:80"})
    assert refused.status_code == 422
    assert "is not an IP address" in refused.content.decode()
    removed = client.post(
        "/apps/acme-api/backends/remove/", {"address": "10.3.0.7:8080", "confirmed": "yes"}
    )
    assert removed.status_code == 302
    assert not world.acme_api.backends.exists()


def test_customers_see_backends_read_only_and_cannot_post(
    world: World, support: User, alice: User, carol: User
) -> None:
    from dashboard.services.apps import backend_add

    backend_add(app=world.acme_api, address="10.3.0.7:8080", actor=support, source="web")
    page = client_for(alice).get("/apps/acme-api/").content.decode()
    assert "<code>10.3.0.7:8080</code>" in page
    assert "app-backend-add" not in page and 'action="/apps/acme-api/backends/"' not in page
    refused = client_for(alice).post("/apps/acme-api/backends/", {"address": "10.3.0.8:80"})
    assert refused.status_code == 403
    assert (
        client_for(carol).post("/apps/acme-api/backends/", {"address": "10.3.0.8:80"}).status_code
        == 404
    )
    assert world.acme_api.backends.count() == 1


def test_only_staff_see_an_edges_proxy_configuration(
    world: World, support: User, alice: User
) -> None:
    staff_page = client_for(support).get("/edges/acme-ssl/").content.decode()
    assert 'id="edge-config"' in staff_page
    assert 'id="edge-config"' not in client_for(alice).get("/edges/acme-ssl/").content.decode()
    config = client_for(support).get("/edges/acme-ssl/config/?format=haproxy")
    assert config.status_code == 200 and b"backend host_www.acme.example" in config.content
    assert client_for(alice).get("/edges/acme-ssl/config/").status_code == 404


def test_a_shared_gateways_page_lists_its_domains_a_page_at_a_time_and_counts_them_all(
    support: User, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dashboard.models import Domain

    monkeypatch.setattr("pages.views.edges.EDGE_DOMAINS_PER_PAGE", 2)
    total = Domain.objects.filter(edge=world.gateway).count()
    apps = Domain.objects.filter(edge=world.gateway).values("app").distinct().count()
    assert total > 2
    page = client_for(support).get(reverse("edge-detail", args=["gateway"])).content.decode()
    assert page.count('<tr id="domain-') == 2
    assert f"{total} domains of {apps} apps" in page
    assert f"{total} hostnames" in page
    assert f"1\N{EN DASH}2 of {total} domains" in page
    assert 'href="?page=2"' in page


def test_an_edges_page_lists_its_busiest_apps_and_says_how_many_more(
    support: User, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    import json

    from dashboard.models import Domain
    from edges.api.ingest_payloads import parse_report
    from edges.services.reports import report_apply

    monkeypatch.setattr("edges.counts.EDGE_LIVE_APPS", 2)
    # One hostname of each app the gateway carries.
    hostnames = list(
        {d.app_id: d.hostname for d in Domain.objects.filter(edge=world.gateway)}.values()
    )
    assert len(hostnames) > 2
    frontends = [
        {"hostname": h, "connections": 100 * (i + 1)} for i, h in enumerate(sorted(hostnames))
    ]
    body = {"edge": "gateway", "seq": 1, "sent_at": "2026-11-21T10:00:00Z", "frontends": frontends}
    report_apply(
        edge=world.gateway, report=parse_report(json.dumps(body).encode(), "application/json")
    )
    page = client_for(support).get(reverse("edge-detail", args=["gateway"])).content.decode()
    rows = page.count('-connections" data-count=') - 1  # the edge's own total
    assert rows == 2
    busiest = Domain.objects.get(hostname=sorted(hostnames)[-1]).app.name
    assert f'id="edge-gateway-app-{busiest}-connections"' in page
    assert f"{len(hostnames) - 2}</span> more app" in page
