from __future__ import annotations

import hashlib
import io
import json

import pytest
from django.apps import apps
from django.contrib.auth import authenticate
from django.core.management import call_command
from django.core.management.base import CommandError

from dashboard.models import ApiToken, App, AuditEvent
from dashboard.models.features import app_feature_states
from edges.models import Edge


def seed(*args: str) -> dict:
    out = io.StringIO()
    call_command("seed_demo", "--json", *args, stdout=out)
    return json.loads(out.getvalue())


def row_counts() -> dict[str, int]:
    return {
        m._meta.label: m.objects.count()
        for m in apps.get_models()
        if m._meta.app_label in ("dashboard", "edges", "auth")
    }


@pytest.mark.django_db
def test_seed_demo_json_describes_users_orgs_apps_and_edges() -> None:
    result = seed("--password", "demo-password")
    assert set(result) == {"users", "orgs", "apps", "edges"}
    users = {u["username"]: u for u in result["users"]}
    assert {(u, users[u]["role"], users[u]["org"]) for u in users} == {
        ("alice", "owner", "acme"),
        ("bob", "member", "acme"),
        ("carol", "owner", "globex"),
        ("support", "staff", None),
        ("admin", "superuser", None),
    }
    assert all(u["password"] == "demo-password" for u in users.values())
    assert authenticate(username="alice", password="demo-password") is not None
    assert {o["name"] for o in result["orgs"]} == {"acme", "globex"}
    edges = {e["name"]: e for e in result["edges"]}
    assert (edges["gateway"]["kind"], edges["gateway"]["proxy"], edges["gateway"]["org"]) == (
        "gateway",
        "hipache",
        None,
    )
    assert (edges["acme-ssl"]["proxy"], edges["acme-ssl"]["org"]) == ("nginx_legacy", "acme")
    assert (edges["globex-ssl"]["proxy"], edges["globex-ssl"]["org"]) == ("hipache", "globex")
    for app in result["apps"]:
        assert set(app) == {"name", "org", "created_at", "domains", "edge"}
    apps_by_name = {a["name"]: a for a in result["apps"]}
    assert apps_by_name["acme-web"]["edge"] == "acme-ssl"
    assert apps_by_name["globex-store"]["edge"] == "globex-ssl"


@pytest.mark.django_db
def test_seed_demo_covers_every_websockets_case() -> None:
    seed()
    states = {}
    for app in App.objects.all():
        websockets = next(s for s in app_feature_states(app) if s.feature.name == "websockets")
        legacy = app.domains.filter(edge__proxy="nginx_legacy").exists()
        edge_kinds = set(app.domains.values_list("edge__kind", flat=True))
        states[app.name] = (websockets.enabled, legacy, edge_kinds)
    assert (True, False, {"gateway"}) in states.values()  # post-GA app on the gateway
    assert (False, False, {"gateway"}) in states.values()  # pre-GA app on the gateway
    assert (False, True, {"gateway", "custom_ssl"}) in states.values()  # behind acme-ssl
    assert states["globex-store"] == (False, False, {"gateway", "custom_ssl"})


@pytest.mark.django_db
def test_seed_demo_catalog_has_self_serve_and_staff_only_features() -> None:
    seed()
    from dashboard.models import Feature

    websockets = Feature.objects.get(name="websockets")
    assert (websockets.state, websockets.scope, websockets.self_serve) == ("beta", "app", True)
    assert Feature.objects.filter(self_serve=False).exists()
    assert Feature.objects.count() >= 4


@pytest.mark.django_db
def test_seed_demo_twice_changes_nothing() -> None:
    first = seed()
    counts = row_counts()
    second = seed()
    assert row_counts() == counts
    assert all(u["password"] is None and u["api_token"] is None for u in second["users"])
    assert all(e["ingest_token"] is None for e in second["edges"])
    assert [a["name"] for a in second["apps"]] == [a["name"] for a in first["apps"]]


@pytest.mark.django_db
def test_seed_demo_passwords_are_random_per_user_without_password_flag() -> None:
    users = seed()["users"]
    passwords = [u["password"] for u in users]
    assert len(set(passwords)) == len(passwords)
    assert all(len(p) >= 12 for p in passwords)


@pytest.mark.django_db
def test_seed_demo_tokens_are_stored_only_as_digests() -> None:
    result = seed()
    for user in result["users"]:
        raw = user["api_token"]
        token = ApiToken.objects.get(user__username=user["username"])
        assert token.token_hash == hashlib.sha256(raw.encode()).hexdigest()
        assert raw.startswith(token.prefix) and raw != token.prefix
    for spec in result["edges"]:
        edge = Edge.objects.get(name=spec["name"])
        assert edge.ingest_token_hash == hashlib.sha256(spec["ingest_token"].encode()).hexdigest()
    dump = json.dumps(list(AuditEvent.objects.values("before", "after")))
    assert not any(u["api_token"] in dump for u in result["users"])


@pytest.mark.django_db
def test_seed_demo_refuses_a_short_password() -> None:
    with pytest.raises(CommandError, match="at least 8"):
        call_command("seed_demo", "--password", "short")
    assert not App.objects.exists()


@pytest.mark.django_db
def test_seed_demo_audits_what_it_creates() -> None:
    seed()
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {
        "user.create",
        "organization.create",
        "edge.create",
        "app.create",
        "domain.add",
        "feature.define",
        "certificate.set",
        "api_token.create",
    } <= actions
    assert set(AuditEvent.objects.values_list("source", flat=True)) == {"cli"}
