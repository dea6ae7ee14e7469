"""Destructive actions ask first, saying what will happen: in a dialog with JavaScript
(`data-confirm` on the form), else on the page the form answers with. Nothing changes until the
person confirms."""

from __future__ import annotations

import datetime as dt
import html

import pytest
from django.contrib.auth.models import User

from dashboard.models import ApiToken
from dashboard.services.apps import backend_add
from dashboard.services.tokens import api_token_create
from edges.models import EdgeUpgrade
from edges.services.upgrades import upgrade_request, upgrade_transition
from tests.conftest import World, client_for

pytestmark = pytest.mark.django_db

State = EdgeUpgrade.State
HTMX = {"HX-Request": "true", "HX-Target": "backends-panel"}


def text(response: object) -> str:
    return html.unescape(response.content.decode())  # type: ignore[attr-defined]


def test_revoking_a_token_asks_first_and_names_it(alice: User) -> None:
    token, _ = api_token_create(user=alice, label="deploy script", actor=alice, source="web")
    client = client_for(alice)
    warning = (
        f"Revoke the token {token.prefix}… (deploy script)? Scripts and the Heroku CLI using it "
        "get 401 from their next request. You can undo this for 5 minutes."
    )
    assert f'data-confirm="{warning}"' in text(client.get("/account/tokens/"))

    question = client.post(f"/account/tokens/{token.pk}/revoke/")
    assert question.status_code == 200
    assert 'id="confirm-revoke"' in text(question) and warning in text(question)
    assert ApiToken.objects.get(pk=token.pk).revoked_at is None

    client.post(f"/account/tokens/{token.pk}/revoke/", {"confirmed": "yes"})
    assert ApiToken.objects.get(pk=token.pk).revoked_at is not None


def test_removing_a_backend_asks_first_in_the_panel(world: World, support: User) -> None:
    backend_add(app=world.acme_api, address="10.3.0.7:8080", actor=support, source="web")
    client = client_for(support)
    warning = (
        "Remove the back-end 10.3.0.7:8080 from acme-api? The edges stop routing acme-api's "
        "requests to it from their next configuration update, and with no back-end left they "
        "answer 503."
    )
    assert f'data-confirm="{warning}"' in text(client.get("/apps/acme-api/"))
    question = client.post(
        "/apps/acme-api/backends/remove/", {"address": "10.3.0.7:8080"}, headers=HTMX
    )
    assert question.status_code == 200 and "<html" not in text(question)
    assert 'id="confirm-remove"' in text(question) and warning in text(question)
    assert world.acme_api.backends.exists()
    client.post(
        "/apps/acme-api/backends/remove/",
        {"address": "10.3.0.7:8080", "confirmed": "yes"},
        headers=HTMX,
    )
    assert not world.acme_api.backends.exists()


@pytest.fixture
def due(world: World, alice: User, support: User) -> EdgeUpgrade:
    """An upgrade whose window has come."""
    upgrade = upgrade_request(edge=world.acme_ssl, actor=alice, source="web", note="")
    upgrade_transition(
        upgrade=upgrade,
        action="schedule",
        actor=support,
        source="web",
        scheduled_for=dt.datetime.now(dt.UTC) + dt.timedelta(days=1),
    )
    EdgeUpgrade.objects.filter(pk=upgrade.pk).update(
        scheduled_for=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    )
    upgrade.refresh_from_db()
    return upgrade


@pytest.mark.parametrize(
    ("action", "warning", "state"),
    [
        (
            "start",
            "Start acme-ssl's upgrade to Hipache now? Acme sees it in progress, and the apps "
            "behind it (acme-web) may lose open connections while the proxy is switched.",
            State.IN_PROGRESS,
        ),
        (
            "cancel",
            "Cancel acme-ssl's upgrade? Acme sees it cancelled; acme-ssl stays on its current "
            "proxy, and websockets stays off for the apps behind it (acme-web).",
            State.CANCELLED,
        ),
    ],
)
def test_starting_or_cancelling_an_upgrade_asks_first(
    due: EdgeUpgrade, support: User, action: str, warning: str, state: str
) -> None:
    client = client_for(support)
    url = f"/edges/acme-ssl/upgrades/{due.pk}/{action}/"
    assert f'data-confirm="{warning}"' in text(client.get("/edges/acme-ssl/"))
    question = client.post(url)
    assert question.status_code == 200
    assert f'id="upgrade-confirm-{action}"' in text(question) and warning in text(question)
    due.refresh_from_db()
    assert due.state == State.SCHEDULED
    client.post(url, {"confirmed": "yes"})
    due.refresh_from_db()
    assert due.state == state


def test_a_step_the_upgrade_cannot_take_is_refused_without_a_question(
    due: EdgeUpgrade, support: User
) -> None:
    upgrade_transition(upgrade=due, action="start", actor=support, source="web")
    response = client_for(support).post(f"/edges/acme-ssl/upgrades/{due.pk}/cancel/")
    assert response.status_code == 409
    assert 'id="upgrade-confirm-cancel"' not in text(response)
