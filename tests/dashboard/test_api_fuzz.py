"""Hostile input for the Platform API: JSON answers only, no 5xx, refusals change nothing."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dashboard.models import AppFeature, AuditEvent, Domain
from dashboard.services.tokens import api_token_create
from edges.models import EdgeUpgrade
from tests.conftest import IN_CI, World

EXAMPLES = 1000 if IN_CI else 150
ACCEPT = "application/vnd.heroku+json; version=3"

scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text()
values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=10,
)
bodies = (
    st.fixed_dictionaries(
        {},
        optional={
            "enabled": st.booleans() | values,
            "reason": st.text(max_size=20) | values,
            "hostname": st.sampled_from(
                [
                    "api.example.org",
                    "<x>.example",
                    "acme-api.example.net",
                    "www.acme.example",
                    "UPPER.Example.ORG.",
                ]
            )
            | values,
            "state": st.sampled_from(
                ["scheduled", "in_progress", "completed", "failed", "cancelled", "requested"]
            )
            | values,
            "scheduled_for": st.sampled_from(["2030-12-06T02:00:00Z", "soon"]) | values,
            "note": st.text(max_size=20) | values,
        },
    )
    | values
)
targets = st.sampled_from(
    [
        ("patch", "/apps/acme-api/features/websockets"),
        ("patch", "/apps/acme-web/features/websockets"),
        ("patch", "/apps/globex-store/features/websockets"),
        ("patch", "/account/features/two-factor-beta"),
        ("post", "/apps/acme-api/domains"),
        ("post", "/edges/acme-ssl/upgrades"),
        ("patch", "/edges/acme-ssl/upgrades/{upgrade}"),
    ]
)


@pytest.fixture
def tokens(world: World, alice: User, support: User, settings: Any) -> dict[str, Any]:
    settings.API_RATE_LIMIT_PER_MINUTE = 10**6  # exercise the endpoints, not the limiter
    upgrade = EdgeUpgrade.objects.create(edge=world.acme_ssl, from_proxy="nginx_legacy")
    return {
        "alice": api_token_create(user=alice, label="fuzz", actor=None, source="cli")[1],
        "support": api_token_create(user=support, label="fuzz", actor=None, source="cli")[1],
        "upgrade": upgrade.pk,
    }


def snapshot() -> tuple[Any, ...]:
    return (
        AuditEvent.objects.count(),
        tuple(AppFeature.objects.order_by("pk").values_list("enabled", flat=True)),
        Domain.objects.count(),
        tuple(EdgeUpgrade.objects.order_by("pk").values_list("state", flat=True)),
    )


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(target=targets, body=bodies, who=st.sampled_from(["alice", "support"]))
def test_hostile_api_bodies_get_json_answers_and_refusals_change_nothing(
    tokens: dict[str, Any], target: tuple[str, str], body: Any, who: str
) -> None:
    method, path = target
    before = snapshot()
    response = getattr(Client(), method)(
        path.format(upgrade=tokens["upgrade"]),
        data=json.dumps(body),
        content_type="application/json",
        headers={"Accept": ACCEPT, "Authorization": f"Bearer {tokens[who]}"},
    )
    assert response.status_code < 500, response.content
    assert response["Content-Type"] == "application/json"
    if response.status_code >= 400:
        assert set(response.json()) >= {"id", "message"}
        assert snapshot() == before
