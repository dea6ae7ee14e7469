from __future__ import annotations

from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from dashboard.models import ApiToken, AuditEvent, Feature
from dashboard.services.features import feature_set
from shared.secret_tokens import hash_token
from tests.conftest import World, client_for


def test_support_finds_apps_by_name_domain_and_member_email(support: User, carol: User) -> None:
    client = client_for(support)
    by_domain = client.get(reverse("support"), {"q": "shop.globex"}).content.decode()
    assert 'id="support-app-globex-store"' in by_domain
    assert 'id="support-app-acme-web"' not in by_domain
    by_email = client.get(reverse("support"), {"q": "carol@example.org"}).content.decode()
    assert 'id="support-app-globex-store"' in by_email
    by_name = client.get(reverse("support"), {"q": "acme-w"}).content.decode()
    assert 'id="support-app-acme-web"' in by_name and 'id="support-app-acme-api"' not in by_name


def test_support_lists_legacy_ssl_edges(support: User, world: World) -> None:
    page = client_for(support).get(reverse("support")).content.decode()
    legacy = page.split('id="legacy-heading"')[1].split("</section>")[0]
    assert "acme-ssl" in legacy and "globex-ssl" not in legacy


def test_support_is_404_for_customers(alice: User) -> None:
    assert client_for(alice).get(reverse("support"), {"q": "globex"}).status_code == 404


def test_audit_page_filters_by_organization_app_actor_and_action(
    support: User, alice: User, world: World
) -> None:
    websockets = Feature.objects.get(name="websockets")
    feature_set(app=world.acme_api, feature=websockets, enabled=False, actor=alice, source="web")
    client = client_for(support)
    page = client.get(
        reverse("audit"),
        {"organization": "acme", "app": "acme-api", "actor": "alice", "action": "feature.disable"},
    )
    rows = page.content.decode().count('<tr id="audit-')
    assert rows == 1
    assert "disabled websockets on" in page.content.decode()
    other = client.get(reverse("audit"), {"actor": "carol"}).content.decode()
    assert other.count('<tr id="audit-') == 0


def test_customers_see_only_their_organizations_audit(
    alice: User, carol: User, world: World
) -> None:
    page = client_for(alice).get(reverse("audit")).content.decode()
    assert "globex-store" not in page
    assert "acme-web" in page
    filtered = client_for(alice).get(reverse("audit"), {"organization": "globex"}).content.decode()
    assert filtered.count('<tr id="audit-') == 0


def test_token_page_creates_a_token_shown_once(alice: User) -> None:
    client = client_for(alice)
    response = client.post(reverse("tokens"), {"label": "deploy"})
    assert response.status_code == 201
    assert response["Cache-Control"] == "no-store"
    raw = response.content.decode().split('id="new-token-value">')[1].split("<")[0]
    token = ApiToken.objects.get(user=alice, label="deploy")
    assert token.token_hash == hash_token(raw)
    assert raw not in client.get(reverse("tokens")).content.decode()


def test_token_page_refuses_an_empty_label(alice: User) -> None:
    response = client_for(alice).post(reverse("tokens"), {"label": "  "})
    assert response.status_code == 422
    assert not ApiToken.objects.filter(user=alice).exists()


def test_tokens_can_be_revoked_only_by_their_owner(alice: User, bob: User) -> None:
    client_for(alice).post(reverse("tokens"), {"label": "ci"})
    token = ApiToken.objects.get(user=alice)
    confirmed = {"confirmed": "yes"}
    assert (
        client_for(bob).post(reverse("token-revoke", args=[token.pk]), confirmed).status_code == 404
    )
    token.refresh_from_db()
    assert token.revoked_at is None
    revoked = client_for(alice).post(reverse("token-revoke", args=[token.pk]), confirmed)
    assert revoked.status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert AuditEvent.objects.filter(action="api_token.revoke", actor=alice).exists()


def test_token_forms_need_csrf(alice: User) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    assert client.post(reverse("tokens"), {"label": "x"}).status_code == 403
    assert not ApiToken.objects.filter(user=alice).exists()


def test_audit_pages_keep_their_filters_encoded_in_the_pager(support: User, world: World) -> None:
    for index in range(55):
        AuditEvent.objects.create(
            actor_label="ops & co", source="cli", action="app.create", target_label=f"t{index}"
        )
    page = client_for(support).get(reverse("audit"), {"actor": "ops & co"}).content.decode()
    assert page.count('<tr id="audit-') == 50
    assert 'href="?actor=ops+%26+co&amp;page=2"' in page
