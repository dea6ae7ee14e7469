"""Destructive actions of the admin site ask first on Django's intermediate page, naming what
will happen and to which rows; nothing changes until the superuser confirms, and then each row
goes through its service (its rules, its audit row)."""

from __future__ import annotations

import html
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from dashboard.models import ApiToken, AuditEvent
from dashboard.services.tokens import api_token_create
from edges.models import Edge, EdgeUpgrade
from edges.services.upgrades import upgrade_request
from tests.conftest import World, client_for

pytestmark = pytest.mark.django_db

TOKENS = "/admin/dashboard/apitoken/"
EDGES = "/admin/edges/edge/"
UPGRADES = "/admin/edges/edgeupgrade/"


def text(response: Any) -> str:
    return html.unescape(response.content.decode())


@pytest.fixture
def admin_client(admin_user: User) -> Client:
    return client_for(admin_user)


def test_revoking_tokens_asks_first_naming_each_token(
    alice: User, admin_client: Client, admin_user: User
) -> None:
    token, _ = api_token_create(user=alice, label="deploy script", actor=alice, source="web")
    chosen = {"action": "revoke", "_selected_action": [token.pk]}

    question = admin_client.post(TOKENS, chosen)

    assert question.status_code == 200
    page = text(question)
    assert "Revoke these tokens? Scripts and the Heroku CLI using them get 401" in page
    assert f"<li>{token.prefix}… (deploy script) of alice</li>" in page
    assert '<input type="hidden" name="confirmed" value="yes">' in page
    assert f'name="_selected_action" value="{token.pk}"' in page
    assert ApiToken.objects.get(pk=token.pk).revoked_at is None
    assert not AuditEvent.objects.filter(action="api_token.revoke").exists()

    admin_client.post(TOKENS, {**chosen, "confirmed": "yes"})

    assert ApiToken.objects.get(pk=token.pk).revoked_at is not None
    row = AuditEvent.objects.get(action="api_token.revoke")
    assert (row.actor, row.source) == (admin_user, "admin")


def test_revoking_only_revoked_tokens_asks_nothing(alice: User, admin_client: Client) -> None:
    token, _ = api_token_create(user=alice, label="old", actor=alice, source="web")
    admin_client.post(
        TOKENS, {"action": "revoke", "_selected_action": [token.pk], "confirmed": "yes"}
    )
    answer = admin_client.post(
        TOKENS, {"action": "revoke", "_selected_action": [token.pk]}, follow=True
    )
    assert "The selected tokens are revoked already." in text(answer)
    assert AuditEvent.objects.filter(action="api_token.revoke").count() == 1


def test_rotating_ingest_tokens_asks_first_and_keeps_the_old_token_until_confirmed(
    world: World, admin_client: Client
) -> None:
    before = Edge.objects.get(pk=world.globex_ssl.pk).ingest_token_hash
    chosen = {"action": "rotate_ingest_token", "_selected_action": [world.globex_ssl.pk]}

    question = admin_client.post(EDGES, chosen)

    page = text(question)
    assert "Rotate the ingest token of these edges? Each edge's current token stops" in page
    assert "<li>globex-ssl</li>" in page
    assert Edge.objects.get(pk=world.globex_ssl.pk).ingest_token_hash == before
    assert not AuditEvent.objects.filter(action="edge.ingest_token_rotate").exists()

    admin_client.post(EDGES, {**chosen, "confirmed": "yes"})
    assert Edge.objects.get(pk=world.globex_ssl.pk).ingest_token_hash != before


@pytest.mark.parametrize(
    ("action", "warning"),
    [
        ("start", "Start these upgrades now?"),
        ("complete", "Mark these upgrades complete? Each edge is switched to Hipache at once"),
        ("cancel", "Cancel these upgrades? Each customer sees theirs cancelled"),
    ],
)
def test_upgrade_steps_ask_first(
    world: World, alice: User, admin_client: Client, action: str, warning: str
) -> None:
    upgrade = upgrade_request(edge=world.acme_ssl, actor=alice, source="web")
    question = admin_client.post(UPGRADES, {"action": action, "_selected_action": [upgrade.pk]})
    page = text(question)
    assert warning in page
    assert f"<li>#{upgrade.pk} of acme-ssl (requested)</li>" in page
    upgrade.refresh_from_db()
    assert upgrade.state == EdgeUpgrade.State.REQUESTED


def test_a_confirmed_cancel_goes_through_the_workflow(
    world: World, alice: User, admin_client: Client, admin_user: User
) -> None:
    upgrade = upgrade_request(edge=world.acme_ssl, actor=alice, source="web")
    admin_client.post(
        UPGRADES, {"action": "cancel", "_selected_action": [upgrade.pk], "confirmed": "yes"}
    )
    upgrade.refresh_from_db()
    assert upgrade.state == EdgeUpgrade.State.CANCELLED
    row = AuditEvent.objects.get(action="upgrade.cancel")
    assert (row.actor, row.source) == (admin_user, "admin")


def test_the_confirmation_page_needs_the_admin(world: World, alice: User, support: User) -> None:
    token, _ = api_token_create(user=alice, label="deploy", actor=alice, source="web")
    for user in (alice, support):
        answer = client_for(user).post(TOKENS, {"action": "revoke", "_selected_action": [token.pk]})
        assert answer.status_code == 302 and "/admin/login/" in answer["Location"]
    assert ApiToken.objects.get(pk=token.pk).revoked_at is None
