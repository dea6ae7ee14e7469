"""A removed custom domain can be brought back for five minutes by a member of its organization:
the same hostname, id and edge, through the service that owns domains (locked, checked against
the websockets rule, audited, pushed after commit), refused with a reason once the window has
passed or the hostname changed hands since."""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from dashboard.models import AuditEvent, Domain, Feature
from dashboard.services.domains import domain_add, domain_remove, domain_restore
from dashboard.services.features import feature_set
from dashboard.services.undo import UNDO_WINDOW
from tests.admin_forms import Pushed
from tests.conftest import World, client_for

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true", "HX-Target": "domains-panel"}
LONG_AGO = UNDO_WINDOW + dt.timedelta(seconds=1)


def text(response: Any) -> str:
    return html.unescape(response.content.decode())


def remove(world: World, hostname: str, actor: User) -> AuditEvent:
    return domain_remove(domain=Domain.objects.get(hostname=hostname), actor=actor, source="web")


@pytest.fixture
def removed(world: World, alice: User) -> AuditEvent:
    """status.acme.example, added to acme-api and just removed by alice."""
    domain_add(app=world.acme_api, hostname="status.acme.example", actor=alice, source="web")
    return remove(world, "status.acme.example", alice)


# The service


def test_an_undone_removal_brings_back_the_same_domain_on_the_same_edge(
    world: World, alice: User, pushed: Pushed, committed: Callable[[], Any]
) -> None:
    www = Domain.objects.get(hostname="www.acme.example")
    Domain.objects.filter(pk=www.pk).update(dns_status=Domain.DnsStatus.OK)
    removal = remove(world, "www.acme.example", alice)
    assert not Domain.objects.filter(hostname="www.acme.example").exists()

    with committed():
        back = domain_restore(app=world.acme_web, removal_id=removal.pk, actor=alice, source="web")
        assert pushed == []  # only once the transaction commits

    assert (back.hostname, back.kind, back.app, back.edge) == (
        "www.acme.example",
        Domain.Kind.CUSTOM,
        world.acme_web,
        world.acme_ssl,
    )
    assert back.uuid == www.uuid  # the Platform API's id of the domain is the same again
    assert back.dns_status == Domain.DnsStatus.OK
    row = AuditEvent.objects.filter(action="domain.restore").get()
    assert (row.actor, row.app, row.organization) == (alice, world.acme_web, world.acme)
    assert row.after == {
        "hostname": "www.acme.example",
        "app": "acme-web",
        "edge": "acme-ssl",
        "undoes": removal.pk,
    }
    assert row.summary == "brought back the domain"
    assert pushed == [
        (
            "domains.changed",
            {"app": "acme-web", "organization": "acme", "hostname": "www.acme.example"},
        )
    ]


def test_a_removal_cannot_be_undone_once_the_window_has_passed(
    world: World, alice: User, removed: AuditEvent
) -> None:
    AuditEvent.objects.filter(pk=removed.pk).update(created_at=timezone.now() - LONG_AGO)
    with pytest.raises(ValidationError, match="only be undone for 5 minutes"):
        domain_restore(app=world.acme_api, removal_id=removed.pk, actor=alice, source="web")
    assert not Domain.objects.filter(hostname="status.acme.example").exists()


def test_a_removal_cannot_be_undone_once_another_app_took_the_hostname(
    world: World, alice: User, removed: AuditEvent
) -> None:
    domain_add(app=world.acme_web, hostname="status.acme.example", actor=alice, source="web")
    with pytest.raises(ValidationError, match="changed since it was removed"):
        domain_restore(app=world.acme_api, removal_id=removed.pk, actor=alice, source="web")
    assert Domain.objects.get(hostname="status.acme.example").app == world.acme_web


def test_an_older_removal_cannot_be_undone_after_the_hostname_came_and_went_again(
    world: World, alice: User, removed: AuditEvent
) -> None:
    domain_add(app=world.acme_api, hostname="status.acme.example", actor=alice, source="web")
    remove(world, "status.acme.example", alice)
    with pytest.raises(ValidationError, match=r"changed since it was removed \(removed the domain"):
        domain_restore(app=world.acme_api, removal_id=removed.pk, actor=alice, source="web")
    assert not Domain.objects.filter(hostname="status.acme.example").exists()


def test_a_removal_is_undone_once(world: World, alice: User, removed: AuditEvent) -> None:
    domain_restore(app=world.acme_api, removal_id=removed.pk, actor=alice, source="web")
    with pytest.raises(ValidationError, match="changed since it was removed"):
        domain_restore(app=world.acme_api, removal_id=removed.pk, actor=alice, source="web")
    assert Domain.objects.filter(hostname="status.acme.example").count() == 1


def test_a_domain_does_not_come_back_through_a_legacy_edge_once_websockets_is_on(
    world: World, alice: User
) -> None:
    """Removing the domain on the legacy edge let websockets be turned on; bringing it back
    would break the rule that an app with websockets on has no custom domain on such an edge."""
    removal = remove(world, "www.acme.example", alice)
    websockets = Feature.objects.get(name="websockets")
    feature_set(app=world.acme_web, feature=websockets, enabled=True, actor=alice, source="web")
    with pytest.raises(ValidationError, match="acme-ssl cannot carry WebSockets"):
        domain_restore(app=world.acme_web, removal_id=removal.pk, actor=alice, source="web")
    assert not Domain.objects.filter(hostname="www.acme.example").exists()


def test_only_members_of_the_apps_organization_may_undo(
    world: World, carol: User, removed: AuditEvent
) -> None:
    with pytest.raises(PermissionDenied):
        domain_restore(app=world.acme_api, removal_id=removed.pk, actor=carol, source="web")
    assert not Domain.objects.filter(hostname="status.acme.example").exists()


def test_a_removal_from_another_app_is_not_found(
    world: World, alice: User, removed: AuditEvent
) -> None:
    for removal_id in (removed.pk, "not-a-number", "", "9" * 20, "-1"):
        with pytest.raises(ValidationError, match="no such removal"):
            domain_restore(app=world.acme_web, removal_id=removal_id, actor=alice, source="web")
    assert not Domain.objects.filter(hostname="status.acme.example").exists()


# The page


def test_the_panel_offers_to_undo_a_removal_and_undoes_it_with_htmx(
    world: World, bob: User
) -> None:
    domain_add(app=world.acme_api, hostname="status.acme.example", actor=bob, source="web")
    client = client_for(bob)
    panel = client.post(
        "/apps/acme-api/domains/remove/",
        {"hostname": "status.acme.example", "confirmed": "yes"},
        headers=HTMX,
    )
    assert panel.status_code == 200 and "<html" not in text(panel)
    removal = AuditEvent.objects.get(action="domain.remove")
    assert "Removed status.acme.example from acme-api." in text(panel)
    assert 'id="domain-undo"' in text(panel) and "data-undo-until=" in text(panel)
    assert f'name="removal" value="{removal.pk}"' in text(panel)

    back = client.post("/apps/acme-api/domains/restore/", {"removal": removal.pk}, headers=HTMX)
    assert back.status_code == 200
    assert "Brought back status.acme.example: it goes through gateway again." in text(back)
    assert Domain.objects.get(hostname="status.acme.example").app == world.acme_api


def test_without_javascript_the_page_comes_back_with_the_undo(world: World, alice: User) -> None:
    domain_add(app=world.acme_api, hostname="status.acme.example", actor=alice, source="web")
    client = client_for(alice)
    response = client.post(
        "/apps/acme-api/domains/remove/", {"hostname": "status.acme.example", "confirmed": "yes"}
    )
    removal = AuditEvent.objects.get(action="domain.remove")
    assert response["Location"] == f"/apps/acme-api/?domain_removed={removal.pk}#domains-panel"
    page = text(client.get(response["Location"]))
    assert 'id="domain-undo"' in page and 'action="/apps/acme-api/domains/restore/"' in page

    back = client.post("/apps/acme-api/domains/restore/", {"removal": removal.pk})
    assert back["Location"] == "/apps/acme-api/#domains-panel"
    assert Domain.objects.filter(hostname="status.acme.example", app=world.acme_api).exists()


def test_a_late_undo_is_refused_in_the_panel(
    world: World, alice: User, removed: AuditEvent
) -> None:
    AuditEvent.objects.filter(pk=removed.pk).update(created_at=timezone.now() - LONG_AGO)
    client = client_for(alice)
    page = text(client.get(f"/apps/acme-api/?domain_removed={removed.pk}"))
    assert 'id="domain-undo"' not in page
    late = client.post("/apps/acme-api/domains/restore/", {"removal": removed.pk}, headers=HTMX)
    assert late.status_code == 422
    assert "The removal of status.acme.example can only be undone for 5 minutes" in text(late)


def test_another_organization_neither_sees_the_app_nor_undoes_the_removal(
    world: World, carol: User, removed: AuditEvent
) -> None:
    client = client_for(carol)
    assert client.get(f"/apps/acme-api/?domain_removed={removed.pk}").status_code == 404
    assert (
        client.post("/apps/acme-api/domains/restore/", {"removal": removed.pk}).status_code == 404
    )
    assert not Domain.objects.filter(hostname="status.acme.example").exists()
