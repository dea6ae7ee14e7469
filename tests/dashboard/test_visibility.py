from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.urls import reverse

from dashboard.models import App, AuditEvent, Domain, Organization
from edges.models import Edge
from tests.conftest import World, client_for

GLOBEX_URLS = [
    ("organization-detail", "globex"),
    ("app-detail", "globex-store"),
    ("edge-detail", "globex-ssl"),
]
MISSING_URLS = [
    ("organization-detail", "initech"),
    ("app-detail", "no-such-app"),
    ("edge-detail", "no-such-edge"),
]


@pytest.mark.parametrize(("name", "arg"), GLOBEX_URLS + MISSING_URLS)
@pytest.mark.parametrize("persona", ["alice", "bob"])
def test_acme_members_get_404_for_globex_and_for_missing_objects(
    request: pytest.FixtureRequest, persona: str, name: str, arg: str
) -> None:
    user = request.getfixturevalue(persona)
    response = client_for(user).get(reverse(name, args=[arg]))
    assert response.status_code == 404


@pytest.mark.parametrize(("name", "arg"), GLOBEX_URLS)
@pytest.mark.parametrize("persona", ["carol", "support"])
def test_globex_owner_and_support_see_globex(
    request: pytest.FixtureRequest, persona: str, name: str, arg: str
) -> None:
    user = request.getfixturevalue(persona)
    assert client_for(user).get(reverse(name, args=[arg])).status_code == 200


@pytest.mark.parametrize(
    ("name", "arg"), [("overview", None), *GLOBEX_URLS, ("app-detail", "acme-web")]
)
def test_anonymous_visitors_are_sent_to_login(world: World, name: str, arg: str | None) -> None:
    url = reverse(name, args=[arg] if arg else [])
    response = client_for(None).get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_customers_see_the_shared_gateway_but_only_their_domains_on_it(
    alice: User, carol: User, world: World
) -> None:
    page = client_for(alice).get(reverse("edge-detail", args=["gateway"])).content.decode()
    assert "acme-web.example.net" in page
    assert "globex-store.example.net" not in page
    assert "globex-store" not in page


def test_visible_to_applies_one_rule_to_every_model(
    alice: User, carol: User, support: User, world: World
) -> None:
    assert set(App.objects.visible_to(alice).values_list("name", flat=True)) == {
        "acme-web",
        "acme-api",
    }
    assert set(Organization.objects.visible_to(alice).values_list("name", flat=True)) == {"acme"}
    assert set(Edge.objects.visible_to(alice).values_list("name", flat=True)) == {
        "gateway",
        "acme-ssl",
    }
    assert set(Edge.objects.visible_to(carol).values_list("name", flat=True)) == {
        "gateway",
        "globex-ssl",
    }
    assert not Domain.objects.visible_to(alice).filter(app__organization=world.globex).exists()
    assert AuditEvent.objects.visible_to(alice).exists()
    assert not AuditEvent.objects.visible_to(alice).filter(organization=world.globex).exists()
    assert App.objects.visible_to(support).count() == App.objects.count()


def test_inactive_users_see_nothing(alice: User) -> None:
    alice.is_active = False
    assert not App.objects.visible_to(alice).exists()
    assert not Edge.objects.visible_to(alice).exists()


def test_a_user_without_organization_sees_no_apps(db: None, world: World) -> None:
    from tests.factories import make_user

    loner = make_user("loner")
    assert not App.objects.visible_to(loner).exists()
    page = client_for(loner).get(reverse("overview"))
    assert page.status_code == 200
    assert b"acme-web" not in page.content


def test_support_staff_do_not_get_the_admin_site(support: User) -> None:
    response = client_for(support).get("/admin/")
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_superusers_get_the_admin_site_with_every_model(admin_user: User) -> None:
    client = client_for(admin_user)
    index = client.get("/admin/").content.decode()
    for model in [
        "organization",
        "membership",
        "app",
        "domain",
        "feature",
        "appfeature",
        "auditevent",
        "apitoken",
        "edge",
        "certificate",
    ]:
        app_label = "edges" if model in ("edge", "certificate") else "dashboard"
        url = f"/admin/{app_label}/{model}/"
        assert url in index, f"{model} is missing from the admin index"
        assert client.get(url).status_code == 200, url


def test_admin_action_switches_features_through_the_rules(admin_user: User, world: World) -> None:
    from dashboard.models import AppFeature

    client = client_for(admin_user)
    pks = [world.acme_web.pk, world.globex_store.pk]
    ask = client.post(
        "/admin/dashboard/app/", {"action": "enable_feature", "_selected_action": pks}
    )
    assert ask.status_code == 200
    assert "Enable a feature" in ask.content.decode()
    done = client.post(
        "/admin/dashboard/app/",
        {
            "action": "enable_feature",
            "_selected_action": pks,
            "apply": "1",
            "feature": "websockets",
            "reason": "batch",
        },
        follow=True,
    )
    page = done.content.decode()
    assert (
        "Not changed on acme-web: Can not add websockets feature when ssl-endpoint is in use."
        in page
    )
    assert "Enabled websockets on 1 app(s)" in page
    assert AppFeature.objects.get(app=world.globex_store).enabled
    assert not AppFeature.objects.filter(app=world.acme_web).exists()
    event = AuditEvent.objects.get(action="feature.enable")
    assert (event.source, event.reason, event.app) == ("admin", "batch", world.globex_store)


def test_admin_feature_action_requires_a_reason(admin_user: User, world: World) -> None:
    from dashboard.models import AppFeature

    response = client_for(admin_user).post(
        "/admin/dashboard/app/",
        {
            "action": "enable_feature",
            "_selected_action": [world.globex_store.pk],
            "apply": "1",
            "feature": "websockets",
            "reason": "",
        },
    )
    assert response.status_code == 200
    assert "This field is required" in response.content.decode()
    assert not AppFeature.objects.exists()
