"""Teams on the Platform API: an organization is a team, its members the team's members."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User

from dashboard.models import AuditEvent, Membership
from tests.conftest import World
from tests.dashboard.test_api import Api, api_for, assert_error


@pytest.fixture
def alice_api(alice: User) -> Api:
    return api_for(alice)


@pytest.fixture
def bob_api(bob: User) -> Api:
    return api_for(bob)


@pytest.fixture
def carol_api(carol: User) -> Api:
    return api_for(carol)


@pytest.fixture
def support_api(support: User) -> Api:
    return api_for(support)


def put(api: Api, path: str, body: Any) -> Any:
    return api.call("put", path, body)


def role_of(user: User, world: World) -> str | None:
    membership = Membership.objects.filter(user=user, organization=world.acme).first()
    return membership.role if membership else None


# Reading


def test_members_list_each_member_with_their_role(alice_api: Api, bob: User) -> None:
    response = alice_api.get("/teams/acme/members")
    assert response.status_code == 200
    members = {m["email"]: m for m in response.json()}
    assert {email: m["role"] for email, m in members.items()} == {
        "alice@example.org": "owner",
        "bob@example.org": "member",
    }
    assert members["bob@example.org"]["user"]["email"] == "bob@example.org"


def test_a_member_reads_the_member_list_too(bob_api: Api, alice: User) -> None:
    assert bob_api.get("/teams/acme/members").status_code == 200


def test_another_organizations_members_are_not_found(carol_api: Api, alice: User) -> None:
    assert_error(carol_api.get("/teams/acme/members"), 404, "not_found", "Couldn't find that team.")
    assert_error(carol_api.get("/teams/acme/features"), 404, "not_found")


def test_support_reads_any_teams_members(support_api: Api, alice: User, bob: User) -> None:
    response = support_api.get("/teams/acme/members")
    assert [m["email"] for m in response.json()] == ["alice@example.org", "bob@example.org"]


def test_a_team_has_no_features_of_its_own(alice_api: Api) -> None:
    response = alice_api.get("/teams/acme/features")
    assert response.status_code == 200
    assert response.json() == []
    assert_error(alice_api.get("/teams/acme/features/websockets"), 404, "not_found")


def test_permissions_name_what_a_collaborator_may_do(alice_api: Api) -> None:
    response = alice_api.get("/teams/permissions")
    assert response.status_code == 200
    assert [p["name"] for p in response.json()] == ["manage", "operate", "view"]


def test_team_apps_are_joined_by_members_and_not_locked(
    alice_api: Api, support_api: Api, world: World
) -> None:
    apps = alice_api.get("/teams/acme/apps").json()
    assert {a["name"] for a in apps} == {"acme-web", "acme-api"}
    assert all(a["joined"] is True and a["locked"] is False for a in apps)
    seen_by_support = support_api.get("/teams/acme/apps").json()
    assert all(a["joined"] is False for a in seen_by_support)
    assert alice_api.get("/teams/apps/acme-web").json()["joined"] is True


def test_team_app_of_another_organization_is_not_found(carol_api: Api, world: World) -> None:
    assert_error(carol_api.get("/teams/apps/acme-web"), 404, "not_found", "Couldn't find that app.")
    assert_error(carol_api.get("/teams/apps/acme-web/collaborators"), 404, "not_found")


def test_team_app_collaborators_carry_their_permissions(alice_api: Api, bob: User) -> None:
    response = alice_api.get("/teams/apps/acme-web/collaborators")
    assert response.status_code == 200
    by_email = {c["user"]["email"]: c for c in response.json()}
    assert by_email["bob@example.org"]["role"] == "member"
    names = [p["name"] for p in by_email["bob@example.org"]["permissions"]]
    assert names == ["manage", "operate", "view"]
    assert alice_api.get("/apps/acme-web/collaborators").json() == response.json()


def test_an_app_says_its_creation_is_complete(alice_api: Api) -> None:
    assert alice_api.get("/apps/acme-web").json()["create_status"] == "complete"


def test_a_teammates_apps_by_email(alice_api: Api, bob: User) -> None:
    response = alice_api.get("/users/bob@example.org/apps")
    assert response.status_code == 200
    assert {a["name"] for a in response.json()} == {"acme-web", "acme-api"}


def test_a_teammates_apps_by_account_id(alice_api: Api, bob_api: Api) -> None:
    bob_id = bob_api.get("/account").json()["id"]
    assert {a["name"] for a in alice_api.get(f"/users/{bob_id}/apps").json()} == {
        "acme-web",
        "acme-api",
    }


def test_a_stranger_and_their_apps_are_not_found(alice_api: Api, carol: User) -> None:
    response = alice_api.get("/users/carol@example.org/apps")
    assert_error(response, 404, "not_found", "Couldn't find that user.")


def test_support_sees_anyones_apps_but_only_theirs(support_api: Api, carol: User) -> None:
    response = support_api.get("/users/carol@example.org/apps")
    assert [a["name"] for a in response.json()] == ["globex-store"]


# Changing members


def test_an_owner_adds_someone_as_a_member(
    alice_api: Api, carol: User, world: World, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = put(
            alice_api, "/teams/acme/members", {"email": "carol@example.org", "role": "member"}
        )
    assert response.status_code == 200, response.content
    assert response.json()["role"] == "member"
    assert role_of(carol, world) == "member"
    audit = AuditEvent.objects.get(action="membership.set", source="api", after__user="carol")
    assert audit.actor_label == "alice"
    assert callbacks, "the access change is announced after commit"


def test_an_owner_changes_a_role_with_patch(alice_api: Api, bob: User, world: World) -> None:
    response = alice_api.patch("/teams/acme/members", {"email": "bob@example.org", "role": "owner"})
    assert response.status_code == 200, response.content
    assert role_of(bob, world) == "owner"


def test_patch_of_someone_outside_the_team_is_not_found(
    alice_api: Api, carol: User, world: World
) -> None:
    response = alice_api.patch(
        "/teams/acme/members", {"email": "carol@example.org", "role": "member"}
    )
    assert_error(response, 404, "not_found")
    assert role_of(carol, world) is None


def test_a_member_may_not_change_members(
    bob_api: Api, alice: User, carol: User, world: World
) -> None:
    response = put(bob_api, "/teams/acme/members", {"email": "carol@example.org", "role": "owner"})
    assert_error(response, 403, "forbidden")
    assert role_of(carol, world) is None
    assert_error(bob_api.delete("/teams/acme/members/alice@example.org"), 403, "forbidden")
    assert role_of(alice, world) == "owner"


def test_an_outsider_cannot_change_members_nor_learn_the_team_exists(
    carol_api: Api, world: World
) -> None:
    response = put(
        carol_api, "/teams/acme/members", {"email": "carol@example.org", "role": "owner"}
    )
    assert_error(response, 404, "not_found", "Couldn't find that team.")


def test_a_role_the_product_has_not_is_refused(alice_api: Api, carol: User, world: World) -> None:
    response = put(
        alice_api, "/teams/acme/members", {"email": "carol@example.org", "role": "admin"}
    )
    assert_error(response, 422, "invalid_params", "role must be one of owner, member.")
    assert role_of(carol, world) is None


def test_adding_an_unknown_email_is_not_found(alice_api: Api) -> None:
    response = put(
        alice_api, "/teams/acme/members", {"email": "nobody@example.org", "role": "member"}
    )
    assert_error(response, 404, "not_found", "Couldn't find that user.")


def test_the_last_owner_can_be_neither_demoted_nor_removed(
    alice_api: Api, alice: User, world: World
) -> None:
    demoted = alice_api.patch(
        "/teams/acme/members", {"email": "alice@example.org", "role": "member"}
    )
    assert_error(demoted, 422, "invalid_params")
    assert "last owner" in demoted.json()["message"]
    removed = alice_api.delete("/teams/acme/members/alice@example.org")
    assert_error(removed, 422, "invalid_params")
    assert role_of(alice, world) == "owner"
    assert not AuditEvent.objects.filter(source="api", action__startswith="membership.").exists()


def test_an_owner_removes_a_member_by_email_or_by_id(
    alice_api: Api, bob: User, carol: User, world: World
) -> None:
    removed = alice_api.delete("/teams/acme/members/bob@example.org")
    assert removed.status_code == 200, removed.content
    assert removed.json()["email"] == "bob@example.org"
    assert role_of(bob, world) is None
    assert AuditEvent.objects.filter(action="membership.delete", source="api").count() == 1

    added = put(alice_api, "/teams/acme/members", {"email": "carol@example.org", "role": "member"})
    by_id = alice_api.delete(f"/teams/acme/members/{added.json()['id']}")
    assert by_id.status_code == 200
    assert role_of(carol, world) is None


def test_removing_someone_who_is_not_a_member_is_not_found(alice_api: Api, carol: User) -> None:
    response = alice_api.delete("/teams/acme/members/carol@example.org")
    assert_error(response, 404, "not_found", "Couldn't find that team member.")


def test_with_another_owner_the_first_may_step_down(
    alice_api: Api, alice: User, bob: User, world: World
) -> None:
    put(alice_api, "/teams/acme/members", {"email": "bob@example.org", "role": "owner"})
    response = alice_api.patch(
        "/teams/acme/members", {"email": "alice@example.org", "role": "member"}
    )
    assert response.status_code == 200, response.content
    assert role_of(alice, world) == "member"


# An app's collaborators are its organization's members


def test_a_collaborator_by_email_or_id(alice_api: Api, bob: User) -> None:
    bob_as_collaborator = alice_api.get("/apps/acme-web/collaborators/bob@example.org")
    assert bob_as_collaborator.status_code == 200
    assert bob_as_collaborator.json()["role"] == "member"
    by_id = alice_api.get(f"/teams/apps/acme-web/collaborators/{bob_as_collaborator.json()['id']}")
    assert by_id.json() == bob_as_collaborator.json()


def test_a_collaborator_of_another_organization_is_not_found(
    alice_api: Api, carol: User, world: World
) -> None:
    response = alice_api.get("/apps/acme-web/collaborators/carol@example.org")
    assert_error(response, 404, "not_found", "Couldn't find that collaborator.")


def test_collaborators_are_changed_through_the_organizations_members(
    alice_api: Api, bob: User, carol: User, world: World
) -> None:
    added = alice_api.post("/apps/acme-web/collaborators", {"user": "carol@example.org"})
    assert_error(
        added,
        422,
        "invalid_params",
        "The collaborators of acme-web are the members of acme: add people to acme instead "
        "(heroku members:add EMAIL -t acme).",
    )
    removed = alice_api.delete("/apps/acme-web/collaborators/bob@example.org")
    assert_error(removed, 422, "invalid_params")
    assert "heroku members:remove EMAIL -t acme" in removed.json()["message"]
    updated = alice_api.patch(
        "/teams/apps/acme-web/collaborators/bob@example.org", {"permissions": ["view"]}
    )
    assert_error(updated, 422, "invalid_params")
    assert role_of(bob, world) == "member" and role_of(carol, world) is None
