"""A revoked token or a removed back-end can be brought back for five minutes: by the service
that owns it (locked, checked, audited, pushed after commit), refused with a reason once the
window has passed or the thing has changed since."""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.utils import timezone

from dashboard.models import ApiToken, AuditEvent, Backend
from dashboard.services.apps import backend_add, backend_remove, backend_restore
from dashboard.services.tokens import api_token_create, api_token_restore, api_token_revoke
from dashboard.services.undo import UNDO_WINDOW
from tests.admin_forms import Pushed
from tests.conftest import World, client_for

pytestmark = pytest.mark.django_db

ACCEPT = "application/vnd.heroku+json; version=3"
HTMX = {"HX-Request": "true", "HX-Target": "backends-panel"}
LONG_AGO = UNDO_WINDOW + dt.timedelta(seconds=1)


def text(response: Any) -> str:
    return html.unescape(response.content.decode())


def api_status(raw: str) -> int:
    headers = {"Accept": ACCEPT, "Authorization": f"Bearer {raw}"}
    return Client().get("/account", headers=headers).status_code


def revoked_token(user: User, *, actor: Any = None, label: str = "deploy") -> tuple[ApiToken, str]:
    token, raw = api_token_create(user=user, label=label, actor=user, source="web")
    api_token_revoke(token=token, actor=user if actor is None else actor, source="web")
    token.refresh_from_db()
    return token, raw


def age(token: ApiToken, by: dt.timedelta) -> None:
    """Move the token's revocation into the past, as the clock would."""
    ApiToken.objects.filter(pk=token.pk).update(revoked_at=timezone.now() - by)


# Tokens: the service


def test_an_undone_revocation_brings_back_the_same_token(alice: User) -> None:
    token, raw = revoked_token(alice)
    assert api_status(raw) == 401
    hash_before = token.token_hash

    api_token_restore(token=token, actor=alice, source="web")

    token.refresh_from_db()
    assert token.revoked_at is None and token.token_hash == hash_before
    assert api_status(raw) == 200
    row = AuditEvent.objects.filter(action="api_token.restore").get()
    assert (row.actor, row.target_id, row.after) == (alice, str(token.pk), {"revoked": False})
    assert row.before["revoked"] is True
    assert raw not in str(row.before) + str(row.after)


def test_a_revocation_cannot_be_undone_once_the_window_has_passed(alice: User) -> None:
    token, raw = revoked_token(alice)
    age(token, LONG_AGO)

    with pytest.raises(ValidationError, match="only be undone for 5 minutes"):
        api_token_restore(token=token, actor=alice, source="web")

    token.refresh_from_db()
    assert token.revoked_at is not None and api_status(raw) == 401
    assert not AuditEvent.objects.filter(action="api_token.restore").exists()


def test_a_revocation_by_support_cannot_be_undone_by_the_owner(alice: User, support: User) -> None:
    token, raw = revoked_token(alice, actor=support)

    with pytest.raises(PermissionDenied):
        api_token_restore(token=token, actor=alice, source="web")
    # Nor by support from someone else's page: only an owner's own revocation comes back.
    with pytest.raises(PermissionDenied):
        api_token_restore(token=token, actor=support, source="web")
    assert api_status(raw) == 401


def test_a_token_that_expired_since_its_revocation_stays_revoked(alice: User) -> None:
    token, _ = revoked_token(alice)
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - dt.timedelta(1))

    with pytest.raises(ValidationError, match="expired since"):
        api_token_restore(token=token, actor=alice, source="web")


def test_undoing_a_token_that_is_not_revoked_is_refused(alice: User) -> None:
    token, _ = api_token_create(user=alice, label="live", actor=alice, source="web")
    with pytest.raises(ValidationError, match="is not revoked"):
        api_token_restore(token=token, actor=alice, source="web")


# Tokens: the page


def test_the_page_offers_to_undo_a_revocation_with_a_csrf_protected_form(alice: User) -> None:
    token, raw = api_token_create(user=alice, label="deploy", actor=alice, source="web")
    client = client_for(alice)

    response = client.post(f"/account/tokens/{token.pk}/revoke/", {"confirmed": "yes"})
    assert response.status_code == 302
    assert response["Location"] == f"/account/tokens/?revoked={token.pk}#token-undo"

    page = text(client.get(response["Location"]))
    assert f"Revoked the token <code>{token.prefix}…</code> (deploy)." in page
    assert f'action="/account/tokens/{token.pk}/restore/"' in page
    assert "csrfmiddlewaretoken" in page.split('id="token-undo"')[1].split("</form>")[0]

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(alice)
    assert strict.post(f"/account/tokens/{token.pk}/restore/").status_code == 403
    assert api_status(raw) == 401

    back = client.post(f"/account/tokens/{token.pk}/restore/", follow=True)
    assert f"{token.prefix}… (deploy) works again." in text(back)
    assert api_status(raw) == 200


def test_the_page_stops_offering_the_undo_when_the_window_has_passed(alice: User) -> None:
    token, _ = revoked_token(alice)
    client = client_for(alice)
    assert 'id="token-undo"' in text(client.get(f"/account/tokens/?revoked={token.pk}"))
    age(token, LONG_AGO)
    assert 'id="token-undo"' not in text(client.get(f"/account/tokens/?revoked={token.pk}"))

    late = client.post(f"/account/tokens/{token.pk}/restore/")
    assert late.status_code == 409
    assert "can only be undone for 5 minutes; that time has passed." in text(late)


def test_someone_elses_token_cannot_be_restored_or_even_found(alice: User, bob: User) -> None:
    token, raw = revoked_token(alice)
    assert client_for(bob).post(f"/account/tokens/{token.pk}/restore/").status_code == 404
    assert 'id="token-undo"' not in text(
        client_for(bob).get(f"/account/tokens/?revoked={token.pk}")
    )
    assert api_status(raw) == 401


# Back-ends: the service


@pytest.fixture
def removed(world: World, support: User) -> AuditEvent:
    """10.3.0.7:8080, just removed from acme-api."""
    backend = backend_add(app=world.acme_api, address="10.3.0.7:8080", actor=support, source="web")
    return backend_remove(backend=backend, actor=support, source="web")


def test_an_undone_removal_routes_to_the_same_address_again(
    world: World, support: User, removed: AuditEvent, pushed: Pushed, committed: Callable[[], Any]
) -> None:
    with committed():
        backend = backend_restore(
            app=world.acme_api, removal_id=removed.pk, actor=support, source="web"
        )
        assert pushed == []  # only once the transaction commits

    assert backend.address == "10.3.0.7:8080"
    assert list(world.acme_api.backends.values_list("host", "port")) == [("10.3.0.7", 8080)]
    row = AuditEvent.objects.filter(action="backend.restore").get()
    assert (row.actor, row.app, row.organization) == (support, world.acme_api, world.acme)
    assert row.after == {"app": "acme-api", "address": "10.3.0.7:8080", "undoes": removed.pk}
    assert pushed == [
        (
            "backends.changed",
            {"app": "acme-api", "organization": "acme", "address": "10.3.0.7:8080"},
        )
    ]


def test_a_removal_cannot_be_undone_once_the_window_has_passed(
    world: World, support: User, removed: AuditEvent
) -> None:
    AuditEvent.objects.filter(pk=removed.pk).update(created_at=timezone.now() - LONG_AGO)
    with pytest.raises(ValidationError, match="only be undone for 5 minutes"):
        backend_restore(app=world.acme_api, removal_id=removed.pk, actor=support, source="web")
    assert not world.acme_api.backends.exists()


def test_a_removal_cannot_be_undone_once_the_address_is_back(
    world: World, support: User, removed: AuditEvent
) -> None:
    backend_add(app=world.acme_api, address="10.3.0.7:8080", actor=support, source="web")
    with pytest.raises(ValidationError, match="is a back-end of acme-api again already"):
        backend_restore(app=world.acme_api, removal_id=removed.pk, actor=support, source="web")
    assert world.acme_api.backends.count() == 1


def test_an_older_removal_cannot_be_undone_after_the_address_changed_again(
    world: World, support: User, removed: AuditEvent
) -> None:
    again = backend_add(app=world.acme_api, address="10.3.0.7:8080", actor=support, source="web")
    backend_remove(backend=again, actor=support, source="web")
    with pytest.raises(ValidationError, match="changed since it was removed"):
        backend_restore(app=world.acme_api, removal_id=removed.pk, actor=support, source="web")
    assert not world.acme_api.backends.exists()


def test_a_removal_is_undone_once(world: World, support: User, removed: AuditEvent) -> None:
    backend_restore(app=world.acme_api, removal_id=removed.pk, actor=support, source="web")
    with pytest.raises(ValidationError):
        backend_restore(app=world.acme_api, removal_id=removed.pk, actor=support, source="web")
    assert world.acme_api.backends.count() == 1


def test_customers_cannot_undo_a_removal(world: World, alice: User, removed: AuditEvent) -> None:
    with pytest.raises(PermissionDenied):
        backend_restore(app=world.acme_api, removal_id=removed.pk, actor=alice, source="web")
    assert not world.acme_api.backends.exists()


def test_a_removal_from_another_app_is_not_found(
    world: World, support: User, removed: AuditEvent
) -> None:
    with pytest.raises(ValidationError, match="no such removal"):
        backend_restore(app=world.acme_web, removal_id=removed.pk, actor=support, source="web")
    assert not Backend.objects.exists()


# Back-ends: the page


def test_the_panel_offers_to_undo_a_removal_and_undoes_it_with_htmx(
    world: World, support: User
) -> None:
    backend_add(app=world.acme_api, address="10.3.0.7:8080", actor=support, source="web")
    client = client_for(support)
    panel = client.post(
        "/apps/acme-api/backends/remove/",
        {"address": "10.3.0.7:8080", "confirmed": "yes"},
        headers=HTMX,
    )
    assert panel.status_code == 200 and "<html" not in text(panel)
    removal = AuditEvent.objects.get(action="backend.remove")
    assert "Removed 10.3.0.7:8080." in text(panel)
    assert f'name="removal" value="{removal.pk}"' in text(panel)

    back = client.post("/apps/acme-api/backends/restore/", {"removal": removal.pk}, headers=HTMX)
    assert back.status_code == 200
    assert "Brought back 10.3.0.7:8080: the edges route to it again." in text(back)
    assert world.acme_api.backends.count() == 1


def test_without_javascript_the_page_comes_back_with_the_undo(world: World, support: User) -> None:
    backend_add(app=world.acme_api, address="10.3.0.7:8080", actor=support, source="web")
    client = client_for(support)
    response = client.post(
        "/apps/acme-api/backends/remove/", {"address": "10.3.0.7:8080", "confirmed": "yes"}
    )
    removal = AuditEvent.objects.get(action="backend.remove")
    assert response["Location"] == f"/apps/acme-api/?removed={removal.pk}#backends-panel"
    page = text(client.get(response["Location"]))
    assert 'id="backend-undo"' in page and 'action="/apps/acme-api/backends/restore/"' in page


def test_a_late_undo_is_refused_in_the_panel(
    world: World, support: User, removed: AuditEvent
) -> None:
    AuditEvent.objects.filter(pk=removed.pk).update(created_at=timezone.now() - LONG_AGO)
    client = client_for(support)
    assert 'id="backend-undo"' not in text(client.get(f"/apps/acme-api/?removed={removed.pk}"))
    late = client.post("/apps/acme-api/backends/restore/", {"removal": removed.pk}, headers=HTMX)
    assert late.status_code == 422
    assert "The removal of 10.3.0.7:8080 can only be undone for 5 minutes" in text(late)


def test_a_customer_is_refused_the_undo_and_never_offered_it(
    world: World, alice: User, removed: AuditEvent
) -> None:
    client = client_for(alice)
    assert 'id="backend-undo"' not in text(client.get(f"/apps/acme-api/?removed={removed.pk}"))
    refused = client.post("/apps/acme-api/backends/restore/", {"removal": removed.pk})
    assert refused.status_code == 403
    assert not world.acme_api.backends.exists()
