"""Every Platform API answer has the shape Heroku's published schema gives its resource: each
property the schema lists, with its type (extra properties are allowed, as on Heroku).

The shapes below are the property names and JSON types of the `definitions` of the schema.json
of Heroku's platform-api repository, written out by hand for the resources this API answers.
A type is a JSON type name (`uuid` and `date-time` are strings in that format), a tuple of
alternatives, `enum(...)` of strings, a dict (an object and its properties) or a one-item list
(an array of that).
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest
from django.contrib.auth.models import User

from tests.conftest import World
from tests.dashboard.test_api import Api, api_for


def enum(*values: str) -> frozenset[str]:
    return frozenset(values)


ACCOUNT = {
    "allow_tracking": "boolean",
    "beta": "boolean",
    "created_at": "date-time",
    "email": "string",
    "federated": "boolean",
    "id": "uuid",
    "identity_provider": (
        {
            "id": "uuid",
            "name": "string",
            "team": {"name": "string"},
            "organization": {"name": "string"},
            "owner": {"id": "uuid", "name": "string", "type": enum("team", "enterprise-account")},
        },
        "null",
    ),
    "last_login": ("date-time", "null"),
    "name": ("string", "null"),
    "sms_number": ("string", "null"),
    "suspended_at": ("date-time", "null"),
    "delinquent_at": ("date-time", "null"),
    "two_factor_authentication": "boolean",
    "updated_at": "date-time",
    "verified": "boolean",
    "country_of_residence": ("string", "null"),
    "default_organization": ({"id": "uuid", "name": "string"}, "null"),
    "default_team": ({"id": "uuid", "name": "string"}, "null"),
}

RATE_LIMIT = {"remaining": "integer"}

ACCOUNT_FEATURE = {
    "created_at": "date-time",
    "description": "string",
    "doc_url": "string",
    "enabled": "boolean",
    "id": "uuid",
    "name": "string",
    "state": "string",
    "updated_at": "date-time",
    "display_name": "string",
    "feedback_email": "string",
}

APP = {
    "acm": "boolean",
    "archived_at": ("null", "date-time"),
    "buildpack_provided_description": ("null", "string"),
    "build_stack": {"id": "uuid", "name": "string"},
    "created_at": "date-time",
    "generation": {"id": "uuid", "name": "string"},
    "git_url": "string",
    "id": "uuid",
    "internal_routing": ("boolean", "null"),
    "maintenance": "boolean",
    "name": "string",
    "owner": {"email": "string", "id": "uuid"},
    "organization": ("null", {"id": "uuid", "name": "string"}),
    "team": ("null", {"id": "uuid", "name": "string"}),
    "region": {"id": "uuid", "name": "string"},
    "released_at": ("null", "date-time"),
    "repo_size": ("integer", "null"),
    "slug_size": ("integer", "null"),
    "space": ("null", {"id": "uuid", "name": "string", "shield": "boolean"}),
    "stack": {"id": "uuid", "name": "string"},
    "updated_at": "date-time",
    "web_url": ("null", "string"),
}

APP_FEATURE = {
    "created_at": "date-time",
    "description": "string",
    "doc_url": "string",
    "enabled": "boolean",
    "id": "uuid",
    "name": "string",
    "state": "string",
    "updated_at": "date-time",
    "display_name": "string",
    "feedback_email": "string",
}

COLLABORATOR = {
    "app": {"name": "string", "id": "uuid"},
    "created_at": "date-time",
    "id": "uuid",
    "permissions": [{"name": "string", "description": "string"}],
    "role": ("null", enum("admin", "collaborator", "member", "owner")),
    "updated_at": "date-time",
    "user": {"email": "string", "federated": "boolean", "id": "uuid"},
}

DOMAIN = {
    "acm_status": ("null", "string"),
    "acm_status_reason": ("null", "string"),
    "app": {"name": "string", "id": "uuid"},
    "cname": ("null", "string"),
    "created_at": "date-time",
    "hostname": "string",
    "id": "uuid",
    "kind": enum("heroku", "custom"),
    "updated_at": "date-time",
    "status": "string",
    "sni_endpoint": ("null", {"name": "string", "id": "uuid"}),
}

TEAM = {
    "id": "uuid",
    "created_at": "date-time",
    "credit_card_collections": "boolean",
    "default": "boolean",
    "enterprise_account": ("null", {"id": "uuid", "name": "string"}),
    "identity_provider": (
        "null",
        {
            "id": "uuid",
            "name": "string",
            "owner": {"id": "uuid", "name": "string", "type": enum("team", "enterprise-account")},
        },
    ),
    "membership_limit": ("number", "null"),
    "name": "string",
    "provisioned_licenses": "boolean",
    "role": ("null", enum("admin", "collaborator", "member", "owner")),
    "type": enum("enterprise", "team"),
    "updated_at": "date-time",
}

TEAM_APP = {
    "archived_at": ("null", "date-time"),
    "buildpack_provided_description": ("null", "string"),
    "build_stack": {"id": "uuid", "name": "string"},
    "created_at": "date-time",
    "git_url": "string",
    "id": "uuid",
    "internal_routing": ("boolean", "null"),
    "joined": "boolean",
    "locked": "boolean",
    "maintenance": "boolean",
    "name": "string",
    "team": ("null", {"name": "string"}),
    "owner": ("null", {"email": "string", "id": "uuid"}),
    "region": {"id": "uuid", "name": "string"},
    "released_at": ("null", "date-time"),
    "repo_size": ("integer", "null"),
    "slug_size": ("integer", "null"),
    "space": ("null", {"id": "uuid", "name": "string"}),
    "stack": {"id": "uuid", "name": "string"},
    "updated_at": "date-time",
    "web_url": ("null", "string"),
}

TEAM_MEMBER = {
    "created_at": "date-time",
    "email": "string",
    "federated": "boolean",
    "id": "uuid",
    "identity_provider": (
        "null",
        {
            "id": "uuid",
            "name": "string",
            "redacted": "boolean",
            "owner": {"id": "uuid", "name": "string", "type": enum("team", "enterprise-account")},
        },
    ),
    "role": ("null", enum("admin", "collaborator", "member", "owner")),
    "two_factor_authentication": "boolean",
    "updated_at": "date-time",
    "user": {"email": "string", "id": "uuid", "name": ("string", "null")},
}

TEAM_FEATURE = {
    "created_at": "date-time",
    "description": "string",
    "doc_url": "string",
    "enabled": "boolean",
    "id": "uuid",
    "name": "string",
    "state": "string",
    "updated_at": "date-time",
    "display_name": "string",
    "feedback_email": "string",
}

TEAM_APP_COLLABORATOR = {
    "app": {"name": "string", "id": "uuid"},
    "created_at": "date-time",
    "id": "uuid",
    "permissions": [{"name": "string", "description": "string"}],
    "role": ("null", enum("admin", "collaborator", "member", "owner")),
    "updated_at": "date-time",
    "user": {"email": "string", "federated": "boolean", "id": "uuid"},
}

TEAM_APP_PERMISSION = {"name": "string", "description": "string"}

SIMPLE = {
    "string": lambda v: isinstance(v, str),
    "boolean": lambda v: isinstance(v, bool),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    "null": lambda v: v is None,
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
}


def _is_uuid(value: Any) -> bool:
    try:
        return isinstance(value, str) and str(uuid.UUID(value)) == value
    except ValueError:
        return False


def _is_date_time(value: Any) -> bool:
    """RFC 3339 in UTC, as Heroku writes it: 2012-01-01T12:00:00Z."""
    try:
        return isinstance(value, str) and bool(dt.datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ"))
    except ValueError:
        return False


def mismatches(value: Any, shape: Any, where: str = "") -> list[str]:
    """Where the value departs from the shape; empty when it conforms."""
    if isinstance(shape, tuple):
        if any(not mismatches(value, alternative, where) for alternative in shape):
            return []
        return [f"{where or '.'}: {value!r} is none of {shape!r}"]
    if isinstance(shape, frozenset):
        return [] if value in shape else [f"{where}: {value!r} is not one of {sorted(shape)}"]
    if isinstance(shape, list):
        if not isinstance(value, list):
            return [f"{where}: {value!r} is not an array"]
        return [
            m for i, item in enumerate(value) for m in mismatches(item, shape[0], f"{where}[{i}]")
        ]
    if isinstance(shape, dict):
        if not isinstance(value, dict):
            return [f"{where}: {value!r} is not an object"]
        found = []
        for name, inner in shape.items():
            if name not in value:
                found.append(f"{where}.{name}: missing")
            else:
                found.extend(mismatches(value[name], inner, f"{where}.{name}"))
        return found
    check = {"uuid": _is_uuid, "date-time": _is_date_time}.get(shape) or SIMPLE[shape]
    return [] if check(value) else [f"{where}: {value!r} is not {shape}"]


def assert_shape(response: Any, shape: Any, status: int = 200) -> None:
    assert response.status_code == status, response.content
    assert mismatches(response.json(), shape) == []


# The check itself


def test_a_missing_property_a_wrong_type_or_a_value_outside_the_enum_is_caught() -> None:
    assert mismatches({"remaining": "5"}, RATE_LIMIT) == [".remaining: '5' is not integer"]
    assert mismatches({}, RATE_LIMIT) == [".remaining: missing"]
    assert mismatches({"remaining": True}, RATE_LIMIT)
    member = {"role": "admin"}
    assert not mismatches(member, {"role": TEAM_MEMBER["role"]})
    assert mismatches({"role": "boss"}, {"role": TEAM_MEMBER["role"]})
    assert mismatches({"id": "acme"}, {"id": "uuid"})
    assert mismatches({"created_at": "2024-01-01 12:00"}, {"created_at": "date-time"})
    assert mismatches([{"name": 1}], [{"name": "string"}]) == ["[0].name: 1 is not string"]


# Each answer


@pytest.fixture
def alice_api(alice: User, bob: User) -> Api:
    return api_for(alice)


def test_account(alice_api: Api) -> None:
    assert_shape(alice_api.get("/account"), ACCOUNT)
    assert_shape(alice_api.get("/account/rate-limits"), RATE_LIMIT)


def test_account_features(alice_api: Api) -> None:
    listed = alice_api.get("/account/features")
    assert listed.json(), "the catalog has account features"
    assert_shape(listed, [ACCOUNT_FEATURE])
    name = listed.json()[0]["name"]
    assert_shape(alice_api.get(f"/account/features/{name}"), ACCOUNT_FEATURE)
    assert_shape(alice_api.patch(f"/account/features/{name}", {"enabled": True}), ACCOUNT_FEATURE)


@pytest.mark.parametrize("path", ["/apps", "/users/~/apps", "/users/bob@example.org/apps"])
def test_app_lists(alice_api: Api, path: str) -> None:
    assert_shape(alice_api.get(path), [APP])


def test_app(alice_api: Api) -> None:
    assert_shape(alice_api.get("/apps/acme-web"), APP)


def test_app_features(alice_api: Api) -> None:
    assert_shape(alice_api.get("/apps/acme-api/features"), [APP_FEATURE])
    assert_shape(alice_api.get("/apps/acme-api/features/websockets"), APP_FEATURE)
    switched = alice_api.patch("/apps/acme-api/features/websockets", {"enabled": False})
    assert_shape(switched, APP_FEATURE)


def test_collaborators(alice_api: Api) -> None:
    assert_shape(alice_api.get("/apps/acme-web/collaborators"), [COLLABORATOR])
    assert_shape(alice_api.get("/apps/acme-web/collaborators/bob@example.org"), COLLABORATOR)
    team_app = alice_api.get("/teams/apps/acme-web/collaborators")
    assert_shape(team_app, [TEAM_APP_COLLABORATOR])
    assert all(c["permissions"] for c in team_app.json())
    bob = alice_api.get("/teams/apps/acme-web/collaborators/bob@example.org")
    assert_shape(bob, TEAM_APP_COLLABORATOR)


def test_domains(alice_api: Api, world: World) -> None:
    assert_shape(alice_api.get("/apps/acme-web/domains"), [DOMAIN])
    assert_shape(alice_api.get("/apps/acme-web/domains/www.acme.example"), DOMAIN)
    added = alice_api.post("/apps/acme-api/domains", {"hostname": "shape.acme.example"})
    assert_shape(added, DOMAIN, status=201)
    assert_shape(alice_api.delete("/apps/acme-api/domains/shape.acme.example"), DOMAIN)


def test_teams(alice_api: Api) -> None:
    assert_shape(alice_api.get("/teams"), [TEAM])
    assert_shape(alice_api.get("/teams/acme"), TEAM)


def test_team_apps(alice_api: Api) -> None:
    assert_shape(alice_api.get("/teams/acme/apps"), [TEAM_APP])
    assert_shape(alice_api.get("/teams/apps/acme-web"), TEAM_APP)


def test_team_members(alice_api: Api, carol: User) -> None:
    listed = alice_api.get("/teams/acme/members")
    assert len(listed.json()) == 2
    assert_shape(listed, [TEAM_MEMBER])
    body = {"email": "carol@example.org", "role": "member"}
    assert_shape(alice_api.call("put", "/teams/acme/members", body), TEAM_MEMBER)
    assert_shape(alice_api.delete("/teams/acme/members/carol@example.org"), TEAM_MEMBER)


def test_team_features_and_permissions(alice_api: Api) -> None:
    # A team here has no features of its own: the list is empty, and an empty list conforms.
    assert_shape(alice_api.get("/teams/acme/features"), [TEAM_FEATURE])
    permissions = alice_api.get("/teams/permissions")
    assert permissions.json()
    assert_shape(permissions, [TEAM_APP_PERMISSION])
