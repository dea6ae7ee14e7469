from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError

from dashboard.models import Domain, Feature
from dashboard.services.apps import app_create
from dashboard.services.domains import domain_add
from edges.models import Edge
from shared.validators import validate_app_name, validate_hostname
from tests.conftest import World
from tests.factories import make_app, make_edge, make_org


@pytest.mark.parametrize(
    "name",
    [
        "ab",
        "a" * 31,
        "Acme-web",
        "1acme",
        "-acme",
        "acme-",
        "acme_web",
        "acme web",
        "acme--web",
        "acmé-web",
        "acme.web",
        "<b>acme</b>",
        "acme\x00web",
        "",
    ],
)
def test_bad_app_names_are_refused(name: str) -> None:
    with pytest.raises(ValidationError):
        validate_app_name(name)


@pytest.mark.parametrize("name", ["abc", "acme-web", "a1-b2-c3", "a" * 30, "x2" + "y"])
def test_heroku_style_app_names_are_accepted(name: str) -> None:
    validate_app_name(name)


@pytest.mark.parametrize(
    "hostname",
    [
        "localhost",
        "-www.example.com",
        "www-.example.com",
        "www..example.com",
        "WWW.example.com",
        "www.example.com.",
        "ex\u0430mple.com",
        "xn--bcher-kva.ch\n",
        "www.exa mple.com",
        "<script>.example.com",
        "*.example.com",
        "1.2.3.4",
        "a" * 64 + ".com",
        ".".join(["abcdefghi"] * 26) + ".com",
        "www.example.com\x07",
        "",
    ],
)
def test_bad_hostnames_are_refused(hostname: str) -> None:
    with pytest.raises(ValidationError):
        validate_hostname(hostname)


@pytest.mark.parametrize(
    "hostname", ["www.acme.example", "xn--bcher-kva.ch", "a.b.c.example.org", "1password.com"]
)
def test_valid_hostnames_are_accepted(hostname: str) -> None:
    validate_hostname(hostname)


def test_app_name_is_unique(world: World) -> None:
    with pytest.raises(ValidationError, match="already exists"):
        app_create(name="acme-web", organization=world.globex, actor=None, source="cli")


def test_bad_app_name_writes_nothing(world: World) -> None:
    before = world.acme.apps.count()
    with pytest.raises(ValidationError):
        app_create(name="Bad_Name", organization=world.acme, actor=None, source="cli")
    assert world.acme.apps.count() == before
    assert not Domain.objects.filter(hostname__startswith="bad").exists()


def test_new_app_gets_its_default_domain_on_the_gateway(world: World) -> None:
    app = make_app("acme-new", org=world.acme)
    (domain,) = app.domains.all()
    assert domain.hostname == "acme-new.example.net"
    assert domain.kind == Domain.Kind.DEFAULT
    assert domain.edge == world.gateway


def test_a_hostname_can_belong_to_one_app_only(world: World) -> None:
    with pytest.raises(ValidationError, match="already in use"):
        domain_add(app=world.acme_api, hostname="www.acme.example", actor=None, source="cli")
    assert Domain.objects.filter(hostname="www.acme.example").count() == 1


def test_hostnames_are_normalised_before_the_duplicate_check(world: World) -> None:
    with pytest.raises(ValidationError, match="already in use"):
        domain_add(app=world.acme_api, hostname=" WWW.Acme.Example. ", actor=None, source="cli")


def test_custom_domain_under_the_platform_domain_is_refused(world: World) -> None:
    with pytest.raises(ValidationError, match=r"cannot be under example\.net"):
        domain_add(
            app=world.acme_api, hostname="globex-store.example.net", actor=None, source="cli"
        )


def test_custom_domain_cannot_use_another_organizations_ssl_edge(world: World) -> None:
    with pytest.raises(ValidationError, match="belongs to another organization"):
        domain_add(
            app=world.acme_api,
            hostname="api.acme.example",
            edge=world.globex_ssl,
            actor=None,
            source="cli",
        )


def test_default_domain_is_unique_per_app(world: World) -> None:
    with pytest.raises(IntegrityError):
        Domain.objects.create(
            app=world.acme_web,
            hostname="other.example.net",
            kind=Domain.Kind.DEFAULT,
            edge=world.gateway,
        )


def test_gateway_edges_belong_to_no_organization(world: World) -> None:
    with pytest.raises(ValidationError, match="belong to no organization"):
        make_edge("gateway-2", kind=Edge.Kind.GATEWAY, org=world.acme)


def test_custom_ssl_edges_belong_to_one_organization(db: None) -> None:
    with pytest.raises(ValidationError, match="dedicated to one organization"):
        make_edge("lonely-ssl", kind=Edge.Kind.CUSTOM_SSL)


def test_the_database_enforces_edge_ownership_too(db: None) -> None:
    org = make_org("initech")
    with pytest.raises(IntegrityError):
        Edge.objects.create(
            name="bad-gw",
            hostname="bad-gw.example.net",
            kind="gateway",
            proxy="hipache",
            region="us",
            organization=org,
        )


def test_edges_store_only_a_digest_of_their_ingest_token(db: None) -> None:
    edge = make_edge("gw-token")
    assert len(edge.ingest_token_hash) == 64
    assert edge.ingest_token_prefix.startswith("edg_")
    assert edge.ingest_token_prefix not in edge.ingest_token_hash


def test_feature_names_follow_the_slug_rule(db: None) -> None:
    feature = Feature(name="Web Sockets", display_name="x", description="x")
    with pytest.raises(ValidationError):
        feature.full_clean()
