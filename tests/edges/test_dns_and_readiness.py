from __future__ import annotations

import datetime as dt
import io
import socket
from collections.abc import Iterator

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse
from django.utils import timezone
from dnslib import CNAME, QTYPE, RR, A, DNSRecord
from dnslib.server import BaseResolver, DNSServer

from dashboard.models import App, AuditEvent, Domain
from edgeboard.demo import demo_seed
from edges.dns import lookup
from edges.services.edges import certificate_set
from edges.services.readiness import app_readiness, readiness_json
from tests.conftest import World, client_for
from tests.dashboard.test_api import api_for
from tests.factories import make_app


class Zone(BaseResolver):
    """A tiny authoritative server for the records a test controls."""

    def __init__(self) -> None:
        self.cnames: dict[str, str] = {}
        self.addresses: dict[str, str] = {}
        self.silent: set[str] = set()

    def resolve(self, request: DNSRecord, handler: object) -> DNSRecord | None:
        reply = request.reply()
        name = str(request.q.qname).rstrip(".").lower()
        if name in self.silent:
            return None
        if name in self.cnames and request.q.qtype in (QTYPE.CNAME, QTYPE.A):
            reply.add_answer(RR(name, QTYPE.CNAME, rdata=CNAME(self.cnames[name] + "."), ttl=60))
        elif name in self.addresses and request.q.qtype == QTYPE.A:
            reply.add_answer(RR(name, QTYPE.A, rdata=A(self.addresses[name]), ttl=60))
        elif name not in self.addresses:
            reply.header.rcode = 3  # NXDOMAIN
        return reply


@pytest.fixture
def zone(settings: object) -> Iterator[Zone]:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    resolver = Zone()
    server = DNSServer(resolver, address="127.0.0.1", port=port)
    server.start_thread()
    settings.DNS_RESOLVER = ("127.0.0.1", port)  # type: ignore[attr-defined]
    settings.DNS_TIMEOUT = 0.5  # type: ignore[attr-defined]
    settings.DNS_CHECK_BUDGET = 2.0  # type: ignore[attr-defined]
    try:
        yield resolver
    finally:
        server.stop()


def test_a_cname_at_the_edge_is_ok(zone: Zone) -> None:
    zone.cnames["www.acme.example"] = "acme-ssl.edges.example.net"
    assert lookup("www.acme.example", "acme-ssl.edges.example.net").status == "ok"


def test_a_cname_elsewhere_needs_an_update_and_says_where(zone: Zone) -> None:
    zone.cnames["www.acme.example"] = "old-lb.example.org"
    answer = lookup("www.acme.example", "acme-ssl.edges.example.net")
    assert (answer.status, answer.seen) == ("dns_update_required", "old-lb.example.org")


def test_an_apex_with_the_edges_addresses_is_ok(zone: Zone) -> None:
    zone.addresses["acme.example"] = "192.0.2.10"
    zone.addresses["acme-ssl.edges.example.net"] = "192.0.2.10"
    assert lookup("acme.example", "acme-ssl.edges.example.net").status == "ok"
    zone.addresses["acme.example"] = "192.0.2.99"
    answer = lookup("acme.example", "acme-ssl.edges.example.net")
    assert (answer.status, answer.seen) == ("dns_update_required", "192.0.2.99")


def test_unknown_names_are_unresolvable(zone: Zone) -> None:
    answer = lookup("nothing.acme.example", "acme-ssl.edges.example.net")
    assert (answer.status, answer.seen) == ("unresolvable", "no such domain")


def test_a_silent_server_is_unresolvable_in_bounded_time(zone: Zone) -> None:
    zone.silent.add("slow.acme.example")
    started = timezone.now()
    answer = lookup("slow.acme.example", "acme-ssl.edges.example.net")
    assert answer.status == "unresolvable"
    assert (timezone.now() - started).total_seconds() < 3


def test_check_dns_command_records_statuses_and_exits_1_on_problems(
    zone: Zone, world: World
) -> None:
    zone.cnames["www.acme.example"] = "somewhere.example.org"
    zone.cnames["shop.globex.example"] = "globex-ssl.edges.example.net"
    out = io.StringIO()
    with pytest.raises(CommandError, match="1 domain"):
        call_command("check_dns", stdout=out)
    assert "www.acme.example" in out.getvalue()
    www = Domain.objects.get(hostname="www.acme.example")
    assert (www.dns_status, www.dns_seen_target) == ("dns_update_required", "somewhere.example.org")
    assert Domain.objects.get(hostname="shop.globex.example").dns_status == "ok"
    assert AuditEvent.objects.filter(action="domain.dns_check").count() == 2
    zone.cnames["www.acme.example"] = "acme-ssl.edges.example.net"
    call_command("check_dns", "--app", "acme-web", stdout=io.StringIO())
    assert Domain.objects.get(hostname="www.acme.example").dns_status == "ok"


def test_check_dns_button(zone: Zone, alice: User, world: World) -> None:
    zone.cnames["www.acme.example"] = "acme-ssl.edges.example.net"
    response = client_for(alice).post(reverse("app-dns-check", args=["acme-web"]), follow=True)
    assert "DNS checked. www.acme.example: OK." in response.content.decode()
    assert (
        client_for(alice).post(reverse("app-dns-check", args=["globex-store"])).status_code == 404
    )


# Readiness, for each case of the demo


@pytest.fixture
def demo(db: None) -> None:
    demo_seed(password="demo-password")


def reasons(app: str) -> dict[str, tuple[bool, bool, set[str]]]:
    _, rows = app_readiness(App.objects.get(name=app))
    return {r.domain.hostname: (r.ws, r.wss, {x.code for x in r.reasons}) for r in rows}


def test_readiness_of_a_pre_ga_app_behind_the_legacy_edge(demo: None) -> None:
    assert reasons("acme-web") == {
        "acme-web.example.net": (False, False, {"feature_off"}),
        "www.acme.example": (False, False, {"feature_off", "legacy_edge"}),
    }


def test_readiness_of_a_gateway_app_with_stale_dns(demo: None) -> None:
    assert reasons("acme-chat") == {
        "acme-chat.example.net": (False, False, {"feature_off"}),
        "chat.acme.example": (
            False,
            False,
            {"feature_off", "dns_update_required", "no_certificate"},
        ),
    }


def test_readiness_of_a_post_ga_app_on_the_gateway(demo: None) -> None:
    assert reasons("acme-api") == {"acme-api.example.net": (True, True, set())}


def test_readiness_behind_an_upgraded_edge_once_enabled(demo: None) -> None:
    assert reasons("globex-store")["shop.globex.example"] == (False, False, {"feature_off"})
    assert reasons("globex-api")["api.globex-corp.example"] == (
        True,
        False,
        {"dns_unchecked", "certificate_mismatch"},
    )


def test_an_expired_certificate_blocks_wss_only(world: World) -> None:
    from dashboard.models import AppFeature, Feature

    AppFeature.objects.create(
        app=world.globex_store, feature=Feature.objects.get(name="websockets"), enabled=True
    )
    now = timezone.now()
    certificate_set(
        edge=world.globex_ssl,
        common_name="shop.globex.example",
        sans=[],
        issuer="CA",
        not_before=now - dt.timedelta(days=400),
        not_after=now - dt.timedelta(days=2),
        actor=None,
        source="cli",
    )
    Domain.objects.filter(hostname="shop.globex.example").update(dns_status="ok")
    row = reasons("globex-store")["shop.globex.example"]
    assert row == (True, False, {"certificate_expired"})


def test_readiness_api_and_page(demo: None) -> None:
    alice = User.objects.get(username="alice")
    body = api_for(alice).get("/apps/acme-web/websocket-readiness").json()
    assert body["websockets_enabled"] is False
    www = next(h for h in body["hostnames"] if h["hostname"] == "www.acme.example")
    assert www["ws"] is False and www["cname"] == "acme-ssl.edges.example.net"
    assert {r["code"] for r in www["reasons"]} == {"feature_off", "legacy_edge"}
    assert api_for(alice).get("/apps/globex-store/websocket-readiness").status_code == 404
    page = client_for(alice).get(reverse("app-detail", args=["acme-web"])).content.decode()
    row = page.split('id="readiness-www-acme-example"')[1].split("</tr>")[0]
    assert 'data-ws="false"' in row
    assert "Request WebSocket support" in row
    assert readiness_json(App.objects.get(name="acme-api"))["hostnames"][0]["ws"] is True


def test_websocket_test_page_prefills_the_apps_hostnames(alice: User, world: World) -> None:
    page = client_for(alice).get(reverse("app-websocket-test", args=["acme-web"]))
    body = page.content.decode()
    assert '<option value="wss://www.acme.example/">' in body
    assert "js/ws-test.js" in body
    assert (
        client_for(alice).get(reverse("app-websocket-test", args=["globex-store"])).status_code
        == 404
    )


def test_apps_without_custom_domains_check_nothing(alice: User, world: World) -> None:
    app = make_app("acme-bare", org=world.acme)
    response = client_for(alice).post(reverse("app-dns-check", args=[app.name]), follow=True)
    assert "has no custom domains to check" in response.content.decode()
