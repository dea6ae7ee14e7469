"""Hostile input for the ingest API: every answer is a JSON 4xx or a success, never a 5xx,
and a refused report changes nothing."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from edges.live_state import live_state
from edges.models import Edge
from edges.services.edges import edge_ingest_token_rotate
from tests.conftest import IN_CI, World

EXAMPLES = 1000 if IN_CI else 150

json_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text()
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)
hostnames = st.sampled_from(
    [
        "acme-web.example.net",
        "ACME-API.example.net.",
        "x",
        "",
        "bad host",
        "üñï.example",
        "<b>.example",
    ]
) | st.text(max_size=30)
counts = (
    st.integers(min_value=-5, max_value=2**40) | st.floats(allow_nan=False) | st.text(max_size=3)
)
frontends = st.fixed_dictionaries(
    {"hostname": hostnames, "connections": counts},
    optional={
        "websockets": counts,
        "backends": st.lists(
            st.fixed_dictionaries(
                {"address": st.text(max_size=20), "connections": counts},
                optional={"state": st.sampled_from(["up", "dead", "zombie"])},
            ),
            max_size=3,
        )
        | json_values,
    },
)
reports = st.fixed_dictionaries(
    {},
    optional={
        "edge": st.sampled_from(["gateway", "acme-ssl"]) | json_values,
        "seq": st.integers(min_value=-3, max_value=2**64) | json_values,
        "sent_at": st.sampled_from(["2026-11-21T10:00:00Z", "yesterday"]) | json_values,
        "frontends": st.lists(frontends, max_size=5) | json_values,
    },
)


@pytest.fixture
def token(world: World) -> str:
    return edge_ingest_token_rotate(edge=world.gateway, actor=None, source="cli")


def snapshot() -> tuple[Any, ...]:
    return (
        tuple(
            (f.hostname, f.connections)
            for _, edge_state in sorted(live_state().states_of().items())
            for f in edge_state.frontends
        ),
        tuple(Edge.objects.order_by("pk").values_list("last_seq", flat=True)),
    )


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(body=reports | json_values)
def test_hostile_reports_get_a_json_answer_and_refusals_change_nothing(
    token: str, body: Any
) -> None:
    before = snapshot()
    response = Client().post(
        "/ingest/v1/reports",
        data=json.dumps(body),
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code < 500
    assert response["Content-Type"] == "application/json"
    answer = response.json()
    if response.status_code >= 400:
        assert set(answer) == {"id", "message"}
        assert snapshot() == before
    else:
        assert response.status_code in (200, 202)


@settings(
    max_examples=EXAMPLES // 5,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(raw=st.binary(max_size=200))
def test_arbitrary_bytes_are_refused_cleanly(token: str, raw: bytes) -> None:
    before = snapshot()
    response = Client().post(
        "/ingest/v1/reports",
        data=raw,
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code < 500
    if response.status_code >= 400:
        assert snapshot() == before
