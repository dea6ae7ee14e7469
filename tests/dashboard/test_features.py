from __future__ import annotations

import json

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.urls import reverse

from dashboard.models import App, AppFeature, AuditEvent, Feature
from dashboard.models.features import app_feature_states
from dashboard.services.features import (
    SSL_ENDPOINT_REFUSAL,
    FeatureRefused,
    account_feature_set,
    feature_set,
)
from edges.models import Edge
from live import events
from tests.conftest import World, client_for
from tests.factories import POST_GA, make_app, make_ssl_edge

REFUSAL = "Can not add websockets feature when ssl-endpoint is in use."


def websockets() -> Feature:
    return Feature.objects.get(name="websockets")


def enabled(app: App, name: str = "websockets") -> bool:
    return next(s.enabled for s in app_feature_states(app) if s.feature.name == name)


def audit_rows(app: App) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(app=app, action__startswith="feature."))


def test_the_refusal_is_worded_exactly_as_heroku_words_it() -> None:
    assert SSL_ENDPOINT_REFUSAL == REFUSAL


def test_websockets_is_off_before_ga_and_on_after(world: World) -> None:
    assert not enabled(world.acme_web)
    assert enabled(world.acme_api)


def test_the_ga_date_is_a_setting(world: World, settings: object) -> None:
    settings.WEBSOCKETS_GA_DATE = POST_GA.date().replace(year=2016)  # type: ignore[attr-defined]
    assert not enabled(world.acme_api)


def test_enabling_websockets_behind_legacy_ssl_edge_is_refused(alice: User, world: World) -> None:
    with pytest.raises(FeatureRefused) as refused:
        feature_set(
            app=world.acme_web, feature=websockets(), enabled=True, actor=alice, source="web"
        )
    assert refused.value.messages == [REFUSAL]
    assert refused.value.blocking_edges == [world.acme_ssl]
    assert not AppFeature.objects.filter(app=world.acme_web).exists()
    assert audit_rows(world.acme_web) == []


def test_staff_cannot_override_the_legacy_edge_refusal(support: User, world: World) -> None:
    with pytest.raises(FeatureRefused):
        feature_set(
            app=world.acme_web,
            feature=websockets(),
            enabled=True,
            actor=support,
            source="web",
            reason="customer insists",
        )


def test_apps_behind_an_upgraded_ssl_edge_can_enable_websockets(carol: User, world: World) -> None:
    change = feature_set(
        app=world.globex_store, feature=websockets(), enabled=True, actor=carol, source="web"
    )
    assert change.changed
    assert enabled(world.globex_store)


def test_upgrading_the_edge_lifts_the_refusal(alice: User, world: World) -> None:
    Edge.objects.filter(pk=world.acme_ssl.pk).update(proxy=Edge.Proxy.HIPACHE)
    feature_set(app=world.acme_web, feature=websockets(), enabled=True, actor=alice, source="web")
    assert enabled(world.acme_web)


def test_a_legacy_edge_carrying_only_default_domains_does_not_block(
    alice: User, world: World
) -> None:
    app = make_app("acme-plain", org=world.acme)
    feature_set(app=app, feature=websockets(), enabled=True, actor=alice, source="web")
    assert enabled(app)


def test_disabling_is_always_allowed(alice: User, world: World) -> None:
    AppFeature.objects.create(app=world.acme_web, feature=websockets(), enabled=True)
    change = feature_set(
        app=world.acme_web, feature=websockets(), enabled=False, actor=alice, source="web"
    )
    assert change.changed and not enabled(world.acme_web)


def test_setting_the_current_state_is_a_successful_no_op_without_audit(
    alice: User, world: World
) -> None:
    change = feature_set(
        app=world.acme_api, feature=websockets(), enabled=True, actor=alice, source="api"
    )
    assert not change.changed
    assert audit_rows(world.acme_api) == []
    feature_set(app=world.acme_api, feature=websockets(), enabled=False, actor=alice, source="api")
    feature_set(app=world.acme_api, feature=websockets(), enabled=False, actor=alice, source="api")
    assert len(audit_rows(world.acme_api)) == 1


def test_a_change_is_audited_with_actor_source_before_and_after(alice: User, world: World) -> None:
    feature_set(app=world.acme_api, feature=websockets(), enabled=False, actor=alice, source="api")
    (row,) = audit_rows(world.acme_api)
    assert (row.actor, row.source, row.action) == (alice, "api", "feature.disable")
    assert row.before == {"feature": "websockets", "enabled": True}
    assert row.after == {"feature": "websockets", "enabled": False}
    assert row.organization == world.acme
    assert row.summary == "disabled websockets on"


def test_customers_cannot_change_staff_only_features(alice: User, world: World) -> None:
    debug = Feature.objects.get(name="router-debug-headers")
    with pytest.raises(PermissionDenied):
        feature_set(app=world.acme_api, feature=debug, enabled=True, actor=alice, source="web")
    assert not enabled(world.acme_api, "router-debug-headers")


def test_customers_cannot_change_other_organizations_apps(carol: User, world: World) -> None:
    with pytest.raises(PermissionDenied):
        feature_set(
            app=world.acme_api, feature=websockets(), enabled=False, actor=carol, source="api"
        )
    assert enabled(world.acme_api)


def test_staff_must_give_a_reason(support: User, world: World) -> None:
    with pytest.raises(ValidationError, match="must give a reason"):
        feature_set(
            app=world.acme_api,
            feature=websockets(),
            enabled=False,
            actor=support,
            source="web",
            reason="   ",
        )
    assert enabled(world.acme_api)


def test_staff_change_any_feature_and_the_reason_is_kept(support: User, world: World) -> None:
    debug = Feature.objects.get(name="router-debug-headers")
    feature_set(
        app=world.acme_api,
        feature=debug,
        enabled=True,
        actor=support,
        source="web",
        reason="ticket 4821",
    )
    assert enabled(world.acme_api, "router-debug-headers")
    assert audit_rows(world.acme_api)[0].reason == "ticket 4821"


def test_account_features_cannot_be_set_on_apps(alice: User, world: World) -> None:
    account_feature = Feature.objects.get(scope="account")
    with pytest.raises(ValidationError, match="account feature"):
        feature_set(
            app=world.acme_api, feature=account_feature, enabled=True, actor=alice, source="web"
        )


def test_users_switch_their_own_account_features_only(alice: User, bob: User, world: World) -> None:
    feature = Feature.objects.get(scope="account")
    assert account_feature_set(user=alice, feature=feature, enabled=True, actor=alice, source="api")
    assert not account_feature_set(
        user=alice, feature=feature, enabled=True, actor=alice, source="api"
    )
    with pytest.raises(PermissionDenied):
        account_feature_set(user=alice, feature=feature, enabled=False, actor=bob, source="api")


def test_a_change_is_announced_after_commit_to_the_app_page(
    alice: User, world: World, django_capture_on_commit_callbacks: object, monkeypatch: object
) -> None:
    sent: list[tuple[str, dict]] = []
    monkeypatch.setattr(  # type: ignore[attr-defined]
        "shared.bus.publish_many",
        lambda events: sent.extend((topic, payload) for topic, _, payload in events),
    )
    with django_capture_on_commit_callbacks(execute=False) as callbacks:  # type: ignore[operator]
        feature_set(
            app=world.acme_api, feature=websockets(), enabled=False, actor=alice, source="web"
        )
    assert sent == []
    for callback in callbacks:
        callback()
    payload = {
        "app": "acme-api",
        "organization": "acme",
        "feature": "websockets",
        "enabled": False,
    }
    assert sent == [(events.LIVE_GROUP, payload)]
    # The app's page, its row on the staff overview and in its organization's list, and the
    # latest changes on support's page.
    assert events.concerned_topics(events.FEATURE_CHANGED, payload) == {
        "app.acme-api",
        "overview",
        "org.acme",
        "support",
    }
    assert json.loads(json.dumps(sent[0][1])) == sent[0][1]


def test_a_refused_change_pushes_nothing(
    alice: User, world: World, django_capture_on_commit_callbacks: object
) -> None:
    with (
        django_capture_on_commit_callbacks() as callbacks,  # type: ignore[operator]
        pytest.raises(FeatureRefused),
    ):
        feature_set(
            app=world.acme_web, feature=websockets(), enabled=True, actor=alice, source="web"
        )
    assert callbacks == []


# The Features panel on the app page


def toggle(client: Client, app: str, value: str, *, htmx: bool = False, **extra: str):
    headers = {"HX-Request": "true", "HX-Target": "features-panel"} if htmx else {}
    return client.post(
        reverse("app-features", args=[app]), {"toggle": value, **extra}, headers=headers
    )


def test_alice_enables_websockets_from_the_app_page_without_javascript(
    alice: User, world: World
) -> None:
    app = make_app("acme-chat", org=world.acme, created_at=world.acme_web.created_at)
    client = client_for(alice)
    response = toggle(client, app.name, "websockets:on")
    assert response.status_code == 302
    assert response["Location"] == "/apps/acme-chat/#features"
    page = client.get(response["Location"]).content.decode()
    assert "Enabled websockets for acme-chat." in page
    assert enabled(app)


def test_the_refusal_is_shown_inline_with_the_link_to_the_edge(alice: User, world: World) -> None:
    response = toggle(client_for(alice), "acme-web", "websockets:on", htmx=True)
    assert response.status_code == 422
    body = response.content.decode()
    assert body.lstrip().startswith('<section class="panel" id="features-panel"')
    row = body.split('id="app-acme-web-feature-websockets"')[1].split("</tr>")[0]
    assert REFUSAL in row
    assert 'href="/edges/acme-ssl/#upgrade"' in row


def test_the_refusal_without_javascript_renders_the_whole_page(alice: User, world: World) -> None:
    response = toggle(client_for(alice), "acme-web", "websockets:on")
    assert response.status_code == 422
    assert "<html" in response.content.decode()
    assert REFUSAL in response.content.decode()


def test_customers_see_switches_only_for_self_serve_features(alice: User, world: World) -> None:
    page = client_for(alice).get(reverse("app-detail", args=["acme-api"])).content.decode()
    assert 'value="websockets:off"' in page
    assert 'value="router-debug-headers:' not in page
    assert 'name="reason"' not in page


def test_staff_see_every_switch_and_a_reason_field(support: User, world: World) -> None:
    page = client_for(support).get(reverse("app-detail", args=["acme-api"])).content.decode()
    assert 'value="router-debug-headers:on"' in page
    assert 'name="reason"' in page


def test_staff_without_a_reason_get_an_inline_error(support: User, world: World) -> None:
    response = toggle(client_for(support), "acme-api", "websockets:off", htmx=True)
    assert response.status_code == 422
    assert "Support staff must give a reason" in response.content.decode()
    assert enabled(world.acme_api)


def test_staff_toggle_with_a_reason_shows_in_recent_activity(support: User, world: World) -> None:
    response = toggle(
        client_for(support), "acme-api", "websockets:off", htmx=True, reason="ticket 77"
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "Disabled websockets for acme-api." in body
    activity = body.split('id="app-activity"')[1]
    assert "disabled websockets on" in activity and "ticket 77" in activity


def test_a_forged_toggle_of_a_staff_only_feature_is_forbidden(alice: User, world: World) -> None:
    response = toggle(client_for(alice), "acme-api", "router-debug-headers:on", htmx=True)
    assert response.status_code == 403
    assert not enabled(world.acme_api, "router-debug-headers")


@pytest.mark.parametrize("value", ["", "websockets", "websockets:maybe", ":on"])
def test_malformed_toggles_are_refused(alice: User, world: World, value: str) -> None:
    response = toggle(client_for(alice), "acme-api", value)
    assert response.status_code == 400
    assert audit_rows(world.acme_api) == []


def test_unknown_features_are_404(alice: User, world: World) -> None:
    assert toggle(client_for(alice), "acme-api", "teleport:on").status_code == 404


def test_other_organizations_apps_are_404_for_toggles(carol: User, world: World) -> None:
    assert toggle(client_for(carol), "acme-api", "websockets:off").status_code == 404
    assert enabled(world.acme_api)


def test_toggles_need_the_csrf_token(alice: User, world: World) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    response = toggle(client, "acme-api", "websockets:off", htmx=True)
    assert response.status_code == 403
    assert enabled(world.acme_api)
    page = client.get(reverse("app-detail", args=["acme-api"]))
    token = page.context["csrf_token"]
    response = client.post(
        reverse("app-features", args=["acme-api"]),
        {"toggle": "websockets:off"},
        headers={"HX-Request": "true", "X-CSRFToken": str(token)},
    )
    assert response.status_code == 200
    assert not enabled(world.acme_api)


def test_ssl_edge_of_the_app_without_custom_domains_does_not_block(
    alice: User, world: World
) -> None:
    make_ssl_edge("acme-ssl-2", org=world.acme)
    feature_set(app=world.acme_api, feature=websockets(), enabled=False, actor=alice, source="web")
    feature_set(app=world.acme_api, feature=websockets(), enabled=True, actor=alice, source="web")
    assert enabled(world.acme_api)


def test_control_characters_in_a_reason_are_refused(support: User, world: World) -> None:
    with pytest.raises(ValidationError, match="control characters"):
        feature_set(
            app=world.acme_api,
            feature=websockets(),
            enabled=False,
            actor=support,
            source="api",
            reason="ticket\x00 1",
        )
    assert enabled(world.acme_api)
