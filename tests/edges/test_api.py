from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import User

from edges.models import EdgeUpgrade
from tests.conftest import World
from tests.dashboard.test_api import Api, api_for, assert_error
from tests.factories import future_window

WINDOW = future_window()
LATER = WINDOW + dt.timedelta(days=1)


def z(moment: dt.datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


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
    scheduled = support_api.patch(path, {"state": "scheduled", "scheduled_for": z(WINDOW)})
    assert scheduled.json()["scheduled_for"] == z(WINDOW)
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
        {"state": "scheduled", "scheduled_for": "2020-01-01T00:00:00Z"},
        {"state": "scheduled", "scheduled_for": 20200101},
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


def test_a_window_in_the_past_is_refused_with_a_clear_message(
    support_api: Api, world: World
) -> None:
    created = support_api.post("/edges/acme-ssl/upgrades", {}).json()
    path = f"/edges/acme-ssl/upgrades/{created['id']}"
    response = support_api.patch(path, {"state": "scheduled", "scheduled_for": "2020-01-01"})
    assert_error(response, 422, "invalid_params")
    assert response.json()["message"] == (
        "The window 1 Jan 2020 00:00 UTC has already passed; pick a time in the future."
    )
    assert support_api.get(path).json()["scheduled_for"] is None


def test_patching_a_scheduled_upgrade_to_scheduled_moves_its_window(
    alice_api: Api, support_api: Api, world: World
) -> None:
    created = alice_api.post("/edges/acme-ssl/upgrades", {"note": "weekend"}).json()
    path = f"/edges/acme-ssl/upgrades/{created['id']}"
    support_api.patch(path, {"state": "scheduled", "scheduled_for": z(WINDOW)})
    moved = support_api.patch(
        path, {"state": "scheduled", "scheduled_for": z(LATER), "note": "customer asked"}
    ).json()
    assert moved["scheduled_for"] == z(LATER)
    # The requester's note stays theirs; each step keeps its own.
    assert moved["note"] == "weekend"
    steps = [(s["action"], s["by"], s["note"], s["window"]) for s in moved["steps"]]
    assert steps == [
        ("request", "alice", "weekend", None),
        ("schedule", "support", "", z(WINDOW)),
        ("reschedule", "support", "customer asked", z(LATER)),
    ]
    assert moved["steps"][2]["previous_window"] == z(WINDOW)
    # The customer reads the same timeline.
    assert alice_api.get(path).json()["steps"] == moved["steps"]
    same = support_api.patch(path, {"state": "scheduled", "scheduled_for": z(LATER)})
    assert_error(same, 422, "invalid_params")
