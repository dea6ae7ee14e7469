from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from edges.capabilities import CAPABILITIES
from edges.models import Certificate, Edge
from edges.services.edges import certificate_set
from tests.conftest import World

NOW = dt.datetime(2026, 11, 21, 12, 0, tzinfo=dt.UTC)


def test_only_the_legacy_nginx_build_cannot_carry_websockets() -> None:
    assert {p for p, c in CAPABILITIES.items() if not c.websockets} == {"nginx_legacy"}
    assert set(CAPABILITIES) == set(Edge.Proxy.values)


def test_a_certificate_covers_its_names_and_one_wildcard_level() -> None:
    cert = Certificate(common_name="*.globex.example", sans=["globex.example"])
    assert cert.covers("shop.globex.example")
    assert cert.covers("globex.example")
    assert not cert.covers("a.shop.globex.example")
    assert not cert.covers("globex.example.evil.test")
    assert not cert.covers("shopglobex.example")


@pytest.mark.parametrize(
    ("days_left", "status"), [(-1, "expired"), (0, "expired"), (29, "expiring"), (31, "valid")]
)
def test_certificate_expiry_warns_at_thirty_days(days_left: int, status: str) -> None:
    cert = Certificate(not_after=NOW + dt.timedelta(days=days_left))
    assert cert.expiry_status(NOW) == status


def test_certificates_belong_to_custom_ssl_edges_only(world: World) -> None:
    with pytest.raises(ValidationError, match="Only custom SSL edges"):
        certificate_set(
            edge=world.gateway,
            common_name="gateway.example.net",
            sans=[],
            issuer="CA",
            not_before=NOW,
            not_after=NOW + dt.timedelta(days=1),
            actor=None,
            source="cli",
        )


def test_a_certificate_must_expire_after_it_starts(world: World) -> None:
    with pytest.raises(ValidationError, match="expire after it starts"):
        certificate_set(
            edge=world.acme_ssl,
            common_name="www.acme.example",
            sans=[],
            issuer="CA",
            not_before=NOW,
            not_after=NOW,
            actor=None,
            source="cli",
        )
    world.acme_ssl.certificate.refresh_from_db()
    assert world.acme_ssl.certificate.not_after > NOW


def test_the_ping_advice_stays_under_the_idle_timeout(world: World) -> None:
    assert "every 27 s" in world.gateway.ping_advice
