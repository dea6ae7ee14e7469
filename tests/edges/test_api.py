from __future__ import annotations

import pytest
from django.contrib.auth.models import User

from edges.models import EdgeUpgrade
from tests.conftest import World
from tests.dashboard.test_api import Api, api_for, assert_error


@pytest.fixture
def alice_api(alice: User) -> Api:
    return api_for(alice)


@pytest.fixture
def support_api(support: User) -> Api:
    return api_for(support)


def test_customers_list_the_gateway_and_their_own_edges(alice_api: Api, world: World) -> None:
    edges = {e["name"]: e for e in alice_api.get("/edges").json()}
    assert set(edges) == {"gateway", "acme-ssl"}
    acme = edges["acme-ssl"]
    assert acme["capabilities"]["websockets"] is False
    assert acme["certificate"]["common_name"] == "www.acme.example"
    assert acme["idle_timeout_seconds"] == 55
    assert acme["organization"]["name"] == "acme"


def test_another_organizations_edge_is_404(alice_api: Api, world: World) -> None:
    for path in ["/edges/globex-ssl", "/edges/globex-ssl/upgrades", "/edges/nope"]:
        assert_error(alice_api.get(path), 404, "not_found")
    assert_error(alice_api.post("/edges/globex-ssl/upgrades", {}), 404, "not_found")


def test_request_then_staff_walk_the_upgrade_through(
    alice_api: Api, support_api: Api, world: World
) -> None:
    created = alice_api.post("/edges/acme-ssl/upgrades", {"note": "weekend"})
    assert created.status_code == 201
    upgrade = created.json()
    assert (upgrade["state"], upgrade["requested_by"]) == ("requested", "alice")
    assert_error(alice_api.post("/edges/acme-ssl/upgrades", {}), 409, "conflict")
    path = f"/edges/acme-ssl/upgrades/{upgrade['id']}"
    assert_error(alice_api.patch(path, {"state": "scheduled"}), 403, "forbidden")
    scheduled = support_api.patch(
        path, {"state": "scheduled", "scheduled_for": "2026-12-06T02:00:00Z"}
    )
    assert scheduled.json()["scheduled_for"] == "2026-12-06T02:00:00Z"
    assert support_api.patch(path, {"state": "in_progress"}).json()["state"] == "in_progress"
    assert_error(support_api.patch(path, {"state": "in_progress"}), 409, "conflict")
    done = support_api.patch(path, {"state": "completed"})
    assert done.json()["state"] == "completed"
    assert alice_api.get("/edges/acme-ssl").json()["proxy"] == "hipache"


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"state": "exploded"},
        {"state": "requested"},
        {"state": 3},
        {"state": "scheduled", "scheduled_for": "soon"},
        {"state": "scheduled"},
        {"state": "cancelled", "note": 5},
    ],
)
def test_bad_patches_are_422_and_change_nothing(
    support_api: Api, world: World, support: User, body: dict
) -> None:
    created = support_api.post("/edges/acme-ssl/upgrades", {}).json()
    response = support_api.patch(f"/edges/acme-ssl/upgrades/{created['id']}", body)
    assert_error(response, 422, "invalid_params")
    assert EdgeUpgrade.objects.get().state == "requested"


def test_upgrading_an_edge_that_carries_websockets_is_422(support_api: Api, world: World) -> None:
    assert_error(support_api.post("/edges/globex-ssl/upgrades", {}), 422, "invalid_params")
