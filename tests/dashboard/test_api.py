from __future__ import annotations

import base64
import json
import uuid
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from dashboard.models import ApiToken, App, AppFeature, AuditEvent, Domain
from dashboard.services.tokens import api_token_create, api_token_revoke
from tests.conftest import World

ACCEPT = "application/vnd.heroku+json; version=3"
REFUSAL = "Can not add websockets feature when ssl-endpoint is in use."


class Api:
    """A Platform API client with a persona's token, as the Heroku CLI would send it."""

    def __init__(self, token: str | None) -> None:
        self.client = Client()
        self.headers = {"Accept": ACCEPT}
        if token:
            self.headers["Authorization"] = f"Bearer {token}"

    def call(self, method: str, path: str, body: Any = None, **headers: str) -> Any:
        data = json.dumps(body) if body is not None else None
        return getattr(self.client, method)(
            path, data=data, content_type="application/json", headers={**self.headers, **headers}
        )

    def get(self, path: str, **headers: str) -> Any:
        return self.call("get", path, **headers)

    def patch(self, path: str, body: Any, **headers: str) -> Any:
        return self.call("patch", path, body, **headers)

    def post(self, path: str, body: Any, **headers: str) -> Any:
        return self.call("post", path, body, **headers)

    def delete(self, path: str) -> Any:
        return self.call("delete", path)


def api_for(user: User) -> Api:
    _, raw = api_token_create(user=user, label="tests", actor=user, source="cli")
    return Api(raw)


@pytest.fixture
def alice_api(alice: User) -> Api:
    return api_for(alice)


@pytest.fixture
def carol_api(carol: User) -> Api:
    return api_for(carol)


@pytest.fixture
def support_api(support: User) -> Api:
    return api_for(support)


def assert_error(response: Any, status: int, error_id: str, message: str | None = None) -> None:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body["id"] == error_id
    assert isinstance(body["message"], str) and body["message"]
    if message is not None:
        assert body["message"] == message


# Authentication


def test_requests_without_a_token_get_401_json(world: World) -> None:
    assert_error(Api(None).get("/apps"), 401, "unauthorized")


def test_a_wrong_token_gets_401(world: World) -> None:
    assert_error(Api("pat_not-a-real-token").get("/account"), 401, "unauthorized")


def test_revoked_tokens_get_401(alice: User) -> None:
    token, raw = api_token_create(user=alice, label="ci", actor=alice, source="web")
    assert Api(raw).get("/account").status_code == 200
    api_token_revoke(token=token, actor=alice, source="web")
    assert_error(Api(raw).get("/account"), 401, "unauthorized")


def test_basic_auth_with_the_token_as_password_works(alice: User) -> None:
    _, raw = api_token_create(user=alice, label="netrc", actor=alice, source="web")
    credentials = base64.b64encode(f":{raw}".encode()).decode()
    response = Client().get(
        "/account", headers={"Accept": ACCEPT, "Authorization": f"Basic {credentials}"}
    )
    assert response.json()["email"] == alice.email


def test_a_session_cookie_is_not_an_api_credential(alice: User) -> None:
    client = Client()
    client.force_login(alice)
    assert_error(client.get("/account", headers={"Accept": ACCEPT}), 401, "unauthorized")


def test_token_use_is_recorded(alice: User) -> None:
    token, raw = api_token_create(user=alice, label="ci", actor=alice, source="web")
    Api(raw).get("/account")
    token.refresh_from_db()
    assert token.last_used_at is not None


@pytest.mark.parametrize("debug", [False, True])
@pytest.mark.parametrize("path", ["/no/such/thing", "/apps/acme-web/features/x/y", "/account/"])
def test_unknown_endpoints_answer_json_404_whatever_debug_says(
    alice_api: Api, settings: Any, debug: bool, path: str
) -> None:
    settings.DEBUG = debug
    for method in ("get", "post", "patch", "delete"):
        response = alice_api.call(method, path)
        assert_error(response, 404, "not_found", "The requested API endpoint was not found.")


@pytest.mark.parametrize("debug", [False, True])
def test_unknown_endpoints_answer_json_404_to_any_api_client(
    alice: User, settings: Any, debug: bool
) -> None:
    settings.DEBUG = debug
    _, raw = api_token_create(user=alice, label="x", actor=alice, source="web")
    basic = base64.b64encode(f":{raw}".encode()).decode()
    for headers in (
        {"Accept": ACCEPT},  # no token: still the API's answer, not a sign-in page
        {"Authorization": f"Bearer {raw}"},
        {"Authorization": f"Basic {basic}"},
        {"Authorization": "Bearer wrong"},
    ):
        response = Client().get("/no/such/thing", headers=headers)
        assert_error(response, 404, "not_found")


@pytest.mark.parametrize("debug", [False, True])
def test_a_views_http404_answers_json_whatever_debug_says(
    alice_api: Api, settings: Any, monkeypatch: Any, debug: bool
) -> None:
    from django.http import Http404

    def missing(user: Any) -> dict:
        raise Http404("gone")

    settings.DEBUG = debug
    monkeypatch.setattr("dashboard.api.views.account_json", missing)
    assert_error(alice_api.get("/account"), 404, "not_found")


def test_browsers_still_get_the_pages_404(alice: User, settings: Any) -> None:
    client = Client()
    client.force_login(alice)
    response = client.get("/no/such/page/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


def test_wrong_methods_answer_json_405(alice_api: Api) -> None:
    response = alice_api.delete("/apps/acme-web/features/websockets")
    assert_error(response, 405, "method_not_allowed")
    assert response["Allow"] == "GET, PATCH"


def test_rate_limit_answers_429_with_retry_after(alice_api: Api, settings: Any) -> None:
    settings.API_RATE_LIMIT_PER_MINUTE = 3
    from django.core.cache import cache

    cache.clear()
    for _ in range(3):
        assert alice_api.get("/account").status_code == 200
    response = alice_api.get("/account")
    assert_error(response, 429, "rate_limit")
    assert 1 <= int(response["Retry-After"]) <= 61
    cache.clear()


# Account and features


def test_account_has_heroku_fields(alice_api: Api, alice: User) -> None:
    body = alice_api.get("/account").json()
    assert body["email"] == alice.email
    for field in [
        "id",
        "created_at",
        "updated_at",
        "verified",
        "two_factor_authentication",
        "allow_tracking",
        "beta",
        "name",
    ]:
        assert field in body


def test_account_features_list_only_account_scope(alice_api: Api, world: World) -> None:
    names = {f["name"] for f in alice_api.get("/account/features").json()}
    assert "two-factor-beta" in names
    assert "websockets" not in names


def test_app_features_are_not_account_features(alice_api: Api, world: World) -> None:
    assert_error(
        alice_api.get("/account/features/websockets"),
        404,
        "not_found",
        "Couldn't find that feature.",
    )


def test_account_feature_patch(alice_api: Api, world: World) -> None:
    response = alice_api.patch("/account/features/two-factor-beta", {"enabled": True})
    assert response.status_code == 200
    assert response.json()["enabled"] is True


FEATURE_FIELDS = {
    "id",
    "name",
    "display_name",
    "description",
    "doc_url",
    "feedback_email",
    "state",
    "enabled",
    "created_at",
    "updated_at",
}


def test_app_features_carry_heroku_fields(alice_api: Api, world: World) -> None:
    features = alice_api.get("/apps/acme-api/features").json()
    websockets = next(f for f in features if f["name"] == "websockets")
    assert FEATURE_FIELDS <= set(websockets)
    assert websockets["enabled"] is True
    assert websockets["state"] == "beta"


def test_features_are_found_by_id_too(alice_api: Api, world: World) -> None:
    features = alice_api.get("/apps/acme-api/features").json()
    feature_id = next(f["id"] for f in features if f["name"] == "websockets")
    assert alice_api.get(f"/apps/acme-api/features/{feature_id}").json()["name"] == "websockets"


def test_enabling_websockets_answers_with_the_experimental_warning(
    alice_api: Api, world: World
) -> None:
    alice_api.patch("/apps/acme-api/features/websockets", {"enabled": False})
    response = alice_api.patch("/apps/acme-api/features/websockets", {"enabled": True})
    assert response.status_code == 200
    assert response.json()["enabled"] is True
    assert response["Warning-Message"] == (
        "This feature is experimental and may change or be removed without notice."
    )
    assert (
        AuditEvent.objects.filter(app=world.acme_api, action="feature.enable", source="api").count()
        == 1
    )


def test_enabling_behind_a_legacy_ssl_edge_is_422_with_heroku_message(
    alice_api: Api, world: World
) -> None:
    response = alice_api.patch("/apps/acme-web/features/websockets", {"enabled": True})
    assert_error(response, 422, "invalid_params", REFUSAL)
    assert response.json()["url"].endswith("/edges/acme-ssl/")
    assert not AppFeature.objects.filter(app=world.acme_web).exists()


def test_re_enabling_is_idempotent(alice_api: Api, world: World) -> None:
    for _ in range(2):
        response = alice_api.patch("/apps/acme-api/features/websockets", {"enabled": True})
        assert response.status_code == 200 and response.json()["enabled"] is True
    assert not AuditEvent.objects.filter(app=world.acme_api, action__startswith="feature.").exists()


@pytest.mark.parametrize(
    "enabled",
    ["true", "1", "0", 2, -1, 1.0, 0.0, None, [1], {"value": True}],
)
def test_enabled_must_be_a_boolean_or_the_integers_0_and_1(
    alice_api: Api, world: World, enabled: Any
) -> None:
    response = alice_api.patch("/apps/acme-api/features/websockets", {"enabled": enabled})
    assert_error(
        response,
        422,
        "invalid_params",
        "enabled must be a boolean: true or false (1 and 0 are accepted too).",
    )
    missing = alice_api.patch("/apps/acme-api/features/websockets", {})
    assert_error(missing, 422, "invalid_params")
    assert not AppFeature.objects.filter(app=world.acme_api).exists()


def test_heroku3s_integer_booleans_switch_features_and_the_answer_says_what_was_stored(
    alice_api: Api, world: World
) -> None:
    """heroku3 sends {"enabled": 0} / {"enabled": 1}; the answer is the stored boolean."""
    url = "/apps/acme-api/features/websockets"
    off = alice_api.patch(url, {"enabled": 0})
    assert off.status_code == 200 and off.json()["enabled"] is False
    assert AppFeature.objects.get(app=world.acme_api, feature__name="websockets").enabled is False
    assert alice_api.get(url).json()["enabled"] is False
    on = alice_api.patch(url, {"enabled": 1})
    assert on.status_code == 200 and on.json()["enabled"] is True
    assert alice_api.get(url).json()["enabled"] is True


def test_integer_booleans_switch_account_features_too(alice_api: Api, world: World) -> None:
    on = alice_api.patch("/account/features/two-factor-beta", {"enabled": 1})
    assert on.status_code == 200 and on.json()["enabled"] is True
    off = alice_api.patch("/account/features/two-factor-beta", {"enabled": 0})
    assert off.status_code == 200 and off.json()["enabled"] is False
    refused = alice_api.patch("/account/features/two-factor-beta", {"enabled": "1"})
    assert_error(refused, 422, "invalid_params")


def test_malformed_json_is_400(alice_api: Api, world: World) -> None:
    response = alice_api.client.patch(
        "/apps/acme-api/features/websockets",
        data="{not json",
        content_type="application/json",
        headers=alice_api.headers,
    )
    assert_error(response, 400, "bad_request")


def test_customers_cannot_patch_staff_only_features(alice_api: Api, world: World) -> None:
    assert_error(
        alice_api.patch("/apps/acme-api/features/router-debug-headers", {"enabled": True}),
        403,
        "forbidden",
    )


def test_staff_patch_needs_a_reason(support_api: Api, world: World) -> None:
    response = support_api.patch("/apps/acme-api/features/websockets", {"enabled": False})
    assert_error(response, 422, "invalid_params")
    response = support_api.patch(
        "/apps/acme-api/features/websockets", {"enabled": False, "reason": "ticket 9"}
    )
    assert response.status_code == 200
    assert AuditEvent.objects.get(action="feature.disable").reason == "ticket 9"


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/apps/globex-store", "Couldn't find that app."),
        ("/apps/no-such-app", "Couldn't find that app."),
        ("/apps/globex-store/features", "Couldn't find that app."),
        ("/apps/globex-store/features/websockets", "Couldn't find that app."),
        ("/apps/globex-store/domains", "Couldn't find that app."),
        ("/apps/acme-api/features/teleport", "Couldn't find that feature."),
        ("/teams/globex", "Couldn't find that team."),
        ("/teams/globex/apps", "Couldn't find that team."),
        ("/teams/initech", "Couldn't find that team."),
    ],
)
def test_other_organizations_and_missing_things_are_the_same_404(
    alice_api: Api, carol: User, path: str, message: str
) -> None:
    assert_error(alice_api.get(path), 404, "not_found", message)


def test_patching_another_organizations_app_is_404_and_changes_nothing(
    alice_api: Api, world: World
) -> None:
    response = alice_api.patch("/apps/globex-store/features/websockets", {"enabled": True})
    assert_error(response, 404, "not_found", "Couldn't find that app.")
    assert not AppFeature.objects.exists()


# Apps and teams


def test_apps_list_only_visible_apps_with_heroku_shape(alice_api: Api, world: World) -> None:
    apps = alice_api.get("/apps").json()
    assert {a["name"] for a in apps} == {"acme-web", "acme-api"}
    app = next(a for a in apps if a["name"] == "acme-web")
    assert app["team"] == {"id": str(world.acme.uuid), "name": "acme"}
    assert app["region"]["name"] == "us"
    assert app["stack"]["name"] == "cedar-14"
    assert set(app["owner"]) == {"email", "id"}
    assert app["web_url"] == "https://acme-web.example.net/"
    assert alice_api.get("/users/~/apps").json() == apps


@pytest.mark.parametrize("stack", list(App.Stack))
def test_apps_carry_the_heroku_generation_of_their_stack(
    alice_api: Api, world: World, stack: App.Stack
) -> None:
    App.objects.filter(pk=world.acme_web.pk).update(stack=stack)
    detail = alice_api.get("/apps/acme-web").json()
    assert detail["stack"]["name"] == stack
    generation = detail["generation"]
    assert set(generation) == {"id", "name"}  # Heroku's app.generation
    assert generation["name"] == "cedar"
    assert str(uuid.UUID(generation["id"])) == generation["id"]
    listed = next(a for a in alice_api.get("/apps").json() if a["name"] == "acme-web")
    assert listed["generation"] == generation
    other = alice_api.get("/apps/acme-api").json()["generation"]
    assert other == generation  # one id per generation, whatever the app or stack


def test_an_app_without_a_pipeline_answers_herokus_404_which_the_cli_ignores(
    alice_api: Api, world: World
) -> None:
    response = alice_api.get("/apps/acme-web/pipeline-couplings")
    assert_error(response, 404, "not_found", "Couldn't find that pipeline coupling.")
    hidden = alice_api.get("/apps/globex-store/pipeline-couplings")
    assert_error(hidden, 404, "not_found", "Couldn't find that app.")


def test_apps_are_found_by_id(alice_api: Api, world: World) -> None:
    assert alice_api.get(f"/apps/{world.acme_web.uuid}").json()["name"] == "acme-web"


def test_staff_list_every_app(support_api: Api, world: World) -> None:
    assert {a["name"] for a in support_api.get("/apps").json()} == {
        "acme-web",
        "acme-api",
        "globex-store",
    }


def test_range_pages_through_apps_with_206_and_next_range(support_api: Api, world: World) -> None:
    first = support_api.call("get", "/apps", Range="name ..; max=2")
    assert first.status_code == 206
    assert [a["name"] for a in first.json()] == ["acme-api", "acme-web"]
    assert first["Next-Range"] == "name ]acme-web..; max=2"
    second = support_api.call("get", "/apps", Range=first["Next-Range"])
    assert second.status_code == 200
    assert [a["name"] for a in second.json()] == ["globex-store"]
    assert "Next-Range" not in second


def test_range_descending_by_name(support_api: Api, world: World) -> None:
    response = support_api.call("get", "/apps", Range="name ..; max=10, order=desc")
    assert [a["name"] for a in response.json()] == ["globex-store", "acme-web", "acme-api"]


@pytest.mark.parametrize(
    "header",
    ["color ..", "name ..; max=0", "name ..; max=5000", "name ..; shuffle=yes", "id ]not-a-uuid.."],
)
def test_bad_ranges_are_refused(support_api: Api, world: World, header: str) -> None:
    assert_error(
        support_api.call("get", "/apps", Range=header), 416, "requested_range_not_satisfiable"
    )


def test_teams_are_organizations(alice_api: Api, world: World) -> None:
    teams = alice_api.get("/teams").json()
    assert [(t["name"], t["role"], t["type"]) for t in teams] == [("acme", "owner", "team")]
    assert alice_api.get("/teams/acme").json()["id"] == str(world.acme.uuid)
    assert {a["name"] for a in alice_api.get("/teams/acme/apps").json()} == {"acme-web", "acme-api"}


# Domains


def test_domains_list_with_kind_and_cname(alice_api: Api, world: World) -> None:
    domains = {d["hostname"]: d for d in alice_api.get("/apps/acme-web/domains").json()}
    assert domains["acme-web.example.net"]["kind"] == "heroku"
    assert domains["acme-web.example.net"]["cname"] is None
    assert domains["www.acme.example"]["kind"] == "custom"
    assert domains["www.acme.example"]["cname"] == "acme-ssl.edges.example.net"
    for field in ["id", "hostname", "kind", "cname", "status", "created_at", "updated_at"]:
        assert field in domains["www.acme.example"]


def test_adding_a_domain_routes_it_through_the_edge_whose_certificate_covers_it(
    alice_api: Api, world: World
) -> None:
    response = alice_api.post(
        "/apps/acme-api/domains", {"hostname": "api.example.org", "sni_endpoint": None}
    )
    assert response.status_code == 201
    assert response.json()["cname"] == "gateway.example.net"
    Domain.objects.filter(hostname="www.acme.example").delete()
    response = alice_api.post("/apps/acme-api/domains", {"hostname": "WWW.acme.example"})
    assert response.status_code == 201
    assert response.json()["hostname"] == "www.acme.example"
    assert response.json()["cname"] == "acme-ssl.edges.example.net"
    assert AuditEvent.objects.filter(action="domain.add", source="api").count() == 2


@pytest.mark.parametrize(
    "hostname",
    [
        "",
        "not a host",
        "<b>.example.com",
        "localhost",
        "acme-api.example.net",
        "www.acme.example",
        None,
        42,
    ],
)
def test_bad_or_taken_hostnames_are_422(alice_api: Api, world: World, hostname: Any) -> None:
    before = Domain.objects.count()
    response = alice_api.post("/apps/acme-api/domains", {"hostname": hostname})
    assert_error(response, 422, "invalid_params")
    assert Domain.objects.count() == before


def test_domains_can_be_removed_but_not_the_default(alice_api: Api, world: World) -> None:
    response = alice_api.delete("/apps/acme-web/domains/www.acme.example")
    assert response.status_code == 200
    assert response.json()["hostname"] == "www.acme.example"
    assert not Domain.objects.filter(hostname="www.acme.example").exists()
    assert_error(
        alice_api.delete("/apps/acme-web/domains/acme-web.example.net"),
        422,
        "invalid_params",
        "The default domain of an app cannot be removed.",
    )


def test_another_organizations_domain_is_404(alice_api: Api, world: World) -> None:
    assert_error(
        alice_api.get("/apps/acme-web/domains/shop.globex.example"),
        404,
        "not_found",
        "Couldn't find that domain.",
    )


def test_browsers_still_get_pages_at_the_same_paths(alice: User, world: World) -> None:
    client = Client()
    client.force_login(alice)
    response = client.get("/apps/acme-web/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")


def test_tokens_are_stored_hashed(alice: User) -> None:
    _, raw = api_token_create(user=alice, label="x", actor=alice, source="web")
    assert not ApiToken.objects.filter(token_hash=raw).exists()
    assert not ApiToken.objects.filter(prefix=raw).exists()


def test_server_errors_answer_json_not_an_html_page(alice: User, monkeypatch: Any) -> None:
    def explode(user: Any) -> dict:
        raise RuntimeError("boom")

    monkeypatch.setattr("dashboard.api.views.account_json", explode)
    _, raw = api_token_create(user=alice, label="x", actor=alice, source="web")
    client = Client(raise_request_exception=False)
    response = client.get("/account", headers={"Accept": ACCEPT, "Authorization": f"Bearer {raw}"})
    assert_error(response, 500, "internal_server_error")


def test_support_adds_and_removes_an_apps_backends_and_each_change_is_audited(
    world: World, support: User, alice: User
) -> None:
    api = api_for(support)
    created = api.post("/apps/acme-api/backends", {"address": "10.2.0.7:5000"})
    assert created.status_code == 201
    assert created.json()["address"] == "10.2.0.7:5000"
    api.post("/apps/acme-api/backends", {"address": "[fd00::7]:5000"})
    listed = api_for(alice).get("/apps/acme-api/backends").json()
    assert [b["address"] for b in listed] == ["10.2.0.7:5000", "[fd00::7]:5000"]
    assert api.delete("/apps/acme-api/backends/[fd00::7]:5000").status_code == 200
    assert api.get("/apps/acme-api/backends/[fd00::7]:5000").status_code == 404
    actions = list(
        AuditEvent.objects.filter(action__startswith="backend.").values_list(
            "action", "actor_label"
        )
    )
    assert sorted(actions) == [
        ("backend.add", "support"),
        ("backend.add", "support"),
        ("backend.remove", "support"),
    ]


def test_customers_see_their_apps_backends_but_cannot_change_them(
    world: World, support: User, alice: User, carol: User
) -> None:
    api_for(support).post("/apps/acme-api/backends", {"address": "10.2.0.7:5000"})
    refused = api_for(alice).post("/apps/acme-api/backends", {"address": "10.2.0.8:5000"})
    assert refused.status_code == 403
    assert api_for(alice).delete("/apps/acme-api/backends/10.2.0.7:5000").status_code == 403
    # Another organization's app answers as a missing one does.
    assert api_for(carol).get("/apps/acme-api/backends").status_code == 404
    assert api_for(carol).get("/apps/acme-api/backends/10.2.0.7:5000").status_code == 404
    assert list(world.acme_api.backends.values_list("host", flat=True)) == ["10.2.0.7"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, "address is required, as host:port."),
        ({"address": "web.internal:80"}, "is not an IP address"),
        ({"address": "10.2.0.7:99999"}, "The port must be a number from 1 to 65535."),
    ],
)
def test_bad_backend_addresses_answer_422(
    world: World, support: User, body: dict[str, Any], message: str
) -> None:
    response = api_for(support).post("/apps/acme-api/backends", body)
    assert response.status_code == 422
    assert message in response.json()["message"]
    assert not world.acme_api.backends.exists()


def test_a_retry_with_the_same_idempotency_key_runs_once(world: World, alice: User) -> None:
    api = api_for(alice)
    key = {"Idempotency_Key": "add-www2-1"}
    first = api.post("/apps/acme-api/domains", {"hostname": "www2.acme.example"}, **key)
    again = api.post("/apps/acme-api/domains", {"hostname": "www2.acme.example"}, **key)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert Domain.objects.filter(hostname="www2.acme.example").count() == 1
    assert (
        AuditEvent.objects.filter(action="domain.add", target_label="www2.acme.example").count()
        == 1
    )
    # Without the key the same request is a new request (and now a conflict).
    assert api.post("/apps/acme-api/domains", {"hostname": "www2.acme.example"}).status_code == 422


def test_the_same_idempotency_key_with_another_body_answers_422(world: World, alice: User) -> None:
    api = api_for(alice)
    key = {"Idempotency_Key": "k-1"}
    api.patch("/apps/acme-api/features/preboot", {"enabled": True}, **key)
    other = api.patch("/apps/acme-api/features/preboot", {"enabled": False}, **key)
    assert other.status_code == 422
    assert "already used for another request" in other.json()["message"]
    assert AppFeature.objects.get(app=world.acme_api, feature__name="preboot").enabled is True


def test_idempotency_keys_belong_to_one_account(world: World, alice: User, bob: User) -> None:
    key = {"Idempotency_Key": "shared-key"}
    api_for(alice).patch("/apps/acme-api/features/preboot", {"enabled": True}, **key)
    theirs = api_for(bob).patch("/apps/acme-api/features/preboot", {"enabled": False}, **key)
    assert theirs.status_code == 200
    assert "Idempotent-Replayed" not in theirs
    assert AppFeature.objects.get(app=world.acme_api, feature__name="preboot").enabled is False


def test_a_malformed_idempotency_key_is_refused(world: World, alice: User) -> None:
    response = api_for(alice).patch(
        "/apps/acme-api/features/preboot", {"enabled": True}, Idempotency_Key="x" * 256
    )
    assert response.status_code == 400
    assert not AppFeature.objects.filter(app=world.acme_api, feature__name="preboot").exists()
